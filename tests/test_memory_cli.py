"""``hotpath run --memory``, ``hotpath memit`` and ``hotpath report`` on memory profiles,
including native allocations (NumPy, libc malloc through ctypes) via the preload shim."""
from __future__ import annotations

import os
import xml.etree.ElementTree as ET

import pytest

from hotpath import fileformat
from hotpath.model.memory import MemoryView

MiB = 1024 * 1024


def line_with(path, marker: str) -> int:
    for i, text in enumerate(path.read_text().splitlines(), 1):
        if marker in text:
            return i
    raise AssertionError(marker)


def view_of(runner, name="prog.hprof") -> MemoryView:
    prof = fileformat.read(str(runner.cwd / name))
    return MemoryView.of(prof)


def user_line(view: MemoryView, filename: str, line: int):
    """Totals of a line of ours (a comprehension on it may be a function of its own)."""
    rows = [r for r in view.by_line(user=True) if r.key[0].endswith(filename) and r.key[1] == line]
    if not rows:
        return None
    out = rows[0]
    for r in rows[1:]:
        for f in ("alloc_bytes", "alloc_count", "free_bytes", "free_count", "peak_bytes",
                  "native_bytes"):
            setattr(out, f, getattr(out, f) + getattr(r, f))
    return out


def native_line(view: MemoryView, filename: str, line: int) -> tuple[int, int, int]:
    """(allocated, live, count) of the native allocations made at a line of ours."""
    out = [0, 0, 0]
    for s in view.stacks:
        key = view.line_key(view.user_frame(s))
        if s.native and key[0].endswith(filename) and key[1] == line:
            out[0] += s.alloc_bytes
            out[1] += s.live_bytes
            out[2] += s.alloc_count
    return tuple(out)


CTYPES_PROG = """
import ctypes
libc = ctypes.CDLL(None)
libc.malloc.restype = ctypes.c_void_p
libc.malloc.argtypes = [ctypes.c_size_t]
libc.realloc.restype = ctypes.c_void_p
libc.realloc.argtypes = [ctypes.c_void_p, ctypes.c_size_t]
libc.free.argtypes = [ctypes.c_void_p]

def main():
    p = libc.malloc(7_000_000)                        # @malloc
    libc.free(p)
    q = libc.malloc(1000)                             # @chain
    for n in range(1, 21):
        q = libc.realloc(q, n * 100_000)              # @realloc
    kept = libc.malloc(3_000_000)                     # @leak
    libc.free(q)
    return kept

main()
print("done")
"""


def test_native_malloc_realloc_free_via_ctypes(runner):
    prog = runner.write("prog.py", CTYPES_PROG)
    r = runner.hotpath("run", "--memory", "prog.py")
    assert r.returncode == 0, r.stderr
    assert r.stdout == "done\n"
    assert "native malloc" in r.stderr
    v = view_of(runner)
    assert v.data["native"] is True
    assert native_line(v, "prog.py", line_with(prog, "@malloc")) == (7_000_000, 0, 1)
    # a realloc chain: each step is an allocation; the last block is freed at the end
    assert native_line(v, "prog.py", line_with(prog, "@realloc")) == (
        sum(n * 100_000 for n in range(1, 21)), 0, 20)
    assert native_line(v, "prog.py", line_with(prog, "@chain")) == (1000, 0, 1)
    assert native_line(v, "prog.py", line_with(prog, "@leak")) == (3_000_000, 3_000_000, 1)
    top = v.leaks()[0]
    assert top.native and top.live_bytes == 3_000_000
    assert v.line_key(top.frames[0])[1] == line_with(prog, "@leak")


NUMPY_PROG = """
import numpy as np

def build(n):
    grid = np.zeros((n, n))                           # @zeros
    noise = np.random.default_rng(0).random((n, n))   # @random
    return grid + noise                               # @add

def main():
    keep = []
    for _ in range(3):
        keep.append(build(1000))                      # @append
    small = np.arange(10)
    return keep

result = main()
"""


def test_numpy_arrays_at_the_line_that_made_them(runner):
    pytest.importorskip("numpy")
    prog = runner.write("prog.py", NUMPY_PROG)
    r = runner.hotpath("run", "--memory", "prog.py")
    assert r.returncode == 0, r.stderr
    v = view_of(runner)
    arr = 1000 * 1000 * 8
    # NumPy's data comes from malloc (native) or, in newer NumPy, PyMem_Raw*: either way
    # it is counted once, at the line. (The first default_rng() also imports numpy.random.)
    for marker, slack in (("@zeros", 256 * 1024), ("@random", 8 * MiB), ("@add", 256 * 1024)):
        row = user_line(v, "prog.py", line_with(prog, marker))
        assert 3 * arr <= row.alloc_bytes <= 3 * arr + slack, (marker, row)
    add = user_line(v, "prog.py", line_with(prog, "@add"))
    assert add.live_bytes >= 3 * arr                  # kept in `keep`
    zeros = user_line(v, "prog.py", line_with(prog, "@zeros"))
    assert zeros.live_bytes < 64 * 1024              # temporaries are freed
    assert v.totals["peak_bytes"] >= 5 * arr
    # the report names the line in the text too
    assert "prog.py:7 (build)" in r.stderr
    svg = runner.cwd / "prog.memory.svg"
    assert ET.parse(str(svg)).getroot().tag.endswith("svg")
    assert not (runner.cwd / "prog.memory.png").exists()     # only with --memory-png


