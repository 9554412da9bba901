"""The shapes of the named extra sections every reporter reads: ``lines`` and ``memory``.

A profile's ``extra`` is free-form JSON, except for these two names, whose layouts are
documented (``lines``: docs/lines.md, written by ``hotpath.capture.lines``; ``memory``:
docs/memory.md, written by ``hotpath.capture.memory``) and read by the text, HTML and diff
reports. ``check_extra(name, value)`` checks a value against its layout — types, row
lengths, indices in range — and raises ``ShapeError`` naming the first wrong place
(``memory.stacks[3][0][1]: frame 99 is not one of the 12 frames``).

The file format calls it on write and on read, so a file that passes the reader never
makes a reporter fail on its shape, and the writer never produces a file the reader
would refuse. Keys a reporter reads with a default may be missing; present, they must
have the documented type. Unknown keys are allowed (later versions may add some).
"""
from __future__ import annotations

from array import array
from itertools import chain

TYPE_CHECKING = False
if TYPE_CHECKING:             # typing is not imported at run time (issue 13, start-up)
    from typing import Any, Callable

__all__ = ["ShapeError", "check_extra", "CHECKED"]

MAX_LINE = 2**31 - 1    # a source line number (CPython's are C ints)
#: A function's timed lines lie within this many lines after its first: the line tables
#: print every line from the first to the last, so a stray row must not mean 2**31 rows.
MAX_SPAN = 100_000
#: a memory stack's counter (the model keeps them as 64-bit integers)
MAX_COUNT = 2**63 - 1


class ShapeError(ValueError):
    """A named extra section does not have its documented layout."""


# -- small checkers: each takes (value, where) and raises ShapeError ----------------------

def _fail(where: str, what: str, value: Any) -> ShapeError:
    text = repr(value)
    if len(text) > 40:
        text = text[:37] + "..."
    return ShapeError(f"{where}: {what}, not {text}")


def _int(v: Any, where: str, lo: int = 0, hi: int | None = None) -> int:
    if type(v) is not int or v < lo or (hi is not None and v > hi):
        rng = f"in [{lo}, {hi}]" if hi is not None else f">= {lo}"
        raise _fail(where, f"must be an integer {rng}", v)
    return v


def _num(v: Any, where: str) -> float:
    if type(v) not in (int, float):
        raise _fail(where, "must be a number", v)
    return v


def _str(v: Any, where: str) -> str:
    if not isinstance(v, str):
        raise _fail(where, "must be a string", v)
    return v


def _bool(v: Any, where: str) -> Any:
    if type(v) is not bool and not (type(v) is int and v in (0, 1)):
        raise _fail(where, "must be true/false (or 0/1)", v)
    return v


def _dict(v: Any, where: str) -> dict[str, Any]:
    if not isinstance(v, dict):
        raise _fail(where, "must be a JSON object", v)
    return v


def _list(v: Any, where: str, length: int | None = None) -> list[Any]:
    if not isinstance(v, list):
        raise _fail(where, "must be a list", v)
    if length is not None and len(v) != length:
        raise ShapeError(f"{where}: must have {length} items, not {len(v)}")
    return v


def _opt(d: dict[str, Any], key: str, where: str, check: Callable[[Any, str], Any],
         nullable: bool = False) -> Any:
    """Check ``d[key]`` if present (and not None when ``nullable``)."""
    if key not in d or (nullable and d[key] is None):
        return None
    return check(d[key], f"{where}.{key}")


def _req(d: dict[str, Any], key: str, where: str, check: Callable[[Any, str], Any]) -> Any:
    if key not in d:
        raise ShapeError(f"{where}: missing {key!r}")
    return check(d[key], f"{where}.{key}")


def _line(v: Any, where: str) -> int:
    return _int(v, where, 0, MAX_LINE)


def _row_line(v: Any, where: str, first: int) -> int:
    """A line of a function's table: from its first line to MAX_SPAN lines after."""
    return _int(v, where, first, first + MAX_SPAN)


# -- lines -------------------------------------------------------------------------------

