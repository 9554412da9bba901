"""The IPython magics (``%load_ext hotpath``) as a user types them, in a real
``InteractiveShell``: the numbers they show are checked against what the code does
(call counts, line hits, bytes allocated, loops and rounds)."""
from __future__ import annotations

import pickle
import re
import sys
import textwrap

import pytest

pytest.importorskip("IPython", reason="IPython is not installed (pip install hotpath[notebook])")

from IPython.core.interactiveshell import InteractiveShell  # noqa: E402
from IPython.utils.capture import capture_output  # noqa: E402
from traitlets.config import Config  # noqa: E402

import hotpath  # noqa: E402
from conftest import only_this_thread  # noqa: E402

MiB = 1024 * 1024

CODE = '''
def fib(n):
    return n if n < 2 else fib(n - 1) + fib(n - 2)

def loop(k):
    total = 0
    for i in range(k):
        total += i
    return total

def idle():
    return 0

def build(mib):
    keep = bytearray(mib * 1024 * 1024)
    small = [0] * 1000
    return len(keep) + len(small)
'''


def fib_calls(n: int) -> int:
    return 1 if n < 2 else 1 + fib_calls(n - 1) + fib_calls(n - 2)


@pytest.fixture(scope="module")
def ip(tmp_path_factory):
    cfg = Config()
    cfg.HistoryManager.hist_file = ":memory:"
    InteractiveShell.clear_instance()
    shell = InteractiveShell.instance(config=cfg,
                                      ipython_dir=str(tmp_path_factory.mktemp("ipython")))
    shell.run_line_magic("load_ext", "hotpath")
    assert shell.run_cell(CODE).success
    yield shell
    InteractiveShell.clear_instance()


def run(ip, source: str):
    """Run a cell as typed; (result, captured stdout/stderr/rich outputs)."""
    with capture_output() as cap:
        res = ip.run_cell(source)
    return res, cap


def text_of(cap) -> str:
    return "\n".join(o.data["text/plain"] for o in cap.outputs)


def html_of(cap) -> str:
    return "\n".join(o.data.get("text/html", "") for o in cap.outputs)


# -- %hprun ---------------------------------------------------------------------------------

def test_hprun_counts_calls_and_shows_table_and_flame_graph(ip):
    res, cap = run(ip, "%hprun fib(15)")
    assert res.success, res.error_in_exec
    text = text_of(cap)
    calls = fib_calls(15)
    # fib: every call, of which one primitive (the outermost), as cProfile counts them
    assert re.search(rf"^\s+{calls}/1\s.*\bfib \(", text, re.M), text
    html = html_of(cap)
    assert "<iframe" in html and "srcdoc=" in html
    assert "hp-data" in html            # the report's data block, inside the srcdoc
    assert "fib" in html


def test_hprun_return_sort_limit_and_files(ip, tmp_path):
    prof_path, hp_path, txt = tmp_path / "out.prof", tmp_path / "out.hpprof", tmp_path / "t.txt"
    res, cap = run(ip, f"v = %hprun -r -s cumtime -l 3 -D {prof_path} -D {hp_path} "
                       f"-T {txt} loop(1000); fib(10)")
    assert res.success, res.error_in_exec
    assert cap.outputs == []            # -r returns, the assignment keeps it quiet
    v = ip.user_ns["v"]
    stats = {f.name: s for i, s in v.profile.function_stats().items()
             for f in [v.profile.functions[i]]}
    assert stats["fib"].calls == fib_calls(10)
    assert stats["loop"].calls == 1
    table = v.text()
    assert "top 3 of" in table and "by cumtime" in table
    rows = [ln for ln in table.splitlines() if re.match(r"\s+\d", ln)]
    cum = [float(ln.split()[3]) for ln in rows]
    assert len(rows) == 3 and cum == sorted(cum, reverse=True)
    # -D .prof: a pstats file (what pstats and snakeviz read); otherwise hotpath's format
    import pstats
    ps = pstats.Stats(str(prof_path))
    fib_rows = [v for k, v in ps.stats.items() if k[2] == "fib"]
    assert fib_rows and fib_rows[0][1] == fib_calls(10)
    loaded = hotpath.load(str(hp_path))
    assert sum(s.calls for i, s in loaded.function_stats().items()
               if loaded.functions[i].name == "fib") == fib_calls(10)
    assert txt.read_text() == table
    assert "Profile printout saved" in cap.stdout


def test_hprun_cell_regex_filter_and_quiet(ip):
    res, cap = run(ip, "%%hprun -l fib\nfib(8)\nloop(10)")
    assert res.success, res.error_in_exec
    text = text_of(cap)
    assert "functions matching 'fib'" in text
    assert f"{fib_calls(8)}/1" in text and "loop (" not in text
    res, cap = run(ip, "%hprun -q fib(5)")
    assert res.success and cap.outputs == [] and cap.stdout == ""


