"""``hotpath.MemoryProfiler`` and ``hotpath.memit``: where the bytes go, what stays, the peak.

    from hotpath import MemoryProfiler, memit

    with MemoryProfiler() as mp:             # or mp.start() ... mp.stop()
        work()
    mp.print_stats()                         # top lines/functions, peak, leak candidates
    data = mp.memory_data()                  # the profile.extra["memory"] section

    memit("x = [0] * 10**7")                 # peak memory: 120.34 MiB, increment: 76.29 MiB

The capture is C (``hotpath._core.MemTracker``, see docs/memory.md): Python's three
allocator domains always; malloc/calloc/realloc/free/mmap from C extensions when the
preload shim is loaded (``hotpath run --memory`` arranges that; ``preload_env()`` gives
the environment for doing it by hand). Two modes: ``exact`` records every block;
``sampled`` records about one block per ``sample_bytes`` bytes allocated, weighted so that
the estimates are unbiased.

Line-by-line memory for chosen functions, in memory_profiler's layout (Line #, Mem usage,
Increment, Occurrences, Line Contents), comes from ``MemLineProfiler`` (hotpath.capture.memlines);
``hotpath run --memory`` chooses the functions as ``--lines`` does (``@profile``, ``-f``)
and hooks nothing when none is chosen.
"""
from __future__ import annotations

import gc
import os
import sys
import sysconfig
import types
from array import array
from dataclasses import dataclass
from typing import Any, Callable, Iterable, TextIO

from hotpath.model.memory import COUNTERS, SECTION_VERSION

from ._runmixin import RunMixin
from .memlines import MemLineProfiler

__all__ = ["MemoryProfiler", "MemLineProfiler", "MemitResult", "memit", "memory_data",
           "preload_path", "preload_env", "native_available", "rss_bytes"]

MiB = 1024.0 * 1024.0
#: hotpath's package directory: its own frames, and where the preload shim is installed
_HERE = os.path.dirname(os.path.dirname(os.path.abspath(__file__))) + os.sep


# -- the preload shim ----------------------------------------------------------------------

def preload_path() -> str | None:
    """The path of the preload shim (``hotpath/_preload*.so``), or None if not built."""
    import glob
    found = sorted(glob.glob(os.path.join(_HERE, "_preload*.so")))
    return found[0] if found else None


def native_available() -> bool:
    """Whether native allocations can be tracked in this process (the shim is loaded)."""
    from hotpath import _core
    return bool(_core.MemTracker.native_available())


def preload_env(env: dict[str, str] | None = None) -> dict[str, str] | None:
    """A copy of ``env`` (default: os.environ) with the shim first in ``LD_PRELOAD``, for
    running a process whose native allocations should be tracked; None without a shim."""
    path = preload_path()
    if path is None or not sys.platform.startswith("linux"):
        return None
    env = dict(os.environ if env is None else env)
    rest = [p for p in env.get("LD_PRELOAD", "").replace(":", " ").split() if p != path]
    env["LD_PRELOAD"] = " ".join([path, *rest])
    return env


def strip_preload_env() -> None:
    """Take the shim out of this process's ``LD_PRELOAD`` so that programs it starts do
    not load it (the copy already loaded here stays)."""
    path = preload_path()
    value = os.environ.get("LD_PRELOAD")
    if value is None or path is None:
        return
    rest = [p for p in value.replace(":", " ").split() if p != path]
    if rest:
        os.environ["LD_PRELOAD"] = " ".join(rest)
    else:
        del os.environ["LD_PRELOAD"]


def rss_bytes() -> int:
    """This process's resident set size now (0 where /proc is not available)."""
    try:
        with open("/proc/self/statm", "rb") as f:
            return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
    except (OSError, ValueError, IndexError):
        return 0


# -- the profiler --------------------------------------------------------------------------

