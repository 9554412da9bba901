"""Allocations: the typed model of a profile's ``extra["memory"]`` section.

The section's layout is docs/memory.md (``hotpath.extras`` checks it): a function table
``[filename, qualname, first line]``, a frame table ``[function, line]``, the stacks,
totals, and the timeline. Version 2 (``SECTION_VERSION``) keeps the stacks as a tree of
frames — ``tree``: ``parent`` and ``frame`` columns, node 0 the empty stack, every other
node one frame under its caller, so a stack's frames, innermost first, are its node's path
up to node 0 — and ``stacks``: columns ``node``, ``native``, ``truncated`` and the
counters (``STACK_FIELDS[3:]``), integer ``array``s the file stores packed. Version 1
(files of hotpath before it) had ``stacks`` as a list of ``STACK_FIELDS`` rows with each
stack's frame ids spelled out; ``MemoryView`` reads both (``tree_from_stacks``), and
``stack_rows`` gives any section's stacks in that older form.

The capture (``hotpath.capture.memory.memory_data``) writes it; ``MemoryView`` reads it for
every reporter: rows per line and function, stacks, leak candidates, and which frames are
the user's code.
"""
from __future__ import annotations

import sys
from array import array
from dataclasses import dataclass
from operator import mul
from typing import Any, Iterable

from .calltree import Profile
from .usercode import UserCode

__all__ = ["SECTION_VERSION", "STACK_FIELDS", "COUNTERS", "NO_FRAME", "MemoryView", "Row",
           "Stack", "has_memory", "is_tree_section", "stack_rows", "tree_from_stacks",
           "with_stack_rows"]

SECTION_VERSION = 2
#: the fields of one stack of a version 1 section (``stack_rows``), in order
STACK_FIELDS = ["frames", "native", "truncated", "alloc_count", "alloc_bytes",
                "free_count", "free_bytes", "peak_count", "peak_bytes"]
#: the counter columns of ``stacks`` (version 2)
COUNTERS = STACK_FIELDS[3:]
NO_FRAME = "<no Python frame>"


def has_memory(profile: Profile) -> bool:
    return isinstance(profile.extra.get("memory"), dict)


def is_tree_section(data: dict[str, Any]) -> bool:
    """Whether ``data`` keeps its stacks as a tree (version 2), not as rows (version 1)."""
    return isinstance(data.get("stacks"), dict)


def _core() -> Any:
    """The C helpers (``_core.MemTracker``'s static methods), or None without the extension."""
    try:
        from hotpath._core import MemTracker
    except ImportError:                    # pragma: no cover - the package is built with it
        return None
    return MemTracker


def _widen(col: array, code: str) -> array | None:
    """``col`` (an integer array, as the file reader gives it at its narrowest width) as
    an array of ``code``, by byte slices rather than an int object per value: for a
    little-endian host and values >= 0, a value's bytes are its first bytes of the wider
    item, the rest zeros. A negative value only at index 0 (a tree's root) is allowed.
    None when that does not apply."""
    c = _core()
    if c is None or sys.byteorder != "little" or col.typecode not in "bBhHiIlLqQ":
        return None
    column_bounds = c.column_bounds
    w, wide = col.itemsize, array(code).itemsize
    lo, hi, _ = column_bounds(col)
    if lo is None:
        return array(code)
    if lo < 0:
        rest = col[1:]
        if len(rest) and column_bounds(rest)[0] < 0:
            return None
        head = array(code, col[:1])
        if len(rest):
            tail = _widen(rest, code)
            if tail is None:
                return None
            head.extend(tail)
        return head
    if w > wide or hi >= 1 << (8 * wide - 1):
        return None
    raw = col.tobytes()
    if w < wide:
        out = bytearray(len(col) * wide)
        for k in range(w):
            out[k::wide] = raw[k::w]
        raw = bytes(out)
    return _from_bytes(code, raw)


def _as(code: str, col: Any) -> array:
    if isinstance(col, array):
        if col.typecode == code:
            return col
        wide = _widen(col, code)
        if wide is not None:
            return wide
    return array(code, col)


def _i32(col: Any) -> array:
    return _as("i", col)


def _i64(cols: Iterable[Any]) -> bytes:
    return b"".join(_as("q", c).tobytes() for c in cols)


def _from_bytes(code: str, data: bytes) -> array:
    a = array(code)
    a.frombytes(data)
    return a


