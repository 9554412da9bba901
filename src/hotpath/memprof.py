"""``hotpath.MemoryProfiler`` and ``hotpath.memit``: where the bytes go, what stays, the peak.

    from hotpath import MemoryProfiler, memit

    with MemoryProfiler() as mp:             # or mp.start() ... mp.stop()
        work()
    mp.print_stats()                         # top lines/functions, peak, leak candidates
    data = mp.memory_data()                  # the JSON-able profile.extra["memory"] section

    memit("x = [0] * 10**7")                 # peak memory: 120.34 MiB, increment: 76.29 MiB

The capture is C (``hotpath._core.MemTracker``, see docs/memory.md): Python's three
allocator domains always; malloc/calloc/realloc/free/mmap from C extensions when the
preload shim is loaded (``hotpath run --memory`` arranges that; ``preload_env()`` gives
the environment for doing it by hand). Two modes: ``exact`` records every block;
``sampled`` records about one block per ``sample_bytes`` bytes allocated, weighted so that
the estimates are unbiased.

Line-by-line memory for chosen functions, in memory_profiler's layout (Line #, Mem usage,
Increment, Occurrences, Line Contents), comes from ``MemLineProfiler`` (hotpath.memlines);
``hotpath run --memory`` chooses the functions as ``--lines`` does (``@profile``, ``-f``)
and hooks nothing when none is chosen.
"""
from __future__ import annotations

import gc
import os
import sys
import sysconfig
import types
from dataclasses import dataclass
from typing import Any, Callable, Iterable, TextIO

__all__ = ["MemoryProfiler", "MemLineProfiler", "MemitResult", "memit", "memory_data",
           "preload_path", "preload_env", "native_available", "rss_bytes"]

MiB = 1024.0 * 1024.0
SECTION_VERSION = 1
_HERE = os.path.dirname(os.path.abspath(__file__)) + os.sep


# -- the preload shim ------------------------------------------------------------------------

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


# -- the profiler -------------------------------------------------------------------------------

class MemoryProfiler:
    """MemoryProfiler(mode="exact", sample_bytes=16384, max_frames=64, interval=0.01,
    native=True)

    Records every allocation (``mode="exact"``) or a weighted sample of about one per
    ``sample_bytes`` bytes (``mode="sampled"``) with the Python stack that made it (up to
    ``max_frames`` frames); samples RSS and the tracked heap every ``interval`` seconds
    (0: only at start and stop). ``native``: also record C extensions' malloc/free/mmap
    when the preload shim is loaded. One MemoryProfiler records at a time per process.
    """

    def __init__(self, mode: str = "exact", sample_bytes: int = 16384, max_frames: int = 64,
                 interval: float = 0.01, native: bool = True) -> None:
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

    # -- recording ------------------------------------------------------------------------------

    def start(self) -> "MemoryProfiler":
        """Start recording (fresh data). RuntimeError if another tracker is recording."""
        self._tracker.start(self.mode, float(self.sample_bytes), self.max_frames,
                            self.interval, self.native)
        self._started = True
        return self

    def stop(self) -> None:
        """Stop recording; the data stays for ``snapshot``/``memory_data``/``print_stats``.
        Raises MemoryError if the tracker ran out of memory (what it had is kept)."""
        self._tracker.stop()

    enable, disable = start, stop

    def __enter__(self) -> "MemoryProfiler":
        return self.start()

    def __exit__(self, *exc: Any) -> None:
        self.stop()

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

    # -- results ------------------------------------------------------------------------------------

    def snapshot(self) -> dict[str, Any]:
        """The raw capture: stacks of (code, line) frames with their counters, totals,
        timeline (see ``hotpath._core.MemTracker.snapshot``)."""
        return self._tracker.snapshot()

    def memory_data(self, lines: list[dict[str, Any]] | None = None,
                    trim: Iterable[str] = (),
                    entry: types.CodeType | None = None) -> dict[str, Any]:
        """The JSON-able section ``profile.extra["memory"]`` (layout in docs/memory.md).
        ``trim``: file prefixes whose frames are cut from the outer end of every stack
        (hotpath's own files always are). ``entry``: see ``memory_data``."""
        return memory_data(self.snapshot(), lines=lines, trim=trim, entry=entry)

    def print_stats(self, stream: TextIO | None = None, limit: int = 10) -> None:
        """The text report: top lines and functions, the peak, leak candidates."""
        from hotpath.report.memory import print_memory
        print_memory(self.memory_data(), stream=stream, limit=limit)