class MemoryProfiler(RunMixin):
    """MemoryProfiler(mode="exact", sample_bytes=16384, max_frames=64, interval=0.01,
    native=True)

    Records every allocation (``mode="exact"``) or a weighted sample of about one per
    ``sample_bytes`` bytes (``mode="sampled"``) with the Python stack that made it (up to
    ``max_frames`` frames); samples RSS and the tracked heap every ``interval`` seconds
    (0: only at start and stop). ``native``: also record C extensions' malloc/free/mmap
    when the preload shim is loaded. One MemoryProfiler records at a time per process.

    ``temporal`` (seconds, 0: off): also record which stacks hold memory over time, at
    most every ``temporal`` seconds (``_Temporal``), for the report's temporal view.
    """

    def __init__(self, mode: str = "exact", sample_bytes: int = 16384, max_frames: int = 64,
                 interval: float = 0.01, native: bool = True, temporal: float = 0.0) -> None:
        if mode not in ("exact", "sampled"):
            raise ValueError(f"mode must be 'exact' or 'sampled', not {mode!r}")
        from hotpath import _core
        self.mode = mode
        self.sample_bytes = int(sample_bytes)
        self.max_frames = int(max_frames)
        self.interval = float(interval)
        self.native = bool(native)
        self._tracker = _core.MemTracker()
        self._started = False
        self.temporal = float(temporal)
        self._temporal: _Temporal | None = None

    # -- recording -----------------------------------------------------------------------------

    def start(self) -> "MemoryProfiler":
        """Start recording (fresh data). RuntimeError if another tracker is recording."""
        self._tracker.start(self.mode, float(self.sample_bytes), self.max_frames,
                            self.interval, self.native)
        self._started = True
        self._temporal = None
        if self.temporal > 0:
            self._temporal = _Temporal(self._tracker, self.temporal)
        return self

    def stop(self) -> None:
        """Stop recording; the data stays for ``snapshot``/``memory_data``/``print_stats``.
        Raises MemoryError if the tracker ran out of memory (what it had is kept)."""
        if self._temporal is not None:
            self._temporal.stop()
        self._tracker.stop()

    enable, disable = start, stop
    # run / runctx / runcall / with: RunMixin, around start() and stop().
    _run_on, _run_off = start, stop

    @property
    def active(self) -> bool:
        return bool(self._tracker.active)

    def live_bytes(self) -> int:
        """Tracked bytes live now (estimated in sampled mode)."""
        return int(self._tracker.live())

    def peak_bytes(self) -> int:
        """Tracked live bytes at the peak so far."""
        return int(self._tracker.peak())

    def reset_peak(self) -> None:
        """Restart the peak from the live bytes now."""
        self._tracker.reset_peak()

    def pause(self) -> None:
        """Stop recording this thread's allocations until ``resume()`` (frees still count)."""
        self._tracker.pause()

    def resume(self) -> None:
        self._tracker.resume()

    # -- results -------------------------------------------------------------------------------

    def snapshot(self) -> dict[str, Any]:
        """The raw capture: stacks of (code, line) frames with their counters, totals,
        timeline (see ``hotpath._core.MemTracker.snapshot``)."""
        return self._tracker.snapshot()

    def memory_data(self, lines: list[dict[str, Any]] | None = None,
                    trim: Iterable[str] = (),
                    entry: types.CodeType | None = None) -> dict[str, Any]:
        """The section ``profile.extra["memory"]`` (layout in docs/memory.md).
        ``trim``: file prefixes whose frames are cut from the outer end of every stack
        (hotpath's own files always are). ``entry``: see ``memory_data``."""
        return memory_data(self._tracker.snapshot_columns(), lines=lines, trim=trim,
                           entry=entry,
                           temporal=self._temporal.samples if self._temporal else None)

    def print_stats(self, stream: TextIO | None = None, limit: int = 10) -> None:
        """The text report: top lines and functions, the peak, leak candidates."""
        from hotpath.report.memory import print_memory
        print_memory(self.memory_data(), stream=stream, limit=limit)


# -- which stacks hold memory over time -------------------------------------------------------