def tree_from_stacks(rows: list[list[Any]]) -> tuple[dict[str, array], dict[str, array]]:
    """Version 1 stack rows → version 2's ``tree`` and ``stacks`` columns, stacks in the
    same order (so indexes into them, as ``temporal.stacks``, stay valid). ValueError for
    rows that are not ``STACK_FIELDS`` rows of integers."""
    parent, frame = array("i", [-1]), array("i", [-1])
    child: dict[tuple[int, int], int] = {}
    node = array("i")
    if any(len(st) != 9 for st in rows):
        raise ValueError("memory section: a stack does not have 9 fields")
    cols = list(zip(*rows)) if rows else [()] * 9
    for col in cols[1:]:
        if not set(map(type, col)) <= {int, bool}:
            raise ValueError("memory section: a stack's counters are not integers")
    for frames in cols[0]:
        t = 0
        for f in reversed(frames):
            nxt = child.get((t, f))
            if nxt is None:
                nxt = child[(t, f)] = len(parent)
                parent.append(t)
                frame.append(f)
            t = nxt
        node.append(t)
    stacks = {"node": node, "native": array("b", map(int, cols[1])),
              "truncated": array("b", cols[2])}
    for name, col in zip(COUNTERS, cols[3:]):
        stacks[name] = array("q", col)
    return {"parent": parent, "frame": frame}, stacks


def _expand(tree: dict[str, Any], node: Any) -> list[list[int]]:
    """Each stack's frame ids, innermost first."""
    parent, frame, node = _i32(tree["parent"]), _i32(tree["frame"]), _i32(node)
    c = _core()
    if c is None:                          # pragma: no cover
        out = []
        for t in node:
            fr = []
            while t > 0:
                fr.append(frame[t])
                t = parent[t]
            out.append(fr)
        return out
    flat_b, offs_b = c.tree_expand(parent, frame, node)
    flat, offs = _from_bytes("i", flat_b), _from_bytes("q", offs_b)
    return [flat[a:b].tolist() for a, b in zip(offs, offs[1:])]


def stack_rows(data: dict[str, Any]) -> list[list[Any]]:
    """The section's stacks as version 1 rows (``STACK_FIELDS``), whatever its version."""
    if not is_tree_section(data):
        return data.get("stacks", [])
    st = data["stacks"]
    frames = _expand(data["tree"], st["node"])
    return [[fr, bool(nat), int(tr), *map(int, counts)]
            for fr, nat, tr, *counts in zip(frames, st["native"], st["truncated"],
                                             *(st[k] for k in COUNTERS))]


def with_stack_rows(data: dict[str, Any], rows: list[list[Any]]) -> dict[str, Any]:
    """``data`` (in place) with its stacks replaced by ``rows`` (version 1 rows), kept as
    a version 2 tree."""
    tree, stacks = tree_from_stacks(rows)
    data.update(version=SECTION_VERSION, tree=tree, stacks=stacks)
    data.pop("stack_fields", None)
    return data


class _LiveMixin:
    """Live = allocated − freed, for anything with alloc/free bytes and counts."""

    @property
    def live_bytes(self) -> int:
        return self.alloc_bytes - self.free_bytes  # type: ignore[attr-defined]

    @property
    def live_count(self) -> int:
        return self.alloc_count - self.free_count  # type: ignore[attr-defined]


@dataclass
class Row(_LiveMixin):
    """Totals of one line or function."""
    key: Any
    alloc_bytes: int = 0
    alloc_count: int = 0
    free_bytes: int = 0
    free_count: int = 0
    peak_bytes: int = 0
    native_bytes: int = 0


@dataclass
class Stack(_LiveMixin):
    frames: list[int]            #: frame ids, innermost first
    native: bool
    truncated: int
    alloc_count: int
    alloc_bytes: int
    free_count: int
    free_bytes: int
    peak_count: int
    peak_bytes: int