def test_memory_png_is_drawn_when_asked(runner):
    pytest.importorskip("matplotlib")
    runner.write("prog.py", "data = [bytearray(1000) for _ in range(2000)]\n")
    r = runner.hotpath("run", "--memory", "--no-native", "--memory-png", "-q", "prog.py")
    assert r.returncode == 0, r.stderr
    png = runner.cwd / "prog.memory.png"
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_no_native_tracks_python_only(runner):
    prog = runner.write("prog.py", CTYPES_PROG)
    r = runner.hotpath("run", "--memory", "--no-native", "-q", "prog.py")
    assert r.returncode == 0, r.stderr
    v = view_of(runner)
    assert v.data["native"] is False
    # libc's malloc is not seen without the shim (what ctypes itself takes from PyMem_*
    # is, and counts as native: a C extension asked for it)
    for marker in ("@malloc", "@realloc", "@chain", "@leak"):
        assert native_line(v, "prog.py", line_with(prog, marker)) == (0, 0, 0), marker
    assert v.totals["alloc_bytes"] < 3_000_000


LEAKY = """
cache = {}

def lookup(key):
    if key not in cache:
        cache[key] = bytearray(10_000)                # @cache
    return cache[key]

def churn():
    tmp = [bytes(1000) for _ in range(1000)]          # @tmp
    return len(tmp)

for i in range(500):
    lookup(i)
    churn()
"""

CLEAN = """
def work():
    data = [bytearray(10_000) for _ in range(1000)]
    table = {i: str(i) * 10 for i in range(10_000)}
    return len(data) + len(table)

for _ in range(5):
    work()
"""


def test_growing_cache_is_the_top_leak(runner):
    prog = runner.write("prog.py", LEAKY)
    r = runner.hotpath("run", "--memory", "prog.py")
    assert r.returncode == 0, r.stderr
    v = view_of(runner)
    leaks = v.leaks()
    assert leaks
    assert v.line_key(leaks[0].frames[0])[1] == line_with(prog, "@cache")
    assert leaks[0].live_bytes >= 500 * 10_000
    tmp = line_with(prog, "@tmp")
    # churn()'s megabyte per call is all freed. From 3.14 CPython keeps freed ints in a
    # freelist, so a few hundred of the comprehension's 32-byte ints stay allocated (as
    # tracemalloc also sees): at most a few KiB, never the churned bytes.
    at_tmp = sum(s.live_bytes for s in leaks if v.line_key(s.frames[0])[1] == tmp)
    assert at_tmp <= 16 * 1024, at_tmp
    assert "Leak candidates" in r.stderr


def test_program_that_frees_everything_shows_no_leaks(runner):
    runner.write("prog.py", CLEAN)
    r = runner.hotpath("run", "--memory", "prog.py")
    assert r.returncode == 0, r.stderr
    v = view_of(runner)
    mine = [s for s in v.leaks(min_bytes=1024)
            if any(v.line_key(f)[0].endswith("prog.py") for f in s.frames)]
    assert mine == [], [(v.line_key(s.frames[0]), s.live_bytes) for s in mine]
    assert "none" in r.stderr.split("Leak candidates")[1].splitlines()[1]


SAMPLED = """
def a():
    return [bytearray(2000) for _ in range(20_000)]   # @a

def b():
    return [bytes(500) for _ in range(40_000)]        # @b

for _ in range(3):
    x = a()
    y = b()
"""


def test_sampled_mode_via_cli(runner):
    prog = runner.write("prog.py", SAMPLED)
    r = runner.hotpath("run", "--memory=sampled", "--memory-sample-bytes", "8192",
                       "-o", "s.hprof", "prog.py")
    assert r.returncode == 0, r.stderr
    assert "sampled mode" in r.stderr
    r = runner.hotpath("run", "--memory=exact", "-q", "-o", "e.hprof", "prog.py")
    assert r.returncode == 0, r.stderr
    s, e = view_of(runner, "s.hprof"), view_of(runner, "e.hprof")
    assert s.data["mode"] == "sampled" and e.data["mode"] == "exact"
    for marker in ("@a", "@b"):
        ln = line_with(prog, marker)
        ex = user_line(e, "prog.py", ln).alloc_bytes
        assert user_line(s, "prog.py", ln).alloc_bytes == pytest.approx(ex, rel=0.10)