# -- the JSON-able section ----------------------------------------------------------------------

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


def memory_data(snap: dict[str, Any], lines: list[dict[str, Any]] | None = None,
                trim: Iterable[str] = (),
                entry: types.CodeType | None = None) -> dict[str, Any]:
    """Turn a ``MemTracker.snapshot()`` into the ``extra["memory"]`` section.

    Frames are resolved to (function, line); frames of hotpath itself (and runpy) are cut
    from the outer end of each stack; stacks made only of hotpath's frames, or whose
    innermost frame is hotpath's, are dropped (the tool's own allocations); and stacks
    that became equal are merged.

    ``entry``: the code of the one frame through which hotpath entered the program
    (``runner._enter_program``). A stack through it keeps only the frames inside it; a
    stack not through it that has one of hotpath's frames was hotpath's own work in the
    program's thread — the tail of its start-up, waiting for threads, restoring signal
    handlers, finishing — and is dropped like the tool's other allocations (the memory
    side of ``runner.keep_program_calls``). Other threads' stacks stay as they are.
    """
    prefixes = _trim_prefixes(trim)
    functions: list[list[Any]] = []
    func_ids: dict[tuple[str, str, int], int] = {}
    frame_ids: dict[tuple[int, int], int] = {}
    frames: list[list[int]] = []
    merged: dict[tuple[tuple[int, ...], int], list[int]] = {}
    dropped = [0, 0]

    def func_id(code: types.CodeType | None) -> int:
        key = (("<unknown>", "<freed code object>", 0) if code is None else
               (code.co_filename, code.co_qualname, code.co_firstlineno))
        i = func_ids.get(key)
        if i is None:
            i = func_ids[key] = len(functions)
            functions.append(list(key))
        return i

    def frame_id(code: types.CodeType | None, line: int) -> int:
        key = (func_id(code), line if line is not None and line > 0 else 0)
        i = frame_ids.get(key)
        if i is None:
            i = frame_ids[key] = len(frames)
            frames.append(list(key))
        return i

    # Nodes: (parent, code, line, counters...), parents first; 0 = overflow, 1 = root,
    # 2 = root of stacks cut at max_frames; line -1 marks a native allocation's node.
    nodes = snap["nodes"]
    paths: list[tuple[Any, ...]] = [()] * len(nodes)     # (code, line) innermost first
    cut = [False] * len(nodes)
    for i, (parent, code, line, *_rest) in enumerate(nodes):
        if parent < 0:
            cut[i] = i == 2
            continue
        cut[i] = cut[parent]
        paths[i] = paths[parent] if line == -1 else ((code, line),) + paths[parent]
    for i, (parent, code, line, ac, ab, fc, fb, pc, pb) in enumerate(nodes):
        if not ac:
            continue
        native = parent >= 0 and line == -1
        truncated = 2 if i == 0 else int(cut[i])
        raw = list(paths[i])
        had_frames = bool(raw)
        if entry is not None and raw:
            at = next((k for k, (c, _) in enumerate(raw) if c is entry), -1)
            if at >= 0:
                raw = raw[:at]
            elif any(c is not None and c.co_filename.startswith(_HERE) for c, _ in raw):
                raw = []
        while raw and raw[-1][0] is not None and raw[-1][0].co_filename.startswith(prefixes):
            raw.pop()
        # Allocated by hotpath's own Python code, directly or through the standard library
        # it called (its stop() runs while the tracker still records): the tool's.
        if raw and _allocated_by_hotpath(raw):
            raw = []
        if had_frames and not raw:
            dropped[0] += ab
            dropped[1] += ac
            continue
        ids = tuple(frame_id(c, ln) for c, ln in raw)
        key = (ids, int(native))
        row = merged.get(key)
        if row is None:
            merged[key] = [truncated, ac, ab, fc, fb, pc, pb]
        else:
            row[0] = max(row[0], truncated)
            for k, v in enumerate((ac, ab, fc, fb, pc, pb), 1):
                row[k] += v
    stacks = [[list(ids), native, *row] for (ids, native), row in merged.items()]
    totals = {k: snap[k] for k in ("alloc_count", "alloc_bytes", "free_count", "free_bytes",
                                   "live_count", "live_bytes", "peak_count", "peak_bytes",
                                   "peak_time", "samples", "tracker_bytes", "duration")}
    totals["own_bytes"], totals["own_count"] = dropped
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
        "stack_fields": ["frames", "native", "truncated", "alloc_count", "alloc_bytes",
                         "free_count", "free_bytes", "peak_count", "peak_bytes"],
        "stacks": stacks,
        "totals": totals,
        "timeline": {"t": [round(p[0], 6) for p in tl], "rss": [p[1] for p in tl],
                     "heap": [p[2] for p in tl],
                     "reserved": [p[3] if len(p) > 3 else 0 for p in tl]},
    }
    if lines:
        data["lines"] = lines
    return data


