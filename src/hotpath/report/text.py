"""The terminal table of hot functions: cProfile's columns, readable at a glance.

    hotpath: 1,204,331 calls (402 primitive) in 1.482 s, 2 threads
       ncalls  tottime  percall  cumtime  percall  function
    1198/2      0.912    0.000    1.402    0.701  fib (examples/fib.py:3)

Colour only when writing to a terminal (and NO_COLOR is unset). Sorting keys follow
pstats: tottime, cumtime, calls, name (plus the pstats aliases).
"""
from __future__ import annotations

import os
import re
import sys
from typing import IO, Iterable

from hotpath.model import FunctionStats, Profile, ThreadProfile
from hotpath.report.base import Labeler

SORT_KEYS = {
    "tottime": "tottime", "time": "tottime", "self": "tottime",
    "cumtime": "cumtime", "cumulative": "cumtime", "cum": "cumtime",
    "calls": "calls", "ncalls": "calls",
    "name": "name",
}


def use_colour(stream: IO[str]) -> bool:
    if os.environ.get("NO_COLOR") or os.environ.get("TERM") == "dumb":
        return False
    return bool(getattr(stream, "isatty", lambda: False)())


def _bold(text: str, on: bool) -> str:
    return f"\x1b[1m{text}\x1b[0m" if on else text


def _dim(text: str, on: bool) -> str:
    return f"\x1b[2m{text}\x1b[0m" if on else text


def _hot(text: str, on: bool) -> str:
    return f"\x1b[31m{text}\x1b[0m" if on else text


def format_table(profile: Profile, sort: str = "tottime", limit: int | None = 20,
                 name_filter: str | None = None, threads: Iterable[ThreadProfile] | None = None,
                 colour: bool = False) -> str:
    """The hot-function table as text (ends with a newline)."""
    key = SORT_KEYS.get(sort)
    if key is None:
        raise ValueError(f"unknown sort key {sort!r}; choose from tottime, cumtime, calls, name")
    threads = list(profile.threads if threads is None else threads)
    # Rows are sorted by value then label; only rows equal in both keep the stats' order
    # (a depth-first walk's), so that order is computed only when such a tie occurs.
    stats = profile.call_stats(threads, edges=False, ordered=False)[0]
    rows = _rows(profile, stats, key, name_filter)
    if any(a[3] == b[3] for a, b in zip(rows, rows[1:])):
        stats = profile.function_stats(threads)
        rows = _rows(profile, stats, key, name_filter)
    shown = rows if limit is None or limit <= 0 else rows[:limit]
    sec = profile.tick_seconds

    total_calls = sum(s.calls for s in stats.values())
    prim_calls = sum(s.primitive_calls for s in stats.values())
    top_ticks = sum(t.total_ticks[c] for t in threads for c in t.top_level())
    wall = profile.meta.get("profiled_seconds")
    out = []
    sampled = profile.meta.get("sampled")
    if sampled and isinstance(profile.meta.get("sampling"), dict):
        total_calls = prim_calls = profile.meta["sampling"].get("samples", total_calls)
    head = f"hotpath: {total_calls:,} {'samples' if sampled else 'calls'}"
    if prim_calls != total_calls and not sampled:
        head += f" ({prim_calls:,} primitive)"
    head += f" in {wall if wall is not None else top_ticks * sec:.3f} s"
    if len(threads) > 1:
        head += f", {len(threads)} threads"
    out.append(_bold(head, colour))
    if any(t.truncated for t in threads):
        out.append(_hot("note: the call tree reached its size cap; deeper paths were merged "
                        "into '<hotpath: call tree size cap reached>'", colour))
    if profile.meta.get("capture_error"):
        out.append(_hot(f"note: capture stopped early: {profile.meta['capture_error']}", colour))
    for note in profile.meta.get("notes") or ():     # e.g. a pstats file's approximated tree
        out.append(_dim(f"note: {note}", colour))
    if name_filter:
        out.append(f"functions matching {name_filter!r}: {len(rows)} of {rows.merged}")
    elif len(shown) < len(rows):
        out.append(f"top {len(shown)} of {len(rows)} functions by {key}")
    out.append(_dim(f"{'ncalls':>12} {'tottime':>9} {'percall':>9} {'cumtime':>9} "
                    f"{'percall':>9}  function", colour))
    hottest = shown[0][1].self_ticks if shown and key == "tottime" else None
    for _func, s, text, _key in shown:
        ncalls = str(s.calls) if s.calls == s.primitive_calls else f"{s.calls}/{s.primitive_calls}"
        tt, ct = s.self_ticks * sec, s.cum_ticks * sec
        per_t = tt / s.calls if s.calls else 0.0
        per_c = ct / s.primitive_calls if s.primitive_calls else 0.0
        line = f"{ncalls:>12} {tt:9.3f} {per_t:9.3g} {ct:9.3f} {per_c:9.3g}  "
        name = _hot(text, colour) if hottest is not None and s.self_ticks == hottest else text
        out.append(line + name)
    return "\n".join(out) + "\n"


class _Rows(list):
    merged = 0


def _rows(profile: Profile, stats: dict[int, FunctionStats], key: str,
          name_filter: str | None) -> _Rows:
    """The table's rows ``(func, stats, label, sort key)``, sorted; ``.merged`` is the
    number of rows before the name filter."""
    label = Labeler(profile)
    # One row per function as the user sees it: code objects that share file, first
    # line and name (each exec'd dataclass __init__, each namedtuple __new__) are one
    # row, as pstats merges them; "top N of M" counts these rows.
    merged: dict[tuple[str, int, str], tuple[int, FunctionStats]] = {}
    for func, s in stats.items():
        if func < 0:
            continue
        f = profile.functions[func]
        ident = (f.filename, f.lineno, f.display_name)
        seen = merged.get(ident)
        if seen is None:
            merged[ident] = (func, FunctionStats(s.calls, s.primitive_calls, s.self_ticks,
                                               s.cum_ticks))
        else:
            acc = seen[1]
            acc.calls += s.calls
            acc.primitive_calls += s.primitive_calls
            acc.self_ticks += s.self_ticks
            acc.cum_ticks += s.cum_ticks
    rows = _Rows()
    rows.merged = len(merged)
    pattern = re.compile(name_filter, re.IGNORECASE) if name_filter else None
    sorters = {
        "tottime": lambda s, text: (-s.self_ticks, text),
        "cumtime": lambda s, text: (-s.cum_ticks, text),
        "calls": lambda s, text: (-s.calls, text),
        "name": lambda s, text: text,
    }
    sort_key = sorters[key]
    for func, s in merged.values():
        text = label(func)
        if pattern and not pattern.search(text):
            continue
        rows.append((func, s, text, sort_key(s, text)))
    rows.sort(key=lambda r: r[3])
    return rows


def print_table(profile: Profile, stream: IO[str] | None = None, **kw) -> None:
    stream = stream if stream is not None else sys.stderr
    stream.write(format_table(profile, colour=use_colour(stream), **kw))
