"""``hotpath run --memory`` with chosen functions charges nothing it causes to the program
(issue 10, item 1): not the ints sys.monitoring makes for line numbers and offsets above
256 (3.12+), not the frame objects and line arrays 3.11 makes for every call while a trace
function is set, not the arguments of audited events, and not hotpath's own teardown."""
from __future__ import annotations

import pytest
from conftest import only_this_thread

from hotpath import fileformat
from hotpath.model.memory import MemoryView

PAD = "# padding\n" * 300          # the chosen function's lines are all above 256

PROG = PAD + """\
import threading
try:
    profile
except NameError:                 # under plain python / memray
    profile = lambda f: f

DECORATOR
def g(n):
    a = n + 1
    b = a * 2
    c = b - a
    if c > 5:
        c = c - 1
    return c

def h(n):
    return n + 2

def work(k):
    for i in range(k):
        g(i % 100)
        h(i % 100)

t = threading.Thread(target=work, args=(3000,))
t.start()
work(20000)
t.join()
print("done")
"""


def _line_of(text: str, marker: str) -> int:
    return next(i for i, t in enumerate(text.splitlines(), 1) if marker in t)


def _blocks_by_line(runner, name: str, funcs: tuple[str, ...] = ()) -> dict[int, int]:
    """Blocks allocated per line of prog.py (the innermost user line of each stack), of
    the functions named in `funcs` only when given."""
    v = MemoryView.of(fileformat.read(str(runner.cwd / name)))
    out: dict[int, int] = {}
    for r in v.by_line(user=True):
        if r.key[0].endswith("prog.py") and (not funcs or r.key[2] in funcs):
            out[r.key[1]] = out.get(r.key[1], 0) + r.alloc_count
    return out


@pytest.mark.parametrize("how", ["-f", "@profile"])
def test_chosen_function_lines_are_charged_nothing(runner, how):
    text = PROG.replace("DECORATOR", "@profile" if how == "@profile" else "")
    runner.write("prog.py", text)
    select = ["-f", "prog.py:g"] if how == "-f" else []
    res = runner.hotpath("run", "--memory", "-q", *select, "-o", "prog.hprof", "prog.py")
    assert res.returncode == 0, res.stderr
    # Small-int arithmetic allocates nothing: before the fix each line of g held ~23,000
    # line-number ints (3.12+), and g's and h's def lines frame objects (3.11).
    charged = _blocks_by_line(runner, "prog.hprof", ("g", "h"))
    assert charged == {}, charged
    # The line view still ran: every line of g has its occurrences.
    (g,) = fileformat.read(str(runner.cwd / "prog.hprof")).extra["memory"]["lines"]
    rows = {r[0]: r for r in g["lines"]}
    assert rows[_line_of(text, "b = a * 2")][3] == 23000


def test_chosen_function_lines_agree_with_memray(runner):
    memray = pytest.importorskip("memray")
    text = PROG.replace("DECORATOR", "")
    runner.write("prog.py", text)
    res = runner.hotpath("run", "--memory", "--no-native", "-q", "-f", "prog.py:g", "-o",
                         "prog.hprof", "prog.py")
    assert res.returncode == 0, res.stderr
    ours = _blocks_by_line(runner, "prog.hprof", ("g", "h"))
    res = runner.python("-m", "memray", "run", "--trace-python-allocators", "-q", "-o",
                        "prog.bin", "prog.py")
    assert res.returncode == 0, res.stderr
    theirs: dict[int, int] = {}
    frees = {memray.AllocatorType.FREE, memray.AllocatorType.PYMALLOC_FREE,
             memray.AllocatorType.MUNMAP}
    for rec in memray.FileReader(str(runner.cwd / "prog.bin")).get_allocation_records():
        if memray.AllocatorType(rec.allocator) in frees or rec.size == 0:
            continue
        for _func, filename, line in rec.stack_trace():
            if filename.endswith("prog.py"):
                if _func in ("g", "h"):
                    theirs[line] = theirs.get(line, 0) + rec.n_allocations
                break
    assert ours.keys() <= theirs.keys(), (ours, theirs)
    for line, n in ours.items():
        assert n <= theirs[line], (line, ours, theirs)