def test_hprun_only_shows_the_statements_threads(ip):
    res, cap = run(ip, textwrap.dedent("""\
        import threading
        def _in_thread():
            fib(6)
        pre = {x.ident for x in threading.enumerate()} - {threading.get_ident()}
        me = threading.get_ident()
        v = %hprun -r t = threading.Thread(target=_in_thread); t.start(); t.join()
        """))
    assert res.success, res.error_in_exec
    v, ns = ip.user_ns["v"], ip.user_ns
    ids = {th.thread_id for th in v.profile.threads}
    # this thread and the one it started; none that ran before (under pytest-xdist its
    # worker's own threads; in Jupyter the kernel's). Another thread that someone else
    # starts meanwhile would be kept, as the magic cannot tell it from the statement's.
    assert {ns["me"], ns["t"].ident} <= ids and not ids & ns["pre"], (ids, ns["pre"])
    stats = v.profile.function_stats()
    assert sum(s.calls for i, s in stats.items() if v.profile.functions[i].name == "fib") \
        == fib_calls(6)


def test_hprun_bad_input_is_one_usage_error(ip):
    res, cap = run(ip, "%hprun -s bogus fib(3)")
    assert not res.success
    assert "UsageError" in cap.stderr and "unknown sort key" in cap.stderr
    assert "Traceback" not in cap.stderr + cap.stdout
    res, cap = run(ip, "%hprun")
    assert "UsageError" in cap.stderr and "nothing to run" in cap.stderr


# -- %lprun ---------------------------------------------------------------------------------

HEADER = "Line #      Hits         Time  Per Hit   % Time  Line Contents"


def _hits(text: str) -> dict[str, int]:
    """Source line text -> hits, from line_profiler's table."""
    out = {}
    for ln in text.splitlines():
        m = re.match(r"\s*\d+\s+(\d+)\s+[\d.]+\s+[\d.]+\s+[\d.]+\s{6}(.*)$", ln)
        if m:
            out[m.group(2).strip()] = int(m.group(1))
    return out


def test_lprun_hits_as_line_profiler(ip):
    res, cap = run(ip, "%lprun -f loop loop(25)")
    assert res.success, res.error_in_exec
    text = text_of(cap)
    assert text.startswith("Timer unit: 1e-06 s")
    assert HEADER in text and "Function: loop at line" in text
    hits = _hits(text)
    assert hits["total = 0"] == 1
    assert hits["for i in range(k):"] == 26      # 25 iterations and the exit test
    assert hits["total += i"] == 25
    assert hits["return total"] == 1
    assert '<table class="hp-t"' in html_of(cap) and "total += i" in html_of(cap)


def test_lprun_options(ip, tmp_path):
    dump, txt = tmp_path / "l.lprof", tmp_path / "l.txt"
    res, cap = run(ip, f"lp = %lprun -r -s -u 1e-3 -f loop -f idle -D {dump} -T {txt} loop(7)")
    assert res.success, res.error_in_exec
    text = text_of(cap)
    assert text.startswith("Timer unit: 0.001 s")
    assert "Function: loop" in text and "Function: idle" not in text     # -s: no zero rows
    lp = ip.user_ns["lp"]
    assert isinstance(lp, hotpath.LineProfiler)
    stats = pickle.loads(dump.read_bytes())
    rows = {k[2]: v for k, v in stats.timings.items()}
    assert sorted(h for _, h, _ in rows["loop"]) == [1, 1, 7, 8]
    assert txt.read_text().rstrip() == text.rstrip()


def test_lprun_cell_and_module(ip, tmp_path, monkeypatch):
    (tmp_path / "hp_lp_mod.py").write_text("def twice(x):\n    y = x * 2\n    return y\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    res, cap = run(ip, "%%lprun -m hp_lp_mod -f fib\nimport hp_lp_mod\n"
                       "for k in range(3):\n    hp_lp_mod.twice(k)\nfib(3)")
    assert res.success, res.error_in_exec
    hits = _hits(text_of(cap))
    assert hits["y = x * 2"] == 3
    assert hits["return n if n < 2 else fib(n - 1) + fib(n - 2)"] == fib_calls(3)


def test_lprun_errors(ip):
    res, cap = run(ip, "%lprun loop(3)")
    assert "UsageError" in cap.stderr and "-f func" in cap.stderr
    res, cap = run(ip, "%lprun -f no_such_function loop(3)")
    assert "UsageError" in cap.stderr and "no_such_function" in cap.stderr
    assert "Traceback" not in cap.stderr


# -- %mprun and %memit --------------------------------------------------------------------------

MP_HEADER = "Line #    Mem usage    Increment  Occurrences   Line Contents"


def test_mprun_increments_per_line(ip):
    with only_this_thread():
        res, cap = run(ip, "%mprun -f build build(8)")
    assert res.success, res.error_in_exec
    text = text_of(cap)
    assert text.startswith("Filename: ") and MP_HEADER in text
    row = next(ln for ln in text.splitlines() if "keep = bytearray" in ln)
    mem, inc, occ = re.match(r"\s*\d+\s+([\d.]+) MiB\s+([\d.]+) MiB\s+(\d+)", row).groups()
    assert abs(float(inc) - 8.0) <= 0.1 and int(occ) == 1
    small = next(ln for ln in text.splitlines() if "small = [0] * 1000" in ln)
    assert re.match(r"\s*\d+\s+[\d.]+ MiB\s+0\.0 MiB\s+1", small)   # 8 KB: 0.0 MiB
    assert '<table class="hp-t"' in html_of(cap)


