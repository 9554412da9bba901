"""The sampling mode: ``hotpath run --sample[=RATE] [--sample-clock=cpu]`` — every
thread's stack sampled from a background thread (``hotpath.Sampler``), the same
calling-context trees as the functions mode with estimated times."""
from __future__ import annotations

import sys

from hotpath.capture.sampling import Sampler

from .modes import Mode
from .program import _enter_program

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import TextIO

    from hotpath.model import Profile, ThreadProfile

__all__ = ["SampleMode", "program_subtree"]


class SampleMode(Mode):
    """Samples the program's threads; ValueError for a bad rate or clock."""

    name = "sample"

    def __init__(self, rate: float | str = 1000, clock: str = "wall",
                 max_nodes: int = 1 << 20, sort: str = "tottime", limit: int = 20) -> None:
        self.sampler = Sampler(rate, clock, max_nodes)
        self.sort = sort
        self.limit = limit

    def start(self) -> None:
        self.sampler.start()        # RuntimeError: a sampler runs already

    def stop(self) -> None:
        try:
            self.sampler.stop()
        except Exception as e:
            sys.stderr.write(f"hotpath: warning: {e}\n")

    def finish(self, profile: Profile) -> None:
        data = self.sampler.snapshot()
        program_subtree(data)
        profile.functions = data.functions
        profile.threads = data.threads
        profile.tick_seconds = data.tick_seconds
        profile.meta = {**data.meta, **profile.meta}

    def show(self, profile: Profile, stream: TextIO) -> None:
        from hotpath.report.text import print_table
        print_table(profile, stream=stream, sort=self.sort, limit=self.limit)

    def abandon(self) -> None:
        try:
            self.sampler.stop()
        except Exception:
            pass


def program_subtree(profile: Profile) -> None:
    """Keep, in each thread, only the samples taken inside the program, in place.

    A sample of the thread that runs the program holds hotpath's own frames below the
    program's (``hotpath`` → ``run_program`` → ``_enter_program`` → the program); what
    is under ``_enter_program`` becomes the thread's top level, and samples taken
    before or after the program (hotpath's start-up tail and teardown) are dropped, as
    ``keep_program_calls`` does for the functions mode. Threads without that frame are
    the program's own and stay as they are.
    """
    from hotpath.model import ROOT
    code = _enter_program.__code__
    marker = {i for i, f in enumerate(profile.functions)
              if (f.filename, f.lineno, f.name) == (code.co_filename, code.co_firstlineno,
                                                      code.co_name)}
    if not marker:
        return
    out: list[ThreadProfile] = []
    for t in profile.threads:
        func, parent = t.func, t.parent
        if not any(f in marker for f in func):
            out.append(t)
            continue
        # new index of each old node: -2 dropped, -1 the new root (a marker node)
        where = [-2] * len(func)
        cols: list[list[int]] = [[ROOT], [-1], [0], [0], [0]]
        key: dict[tuple[int, int], int] = {}
        for i in range(1, len(func)):
            up = where[parent[i]] if parent[i] > 0 else -2
            if up == -2 and func[i] in marker:
                where[i] = -1                      # the program's start: the new root
                continue
            if up == -2:
                continue                           # hotpath's own frames, not the program
            new_up = 0 if up == -1 else up
            k = (new_up, func[i])
            j = key.get(k)
            if j is None:                          # merges paths under two marker nodes
                j = key[k] = len(cols[0])
                for c, v in zip(cols, (func[i], new_up, 0, 0, 0)):
                    c.append(v)
            cols[2][j] += t.calls[i]
            cols[3][j] += t.self_ticks[i]
            cols[4][j] += t.total_ticks[i]
            where[i] = j
        out.append(_tree(t, cols))
    profile.threads = [t for t in out if len(t.func) > 1]


def _tree(t: ThreadProfile, cols: list[list[int]]) -> ThreadProfile:
    from array import array

    from hotpath.model import ThreadProfile
    return ThreadProfile.from_columns(
        t.thread_id, t.name, array("i", cols[0]), array("i", cols[1]), array("q", cols[2]),
        array("q", cols[3]), array("q", cols[4]), truncated=t.truncated)
