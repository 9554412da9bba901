"""``hotpath.Profile``: a drop-in for ``cProfile.Profile`` on hotpath's C capture.

Same constructor, methods and pstats output as cProfile; on top of that every thread is
recorded (each with its own calling-context tree) and ``snapshot()`` returns the whole
``hotpath.model.Profile`` for the exporters and the file format.

From the C capture to the model (``profile_from_snapshot``): the snapshot packs each
thread's call tree as little-endian 32-byte records ``<u32 func, u32 parent, u64 calls,
i64 self, i64 total>``; the root's func and parent are 0xFFFFFFFF. Function 0 is the call
tree's overflow pseudo-function. The records become the model's five columns with a few
C-speed array slices (no Python object per node): the u32 fields read as int32 make the
root's 0xFFFFFFFF the model's -1.
"""
from __future__ import annotations

import marshal
import sys
from array import array

from hotpath import _core

from ._runmixin import RunMixin

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any, Callable

    from hotpath.model import Function, ThreadProfile
    from hotpath.model import Profile as ProfileData

__all__ = ["Profile", "ProfilerActiveError", "ProfilerEntry", "ProfilerSubEntry", "FreedCode",
           "profile_from_snapshot"]

# The C core's refusals to enable while something else holds the hooks start with this.
_ACTIVE_PREFIX = "another profiler is active"


class ProfilerActiveError(RuntimeError, ValueError):
    """enable() found another profiler holding what hotpath needs. A RuntimeError, and a
    ValueError as cProfile raises in the same case (3.12+), so code written for cProfile
    catches it too."""


# The record types below are written out rather than made with @dataclass: importing
# dataclasses (and the inspect, ast, dis and re it pulls in) costs more than all of
# ``import hotpath; hotpath.Profile()`` together (issue 13, start-up).

class FreedCode:
    """Stands for a code object freed since it was profiled, in ``getstats()`` rows.

    hotpath holds no reference to the code objects it profiles (generated code that is
    dropped is freed while profiling), so a row for one that is gone carries its identity
    instead, under the same attribute names (``cProfile.label`` reads them). Immutable.
    """
    __slots__ = ("co_filename", "co_firstlineno", "co_name", "co_qualname")

    def __init__(self, co_filename: str, co_firstlineno: int, co_name: str,
                 co_qualname: str) -> None:
        for name, value in zip(self.__slots__, (co_filename, co_firstlineno, co_name,
                                                co_qualname)):
            object.__setattr__(self, name, value)

    def __setattr__(self, name: str, value: object) -> None:
        raise AttributeError(f"cannot assign to field {name!r}")

    def __delattr__(self, name: str) -> None:
        raise AttributeError(f"cannot delete field {name!r}")

    def _key(self) -> tuple:
        return (self.co_filename, self.co_firstlineno, self.co_name, self.co_qualname)

    def __eq__(self, other: object) -> bool:
        return self._key() == other._key() if type(other) is FreedCode else NotImplemented

    def __hash__(self) -> int:
        return hash(self._key())

    def __repr__(self) -> str:
        return _record_repr(self)


def _record_repr(rec: object) -> str:
    fields = ", ".join(f"{n}={getattr(rec, n)!r}" for n in type(rec).__slots__)
    return f"{type(rec).__name__}({fields})"


class ProfilerSubEntry:
    """One caller→callee row of ``getstats()`` (``_lsprof.profiler_subentry``)."""
    __slots__ = ("code", "callcount", "reccallcount", "totaltime", "inlinetime")

    def __init__(self, code: Any, callcount: int, reccallcount: int, totaltime: float,
                 inlinetime: float) -> None:
        self.code = code
        self.callcount = callcount
        self.reccallcount = reccallcount
        self.totaltime = totaltime
        self.inlinetime = inlinetime

    def __eq__(self, other: object) -> bool:
        if type(other) is not type(self):
            return NotImplemented
        return all(getattr(self, n) == getattr(other, n) for n in self.__slots__)

    __hash__ = None  # type: ignore[assignment]   # mutable, as a dataclass

    def __repr__(self) -> str:
        return _record_repr(self)


class ProfilerEntry:
    """One function row of ``getstats()`` (``_lsprof.profiler_entry``)."""
    __slots__ = ("code", "callcount", "reccallcount", "totaltime", "inlinetime", "calls")

    def __init__(self, code: Any, callcount: int, reccallcount: int, totaltime: float,
                 inlinetime: float, calls: list[ProfilerSubEntry] | None = None) -> None:
        self.code = code
        self.callcount = callcount
        self.reccallcount = reccallcount
        self.totaltime = totaltime
        self.inlinetime = inlinetime
        self.calls = calls

    __eq__ = ProfilerSubEntry.__eq__
    __hash__ = None  # type: ignore[assignment]
    __repr__ = ProfilerSubEntry.__repr__