def _check_auto(v: Any, where: str) -> None:
    d = _dict(v, where)
    _req(d, "chosen_at", where, _num)
    _req(d, "samples", where, _int)
    _opt(d, "own_seconds", where, _num, nullable=True)


def check_lines(data: Any, where: str = "lines") -> None:
    """``{version, unit, mode, clock, samples, functions: [{filename, lineno, name,
    lines: [[line, hits, time]], auto}]}`` (docs/lines.md)."""
    d = _dict(data, where)
    _opt(d, "version", where, _int)
    unit = _opt(d, "unit", where, _num)
    if unit is not None and not unit > 0:
        raise _fail(f"{where}.unit", "must be > 0", unit)
    _opt(d, "mode", where, _str, nullable=True)
    _opt(d, "samples", where, _int, nullable=True)
    _opt(d, "error", where, _str, nullable=True)
    for i, f in enumerate(_opt(d, "functions", where, _list) or ()):
        w = f"{where}.functions[{i}]"
        _dict(f, w)
        _req(f, "filename", w, _str)
        first = _req(f, "lineno", w, _line)
        _req(f, "name", w, _str)
        for k, row in enumerate(_req(f, "lines", w, _list)):
            rw = f"{w}.lines[{k}]"
            _list(row, rw, 3)
            _row_line(row[0], f"{rw}[0]", first)
            _int(row[1], f"{rw}[1]")
            _int(row[2], f"{rw}[2]")
        _opt(f, "auto", w, _check_auto, nullable=True)


# -- memory ------------------------------------------------------------------------------

_STACK_COUNTS = ("alloc_count", "alloc_bytes", "free_count", "free_bytes", "peak_count",
                 "peak_bytes")


def _stacks_ok(stacks: list[Any], nframes: int) -> bool:
    """The stacks' layout, checked a column at a time with C-level passes (a profile can
    hold millions of frame ids); False sends the caller to ``_check_stacks``, which
    finds and names the first wrong place."""
    if not stacks:
        return True
    if set(map(type, stacks)) != {list} or set(map(len, stacks)) != {9}:
        return False
    cols = list(zip(*stacks))
    if set(map(type, cols[0])) != {list}:
        return False
    ids = list(chain.from_iterable(cols[0]))
    if ids and (set(map(type, ids)) != {int} or min(ids) < 0 or max(ids) >= nframes):
        return False
    if not set(map(type, cols[1])) <= {bool, int} or not set(cols[1]) <= {0, 1}:
        return False
    for k in range(2, 9):
        col = cols[k]
        if (set(map(type, col)) != {int} or min(col) < 0
                or max(col) > (2 if k == 2 else MAX_COUNT)):
            return False
    return True


def _check_stacks(stacks: list[Any], nframes: int, where: str) -> None:
    for i, s in enumerate(stacks):
        w = f"{where}.stacks[{i}]"
        _list(s, w, 9)
        for k, fid in enumerate(_list(s[0], f"{w}[0]")):
            if type(fid) is not int or not 0 <= fid < nframes:
                raise _fail(f"{w}[0][{k}]", f"must be one of the {nframes} frames' index",
                            fid)
        _bool(s[1], f"{w}[1]")
        _int(s[2], f"{w}[2]", 0, 2)
        for k, name in enumerate(_STACK_COUNTS, 3):
            _int(s[k], f"{w}[{k}] ({name})", 0, MAX_COUNT)


_TREE_STACK_COLUMNS = ("node", "native", "truncated") + _STACK_COUNTS


def _column(v: Any, where: str) -> array:
    """An integer column: an ``array`` of integers (as read from a file) or a list of ints."""
    if isinstance(v, array):
        if v.typecode not in "bBhHiIlLqQ":
            raise _fail(where, "must be an array of integers", v)
        return v
    if not isinstance(v, list) or not set(map(type, v)) <= {int, bool}:
        raise _fail(where, "must be a column of integers", v)
    try:
        return array("q", v)
    except OverflowError:
        raise _fail(where, "must hold 64-bit integers", v) from None


