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
from hotpath.report.base import Labeler, format_seconds

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


# -- the hot path, as a tree ------------------------------------------------------------------

#: ``format_hot_tree``: rows away from the hot path are shown from this share of the run
MIN_SHARE = 0.05
MAX_INDENT = 16
MAX_PATH = 14        #: hot-path rows printed (a longer path keeps its top and end)


def format_hot_tree(profile: Profile, threads: Iterable[ThreadProfile] | None = None,
                    focus: Iterable[str] = (), min_share: float = MIN_SHARE,
                    max_rows: int = 30, colour: bool = False, tree=None) -> str:
    """The hot path through the user's code (``report.hottree``), compactly: the hottest
    path in full, other branches holding at least ``min_share`` of the run, library
    frames folded into "N frames hidden (packages)" rows; at most ``max_rows`` rows
    besides the hot path's. Empty when the profile has no time."""
    from .hottree import FOLD, FUNC, LINE, THREAD, hot_tree
    from .source import SourceReader
    t = tree or hot_tree(profile, threads, focus=focus)
    total = t.total_ticks
    if total <= 0 or not t.root.children:
        return ""
    label = Labeler(profile, t.user.shorten)
    sec = profile.tick_seconds
    floor = total * min_share
    reader = SourceReader(profile.meta.get("cwd"))
    out = [_bold("hot path", colour) + _dim(
        " (your code; library, standard-library and import frames folded"
        + (f"; yours too: {', '.join(t.user.focus)}" if t.user.focus else "; --focus PKG adds a package")
        + ")", colour)]
    out.append(_dim(f"{'total':>9} {'share':>6} {'self':>9} {'calls':>10}  path", colour))
    extra = 0

    def text_of(node) -> str:
        if node.kind == FOLD:
            pk = t.packages(node)
            shown = ", ".join(pk[:4]) + (f", +{len(pk) - 4} more" if len(pk) > 4 else "")
            n = len(node.hidden)
            via = profile.functions[node.func].display_name if node.func >= 0 else "?"
            return f"{n} frame{'s' if n != 1 else ''} hidden ({shown}), via {via}"
        if node.kind == LINE:
            fn = profile.functions[node.func]
            src = reader.line(fn.filename, node.line, limit=80).strip()
            return f"line {node.line}: {src}" if src else f"line {node.line}"
        if node.kind == THREAD:
            return f"[{node.name}]"
        return label(node.func)

    def row(node, depth: int, note: str = "") -> None:
        share = node.total_ticks / total
        calls = f"{node.calls:,}" if node.kind != THREAD else ""
        self_t = format_seconds(node.self_ticks * sec) if node.kind not in (THREAD, LINE) else ""
        pad = "  " * min(depth - 1, MAX_INDENT)
        if depth - 1 > MAX_INDENT:
            pad += f"[{depth}] "
        name = text_of(node) + note
        if node.kind == FOLD:
            name = _dim(name, colour)
        elif node.hot and node is t.hot_path[-1]:
            name = _hot(name, colour)
        elif node.hot:
            name = _bold(name, colour)
        out.append(f"{format_seconds(node.total_ticks * sec):>9} {100 * share:5.1f}% "
                   f"{self_t:>9} {calls:>10}  {pad}{name}")

    # The hot path, one row per level: a recursion (the same function calling itself
    # on the path) is one row that says how deep, and a path longer than MAX_PATH rows
    # keeps its top and its end. Under each row, after the path's rest: its other
    # children holding at least ``min_share`` of the run, heaviest first, one row each.
    hot = t.hot_path[1:]
    shown: list = []
    last_of: dict[int, object] = {}
    k = 0
    while k < len(hot):
        node, j = hot[k], k
        while (node.kind == FUNC and j + 1 < len(hot) and hot[j + 1].kind == FUNC
               and hot[j + 1].func == node.func):
            j += 1
        shown.append(node)
        if j > k:
            last_of[id(node)] = hot[j]
        k = j + 1
    # each level's other heavy children (shown after the path), and its deepest node
    rests: list[list] = []
    for k, node in enumerate(shown):
        below = last_of.get(id(node)) or node
        nxt = shown[k + 1] if k + 1 < len(shown) else None
        rest = [c for c in below.children if c is not nxt and not c.hot]
        heavy = [c for c in rest if c.total_ticks >= floor][:5]
        extra += len(rest) - len(heavy)
        rests.append(heavy)
    # a long path loses middle levels that have nothing else heavy below them
    cut: set[int] = set()
    if len(shown) > MAX_PATH:
        for k in range(3, len(shown) - (MAX_PATH - 4)):
            if not rests[k]:
                cut.add(k)
        cut = {k for k in cut if k - 1 in cut or k + 1 in cut}   # runs of two or more
    later: list[list] = [[(c, 1) for c in t.root.children
                          if not c.hot and c.total_ticks >= floor][:5]]
    extra += len(t.root.children) - len(later[0]) - (1 if shown else 0)
    depth = 0
    k = 0
    while k < len(shown):
        node = shown[k]
        if k in cut:
            run = k
            while run in cut:
                run += 1
            depth += 1
            names = [text_of(x) for x in shown[k:run]]
            more = f"{names[0]} > ... > {names[-1]}" if len(names) > 2 else " > ".join(names)
            out.append(_dim(f"{'':>38}  {'  ' * min(depth - 1, MAX_INDENT)}"
                            f"... {len(names)} more level{'s' if len(names) > 1 else ''}: {more}",
                            colour))
            k = run
            continue
        depth += 1
        deep = last_of.get(id(node))
        note = ""
        if deep is not None:
            levels, x = 1, node
            while x is not deep:
                x = x.children[0]
                levels += 1
            note = f"  (recursive, {levels} levels)"
        row(node, depth, note)
        later.append([(c, depth + 1) for c in rests[k]])
        k += 1
    for group in reversed(later):
        for c, d in group:
            if len(out) - 2 >= max_rows:
                extra += 1
                continue
            row(c, d, "  [+]" if c.children else "")
    if not shown:                       # no time anywhere on a path: the top rows
        for c in t.root.children[:5]:
            row(c, 1)
    if hot and all(n.kind in (FOLD, THREAD) for n in hot):
        pk = [x for x in t.packages(hot[-1]) if not x.startswith("<")][:3]
        if pk:
            out.append(_dim(f"note: none of the time is in your code; --focus "
                            f"{pk[0]} counts a package as yours (here: {', '.join(pk)})", colour))
    if extra:
        out.append(_dim(f"{'':>38}  ({extra} smaller branches not shown; "
                        "hotpath view shows them all)", colour))
    return "\n".join(out) + "\n"


def print_hot_tree(profile: Profile, stream: IO[str] | None = None, **kw) -> None:
    """``format_hot_tree`` after a blank line, when the profile has time to show."""
    stream = stream if stream is not None else sys.stderr
    text = format_hot_tree(profile, colour=use_colour(stream), **kw)
    if text:
        stream.write("\n" + text)