class _Temporal:
    """A thread that snapshots the tracker now and then and keeps, per snapshot,
    the live bytes of each node of the stack tree that holds any: ``samples`` is a list
    of (seconds since start, {node index: live bytes}). Node indexes are stable while the
    tracker records (nodes are only appended), so ``memory_data`` maps them to stacks.

    Its own allocations are not the program's: the thread pauses recording for itself
    first. Cost: a snapshot walks the whole tree under the GIL, so the thread waits at
    least ``COST_FACTOR`` times as long as the last snapshot took and at least
    ``interval``; past ``MAX_SAMPLES`` every other sample is dropped and the
    interval doubles, so a long run keeps between MAX_SAMPLES/2 and MAX_SAMPLES evenly
    spread samples.
    """

    MAX_SAMPLES = 200
    #: wait this many times as long as the last snapshot took (≤ 5% of the program's time)
    COST_FACTOR = 20

    def __init__(self, tracker: Any, interval: float) -> None:
        import _thread
        import threading
        import time
        self._tracker = tracker
        self._interval = interval
        self._clock = time.perf_counter
        self._t0 = self._clock()
        self.samples: list[tuple[float, dict[int, int]]] = []
        self._done = threading.Event()
        self._finished = _thread.allocate_lock()
        self._finished.acquire()
        self._pid = os.getpid()
        # A bare thread (no threading.Thread): its first Python frame is _run, which
        # pauses recording at once, so threading's bootstrap allocates nothing the
        # program would be charged for, and hotpath's wait for the program's threads
        # does not see it.
        _thread.start_new_thread(self._run, ())

    def _sample(self) -> float:
        """One sample; returns what it cost (seconds)."""
        t = self._clock()
        try:
            nodes = self._tracker.snapshot()["nodes"]
        except Exception:                   # the tracker stopped or ran out of memory
            return 0.0
        live = {i: n[4] - n[6] for i, n in enumerate(nodes) if n[4] > n[6]}
        self.samples.append((round(t - self._t0, 6), live))
        if len(self.samples) > self.MAX_SAMPLES:
            del self.samples[1::2]
            self._interval *= 2
        return self._clock() - t

    def _run(self) -> None:
        try:
            self._tracker.pause()           # this thread's objects are not the program's
            cost = self._sample()
            while not self._done.wait(max(self._interval, self.COST_FACTOR * cost)):
                cost = self._sample()
        except Exception:
            pass
        finally:
            self._finished.release()

    def stop(self) -> None:
        """Stop sampling (with a last sample at the end). In a forked child, where the
        thread does not exist (and the tracker stopped at the fork), nothing."""
        if os.getpid() != self._pid:
            return
        if not self._done.is_set():
            self._done.set()
            self._finished.acquire()
            self._tracker.pause()
            try:
                self._sample()
            finally:
                self._tracker.resume()


# -- the section -------------------------------------------------------------------------------

_STDLIB = tuple({os.path.abspath(sysconfig.get_path(k)) + os.sep
                 for k in ("stdlib", "platstdlib")}) + ("<frozen ",)


def _allocated_by_hotpath(frames: list[tuple[Any, int]]) -> bool:
    """Whether the innermost frame that is not the standard library's is hotpath's."""
    for code, _line in frames:
        if code is None:
            return False
        name = code.co_filename
        if name.startswith(_HERE):
            return True
        if not name.startswith(_STDLIB):
            return False
    return False


def _trim_prefixes(extra: Iterable[str]) -> tuple[str, ...]:
    import runpy
    own = [_HERE, os.path.abspath(runpy.__file__), "<frozen runpy>"]
    return tuple(own) + tuple(extra)


def _columns(snap: dict[str, Any]) -> tuple[list[Any], array, array, array, array]:
    """``snap``'s nodes as columns (``MemTracker.snapshot_columns``'s ``columns``): from a
    ``snapshot()``, whose nodes are tuples, they are made here."""
    if "columns" in snap:
        codes, parent, code, line, counters = snap["columns"]
        return (codes, _array("i", parent), _array("i", code), _array("i", line),
                _array("q", counters))
    codes: list[Any] = []
    where: dict[int, int] = {}
    parent, code, line = array("i"), array("i"), array("i")
    cols: list[list[int]] = [[] for _ in range(6)]
    for p, co, ln, *counts in snap["nodes"]:
        parent.append(p)
        line.append(ln)
        if co is None:
            code.append(-1)
        else:
            k = where.get(id(co))
            if k is None:
                k = where[id(co)] = len(codes)
                codes.append(co)
            code.append(k)
        for c, v in zip(cols, counts):
            c.append(v)
    return codes, parent, code, line, array("q", [v for c in cols for v in c])


def _array(code: str, data: bytes) -> array:
    a = array(code)
    a.frombytes(data)
    return a