def column_bounds(col: array) -> tuple[int | None, int | None, int]:
    """(min, max, bad) of an integer array, without an int object per value where the C
    core is there (``MemTracker.column_bounds``): None, None when empty; bad is the first
    index i > 0 whose value is not in [0, i) (a valid parent column has none), else -1."""
    try:
        from hotpath._core import MemTracker
    except ImportError:                    # pragma: no cover - the package is built with it
        if not len(col):
            return None, None, -1
        bad = next((i for i in range(1, len(col)) if not 0 <= col[i] < i), -1)
        return min(col), max(col), bad
    return MemTracker.column_bounds(col)


def _first_bad(col: Any, ok: Callable[[int, int], bool]) -> int:
    return next(i for i, x in enumerate(col) if not ok(i, x))


def _check_tree(d: dict[str, Any], nframes: int, where: str) -> int:
    """Version 2's ``tree`` {parent, frame} and ``stacks`` columns (docs/memory.md), a
    column at a time with C-level passes; returns the number of stacks."""
    tw = f"{where}.tree"
    tree = _req(d, "tree", where, _dict)
    parent = _column(_req(tree, "parent", tw, lambda v, w: v), f"{tw}.parent")
    frame = _column(_req(tree, "frame", tw, lambda v, w: v), f"{tw}.frame")
    n = len(parent)
    if n == 0 or len(frame) != n:
        raise ShapeError(f"{tw}: parent and frame must have one value per node, node 0 "
                         f"included ({n} and {len(frame)})")
    if parent[0] != -1 or frame[0] != -1:
        raise ShapeError(f"{tw}: node 0 must be the empty stack (parent -1, frame -1), "
                         f"not parent {parent[0]}, frame {frame[0]}")
    if n > 1:
        bad = column_bounds(parent)[2]
        if bad >= 0:
            raise _fail(f"{tw}.parent[{bad}]", "must be an earlier node", parent[bad])
        lo, hi, _ = column_bounds(frame[1:])
        if lo < 0 or hi >= nframes:                          # type: ignore[operator]
            bad = _first_bad(frame, lambda i, x: i == 0 or 0 <= x < nframes)
            raise _fail(f"{tw}.frame[{bad}]", f"must be one of the {nframes} frames' index",
                        frame[bad])
    sw = f"{where}.stacks"
    stacks = d["stacks"]
    cols = {k: _column(_req(stacks, k, sw, lambda v, w: v), f"{sw}.{k}")
            for k in _TREE_STACK_COLUMNS}
    ns = len(cols["node"])
    for k, col in cols.items():
        if len(col) != ns:
            raise ShapeError(f"{sw}.{k}: must have one value per stack ({ns}), not {len(col)}")
        if not ns:
            continue
        hi = {"node": n - 1, "native": 1, "truncated": 2}.get(k, MAX_COUNT)
        c_lo, c_hi, _ = column_bounds(col)
        if c_lo < 0 or c_hi > hi:                            # type: ignore[operator]
            bad = _first_bad(col, lambda i, x: 0 <= x <= hi)
            raise _fail(f"{sw}.{k}[{bad}]", f"must be an integer in [0, {hi}]", col[bad])
    return ns


