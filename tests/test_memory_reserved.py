"""``hotpath run --memory``: anonymous mappings count as far as they are touched, the
reservation is reported apart, and the peak agrees with memray's on a NumPy/SciPy program.

OpenBLAS (in NumPy's and SciPy's wheels) maps 32 MiB per thread and touches little of it;
counted at their length those mappings put the peak of ``import scipy.integrate`` at
160 MiB where memray says 27 MiB and RSS 74 MB (docs/memory.md, "Reserved memory")."""
from __future__ import annotations

import json
import sys

import pytest

from hotpath import fileformat
from hotpath.model.memory import MemoryView

MiB = 1024 * 1024

MMAP_PROG = """
import mmap

def touch(m, n):
    for i in range(0, n, mmap.PAGESIZE):
        m[i] = 1

def passing():
    m = mmap.mmap(-1, 512 * 2**20)       # @passing: 512 MiB reserved, 24 MiB touched
    touch(m, 24 * 2**20)
    m.close()                            # unmapped before any tick may have read it

def kept():
    m = mmap.mmap(-1, 256 * 2**20)       # @kept: 256 MiB reserved, 8 MiB touched
    touch(m, 8 * 2**20)
    return m

passing()
k = kept()
print("done")
"""


def line_with(path, marker: str) -> int:
    for i, text in enumerate(path.read_text().splitlines(), 1):
        if marker in text:
            return i
    raise AssertionError(marker)


def peak_at_line(v: MemoryView, filename: str, line: int) -> int:
    return sum(r.peak_bytes for r in v.by_line(user=True)
               if r.key[0].endswith(filename) and r.key[1] == line)


def test_mmap_counts_touched_pages_and_reports_the_reservation(runner):
    prog = runner.write("prog.py", MMAP_PROG)
    r = runner.hotpath("run", "--memory", "prog.py")
    assert r.returncode == 0, r.stderr
    assert r.stdout == "done\n"
    prof = fileformat.read(str(runner.cwd / "prog.hprof"))
    v = MemoryView.of(prof)
    t = v.totals
    # the peak is the 24 MiB touched (plus the interpreter's own few MiB), not 512 MiB
    assert 24 * MiB <= t["peak_bytes"] <= 24 * MiB + 12 * MiB, t
    assert 24 * MiB <= peak_at_line(v, "prog.py", line_with(prog, "@passing")) <= 25 * MiB
    # the reservation, apart: 512 MiB at most at once, 256 MiB left at exit, 8 MiB touched
    assert t["reserved_max"] >= 512 * MiB
    assert t["reserved_bytes"] == 256 * MiB
    assert 8 * MiB <= t["reserved_touched"] <= 9 * MiB
    kept = [s for s in v.leaks() if v.line_key(s.frames[0])[1] == line_with(prog, "@kept")]
    assert kept and 8 * MiB <= kept[0].live_bytes <= 9 * MiB
    assert "Reserved: up to 512 MiB of anonymous mappings" in r.stderr
    # the timeline never has the heap above RSS, and shows the untouched part apart
    tl = prof.extra["memory"]["timeline"]
    assert all(h <= rss for h, rss in zip(tl["heap"], tl["rss"])), tl
    assert max(tl["reserved"]) >= 248 * MiB
    assert "reserved, untouched" in (runner.cwd / "prog.memory.svg").read_text()


SCIPY_PROG = """
import numpy as np
import scipy.integrate


def work(n=2_000_000):
    x = np.linspace(0.0, 10.0, n)
    y = np.sin(x) * np.exp(-x / 5.0)
    area = scipy.integrate.trapezoid(y, x)
    cum = scipy.integrate.cumulative_trapezoid(y, x, initial=0.0)
    a = np.random.default_rng(0).random((600, 600))
    b = a @ a.T
    return area, cum, b


area, cum, b = work()
print(f"{area:.6f} {b.shape}")
"""


def memray_peak(runner, prog: str) -> int:
    out = runner.cwd / "memray.bin"
    r = runner.python("-m", "memray", "run", "-q", "-o", str(out), prog, timeout=300)
    assert r.returncode == 0, r.stderr
    r = runner.python("-m", "memray", "stats", "--json", "-f", "-o",
                      str(runner.cwd / "memray.json"), str(out), timeout=300)
    assert r.returncode == 0, r.stderr
    return int(json.loads((runner.cwd / "memray.json").read_text())["metadata"]["peak_memory"])


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="the preload shim is Linux-only")
def test_numpy_scipy_peak_agrees_with_memray(runner):
    pytest.importorskip("numpy")
    pytest.importorskip("scipy")
    pytest.importorskip("memray")
    runner.write("prog.py", SCIPY_PROG)
    expected = memray_peak(runner, "prog.py")
    r = runner.hotpath("run", "--memory", "prog.py", timeout=300)
    assert r.returncode == 0, r.stderr
    prof = fileformat.read(str(runner.cwd / "prog.hprof"))
    v = MemoryView.of(prof)
    peak = v.totals["peak_bytes"]
    assert abs(peak - expected) <= 0.10 * expected, (peak / MiB, expected / MiB)
    # what held the peak adds up to it, and the timeline does not pass it or RSS
    held = sum(s.peak_bytes for s in v.stacks)
    assert abs(held - peak) <= 0.10 * expected, (held / MiB, peak / MiB)
    tl = prof.extra["memory"]["timeline"]
    assert max(tl["heap"]) <= peak
    assert all(h <= rss for h, rss in zip(tl["heap"], tl["rss"]))
    # OpenBLAS's mappings are there, reported apart
    assert v.totals["reserved_max"] > 0
