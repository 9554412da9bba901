"""The run's metadata (``profile.meta``), the same keys for every mode.

Written once per run, after every mode has finished: the command as the user gave it,
its argv and kind, the working directory, the mode, the wall-clock start and duration,
and hotpath's version. A mode's own facts (the function profiler's clock and Python
version) come first, from the mode itself.
"""
from __future__ import annotations

import time

from hotpath import __version__

from .program import Program

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

__all__ = ["RunMeta"]


class RunMeta:
    """Collects the run's metadata: ``started()`` just before the program's first line,
    ``fields(mode)`` once it has ended."""

    def __init__(self, program: Program, cwd: str) -> None:
        self.program = program
        self.cwd = cwd
        self.start_time = 0.0

    def started(self) -> None:
        self.start_time = time.time()

    def fields(self, mode: str) -> dict[str, Any]:
        """The metadata of the run so far (duration up to now)."""
        return {
            "command": self.program.display,
            "argv": [self.program.target, *self.program.args],
            "kind": self.program.kind,
            "cwd": self.cwd,
            "mode": mode,
            "start_time": self.start_time,
            "duration": time.time() - self.start_time if self.start_time else 0.0,
            "hotpath_version": __version__,
        }