# -- memory_profiler's line-by-line view: hotpath.memlines ----------------------------------------

from hotpath.memlines import MemLineProfiler  # noqa: E402  (re-exported)


# -- hotpath run --memory ------------------------------------------------------------------------------

class RunMemory:
    """What ``hotpath run --memory[=exact|sampled]`` adds to a run: the tracker, and the
    line-by-line view of functions chosen with ``@profile`` or ``-f`` (the selection
    ``--lines`` uses)."""

    def __init__(self, mode: str, specs: Iterable[str] = (), sample_bytes: int = 16384,
                 native: bool = True, interval: float = 0.01) -> None:
        self.mp = MemoryProfiler(mode, sample_bytes=sample_bytes, interval=interval,
                                 native=native)
        self.pid = os.getpid()
        from hotpath.lineprof import RunLines, resolve_targets

        lines = MemLineProfiler(self.mp)

        tracker = self.mp._tracker

        class _Select(RunLines):
            def __init__(self) -> None:       # RunLines' selection, our line profiler
                self.mode = "explicit"
                self.lp = lines               # type: ignore[assignment]
                self.specs = resolve_targets(specs)
                self.found: set[str] = set()
                self._pending: dict[str, list[tuple[str, str]]] = {}

            def _watch_exec(self) -> None:
                # Not a Python audit hook: CPython would build each audited event's name,
                # a hook iterator and a call in the program's name. The tracker's C hook
                # forgets the event's argument tuple and calls us, paused, on "exec" only.
                tracker.audit_exec(lambda code: self._on_audit("exec", (code,)))

        self.lines = lines
        self.select = _Select()

    def install(self) -> None:
        self.select.install()

    def start(self) -> None:
        self.mp.start()
        self.lines.enable()

    def abandon(self) -> None:
        """In a forked child: stop tracking; nothing is reported."""
        try:
            self.lines.disable()
            self.mp.stop()
        except Exception:
            pass

    def finish(self) -> dict[str, Any]:
        """Stop; the ``extra["memory"]`` section. Warnings go to stderr."""
        self.lines.disable()
        self.mp._tracker.audit_exec(None)
        from hotpath.lineprof import profile
        profile.install(None)
        try:
            gc.collect()           # cyclic garbage is not a leak
        except Exception:
            pass
        try:
            self.mp.stop()
        except MemoryError as e:
            sys.stderr.write(f"hotpath: warning: {e}\n")
        for spec, _, _ in self.select.specs:
            if spec not in self.select.found:
                sys.stderr.write(f"hotpath: warning: -f {spec}: no such function was run "
                                 f"or defined\n")
        from hotpath.runner import _enter_program
        return self.mp.memory_data(lines=self.lines.line_data() or None,
                                   entry=_enter_program.__code__)


# -- memit -------------------------------------------------------------------------------------------------

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


# -- the command line (called from hotpath.cli) ----------------------------------------------------

REEXEC_MARK = "HOTPATH_MEMORY_PRELOADED"