def test_mprun_cell_return_and_not_called(ip):
    with only_this_thread():
        res, cap = run(ip, "v = %mprun -r -f build -f idle build(2)")
    assert res.success, res.error_in_exec
    v = ip.user_ns["v"]
    (f,) = v.functions
    keep = next(r for r in f["lines"] if r[0] == f["lineno"] + 1)
    assert abs(keep[2] - 2 * MiB) < 0.05 * MiB
    assert "idle: was not called" in v.text()
    res, cap = run(ip, "%mprun build(1)")
    assert "UsageError" in cap.stderr and "-f func" in cap.stderr


def test_memit_line_and_cell(ip):
    with only_this_thread():
        res, cap = run(ip, "%memit x = bytearray(24 * 1024 * 1024)")
    assert res.success, res.error_in_exec
    m = re.fullmatch(r"peak memory: ([\d.]+) MiB, increment: ([\d.]+) MiB\n", cap.stdout)
    assert m, cap.stdout
    assert abs(float(m.group(2)) - 24.0) <= 0.1
    assert float(m.group(1)) >= float(m.group(2))
    with only_this_thread():
        res, cap = run(ip, "%%memit -o -q -r 3 n = 4 * 1024 * 1024\ny = bytearray(n)")
    assert res.success, res.error_in_exec
    # -q: no printed line; -o: the result is the cell's value, shown once as its Out
    assert cap.stdout.count("peak memory") == 1 and cap.stdout.startswith("Out[")
    r = res.result
    assert abs(r.increment - 4 * MiB) < 0.05 * MiB and r.repeat == 3
    assert re.fullmatch(r"peak memory: [\d.]+ MiB, increment: 4\.\d\d MiB", str(r))
    res, cap = run(ip, "%memit -r 0 x = 1")
    assert "UsageError" in cap.stderr


# -- %hbench -------------------------------------------------------------------------------------

def test_hbench_fixed_loops_and_rounds(ip):
    res, cap = run(ip, "r = %hbench -o -n 50 -r 6 -s 'v = list(range(100))' sorted(v)")
    assert res.success, res.error_in_exec
    r = ip.user_ns["r"]
    assert r.loops == 50 and r.rounds == 6 and len(r.samples) == 6
    assert all(s > 0 for s in r.samples)
    assert r.source == "sorted(v)"
    assert "6 rounds x 50 loops" in r.text()
    res, cap = run(ip, "%hbench -n 20 -r 4 sum(range(50))")
    assert "4 rounds x 20 loops" in text_of(cap)
    assert "<table" in html_of(cap)


def test_hbench_compares_statements(ip):
    res, cap = run(ip, "%hbench -n 200 -r 12 sum(range(10)) ;; sum(range(3000))")
    assert res.success, res.error_in_exec
    text = text_of(cap)
    assert "Normalised to sum(range(10))" in text
    res, cap = run(ip, "%%hbench -o -n 100 -r 10 base = list(range(2000))\n"
                       "s = ';;'\n;;\nsorted(base) ;; base.copy()")
    assert res.success, res.error_in_exec
    c = res.result
    assert c.implementations == ["s = ';;'", "sorted(base)", "base.copy()"]
    assert c.baseline == "s = ';;'"
    # sorting 2000 numbers costs far more than binding a constant
    assert c.normalized("sorted(base)") > 5
    assert "mean / baseline" in c._repr_html_()


def test_hbench_errors(ip):
    res, cap = run(ip, "%hbench -n x 1+1")
    assert "UsageError" in cap.stderr and "whole number" in cap.stderr
    res, cap = run(ip, "%hbench -n 5 -r 3 1 +* 2")
    assert "UsageError" in cap.stderr and "syntax error" in cap.stderr
    assert "Traceback" not in cap.stderr


def test_split_statements():
    from hotpath.ipython import split_statements
    assert split_statements("a ;; b") == ["a ", " b"]
    assert split_statements("x = ';;'\n;;\ny") == ["x = ';;'\n", "\ny"]
    assert split_statements("f(a, ';') ; g()") == ["f(a, ';') ; g()"]
    assert split_statements("# c ;; d\nz") == ["# c ;; d\nz"]


def test_load_ext_is_lazy():
    """import hotpath does not import IPython; the extension hook is on the package."""
    import subprocess
    out = subprocess.run([sys.executable, "-c", "import hotpath, sys; "
                          "print(callable(hotpath.load_ipython_extension), "
                          "'IPython' in sys.modules)"], capture_output=True, text=True)
    assert out.stdout.split() == ["True", "False"], out.stderr