AUDITED = PAD + """\
import sys
def g():
    return 1
for _ in range(5000):
    sys._getframe()
g()
"""


def test_audited_events_are_not_charged(runner):
    # -f names a file, so hotpath watches module executions through an audit hook; every
    # sys._getframe() is an audited event.
    runner.write("prog.py", AUDITED)
    res = runner.hotpath("run", "--memory", "-q", "-f", "prog.py:g", "-o", "prog.hprof",
                         "prog.py")
    assert res.returncode == 0, res.stderr
    counts = _blocks_by_line(runner, "prog.hprof")
    line = _line_of(AUDITED, "sys._getframe()")
    assert counts.get(line, 0) <= 1, counts     # at most the frame object, made once


TEARDOWN = """\
def g(n):
    return n + 1
x = [g(i) for i in range(100)]
"""


def test_hotpath_teardown_is_not_in_the_memory_report(runner):
    runner.write("prog.py", TEARDOWN)
    res = runner.hotpath("run", "--memory", "-q", "-f", "prog.py:g", "-o", "prog.hprof",
                         "prog.py")
    assert res.returncode == 0, res.stderr
    data = fileformat.read(str(runner.cwd / "prog.hprof")).extra["memory"]
    files = {f[0] for f in data["functions"]}
    # Waiting for threads (threading.enumerate) and restoring the SIGTERM handler
    # (signal.signal, enum) are hotpath's, after the program's last line.
    assert not [f for f in files if f.endswith(("threading.py", "signal.py", "enum.py"))], files
    assert any(f.endswith("prog.py") for f in files), files


KEYS = ("alloc_count", "alloc_bytes", "live_count", "live_bytes", "samples")


def _make_and_forget(tr, forget_it: bool) -> tuple[dict[str, int], int, int]:
    """Totals' change over making a big int and forgetting it (or not); no assert here,
    as pytest's rewriting would allocate between the two."""
    old = int("7" * 40)
    before = tr.snapshot()
    x = int("9" * 60)                    # the newest block this thread recorded
    n_old = tr.forget(old)               # not the newest: the program's, kept
    n_x = tr.forget(x) if forget_it else 0
    after = tr.snapshot()
    return {k: after[k] - before[k] for k in KEYS}, n_old, n_x


@pytest.mark.parametrize("mode", ["exact", "sampled"])
def test_forget_undoes_exactly_what_was_recorded(mode):
    from hotpath import MemoryProfiler
    mp = MemoryProfiler(mode, sample_bytes=1, interval=0)    # sampled: every block
    mp.start()
    try:
        with only_this_thread():                 # the counts are process-wide
            _make_and_forget(mp._tracker, False)  # warm-up: first-run caches (3.15)
            kept, _, _ = _make_and_forget(mp._tracker, False)
            forgot, n_old, n_x = _make_and_forget(mp._tracker, True)
            again = mp._tracker.forget(forgot)   # not a recorded block: nothing
    finally:
        mp.stop()
    assert (n_old, n_x, again) == (0, 1, 0)
    size = (60 * 3.33 // 30 + 1) * 4 + 24        # 60 digits in 30-bit digits + header
    assert kept["alloc_count"] - forgot["alloc_count"] == 1
    assert kept["live_count"] - forgot["live_count"] == 1
    assert kept["samples"] - forgot["samples"] == 1
    assert kept["alloc_bytes"] - forgot["alloc_bytes"] == kept["live_bytes"] - forgot["live_bytes"]
    assert abs((kept["alloc_bytes"] - forgot["alloc_bytes"]) - size) <= 8


def _peak_around(tr) -> tuple[int, int, int, int]:
    big = 10 ** 60
    tr.reset_peak()
    p0 = tr.peak()
    x = big * 3                          # one new block: a new peak
    p_with = tr.peak()
    n = tr.forget(x)
    return p0, p_with, tr.peak(), n


def test_forget_takes_back_a_peak_nothing_followed():
    from hotpath import MemoryProfiler
    mp = MemoryProfiler("exact", interval=0)
    mp.start()
    try:
        p0, p_with, p_after, n = _peak_around(mp._tracker)
    finally:
        mp.stop()
    assert n == 1 and p_with > p0
    assert p_after == p0