class Profile(RunMixin, _core.Profiler):
    """Profile(timer=None, timeunit=0.0, subcalls=True, builtins=True)

    Records calls, self time and cumulative time of Python and C functions, like
    ``cProfile.Profile``. With a custom ``timer`` the statistics are cProfile's exactly;
    by default ticks come from a calibrated CPU time-stamp counter.
    """

    def __init__(self, timer: Callable[[], float | int] | None = None, timeunit: float = 0.0,
                 subcalls: bool = True, builtins: bool = True, *, max_nodes: int = 1 << 20):
        super().__init__(timer, timeunit, builtins, max_nodes)
        self.subcalls = subcalls
        self.stats: dict = {}

    # -- recording ---------------------------------------------------------------------

    def enable(self, subcalls: bool | None = None, builtins: bool | None = None) -> None:
        """Start recording every thread. Raises ProfilerActiveError (a RuntimeError and a
        ValueError) if another profiler is active."""
        if subcalls is not None:
            self.subcalls = subcalls
        if builtins is not None and not self.enabled:
            self.builtins = builtins
        try:
            super().enable()
        except RuntimeError as exc:
            if str(exc).startswith(_ACTIVE_PREFIX):
                raise ProfilerActiveError(str(exc)) from None
            raise

    # disable() and clear() are the C methods themselves, so that the only trace the
    # profiler leaves in a profile is one C call, as cProfile's own disable().

    def snapshot(self, meta: dict[str, Any] | None = None) -> ProfileData:
        """Everything recorded so far as a ``hotpath.model.Profile``."""
        return profile_from_snapshot(super().snapshot(), meta)

    # -- cProfile's API ----------------------------------------------------------------

    def create_stats(self) -> None:
        self.disable()
        self.snapshot_stats()

    def snapshot_stats(self) -> None:
        from hotpath.report.pstats import to_pstats_dict
        stats = to_pstats_dict(self.snapshot())
        if not self.subcalls:
            stats = {k: (cc, nc, tt, ct, {}) for k, (cc, nc, tt, ct, _) in stats.items()}
        self.stats = stats

    def print_stats(self, sort: str | int | tuple = -1) -> None:
        import pstats
        if not isinstance(sort, tuple):
            sort = (sort,)
        pstats.Stats(self).strip_dirs().sort_stats(*sort).print_stats()

    def dump_stats(self, file: str) -> None:
        with open(file, "wb") as f:
            self.create_stats()
            marshal.dump(self.stats, f)

    def getstats(self) -> list[ProfilerEntry]:
        """Per-function entries with their callees, as ``_lsprof.Profiler.getstats()``."""
        snap = super().snapshot()
        # Code objects only for this call: keeping them would keep generated code alive.
        codes = [FreedCode(f, line, name, qual) if code is None else code
                 for f, line, name, qual, code in snap["functions"]]
        data = profile_from_snapshot(snap)
        sec = data.tick_seconds
        entries: dict[int, ProfilerEntry] = {}
        fstats, estats = data.call_stats(edges=self.subcalls)
        for i, s in fstats.items():
            entries[i] = ProfilerEntry(codes[i], s.calls, s.calls - s.primitive_calls,
                                       s.cum_ticks * sec, s.self_ticks * sec,
                                       [] if self.subcalls else None)
        if self.subcalls:
            for (caller, callee), s in estats.items():
                entries[caller].calls.append(ProfilerSubEntry(  # type: ignore[union-attr]
                    codes[callee], s.calls, s.calls - s.primitive_calls,
                    s.cum_ticks * sec, s.self_ticks * sec))
        return list(entries.values())

    # run / runctx / runcall / with: RunMixin, around enable() and the C disable().
    _run_on = enable
    _run_off = _core.Profiler.disable


# -- from the C snapshot to the model ------------------------------------------------------

_RECORD = 32                  # bytes per packed node
_BIG_ENDIAN_HOST = sys.byteorder == "big"


def _columns(packed: bytes) -> tuple[array, array, array, array, array]:
    """func, parent (int32), calls, self, total (int64) of the packed records."""
    if len(packed) % _RECORD:
        raise ValueError(f"snapshot: {len(packed)} bytes of nodes is not a whole number "
                         f"of {_RECORD}-byte records")
    words = array("i")
    words.frombytes(packed)
    wide = array("q")
    wide.frombytes(packed)
    if _BIG_ENDIAN_HOST:             # the records are little-endian
        words.byteswap()
        wide.byteswap()
    return words[0::8], words[1::8], wide[1::4], wide[2::4], wide[3::4]


def _thread_name(ident: int, recorded: str | None) -> str:
    if recorded:
        return recorded
    import threading
    t = threading._active.get(ident)  # type: ignore[attr-defined]
    return t.name if t is not None else f"Thread-{ident}"


def _import_model() -> None:
    """Import the model on first use, not with ``Profile`` (issue 13, start-up)."""
    global ROOT, Function, Node, ThreadProfile, ProfileData
    from hotpath.model import ROOT, Function, Node, ThreadProfile  # noqa: F811
    from hotpath.model import Profile as ProfileData  # noqa: F811


def profile_from_snapshot(snap: dict[str, Any], meta: dict[str, Any] | None = None
                          ) -> ProfileData:
    """Build a model.Profile from a capture snapshot (see module docstring)."""
    _import_model()
    functions = [Function(f, line, name, qual) for f, line, name, qual, _ in snap["functions"]]
    threads = []
    for t in snap["threads"]:
        threads.append(ThreadProfile.from_columns(
            t["ident"], _thread_name(t["ident"], t["name"]), *_columns(t["nodes"]),
            truncated=bool(t["truncated"])))
    info: dict[str, Any] = {
        "python": sys.version.split()[0],
        "implementation": sys.implementation.name,
        "clock": snap["clock"],
        "profiled_seconds": snap["enabled_seconds"],
    }
    if snap.get("error"):
        info["capture_error"] = snap["error"]
    if meta:
        info.update(meta)
    return ProfileData(functions=functions, threads=threads,
                   tick_seconds=snap["tick_seconds"], meta=info)