def reexec_with_preload(hotpath_argv: list[str]) -> None:
    """Run ``python -m hotpath *hotpath_argv`` again in this process (exec) with the shim
    in LD_PRELOAD, so native allocations are tracked from the first one. Returns only
    when that cannot be done (no shim, not Linux, or already tried: a warning says so)."""
    if os.environ.get(REEXEC_MARK) == "1":
        sys.stderr.write("hotpath: warning: the preload shim did not load (LD_PRELOAD "
                         "ignored?); native allocations are not tracked\n")
        return
    env = preload_env()
    if env is None:
        sys.stderr.write("hotpath: warning: no preload shim for this platform; native "
                         "allocations are not tracked\n")
        return
    import subprocess
    env[REEXEC_MARK] = "1"
    args = [sys.executable, *subprocess._args_from_interpreter_flags(), "-m", "hotpath",
            *hotpath_argv]
    sys.stdout.flush()
    sys.stderr.flush()
    try:
        os.execve(sys.executable, args, env)
    except OSError as e:
        sys.stderr.write(f"hotpath: warning: cannot re-run with the preload shim ({e}); "
                         f"native allocations are not tracked\n")


def _preloaded_setup(native: bool, hotpath_argv: list[str]) -> None:
    if native and not native_available():
        reexec_with_preload(hotpath_argv)
    os.environ.pop(REEXEC_MARK, None)
    strip_preload_env()       # the program's own children run without the shim


def cli_run(program: Any, opts: Any, run_argv: list[str], out_path: str) -> int:
    """``hotpath run --memory[=exact|sampled] ...``: run ``program`` under the memory
    tracker, write the profile (its ``extra["memory"]``) and the timeline pictures, print
    the memory report to stderr. ValueError for a bad ``-f``."""
    import time
    from hotpath import __version__, fileformat
    from hotpath.model import Profile
    from hotpath.runner import run_program

    _preloaded_setup(not opts.no_native, ["run", *run_argv])
    if opts.memory_sample_bytes < 1:
        raise ValueError("--memory-sample-bytes must be at least 1")
    mem = RunMemory(opts.memory, opts.function, sample_bytes=opts.memory_sample_bytes,
                    native=not opts.no_native)
    mem.install()
    cwd = os.getcwd()
    started = {"wall": 0.0}

    def start() -> None:
        started["wall"] = time.time()
        mem.start()

    saved: dict[str, Any] = {}

    def save() -> None:
        data = mem.finish()
        prof = Profile(meta={
            "command": program.display,
            "argv": [program.target, *program.args],
            "kind": program.kind,
            "cwd": cwd,
            "mode": "memory",
            "start_time": started["wall"],
            "duration": time.time() - started["wall"] if started["wall"] else 0.0,
            "hotpath_version": __version__,
        }, extra={"memory": data})
        saved["prof"] = prof
        path = os.path.join(cwd, out_path)
        saved["pictures"] = None
        try:
            fileformat.write(prof, path)
        except OSError as e:
            sys.stderr.write(f"hotpath: error: cannot write {out_path!r}: {e.strerror or e}\n")
            return
        from hotpath.report.memory import write_timeline
        base = os.path.splitext(path)[0] + ".memory"
        try:
            saved["pictures"] = write_timeline(prof, base)
        except OSError as e:
            saved["pictures"] = []
            sys.stderr.write(f"hotpath: warning: cannot write the timeline: {e}\n")

    def show() -> None:
        from hotpath.cli import written_hint
        from hotpath.report.memory import print_memory
        sys.stderr.write("\n")
        print_memory(saved["prof"], stream=sys.stderr, limit=opts.limit if opts.limit else 0)
        pictures = saved["pictures"]
        if pictures is not None:
            shown = ", ".join(os.path.relpath(p, cwd) for p in pictures)
            sys.stderr.write(written_hint(out_path, f"; memory over time: {shown}"))

    return run_program(program, start, save, None if opts.quiet else show, mem.abandon)


def cli_memit(opts: Any, argv: list[str]) -> int:
    """``hotpath memit [-s SETUP] [-r N] [--sampled] [--no-native] STATEMENT...``."""
    _preloaded_setup(not opts.no_native, ["memit", *argv])
    stmt = "\n".join(opts.statement) or "pass"
    setup = "\n".join(opts.setup) or "pass"
    sys.path.insert(0, os.getcwd())
    ns: dict[str, Any] = {"__name__": "__main__"}
    memit(stmt, setup=setup, repeat=opts.repeat, globals=ns,
          mode="sampled" if opts.sampled else "exact")
    return 0