def memory_data(snap: dict[str, Any], lines: list[dict[str, Any]] | None = None,
                trim: Iterable[str] = (),
                entry: types.CodeType | None = None,
                temporal: list[tuple[float, dict[int, int]]] | None = None
                ) -> dict[str, Any]:
    """Turn a ``MemTracker.snapshot_columns()`` (or ``snapshot()``) into the
    ``extra["memory"]`` section (version 2: the stacks as a tree, ``model.memory``).

    Frames are resolved to (function, line); frames of hotpath itself (and runpy) are cut
    from the outer end of each stack; stacks made only of hotpath's frames, or whose
    innermost frame is hotpath's, are dropped (the tool's own allocations); and stacks
    that became equal are merged.

    ``entry``: the code of the one frame through which hotpath entered the program
    (``hotpath.session.program._enter_program``). A stack through it keeps only the frames
    inside it; a stack not through it that has one of hotpath's frames was hotpath's own
    work in the program's thread — the tail of its start-up, waiting for threads, restoring signal
    handlers, finishing — and is dropped like the tool's other allocations (the memory
    side of ``session.program.keep_program_calls``). Other threads' stacks stay as they are.

    ``temporal``: ``_Temporal.samples``, turned into the section's ``temporal`` (the live
    bytes of the ``TEMPORAL_STACKS`` stacks that held most at any sample, the rest summed).

    The rules are decided here once per code object (flags below); the walk over the
    capture's nodes — each node's stack is its parent's plus its own frame, so what the
    cuts need is derived from the parent's in O(1) — is C (``MemTracker.shape``,
    _core/mem/memshape.c), as is merging the stacks and numbering the frames in the order
    a walk of the stacks (innermost first) meets them, the section's documented order.
    """
    from hotpath import _core
    prefixes = _trim_prefixes(trim)
    codes, parent, code, line, counters = _columns(snap)
    functions: list[list[Any]] = []
    func_ids: dict[tuple[str, str, int], int] = {}

    def fid_of(key: tuple[str, str, int]) -> int:
        fid = func_ids.get(key)
        if fid is None:
            fid = func_ids[key] = len(functions)
            functions.append(list(key))
        return fid

    code_fid, code_flags = array("i"), bytearray()
    for co in codes:
        name = co.co_filename
        code_fid.append(fid_of((name, co.co_qualname, co.co_firstlineno)))
        code_flags.append((1 if co is entry else 0) | (2 if name.startswith(_HERE) else 0)
                          | (4 if name.startswith(prefixes) else 0)
                          | (8 if name.startswith(_STDLIB) else 0))
    none_fid = fid_of(("<unknown>", "<freed code object>", 0))
    (t_parent, t_frame, frames_b, s_node, s_native, s_trunc, s_counts, node_stack_b,
     own_bytes, own_count) = _core.MemTracker.shape(parent, code, line, counters, code_fid,
                                                    bytes(code_flags), none_fid,
                                                    entry is not None)
    # Functions renumbered in the order the frames meet them.
    pairs = _array("i", frames_b)
    func_new: dict[int, int] = {}
    frames = []
    for fn, ln in zip(pairs[0::2], pairs[1::2]):
        k = func_new.get(fn)
        if k is None:
            k = func_new[fn] = len(func_new)
        frames.append([k, ln])
    functions = [functions[k] for k in func_new]
    counts = _array("q", s_counts)
    ns = len(s_native)
    stacks: dict[str, Any] = {"node": _array("i", s_node), "native": _array("b", s_native),
                              "truncated": _array("b", s_trunc)}
    for j, name in enumerate(COUNTERS):
        stacks[name] = counts[j * ns:(j + 1) * ns]
    totals = {k: snap[k] for k in ("alloc_count", "alloc_bytes", "free_count", "free_bytes",
                                   "live_count", "live_bytes", "peak_count", "peak_bytes",
                                   "peak_time", "samples", "tracker_bytes", "duration")}
    totals["own_bytes"], totals["own_count"] = own_bytes, own_count
    for k in ("reserved_bytes", "reserved_touched", "reserved_max", "reserved_count",
              "mappings"):
        totals[k] = int(snap.get(k, 0))
    tl = snap["timeline"]
    data: dict[str, Any] = {
        "version": SECTION_VERSION,
        "mode": snap["mode"],
        "sample_bytes": int(snap["sample_bytes"]) if snap["mode"] == "sampled" else None,
        "native": bool(snap["native"]),
        "native_by_caller": bool(snap.get("native_by_caller", False)),
        "max_frames": snap["max_frames"],
        "forked": bool(snap.get("forked", False)),
        "functions": functions,
        "frames": frames,
        "tree": {"parent": _array("i", t_parent), "frame": _array("i", t_frame)},
        "stacks": stacks,
        "totals": totals,
        "timeline": {"t": [round(p[0], 6) for p in tl], "rss": [p[1] for p in tl],
                     "heap": [p[2] for p in tl],
                     "reserved": [p[3] if len(p) > 3 else 0 for p in tl]},
    }
    if lines:
        data["lines"] = lines
    if temporal:
        pb = stacks["peak_bytes"]
        peak = (float(snap["peak_time"]), {i: b for i, b in enumerate(pb) if b > 0})
        data["temporal"] = _temporal_section(temporal, _array("i", node_stack_b), peak)
    return data