FORKING = """
import os, sys

def parent_work():
    return bytearray(4_000_000)                       # @parent

def child_work():
    return bytearray(9_000_000)                       # @child

keep = parent_work()
pid = os.fork()
if pid == 0:
    junk = child_work()
    sys.exit(0)                                       # runs hotpath's finish in the child
os.waitpid(pid, 0)
after = bytearray(1_000_000)                          # @after
"""


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs fork")
def test_forked_child_does_not_write_or_corrupt(runner):
    """With --no-follow a fork child records nothing; followed (the default), its own
    allocations are merged in, and what it inherited is not counted twice."""
    prog = runner.write("prog.py", FORKING)
    r = runner.hotpath("run", "--memory", "--no-follow", "prog.py")
    assert r.returncode == 0, r.stderr
    assert r.stderr.count("hotpath memory profile") == 1      # the parent's report only
    v = view_of(runner)
    assert user_line(v, "prog.py", line_with(prog, "@child")) is None
    assert user_line(v, "prog.py", line_with(prog, "@parent")).live_bytes >= 4_000_000
    assert user_line(v, "prog.py", line_with(prog, "@after")).live_bytes >= 1_000_000
    r = runner.hotpath("run", "--memory", "prog.py")
    assert r.returncode == 0, r.stderr
    assert r.stderr.count("hotpath memory profile") == 1
    v = view_of(runner)
    assert 9_000_000 <= user_line(v, "prog.py", line_with(prog, "@child")).alloc_bytes < 9_001_000
    assert 4_000_000 <= user_line(v, "prog.py", line_with(prog, "@parent")).alloc_bytes < 4_001_000
    assert user_line(v, "prog.py", line_with(prog, "@after")).live_bytes >= 1_000_000


LINES = """
@profile
def grow():
    a = [0] * 2_000_000
    b = bytearray(30_000_000)
    del b
    return a

grow()
"""


def test_line_by_line_table_for_profile_decorated(runner):
    runner.write("prog.py", LINES)
    r = runner.hotpath("run", "--memory", "prog.py")
    assert r.returncode == 0, r.stderr
    assert "Line #    Mem usage    Increment  Occurrences   Line Contents" in r.stderr
    rows = {}
    for text in r.stderr.splitlines():
        parts = text.split()
        if len(parts) >= 6 and parts[0].isdigit() and parts[2] == "MiB":
            rows[int(parts[0])] = (float(parts[1]), float(parts[3]), int(parts[5]))
    assert rows[4][1] == pytest.approx(2_000_000 * 8 / MiB, abs=0.2)     # a = [0] * ...
    assert rows[5][1] == pytest.approx(30_000_000 / MiB, abs=0.2)        # b = bytearray
    assert rows[6][1] == pytest.approx(-30_000_000 / MiB, abs=0.2)       # del b
    assert rows[5][2] == 1
    # and `hotpath report` shows the same tables again
    rep = runner.hotpath("report", "prog.hprof")
    assert rep.returncode == 0, rep.stderr
    assert "Line #    Mem usage" in rep.stdout and "Top lines by bytes allocated" in rep.stdout


def test_dash_f_chooses_functions(runner):
    runner.write("prog.py", LINES.replace("@profile\n", ""))
    r = runner.hotpath("run", "--memory", "-f", "prog.py:grow", "prog.py")
    assert r.returncode == 0, r.stderr
    assert "Line #    Mem usage" in r.stderr


def test_memory_and_lines_do_not_combine(runner):
    runner.write("prog.py", "x = 1\n")
    r = runner.hotpath("run", "--memory", "--lines", "prog.py")
    assert r.returncode == 2 and "do not combine" in r.stderr


def test_program_behaviour_is_kept(runner):
    runner.write("prog.py", "import sys\nprint('out')\nprint('err', file=sys.stderr)\n"
                            "sys.exit(3)\n")
    r = runner.hotpath("run", "--memory", "-q", "prog.py")
    assert r.returncode == 3
    assert r.stdout == "out\n" and r.stderr.startswith("err\n")


def test_memit_cli(runner):
    r = runner.hotpath("memit", "x = bytearray(20_000_000)")
    assert r.returncode == 0, r.stderr
    line = r.stdout.strip()
    assert line.startswith("peak memory: ") and line.endswith("MiB")
    inc = float(line.split("increment: ")[1].split()[0])
    assert inc == pytest.approx(20_000_000 / MiB, abs=0.05)


def test_memit_cli_numpy(runner):
    pytest.importorskip("numpy")
    r = runner.hotpath("memit", "-s", "import numpy as np", "a = np.ones(5_000_000)")
    assert r.returncode == 0, r.stderr
    inc = float(r.stdout.split("increment: ")[1].split()[0])
    assert inc == pytest.approx(40_000_000 / MiB, abs=0.1)


def test_children_do_not_inherit_the_shim(runner):
    runner.write("prog.py", "import os\nprint(os.environ.get('LD_PRELOAD', ''))\n")
    r = runner.hotpath("run", "--memory", "-q", "prog.py")
    assert r.returncode == 0, r.stderr
    assert "_preload" not in r.stdout
