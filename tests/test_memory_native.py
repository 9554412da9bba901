"""``hotpath run --memory``: "native" means asked for by code outside the interpreter (a C
extension, a library), whichever allocator it called. NumPy >= 2.5 takes array data from
PyMem_RawMalloc/PyMem_RawCalloc rather than malloc: its arrays must still read as native,
and the interpreter's own objects must not (docs/memory.md, "Native or not")."""
from __future__ import annotations

import pytest

from hotpath import fileformat
from hotpath.model.memory import MemoryView


def line_with(path, marker: str) -> int:
    for i, text in enumerate(path.read_text().splitlines(), 1):
        if marker in text:
            return i
    raise AssertionError(marker)


def row_of(v: MemoryView, filename: str, line: int):
    rows = [r for r in v.by_line(user=True) if r.key[0].endswith(filename) and r.key[1] == line]
    assert rows, (filename, line)
    return rows[0]


def native_column(stderr: str, where: str) -> str:
    """The Native column of the 'Top lines by bytes allocated' row for `where`."""
    for text in stderr.split("Top lines by number")[0].splitlines():
        if text.endswith(f"  {where}"):
            return text[45:52].strip()          # Allocated, Blocks, At peak, Live end, Native
    raise AssertionError(f"{where} not in the report:\n{stderr}")


RAW_PROG = """
import ctypes

api = ctypes.pythonapi
for name in ("PyMem_RawMalloc", "PyMem_Malloc"):
    getattr(api, name).restype = ctypes.c_void_p
    getattr(api, name).argtypes = [ctypes.c_size_t]

def main():
    raw = api.PyMem_RawMalloc(6_000_000)        # @raw: a C library asks, through PyMem_Raw
    mem = api.PyMem_Malloc(5_000_000)           # @mem: and through PyMem
    own = bytearray(4_000_000)                  # @own: the interpreter asks
    return raw, mem, own

keep = main()
print("done")
"""


def test_native_is_who_asked_not_which_allocator(runner):
    prog = runner.write("prog.py", RAW_PROG)
    r = runner.hotpath("run", "--memory", "prog.py")
    assert r.returncode == 0, r.stderr
    assert r.stdout == "done\n"
    v = MemoryView.of(fileformat.read(str(runner.cwd / "prog.hprof")))
    raw = row_of(v, "prog.py", line_with(prog, "@raw"))
    mem = row_of(v, "prog.py", line_with(prog, "@mem"))
    own = row_of(v, "prog.py", line_with(prog, "@own"))
    assert raw.alloc_bytes >= 6_000_000 and raw.native_bytes >= 6_000_000
    assert mem.alloc_bytes >= 5_000_000 and mem.native_bytes >= 5_000_000
    assert own.alloc_bytes >= 4_000_000 and own.native_bytes < 4_000_000 * 0.01
    assert native_column(r.stderr, f"prog.py:{line_with(prog, '@raw')} (main)") == "100%"
    assert native_column(r.stderr, f"prog.py:{line_with(prog, '@own')} (main)") == "-"


NUMPY_PROG = """
import numpy as np

def build():
    a = np.ones(10_000_000)                     # @ones: 80 MB of float64
    b = np.zeros((2000, 2000))                  # @zeros: 32 MB
    return a, b

def plain():
    return [0] * 5_000_000                      # @list: 40 MB of the interpreter's

keep = build(), plain()
print(np.__version__)
"""


def test_numpy_arrays_are_native(runner):
    pytest.importorskip("numpy")
    prog = runner.write("prog.py", NUMPY_PROG)
    r = runner.hotpath("run", "--memory", "prog.py")
    assert r.returncode == 0, r.stderr
    v = MemoryView.of(fileformat.read(str(runner.cwd / "prog.hprof")))
    for marker, size in (("@ones", 80_000_000), ("@zeros", 32_000_000)):
        row = row_of(v, "prog.py", line_with(prog, marker))
        assert row.alloc_bytes >= size and row.native_bytes >= 0.99 * row.alloc_bytes, (
            marker, r.stdout, row)
        where = f"prog.py:{line_with(prog, marker)} (build)"
        assert native_column(r.stderr, where) == "100%", r.stderr
    lst = row_of(v, "prog.py", line_with(prog, "@list"))
    assert lst.alloc_bytes >= 40_000_000 and lst.native_bytes == 0
