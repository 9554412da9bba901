"""line_profiler's ``.lprof`` files: ``hotpath run --lines --lprof``, read back by the real
``python -m line_profiler``; combining (hits and times add up, as line_profiler 5 does);
reading files written by line_profiler itself; refusing what is not one."""
from __future__ import annotations

import pickle
import pickletools
import re
import subprocess
import sys

import pytest

from hotpath import fileformat
from hotpath.report.lprof import combine, line_timings, read_lprof

line_profiler = pytest.importorskip("line_profiler")

PROG = """
def work(n):
    s = 0
    for i in range(n):
        s += i
    return s


if __name__ == "__main__":
    for _ in range(3):
        work(100)
"""
# line -> hits known from the program: 3 calls of work(100)
KNOWN = {3: 3, 5: 300, 6: 3}
ROW = re.compile(r"^\s*(\d+)\s+(\d+)\s+([\d.e+-]+)\s+([\d.e+-]+)\s+([\d.]+)\s+(.*)$")


def _table(stdout: str) -> dict[int, tuple[int, float, str]]:
    """line_profiler's rows: line -> (hits, time, source)."""
    rows = {}
    for ln in stdout.splitlines():
        m = ROW.match(ln)
        if m:
            rows[int(m.group(1))] = (int(m.group(2)), float(m.group(3)), m.group(6).strip())
    return rows


def _globals_named(path) -> set[str]:
    """Every class or function a pickle names (what unpickling must import)."""
    names = set()
    ops = list(pickletools.genops(path.read_bytes()))
    strings = [arg for op, arg, _ in ops if isinstance(arg, str)]
    for op, arg, _ in ops:
        if op.name in ("GLOBAL", "INST"):
            names.add(arg.replace(" ", "."))
    if any(op.name == "STACK_GLOBAL" for op, _, _ in ops):
        names.update(s for s in strings if s.startswith(("line_profiler", "types", "hotpath")))
    return names


@pytest.fixture
def lprof_run(runner):
    runner.write("prog.py", PROG)
    r = runner.hotpath("run", "--lines", "-f", "prog.py:work", "--lprof", "x.lprof",
                       "-o", "x.hprof", "prog.py")
    assert r.returncode == 0, r.stderr
    assert "line timings written to x.lprof (python -m line_profiler x.lprof)" in r.stderr
    return runner


def test_run_writes_lprof_that_line_profiler_reads(lprof_run):
    runner = lprof_run
    r = runner.python("-m", "line_profiler", "x.lprof")
    assert r.returncode == 0, r.stderr
    assert "Function: work at line 2" in r.stdout
    rows = _table(r.stdout)
    assert {ln: rows[ln][0] for ln in KNOWN} == KNOWN
    assert rows[5][2] == "s += i" and rows[5][1] > 0
    # the file holds exactly the profile's line timings, in its unit, with no hotpath class
    timings, unit = line_timings(fileformat.read(str(runner.cwd / "x.hprof")))
    assert read_lprof(str(runner.cwd / "x.lprof")) == (timings, unit) and unit == 1e-9
    named = _globals_named(runner.cwd / "x.lprof")
    assert not any(n.startswith("hotpath") for n in named)
    obj = pickle.loads((runner.cwd / "x.lprof").read_bytes())
    assert isinstance(obj, line_profiler.LineStats)          # line_profiler's own class


def test_combining_adds_hits_and_times(lprof_run):
    runner = lprof_run
    one = _table(runner.python("-m", "line_profiler", "x.lprof").stdout)
    # hotpath's combine: a hotpath profile plus an .lprof file
    r = runner.hotpath("export", "--format", "lprof", "x.hprof", "x.lprof", "-o", "both.lprof")
    assert r.returncode == 0, r.stderr
    assert "the sum of x.hprof, x.lprof" in r.stderr
    ours = _table(runner.python("-m", "line_profiler", "both.lprof").stdout)
    # line_profiler's own combining of two hotpath-written files
    theirs = _table(runner.python("-m", "line_profiler", "x.lprof", "x.lprof").stdout)
    for ln, hits in KNOWN.items():
        assert ours[ln][0] == theirs[ln][0] == 2 * one[ln][0] == 2 * hits
    timings, _ = read_lprof(str(runner.cwd / "both.lprof"))
    single, _ = read_lprof(str(runner.cwd / "x.lprof"))
    assert {k: [(ln, h, t) for ln, h, t in v] for k, v in timings.items()} == \
        {k: [(ln, 2 * h, 2 * t) for ln, h, t in v] for k, v in single.items()}
    # one file through export: the same timings as --lprof wrote
    r = runner.hotpath("export", "--format", "lprof", "x.hprof", "-o", "again.lprof")
    assert r.returncode == 0 and read_lprof(str(runner.cwd / "again.lprof"))[0] == single


