"""Allocations: the typed model of a profile's ``extra["memory"]`` section.

The section's layout is docs/memory.md (``hotpath.extras`` checks it): a function table
``[filename, qualname, first line]``, a frame table ``[function, line]``, stacks of frame
ids (innermost first) with their counters in ``STACK_FIELDS`` order, totals, and the
timeline. The capture (``hotpath.capture.memory.memory_data``) writes it; ``MemoryView``
reads it for every reporter: rows per line and function, stacks, leak candidates, and
which frames are the user's code.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Iterable

from .calltree import Profile
from .usercode import UserCode

__all__ = ["SECTION_VERSION", "STACK_FIELDS", "NO_FRAME", "MemoryView", "Row", "Stack",
           "has_memory"]

SECTION_VERSION = 1
#: the fields of one stack of the section, in order
STACK_FIELDS = ["frames", "native", "truncated", "alloc_count", "alloc_bytes",
                "free_count", "free_bytes", "peak_count", "peak_bytes"]
NO_FRAME = "<no Python frame>"


def has_memory(profile: Profile) -> bool:
    return isinstance(profile.extra.get("memory"), dict)


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
    them), a stack's innermost user frame once per stack, and the tables are sums over
    integer columns; ``stacks`` (one ``Stack`` object per stack) is built only on demand.
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
        raw = self.data.get("stacks", [])
        if any(len(st) != 9 for st in raw):
            raise ValueError("memory section: a stack does not have 9 fields")
        cols = list(zip(*raw)) if raw else [()] * 9
        for col in cols[1:]:
            if not set(map(type, col)) <= {int, bool}:
                raise ValueError("memory section: a stack's counters are not integers")
        #: per stack: frame ids (innermost first), native, truncated, counters
        self._frames_col: list[list[int]] = list(cols[0])
        self._native = [bool(x) for x in cols[1]]
        (self._truncated, self._ac, self._ab, self._fc, self._fb, self._pc,
         self._pb) = (list(c) for c in cols[2:9])
        self._frame_func = [int(f[0]) for f in self.frames]
        self._user_func: list[bool | None] = [None] * len(self.functions)
        self._user_frame_flag: list[bool] | None = None
        self._user_frames: list[int] | None = None
        self._stacks: list[Stack] | None = None
        self._imports: list[bool] | None = None
        self.user_checks = 0

    @classmethod
    def of(cls, obj: Profile | dict[str, Any], root: str | None = None) -> "MemoryView":
        if isinstance(obj, Profile):
            return cls(obj.extra["memory"], root or obj.meta.get("cwd"))
        return cls(obj, root)

    @property
    def stacks(self) -> list[Stack]:
        """Every stack as a ``Stack`` (built on first use)."""
        if self._stacks is None:
            self._stacks = [Stack(list(fr), nat, int(t), int(ac), int(ab), int(fc), int(fb),
                                  int(pc), int(pb))
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

    def user_frames(self) -> list[int]:
        """Per stack (in order): ``user_frame``'s answer, -1 for a stack without frames;
        computed once."""
        if self._user_frames is None:
            flags = self._user_flags()
            out = []
            for fr in self._frames_col:
                for f in fr:
                    if flags[f]:
                        out.append(f)
                        break
                else:
                    out.append(fr[0] if fr else -1)
            self._user_frames = out
        return self._user_frames

    def _import_funcs(self) -> list[bool]:
        if self._imports is None:
            self._imports = [self._user.is_import(f[0]) for f in self.functions]
        return self._imports

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

    def _sum_by(self, keys: Iterable[Any]) -> dict[Any, list[int]]:
        """Per key (one per stack, in order; any hashable): [alloc_bytes, alloc_count,
        free_bytes, free_count, peak_bytes, native_bytes]."""
        acc: dict[Any, list[int]] = {}
        for k, ab, ac, fb, fc, pb, nat in zip(keys, self._ab, self._ac, self._fb, self._fc,
                                              self._pb, self._native):
            r = acc.get(k)
            if r is None:
                acc[k] = [ab, ac, fb, fc, pb, ab if nat else 0]
            else:
                r[0] += ab
                r[1] += ac
                r[2] += fb
                r[3] += fc
                r[4] += pb
                if nat:
                    r[5] += ab
        return acc

    @staticmethod
    def _rows(acc: dict[int, list[int]], label: Any) -> list[Row]:
        return [Row(label(k), r[0], r[1], r[2], r[3], r[4], r[5]) for k, r in acc.items()]

    def by_line(self, user: bool = False) -> list[Row]:
        """Per line that allocated: the innermost Python frame of each stack, or with
        ``user`` the innermost frame of the user's code (library frames folded in)."""
        keys = (self.user_frames() if user else
                [fr[0] if fr else -1 for fr in self._frames_col])
        return self._rows(self._sum_by(keys), self.line_key)

    def by_function(self, inclusive: bool = False) -> list[Row]:
        """Per function: its own lines (``inclusive=False``), or its lines and everything
        they called (each stack counted once per function in it)."""
        ff = self._frame_func
        if not inclusive:
            keys = [ff[fr[0]] if fr else -1 for fr in self._frames_col]
            return self._rows(self._sum_by(keys), self._func_key_of)
        # Each stack adds to every distinct function in it: sum the counters per distinct
        # set of functions first (stacks that differ only in lines share one), then spread.
        func_of = ff.__getitem__
        none = frozenset((-1,))
        per_set = self._sum_by(frozenset(map(func_of, fr)) if fr else none
                               for fr in self._frames_col)
        n = len(self.functions) + 1                  # the last slot: stacks without frames
        cols = [[0] * n for _ in range(6)]
        seen = [False] * n
        for fs, r in per_set.items():
            for i, c in enumerate(cols):
                v = r[i]
                if v:
                    for k in fs:
                        c[k] += v
            for k in fs:
                seen[k] = True
        acc = {(k if k < n - 1 else -1): [c[k] for c in cols] for k in range(n) if seen[k]}
        return self._rows(acc, self._func_key_of)

    def live_stack_ids(self) -> list[int]:
        """Indexes of the stacks with bytes still live at the end."""
        return [i for i, (ab, fb) in enumerate(zip(self._ab, self._fb)) if ab > fb]

    def leaks(self, min_bytes: int = 1024, imports: bool = False) -> list[Stack]:
        """Stacks with bytes still live at the end (leak candidates), largest first;
        stacks holding less than ``min_bytes`` are left out, and so are stacks that ran
        inside an import (module state) unless ``imports``."""
        floor = max(1, min_bytes)
        idx = [i for i, (ab, fb) in enumerate(zip(self._ab, self._fb)) if ab - fb >= floor]
        out = [self._stack(i) for i in idx]
        if not imports:
            out = [s for s in out if not self.is_import(s)]
        out.sort(key=lambda s: (-s.live_bytes, -s.live_count))
        return out

    def import_stacks(self) -> list[Stack]:
        """Stacks with bytes live at the end that ran inside an import."""
        return [s for s in (self._stack(i) for i in self.live_stack_ids()) if self.is_import(s)]

    def _stack(self, i: int) -> Stack:
        if self._stacks is not None:
            return self._stacks[i]
        return Stack(list(self._frames_col[i]), self._native[i], int(self._truncated[i]),
                     int(self._ac[i]), int(self._ab[i]), int(self._fc[i]), int(self._fb[i]),
                     int(self._pc[i]), int(self._pb[i]))
