"""A progress line for hotpath's own long work: ``hotpath: writing the HTML report: reading
the profile (3 s)``, on stderr, and only where a person watches it.

    from hotpath.progress import progress, note

    with progress("writing the HTML report"):
        note("reading the profile")           # anywhere below, without passing anything
        ...

The line appears only when stderr is a terminal, only after the work has taken
``AFTER`` seconds (short work stays silent), and is rewritten in place (``\\r``) every
``EVERY`` seconds by a daemon thread, so a single long call still shows its time; it is
erased when the work ends. It is never written into a program's own output: the
commands that use it (view, export, report, diff, bench) run after the program, or run
none. ``HOTPATH_PROGRESS=0`` turns it off; ``HOTPATH_PROGRESS_AFTER`` (seconds) changes
the delay. ``note(text)`` costs an attribute store when no line is shown, so code deep
in a loop (the benchmark rounds) may call it freely.
"""
from __future__ import annotations

import os
import sys
import threading
import time
from typing import Any, TextIO

__all__ = ["progress", "note", "Progress", "AFTER", "EVERY"]

AFTER = 1.0          #: seconds before the line appears
EVERY = 0.25         #: seconds between rewrites

_active: list["Progress"] = []


class Progress:
    """The context manager ``progress(what)`` returns (see the module docstring)."""

    def __init__(self, what: str, stream: TextIO | None = None,
                 after: float | None = None) -> None:
        self.what = what
        self.step = ""
        self.stream = stream if stream is not None else sys.stderr
        env_after = os.environ.get("HOTPATH_PROGRESS_AFTER")
        try:
            default_after = float(env_after) if env_after else AFTER
        except ValueError:
            default_after = AFTER
        self.after = default_after if after is None else after
        self.shown = False               #: whether a line was ever written
        self._done = threading.Event()
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None
        self._t0 = 0.0

    def _enabled(self) -> bool:
        if os.environ.get("HOTPATH_PROGRESS", "1") == "0":
            return False
        try:
            return bool(self.stream.isatty())
        except (AttributeError, ValueError, OSError):
            return False

    def __enter__(self) -> "Progress":
        self._t0 = time.monotonic()
        _active.append(self)
        if self._enabled():
            self._thread = threading.Thread(target=self._run, name="hotpath-progress",
                                            daemon=True)
            self._thread.start()
        return self

    def __exit__(self, *exc: Any) -> None:
        if self in _active:
            _active.remove(self)
        if self._thread is not None:
            self._done.set()
            self._thread.join()
            self._thread = None
            with self._lock:
                if self.shown:
                    self._write("\r\x1b[K")

    def _write(self, text: str) -> None:
        try:
            self.stream.write(text)
            self.stream.flush()
        except (OSError, ValueError):
            self._done.set()

    def _run(self) -> None:
        if self._done.wait(self.after):
            return
        while True:
            with self._lock:
                if self._done.is_set():
                    return
                elapsed = time.monotonic() - self._t0
                step = f": {self.step}" if self.step else ""
                self._write(f"\rhotpath: {self.what}{step} ({elapsed:.0f} s)\x1b[K")
                self.shown = True
            if self._done.wait(EVERY):
                return


def progress(what: str, stream: TextIO | None = None, after: float | None = None) -> Progress:
    """A progress line for ``what`` while the ``with`` block runs (see the module)."""
    return Progress(what, stream, after)


def note(step: str) -> None:
    """Say what the innermost active progress line is doing now (no-op without one)."""
    if _active:
        _active[-1].step = step
