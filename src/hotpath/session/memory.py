"""The memory mode (``hotpath run --memory[=exact|sampled]``), and the re-run under the
preload shim that lets it see C extensions' malloc from the first allocation on."""
from __future__ import annotations

import gc
import os
import sys
from typing import Iterable, TextIO

from hotpath.capture.memory import (MemLineProfiler, MemoryProfiler, native_available,
                                    preload_env, strip_preload_env)
from hotpath.model import Profile

from .lines import Selection
from .modes import Mode
from .program import _enter_program

__all__ = ["MemoryMode", "REEXEC_MARK", "reexec_with_preload", "preloaded_setup"]

#: shortest wait between the report's temporal samples (which stacks hold memory when)
TEMPORAL_INTERVAL = 0.05


class MemoryMode(Mode):
    """The tracker for the whole run, and the line-by-line view of functions chosen with
    ``@profile`` or ``-f`` (the selection ``--lines`` uses); the profile's
    ``extra["memory"]``, the memory-over-time pictures next to the file, and the memory
    report. ValueError for a bad ``sample_bytes`` or ``-f``."""

    name = "memory"

    def __init__(self, mode: str = "exact", specs: Iterable[str] = (),
                 sample_bytes: int = 16384, native: bool = True, interval: float = 0.01,
                 limit: int = 10, png: bool = False) -> None:
        if sample_bytes < 1:
            raise ValueError("--memory-sample-bytes must be at least 1")
        self.mp = MemoryProfiler(mode, sample_bytes=sample_bytes, interval=interval,
                                 native=native, temporal=TEMPORAL_INTERVAL)
        self.limit = limit
        self.settings = {"mode": mode, "sample_bytes": sample_bytes, "interval": interval}
        self.png = png           #: draw the PNG too (matplotlib), not only the SVG
        self.lines = MemLineProfiler(self.mp)
        tracker = self.mp._tracker
        # Not a Python audit hook: CPython would build each audited event's name, a hook
        # iterator and a call in the program's name. The tracker's C hook forgets the
        # event's argument tuple and calls back, paused, on "exec" only.
        self.select = Selection(self.lines, specs, watch_exec=tracker.audit_exec)

    def install(self) -> None:
        self.select.install()

    def start(self) -> None:
        self.mp.start()
        self.lines.enable()

    def spec(self) -> dict:
        from .lines import absolute_specs
        # children track Python's allocators (the preload shim is kept from them)
        return {"kind": "memory", **self.settings, "native": False,
                "specs": absolute_specs(self.select.specs)}

    def abandon(self) -> None:
        try:
            self.lines.disable()
            self.mp.stop()
        except Exception:
            pass

    def stop(self) -> None:
        """Stop tracking (cyclic garbage collected first: it is not a leak)."""
        self.lines.disable()
        self.mp._tracker.audit_exec(None)
        try:
            gc.collect()           # cyclic garbage is not a leak
        except Exception:
            pass
        try:
            self.mp.stop()
        except MemoryError as e:
            sys.stderr.write(f"hotpath: warning: {e}\n")

    def finish(self, profile: Profile) -> None:
        """The ``extra["memory"]`` section; warnings for ``-f`` names not found."""
        self.select.stop()
        profile.extra["memory"] = self.mp.memory_data(lines=self.lines.line_data() or None,
                                                      entry=_enter_program.__code__)

    def after_write(self, profile: Profile, path: str) -> str:
        """The memory-over-time picture (base.memory.svg; .png too when asked) next to
        the profile."""
        from hotpath.report.memory import write_timeline
        base = os.path.splitext(path)[0] + ".memory"
        try:
            pictures = write_timeline(profile, base, png=self.png)
        except OSError as e:
            pictures = []
            sys.stderr.write(f"hotpath: warning: cannot write the timeline: {e}\n")
        cwd = profile.meta.get("cwd") or os.getcwd()
        shown = ", ".join(os.path.relpath(p, cwd) for p in pictures)
        return f"; memory over time: {shown}"

    def show(self, profile: Profile, stream: TextIO) -> None:
        from hotpath.report.memory import print_memory
        print_memory(profile, stream=stream, limit=self.limit)


# -- native allocations: the preload shim ------------------------------------------------

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


def preloaded_setup(native: bool, hotpath_argv: list[str]) -> None:
    """Before a memory run: with ``native``, re-run ``python -m hotpath *hotpath_argv``
    under the shim unless it is loaded already; then keep the shim from the program's
    own children."""
    if native and not native_available():
        reexec_with_preload(hotpath_argv)
    os.environ.pop(REEXEC_MARK, None)
    strip_preload_env()       # the program's own children run without the shim