#: stacks kept by name in the temporal section (the rest are summed as "other")
TEMPORAL_STACKS = 30


def _temporal_section(samples: list[tuple[float, dict[int, int]]], node_stack: array,
                      peak: tuple[float, dict[int, int]]) -> dict[str, Any]:
    """{"t": [seconds], "stacks": [stack index], "live": [[bytes per t] per stack],
    "other": [bytes per t]}: the stacks that held most at any sample, largest first.
    ``node_stack``: the stack of each capture node (-1: none). ``peak``: (time, {stack
    index: bytes held}) at the tracked heap's peak, which the tracker knows exactly and
    the samples would mostly miss; it becomes one more point."""
    n = len(node_stack)
    per_sample: list[dict[int, int]] = []
    times: list[float] = []
    for t, live in samples:
        if peak is not None and peak[0] <= t:
            times.append(round(peak[0], 6))
            per_sample.append(peak[1])
            peak = None                                     # type: ignore[assignment]
        times.append(t)
        acc: dict[int, int] = {}
        for node, b in live.items():
            s = node_stack[node] if node < n else -1
            if s >= 0:
                acc[s] = acc.get(s, 0) + b
        per_sample.append(acc)
    if peak is not None:
        times.append(round(peak[0], 6))
        per_sample.append(peak[1])
    most: dict[int, int] = {}
    for acc in per_sample:
        for s, b in acc.items():
            if b > most.get(s, 0):
                most[s] = b
    top = [s for _b, s in sorted([(-b, s) for s, b in most.items()])[:TEMPORAL_STACKS]]
    chosen = set(top)
    return {"t": times, "stacks": top,
            "live": [[acc.get(s, 0) for acc in per_sample] for s in top],
            "other": [sum(b for s, b in acc.items() if s not in chosen) for acc in per_sample]}


# -- memit ---------------------------------------------------------------------------------

@dataclass
class MemitResult:
    """What ``memit`` measured, as %memit prints it: ``peak`` is the process's memory at
    the highest point (RSS before the run + the tracked peak above what was live when it
    started), ``increment`` that rise. Bytes; ``str()`` gives %memit's line in MiB."""
    peak: int
    increment: int
    baseline: int
    tracked_peak: int
    repeat: int
    mode: str
    native: bool

    def __str__(self) -> str:
        return f"peak memory: {self.peak / MiB:.2f} MiB, increment: {self.increment / MiB:.2f} MiB"


def memit(stmt: str | Callable[[], Any] = "pass", setup: str = "pass", repeat: int = 1,
          globals: dict[str, Any] | None = None, mode: str = "exact",
          sample_bytes: int = 16384, quiet: bool = False,
          stream: TextIO | None = None) -> MemitResult:
    """Peak memory and increment of running ``stmt`` (source, or a callable), as
    IPython's ``%memit`` reports them. ``setup`` runs first (untracked); the statement
    runs ``repeat`` times and the largest increment counts. Prints %memit's line unless
    ``quiet``; returns a ``MemitResult``."""
    if repeat < 1:
        raise ValueError("repeat must be at least 1")
    ns: dict[str, Any] = {} if globals is None else globals
    if callable(stmt):
        fn = stmt
    else:
        code = compile(stmt, "<memit>", "exec")

        def fn() -> None:
            exec(code, ns)
    if isinstance(setup, str):
        exec(compile(setup, "<memit-setup>", "exec"), ns)
    elif callable(setup):
        setup()
    mp = MemoryProfiler(mode, sample_bytes=sample_bytes, interval=0, native=True)
    gc.collect()
    baseline = rss_bytes()
    best = 0
    mp.start()
    try:
        for _ in range(repeat):
            start_live = mp.live_bytes()
            mp.reset_peak()
            fn()
            best = max(best, mp.peak_bytes() - start_live)
    finally:
        mp.stop()
    native = mp.native and native_available()
    mp._tracker.clear()
    res = MemitResult(peak=baseline + best, increment=best, baseline=baseline,
                      tracked_peak=best, repeat=repeat, mode=mode, native=native)
    if not quiet:
        (stream or sys.stdout).write(str(res) + "\n")
    return res
