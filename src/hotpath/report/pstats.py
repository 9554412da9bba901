"""pstats export: the dictionary ``cProfile.Profile.create_stats()`` builds, and its file.

The shape, as ``cProfile.Profile.snapshot_stats`` makes it::

    {(filename, lineno, name): (cc, nc, tt, ct, callers)}
    callers = {(caller's key): (nc, cc, tt, ct)}

``nc`` counts every call and ``cc`` only the primitive (non-recursive) ones; ``tt`` is the
time spent in the function itself and ``ct`` the cumulative time of its outermost calls,
in seconds. Note the two orders: the per-function tuple starts with ``cc`` and the
caller tuple with ``nc``. Top-level functions have an empty callers dict. The file is
``marshal.dump`` of that dict, exactly what ``cProfile.Profile.dump_stats`` writes, so
``python -m pstats``, ``pstats.Stats``, snakeviz and gprof2dot read it.

All threads are merged (cProfile sees one thread; its recursion rules apply per thread).
"""
from __future__ import annotations

import marshal
from typing import Iterable

from ..model import Profile, ThreadProfile
from ..outfile import open_output

__all__ = ["to_pstats_dict", "write_pstats"]

Key = tuple[str, int, str]


def to_pstats_dict(profile: Profile, threads: Iterable[ThreadProfile] | None = None
                   ) -> dict[Key, tuple]:
    """The ``pstats`` stats dictionary of ``profile`` (all threads merged by default).

    Functions that share a pstats key (two lambdas on one line) are merged, which is
    what ``pstats.Stats.add`` would do with them.
    """
    threads = list(profile.threads if threads is None else threads)
    funcs = profile.functions
    sec = profile.tick_seconds
    acc: dict[Key, list] = {}
    fstats, estats = profile.call_stats(threads, ordered=False)   # sorted below
    for i, s in sorted(fstats.items()):
        key = funcs[i].pstats_key
        row = acc.get(key)
        if row is None:
            row = acc[key] = [0, 0, 0, 0, {}]
        row[0] += s.primitive_calls
        row[1] += s.calls
        row[2] += s.self_ticks
        row[3] += s.cum_ticks
    for (caller, callee), s in sorted(estats.items()):
        callers = acc[funcs[callee].pstats_key][4]
        ckey = funcs[caller].pstats_key
        prev = callers.get(ckey, (0, 0, 0, 0))
        callers[ckey] = (prev[0] + s.calls, prev[1] + s.primitive_calls,
                         prev[2] + s.self_ticks, prev[3] + s.cum_ticks)
    # Ticks are summed as integers and converted once, as _lsprof does.
    return {key: (cc, nc, tt * sec, ct * sec,
                  {k: (c[0], c[1], c[2] * sec, c[3] * sec) for k, c in callers.items()})
            for key, (cc, nc, tt, ct, callers) in acc.items()}


def write_pstats(profile: Profile, path: str) -> None:
    """Write ``profile`` as a pstats file (``marshal``, as ``cProfile`` ``dump_stats``)."""
    stats = to_pstats_dict(profile)
    with open_output(path, "wb") as f:
        marshal.dump(stats, f)
