"""The functions mode: ``hotpath run`` without options — every call of every thread,
the calling-context trees, and the hot-function table at the end."""
from __future__ import annotations

import sys

from hotpath.capture.functions import Profile as FunctionProfiler

from .modes import Mode
from .program import keep_program_calls

TYPE_CHECKING = False
if TYPE_CHECKING:             # typing is not imported at run time (issue 13, start-up)
    from typing import TextIO

    from hotpath.model import Profile

__all__ = ["FunctionsMode"]


class FunctionsMode(Mode):
    """Records function timings into the profile's functions and threads.
    ``sort`` and ``limit`` shape the table, ``focus`` (packages counted as the user's)
    the hot-path tree under it; ValueError for a bad ``max_nodes``."""

    name = "function"

    def __init__(self, builtins: bool = True, max_nodes: int = 1 << 20,
                 sort: str = "tottime", limit: int = 20, focus: tuple[str, ...] = ()) -> None:
        self.prof = FunctionProfiler(builtins=builtins, max_nodes=max_nodes)
        self.builtins = builtins
        self.max_nodes = max_nodes
        self.sort = sort
        self.limit = limit
        self.focus = tuple(focus)

    def start(self) -> None:
        self.prof.enable()       # ProfilerActiveError (a RuntimeError): the slot is taken

    def stop(self) -> None:
        try:
            self.prof.disable()
        except Exception as e:     # a capture error: still write what was recorded
            sys.stderr.write(f"hotpath: warning: {e}\n")

    def finish(self, profile: Profile) -> None:
        data = self.prof.snapshot()
        keep_program_calls(data)       # not hotpath's start-up tail and teardown
        profile.functions = data.functions
        profile.threads = data.threads
        profile.tick_seconds = data.tick_seconds
        profile.meta = {**data.meta, **profile.meta}

    def show(self, profile: Profile, stream: TextIO) -> None:
        from hotpath.report.text import print_hot_tree, print_table
        print_table(profile, stream=stream, sort=self.sort, limit=self.limit)
        print_hot_tree(profile, stream=stream, focus=self.focus)

    def spec(self) -> dict:
        return {"kind": "functions", "builtins": self.builtins, "max_nodes": self.max_nodes}

    def abandon(self) -> None:
        try:
            self.prof.disable()
        except Exception:
            pass