def test_combine_converts_to_the_coarsest_unit_as_line_profiler():
    a = ({("f.py", 1, "f"): [(2, 10, 300)], ("b.py", 10, "bar"): [(11, 2, 1000), (12, 1, 500)]},
         1e-6)
    b = ({("b.py", 10, "bar"): [(11, 10, 20000), (12, 5, 1000)], ("e.py", 5, "baz"): [(5, 2, 5000)]},
         1e-7)
    mine = combine([a, b])
    ref = line_profiler.LineStats(*a) + line_profiler.LineStats(*b)
    assert mine == (ref.timings, ref.unit)


def test_written_without_line_profiler_importable(lprof_run):
    """line_profiler is a dev dependency only: without it the file holds a plain object
    that line_profiler still reads."""
    runner = lprof_run
    r = runner.python("-c", "import sys; sys.modules['line_profiler'] = None\n"
                      "from hotpath import fileformat\n"
                      "from hotpath.report import export\n"
                      "export(fileformat.read('x.hprof'), 'lprof', 'plain.lprof')")
    assert r.returncode == 0, r.stderr
    named = _globals_named(runner.cwd / "plain.lprof")
    assert not any("line_profiler" in n or "hotpath" in n for n in named)
    r = runner.python("-m", "line_profiler", "plain.lprof")
    assert r.returncode == 0, r.stderr
    assert {ln: _table(r.stdout)[ln][0] for ln in KNOWN} == KNOWN


def test_reads_a_file_written_by_line_profiler(runner):
    runner.write("prog.py", PROG)
    r = runner.python("-c", "import line_profiler, prog\n"
                      "lp = line_profiler.LineProfiler(prog.work)\n"
                      "for _ in range(3): lp.runcall(prog.work, 100)\n"
                      "lp.dump_stats('theirs.lprof')")
    assert r.returncode == 0, r.stderr
    theirs, unit = read_lprof(str(runner.cwd / "theirs.lprof"))
    ((key, rows),) = theirs.items()
    assert key[2] == "work" and {ln: h for ln, h, _ in rows if ln in KNOWN} == KNOWN
    r = runner.hotpath("export", "--format", "lprof", "theirs.lprof", "theirs.lprof",
                       "-o", "sum.lprof")
    assert r.returncode == 0, r.stderr
    summed, sunit = read_lprof(str(runner.cwd / "sum.lprof"))
    assert sunit == unit and summed == {key: [(ln, 2 * h, 2 * t) for ln, h, t in rows]}


def test_bad_inputs_are_one_clear_message(runner, lprof_run):
    runner.write("evil.lprof", "")
    (runner.cwd / "evil.lprof").write_bytes(
        b"\x80\x04cos\nsystem\n(S'touch pwned'\ntR.")          # os.system('touch pwned')
    cases = [
        (["export", "--format", "lprof", "missing.hprof", "-o", "o.lprof"], "no such file"),
        (["export", "--format", "lprof", "evil.lprof", "-o", "o.lprof"],
         "not a line_profiler .lprof file"),
        (["export", "--format", "lprof", "prog.py", "-o", "o.lprof"], "prog.py"),
        (["export", "--format", "pstats", "x.hprof", "x.hprof", "-o", "o.prof"],
         "only --format lprof combines"),
        (["run", "--lprof", "y.lprof", "prog.py"], "--lprof writes line timings"),
    ]
    for args, message in cases:
        r = runner.hotpath(*args)
        assert r.returncode != 0, args
        assert message in r.stderr and "Traceback" not in r.stderr, (args, r.stderr)
    assert not (runner.cwd / "pwned").exists() and not (runner.cwd / "o.lprof").exists()
    # a function profile has no line timings
    r = runner.hotpath("run", "-q", "-o", "f.hprof", "prog.py")
    assert r.returncode == 0, r.stderr
    r = runner.hotpath("export", "--format", "lprof", "f.hprof", "-o", "o.lprof")
    assert r.returncode != 0 and "holds no line timings" in r.stderr


def test_subprocess_line_profiler_is_the_venvs():
    """The checks above read with this interpreter's line_profiler (a dev dependency)."""
    out = subprocess.run([sys.executable, "-m", "line_profiler", "--version"],
                         capture_output=True, text=True)
    assert out.returncode == 0 and out.stdout.strip() == line_profiler.__version__