class MemoryView:
    """The section, with lookups: functions, frames, stacks and derived tables.

    ``root`` (the program's working directory) and ``focus`` (packages counted as the
    user's) decide which files are the user's code, as every report decides it
    (``model.usercode.UserCode``): files that are not the standard library's, an
    installed package's or frozen.

    Cost: the user's-code decision is made once per function (``user_checks`` counts
    them); per-stack answers come from one pass over the tree's nodes (a stack's innermost
    user frame, whether it ran inside an import) and the tables are sums over integer
    columns, in C; ``stacks`` (one ``Stack`` object per stack, its frames spelled out) is
    built only on demand.
    """

    def __init__(self, data: dict[str, Any], root: str | None = None,
                 focus: Iterable[str] = ()) -> None:
        self.data = data
        self.root = root
        self._user = UserCode(self.root, focus)
        self._shorten = self._user.shorten
        self.functions = [tuple(f) for f in self.data.get("functions", [])]
        self.frames = [tuple(f) for f in self.data.get("frames", [])]
        self.totals = self.data.get("totals", {})
        if is_tree_section(data):
            tree, stacks = data["tree"], data["stacks"]
        else:                                          # version 1: rows
            tree, stacks = tree_from_stacks(data.get("stacks", []))
        #: the tree: per node its parent (-1 at node 0) and frame (-1 at node 0)
        self._parent = _i32(tree["parent"])
        self._tframe = _i32(tree["frame"])
        #: per stack: its node, native, truncated, counters
        self._node = _i32(stacks["node"])
        self._native = stacks["native"]
        self._truncated = stacks["truncated"]
        (self._ac, self._ab, self._fc, self._fb, self._pc,
         self._pb) = (stacks[k] for k in COUNTERS)
        self._frame_func = [int(f[0]) for f in self.frames]
        self._user_func: list[bool | None] = [None] * len(self.functions)
        self._user_frame_flag: list[bool] | None = None
        self._user_frames: list[int] | None = None
        self._frames_list: list[list[int]] | None = None
        self._stacks: list[Stack] | None = None
        self._imports: list[bool] | None = None
        self._weights_cache: bytes | None = None
        self._import_node: list[int] | None = None
        self._node_func: list[int] | None = None
        self.user_checks = 0

    @classmethod
    def of(cls, obj: Profile | dict[str, Any], root: str | None = None) -> "MemoryView":
        if isinstance(obj, Profile):
            return cls(obj.extra["memory"], root or obj.meta.get("cwd"))
        return cls(obj, root)

    def __len__(self) -> int:
        """The number of stacks."""
        return len(self._node)

    @property
    def _frames_col(self) -> list[list[int]]:
        """Per stack its frame ids, innermost first (spelled out on first use)."""
        if self._frames_list is None:
            self._frames_list = _expand({"parent": self._parent, "frame": self._tframe},
                                        self._node)
        return self._frames_list

    def _stacks_at(self, idx: list[int]) -> list[Stack]:
        """The stacks of these indexes as ``Stack`` objects (their frames spelled out in
        one pass)."""
        if self._stacks is not None:
            return [self._stacks[i] for i in idx]
        node = self._node
        frames = _expand({"parent": self._parent, "frame": self._tframe},
                         array("i", [node[i] for i in idx]))
        return [Stack(fr, bool(self._native[i]), int(self._truncated[i]), int(self._ac[i]),
                      int(self._ab[i]), int(self._fc[i]), int(self._fb[i]), int(self._pc[i]),
                      int(self._pb[i])) for i, fr in zip(idx, frames)]

    @property
    def stacks(self) -> list[Stack]:
        """Every stack as a ``Stack`` (built on first use)."""
        if self._stacks is None:
            self._stacks = [Stack(list(fr), bool(nat), int(t), int(ac), int(ab), int(fc),
                                  int(fb), int(pc), int(pb))
                            for fr, nat, t, ac, ab, fc, fb, pc, pb in zip(
                                self._frames_col, self._native, self._truncated, self._ac,
                                self._ab, self._fc, self._fb, self._pc, self._pb)]
        return self._stacks

    def _is_user_func(self, func: int) -> bool:
        hit = self._user_func[func]
        if hit is None:
            self.user_checks += 1
            hit = self._user_func[func] = self._user.is_user(self.functions[func][0])
        return hit

    def is_user(self, frame: int) -> bool:
        """Whether a frame is in the user's code (see the class docstring)."""
        return self._is_user_func(self._frame_func[frame])

    def _user_flags(self) -> list[bool]:
        if self._user_frame_flag is None:
            funcs = [self._is_user_func(i) for i in range(len(self.functions))]
            self._user_frame_flag = [funcs[f] for f in self._frame_func]
        return self._user_frame_flag

    def user_frame(self, s: Stack) -> int | None:
        """The innermost frame of the user's code in ``s``, else its innermost frame."""
        flags = self._user_flags()
        for f in s.frames:
            if flags[f]:
                return f
        return s.frames[0] if s.frames else None

    def _nearest(self, value: list[int]) -> list[int]:
        """Per node: ``value`` of the nearest node on its path (itself first) that has one
        (>= 0), else -1."""
        c = _core()
        if c is None:                                  # pragma: no cover
            out: list[int] = []
            for v, p in zip(value, self._parent):
                out.append(v if v >= 0 else out[p] if p >= 0 else -1)
            return out
        return _from_bytes("i", c.tree_nearest(self._parent, array("i", value))).tolist()

    def user_frames(self) -> list[int]:
        """Per stack (in order): ``user_frame``'s answer, -1 for a stack without frames;
        computed once."""
        if self._user_frames is None:
            flags = self._user_flags()
            tframe = self._tframe
            near = self._nearest([f if f >= 0 and flags[f] else -1 for f in tframe])
            per_node = [u if u >= 0 else f for u, f in zip(near, tframe)]
            self._user_frames = list(map(per_node.__getitem__, self._node))
        return self._user_frames

    def _import_funcs(self) -> list[bool]:
        if self._imports is None:
            self._imports = [self._user.is_import(f[0]) for f in self.functions]
        return self._imports

    def _import_nodes(self) -> list[int]:
        """Per node: >= 0 when a frame on its path is inside an import (made once)."""
        if self._import_node is None:
            imp = self._import_funcs()
            ff = self._frame_func
            self._import_node = self._nearest([1 if f >= 0 and imp[ff[f]] else -1
                                               for f in self._tframe])
        return self._import_node

    def is_import(self, s: Stack) -> bool:
        """Whether ``s`` ran inside an import (module-level state, not a leak)."""
        imp = self._import_funcs()
        ff = self._frame_func
        return any(imp[ff[f]] for f in s.frames)

    @property
    def sampled(self) -> bool:
        return self.data.get("mode") == "sampled"

    # -- labels ------------------------------------------------------------------------------

    def line_key(self, frame: int | None) -> tuple[str, int, str]:
        """(filename, line, function name) of a frame; NO_FRAME for none."""
        if frame is None or frame < 0:
            return (NO_FRAME, 0, "")
        func, line = self.frames[frame]
        filename, name, _ = self.functions[func]
        return (filename, line, name)

    def func_key(self, frame: int | None) -> tuple[str, int, str]:
        if frame is None or frame < 0:
            return (NO_FRAME, 0, "")
        func, _ = self.frames[frame]
        filename, name, first = self.functions[func]
        return (filename, first, name)

    def _func_key_of(self, func: int) -> tuple[str, int, str]:
        if func < 0:
            return (NO_FRAME, 0, "")
        filename, name, first = self.functions[func]
        return (filename, first, name)

    # -- tables --------------------------------------------------------------------------------

    def _weights(self) -> bytes:
        """The six summed columns, one after another (int64): alloc_bytes, alloc_count,
        free_bytes, free_count, peak_bytes, native bytes (made once)."""
        if self._weights_cache is None:
            native_ab = array("q", map(mul, self._ab, self._native))      # native: 0 / 1
            self._weights_cache = _i64((self._ab, self._ac, self._fb, self._fc, self._pb,
                                        native_ab))
        return self._weights_cache

    def _sum_by(self, keys: Iterable[int]) -> dict[int, list[int]]:
        """Per key (one int per stack, in order; -1 allowed): [alloc_bytes, alloc_count,
        free_bytes, free_count, peak_bytes, native_bytes], keys in the order first met."""
        keys = _i32(keys)
        c = _core()
        if c is None:                                  # pragma: no cover
            acc: dict[int, list[int]] = {}
            for k, ab, ac, fb, fc, pb, nat in zip(keys, self._ab, self._ac, self._fb,
                                                  self._fc, self._pb, self._native):
                r = acc.setdefault(k, [0] * 6)
                for j, v in enumerate((ab, ac, fb, fc, pb, ab if nat else 0)):
                    r[j] += v
            return acc
        kb, sb = c.sum_by(keys, self._weights(), 6)
        ks, sums = _from_bytes("i", kb).tolist(), _from_bytes("q", sb).tolist()
        return {k: sums[6 * j:6 * j + 6] for j, k in enumerate(ks)}

    @staticmethod
    def _rows(acc: dict[int, list[int]], label: Any) -> list[Row]:
        return [Row(label(k), r[0], r[1], r[2], r[3], r[4], r[5]) for k, r in acc.items()]

    def _innermost(self) -> list[int]:
        """Per stack its innermost frame, -1 for none."""
        return list(map(self._tframe.__getitem__, self._node))

    def by_line(self, user: bool = False) -> list[Row]:
        """Per line that allocated: the innermost Python frame of each stack, or with
        ``user`` the innermost frame of the user's code (library frames folded in)."""
        keys = self.user_frames() if user else self._innermost()
        return self._rows(self._sum_by(keys), self.line_key)

    def _node_funcs(self) -> list[int]:
        """Per node its frame's function, -1 at node 0 (made once)."""
        if self._node_func is None:
            ff = self._frame_func
            self._node_func = [ff[f] if f >= 0 else -1 for f in self._tframe]
        return self._node_func

    def by_function(self, inclusive: bool = False) -> list[Row]:
        """Per function: its own lines (``inclusive=False``), or its lines and everything
        they called (each stack counted once per function in it)."""
        funcs = self._node_funcs()
        if not inclusive:
            return self._rows(self._sum_by(map(funcs.__getitem__, self._node)),
                              self._func_key_of)
        # Each stack adds to every distinct function in it: the sums under each node whose
        # function is not above it too (C, one pass up the tree), then stacks without frames.
        nf = len(self.functions)
        c = _core()
        if c is None:                                  # pragma: no cover
            per_set = self._sum_by_sets(funcs)
            sums, seen = per_set
        else:
            sb, seen_b = c.tree_inclusive(self._parent, array("i", funcs), nf, self._node,
                                          self._weights(), 6)
            flat, seen = _from_bytes("q", sb).tolist(), list(seen_b)
            sums = [flat[6 * k:6 * k + 6] for k in range(nf)]
        acc = {k: sums[k] for k in range(nf) if seen[k]}
        empty = [i for i, t in enumerate(self._node) if t == 0]
        if empty:
            r = [0] * 6
            for i in empty:
                nat = self._native[i]
                for j, v in enumerate((self._ab[i], self._ac[i], self._fb[i], self._fc[i],
                                       self._pb[i], self._ab[i] if nat else 0)):
                    r[j] += v
            acc[-1] = r
        return self._rows(acc, self._func_key_of)

    def _sum_by_sets(self, funcs: list[int]) -> tuple[list[list[int]], list[bool]]:
        """``by_function(inclusive=True)`` without the C helpers."""  # pragma: no cover
        nf = len(self.functions)
        sums = [[0] * 6 for _ in range(nf)]
        seen = [False] * nf
        for i, fr in enumerate(self._frames_col):
            w = (self._ab[i], self._ac[i], self._fb[i], self._fc[i], self._pb[i],
                 self._ab[i] if self._native[i] else 0)
            for k in {self._frame_func[f] for f in fr}:
                seen[k] = True
                for j in range(6):
                    sums[k][j] += w[j]
        return sums, seen

    def live_stack_ids(self) -> list[int]:
        """Indexes of the stacks with bytes still live at the end."""
        return [i for i, (ab, fb) in enumerate(zip(self._ab, self._fb)) if ab > fb]

    def leaks(self, min_bytes: int = 1024, imports: bool = False) -> list[Stack]:
        """Stacks with bytes still live at the end (leak candidates), largest first;
        stacks holding less than ``min_bytes`` are left out, and so are stacks that ran
        inside an import (module state) unless ``imports``."""
        floor = max(1, min_bytes)
        idx = [i for i, (ab, fb) in enumerate(zip(self._ab, self._fb)) if ab - fb >= floor]
        if not imports:
            inside, node = self._import_nodes(), self._node
            idx = [i for i in idx if inside[node[i]] < 0]
        out = self._stacks_at(idx)
        out.sort(key=lambda s: (-s.live_bytes, -s.live_count))
        return out

    def import_stacks(self) -> list[Stack]:
        """Stacks with bytes live at the end that ran inside an import."""
        inside, node = self._import_nodes(), self._node
        return self._stacks_at([i for i in self.live_stack_ids() if inside[node[i]] >= 0])

    def import_totals(self) -> tuple[int, int]:
        """(stacks, live bytes) of ``import_stacks()``, without making them."""
        inside, node = self._import_nodes(), self._node
        n = live = 0
        for ab, fb, t in zip(self._ab, self._fb, node):
            if ab > fb and inside[t] >= 0:
                n += 1
                live += ab - fb
        return n, live

    def _stack(self, i: int) -> Stack:
        return self._stacks_at([i])[0]