def check_memory(data: Any, where: str = "memory") -> None:
    """The memory section's layout (docs/memory.md, "The profile file")."""
    d = _dict(data, where)
    _opt(d, "version", where, _int)
    _opt(d, "mode", where, _str)
    _opt(d, "sample_bytes", where, _int, nullable=True)
    _opt(d, "native", where, _bool)
    _opt(d, "forked", where, _bool)
    _opt(d, "max_frames", where, _int, nullable=True)
    functions = _opt(d, "functions", where, _list) or []
    for i, f in enumerate(functions):
        w = f"{where}.functions[{i}]"
        _list(f, w, 3)
        _str(f[0], f"{w}[0]")
        _str(f[1], f"{w}[1]")
        _line(f[2], f"{w}[2]")
    frames = _opt(d, "frames", where, _list) or []
    nfuncs = len(functions)
    for i, fr in enumerate(frames):
        w = f"{where}.frames[{i}]"
        _list(fr, w, 2)
        if type(fr[0]) is not int or not 0 <= fr[0] < nfuncs:
            raise _fail(f"{w}[0]", f"must be one of the {nfuncs} functions' index", fr[0])
        _line(fr[1], f"{w}[1]")
    nframes = len(frames)
    if isinstance(d.get("stacks"), dict):            # version 2: a tree and columns
        nstacks = _check_tree(d, nframes, where)
    else:
        stacks = _opt(d, "stacks", where, _list) or []
        if not _stacks_ok(stacks, nframes):
            _check_stacks(stacks, nframes, where)
        nstacks = len(stacks)
    totals = _opt(d, "totals", where, _dict) or {}
    for key, value in totals.items():
        _num(value, f"{where}.totals.{key}")
    timeline = _opt(d, "timeline", where, _dict) or {}
    for key in ("t", "rss", "heap"):
        for k, x in enumerate(_opt(timeline, key, f"{where}.timeline", _list) or ()):
            _num(x, f"{where}.timeline.{key}[{k}]")
    temporal = _opt(d, "temporal", where, _dict) or {}
    times = _opt(temporal, "t", f"{where}.temporal", _list) or []
    for key in ("live", "other"):
        rows = _opt(temporal, key, f"{where}.temporal", _list) or []
        for k, row in enumerate(rows if key == "live" else [rows]):
            w = f"{where}.temporal.{key}" + (f"[{k}]" if key == "live" else "")
            if len(_list(row, w)) != len(times):
                raise _fail(w, f"must have one value per time ({len(times)})", len(row))
            for x in row:
                _num(x, w)
    for k, s in enumerate(_opt(temporal, "stacks", f"{where}.temporal", _list) or ()):
        if type(s) is not int or not 0 <= s < nstacks:
            raise _fail(f"{where}.temporal.stacks[{k}]",
                        f"must be one of the {nstacks} stacks' index", s)
    for i, f in enumerate(_opt(d, "lines", where, _list, nullable=True) or ()):
        w = f"{where}.lines[{i}]"
        _dict(f, w)
        _req(f, "filename", w, _str)
        first = _req(f, "lineno", w, _line)
        _opt(f, "name", w, _str)
        for k, row in enumerate(_req(f, "lines", w, _list)):
            rw = f"{w}.lines[{k}]"
            _list(row, rw, 4)
            _row_line(row[0], f"{rw}[0]", first)
            _num(row[1], f"{rw}[1]")
            _num(row[2], f"{rw}[2]")
            _int(row[3], f"{rw}[3]")


#: extra name → its checker; other names are free-form
def check_processes(data: Any, where: str = "processes") -> None:
    """``[{pid, ppid, argv, label, start, end, threads, status, reason}]``
    (``hotpath.model.processes``): the processes of a whole-program profile."""
    for i, p in enumerate(_list(data, where)):
        w = f"{where}[{i}]"
        _dict(p, w)
        _req(p, "pid", w, _int)
        _opt(p, "ppid", w, _int)
        for k, a in enumerate(_opt(p, "argv", w, _list) or ()):
            _str(a, f"{w}.argv[{k}]")
        _opt(p, "label", w, _str)
        _opt(p, "start", w, _num)
        _opt(p, "end", w, _num, nullable=True)
        for k, t in enumerate(_opt(p, "threads", w, _list) or ()):
            _int(t, f"{w}.threads[{k}]")
        _opt(p, "status", w, _str)
        _opt(p, "reason", w, _str)


CHECKED: dict[str, Callable[[Any, str], None]] = {"lines": check_lines, "memory": check_memory,
                                                  "processes": check_processes}


def check_extra(name: str, value: Any) -> None:
    """Raise ``ShapeError`` if ``value`` is not a valid ``extra[name]`` (only the names in
    ``CHECKED`` have a layout; anything else passes)."""
    check = CHECKED.get(name)
    if check is not None:
        check(value, name)
