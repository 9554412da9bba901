"""``hotpath diff A B``: what got slower or faster between two profiles.

Two profiles of the same program rarely share a function table: line numbers move when
the code is edited, paths differ between checkouts and virtual environments. Functions
are therefore matched by their *display identity* — the shortened path (relative to the
project, the standard library or site-packages, see ``base.PathShortener``) and the
qualified name; functions sharing both in one profile (two lambdas in one file) are told
apart by their order in the file. Everything else is derived from that matching:

* ``diff_functions(a, b)`` — one ``FunctionDiff`` per function present in either profile,
  with cProfile's flat totals (``FunctionStats``) on each side (``None`` when absent).
* ``format_diff`` / ``print_diff`` — the terminal table: time in A, time in B, delta,
  ratio and calls, new and removed functions marked, sorted by the largest change.
* ``diff_tree(a, b)`` — the calling-context trees of both profiles (all threads merged
  by path) as one tree whose nodes carry calls, self and total ticks of both sides.
* ``diff_data`` / ``to_html`` / ``write_diff_html`` — the differential flame graph: one
  self-contained page (``report/html/diff.*``), frames laid out by B's (or A's) time and
  coloured by how much they grew or shrank, with a sortable table of the functions.

Both profiles must be of one kind: two memory profiles (``hotpath run --memory``) are
compared line by line by ``memdiff``; a function profile against a memory profile, or a
flame graph of memory profiles, raises ``DiffError`` (the CLI's one error line).

Injection safety is ``html.py``'s: the data goes into the page as JSON made safe by
``json_for_script``, the title through ``xml_escape``, and the script uses
``textContent`` only.
"""
from __future__ import annotations

import math
import re
import sys
from dataclasses import dataclass
from typing import IO, Any

from ..model import FunctionStats, Profile
from ..outfile import open_output
from .base import PathShortener, exporter_name, format_seconds, node_spans, xml_escape

__all__ = ["FunctionDiff", "DiffTree", "function_keys", "diff_functions", "diff_tree",
           "format_diff", "print_diff", "diff_data", "to_html", "write_diff_html",
           "SORT_KEYS", "METRICS", "DiffError", "profile_kind", "check_comparable"]

#: ``--sort`` choices: what each puts first
SORT_KEYS = {
    "delta": "largest change either way",
    "slower": "largest growth first",
    "faster": "largest shrink first",
    "ratio": "largest B/A ratio first (new functions first)",
    "a": "most time in A first",
    "b": "most time in B first",
    "calls": "largest change in calls first",
    "name": "by function label",
}
#: ``--metric`` choices: which time the table compares
METRICS = {"self": "self time (tottime)", "total": "total time (cumtime)"}

Key = tuple[str, str, int]       # (short path, qualified name, rank among equals)
_KINDS = {"project": 0, "library": 1, "builtin": 2, "other": 3}
# cProfile labels some C callables with their address (``<function Random.seed at
# 0x7f…>``); addresses differ from run to run and must not make a function "new".
_ADDRESS = re.compile(r" at 0x[0-9a-fA-F]+")
# Labels go to a terminal: one line each, and no control characters (escape sequences
# in a function name must not reach the terminal).
_ONE_LINE = str.maketrans({c: " " for c in "\r\n\t"})
_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f]")


class DiffError(ValueError):
    """The two profiles cannot be compared (this way): different kinds, or a view that
    does not apply to their kind."""


def profile_kind(profile: Profile) -> str:
    """``"memory"`` for a memory profile (no function timings, a memory section), else
    ``"function"`` (timings, with or without line timings)."""
    from . import has_timings
    return "memory" if not has_timings(profile) and "memory" in profile.extra else "function"


def check_comparable(a: Profile, b: Profile, names: tuple[str, str] = ("A", "B")) -> str:
    """The kind both profiles share; ``DiffError`` if they differ."""
    ka, kb = profile_kind(a), profile_kind(b)
    if ka != kb:
        raise DiffError(f"{names[0]} is a {ka} profile and {names[1]} a {kb} profile; "
                        f"diff compares two profiles of the same kind")
    return ka


def function_keys(profile: Profile, shorten: PathShortener | None = None) -> list[Key]:
    """The matching key of every function of ``profile`` (parallel to ``functions``).

    ``(short path, qualified name, rank)``: rank numbers functions with the same short
    path and name in line order, so the n-th ``<lambda>`` of a file in A meets the n-th
    one in B even when lines moved.
    """
    shorten = shorten or PathShortener(profile.meta.get("cwd"))
    base = [(shorten(f.filename),
             _ADDRESS.sub("", f.display_name) if f.is_builtin else f.display_name)
            for f in profile.functions]
    groups: dict[tuple[str, str], list[int]] = {}
    for i, k in enumerate(base):
        groups.setdefault(k, []).append(i)
    keys: list[Key] = [("", "", 0)] * len(base)
    for k, idxs in groups.items():
        idxs.sort(key=lambda i: (profile.functions[i].lineno, i))
        for rank, i in enumerate(idxs):
            keys[i] = (k[0], k[1], rank)
    return keys


@dataclass
class FunctionDiff:
    """One function of either profile, with its flat totals on each side (in seconds)."""
    key: Key
    label: str                     #: ``name (short/path.py:line)`` (B's line when in B)
    kind: str                      #: PathShortener kind: project, library, builtin, other
    a: FunctionStats | None        #: totals in A (ticks of A), None if absent from A
    b: FunctionStats | None        #: totals in B (ticks of B), None if absent from B
    a_tick: float = 1e-9
    b_tick: float = 1e-9
    lineno: int = 0                #: first line (B's when in B)

    @property
    def status(self) -> str:
        """``"new"`` (only in B), ``"removed"`` (only in A) or ``"both"``."""
        return "new" if self.a is None else "removed" if self.b is None else "both"

    def seconds(self, side: str, metric: str = "self") -> float:
        """Time of this function in ``side`` ("a" or "b") by ``metric``; 0 if absent."""
        s = self.a if side == "a" else self.b
        if s is None:
            return 0.0
        ticks = s.self_ticks if metric == "self" else s.cum_ticks
        return ticks * (self.a_tick if side == "a" else self.b_tick)

    def calls(self, side: str) -> int:
        s = self.a if side == "a" else self.b
        return s.calls if s is not None else 0

    def delta(self, metric: str = "self") -> float:
        """B − A in seconds; 0 when equal up to rounding (the sides' ticks may differ)."""
        return _sub(self.seconds("b", metric), self.seconds("a", metric))

    def ratio(self, metric: str = "self") -> float | None:
        """B / A; ``inf`` when only B has time, None when neither has any."""
        a, b = self.seconds("a", metric), self.seconds("b", metric)
        if a > 0:
            return b / a
        return math.inf if b > 0 else None


def diff_functions(a: Profile, b: Profile) -> list[FunctionDiff]:
    """Every function of A or B, matched by ``function_keys``, A's order first."""
    out: dict[Key, FunctionDiff] = {}
    for side, prof in (("a", a), ("b", b)):
        shorten = PathShortener(prof.meta.get("cwd"))
        keys = function_keys(prof, shorten)
        for func, st in prof.function_stats().items():
            if func < 0:
                continue
            f = prof.functions[func]
            k = keys[func]
            d = out.get(k)
            if d is None:
                d = out[k] = FunctionDiff(k, "", shorten.kind(f.filename), None, None,
                                          a.tick_seconds, b.tick_seconds)
            if side == "b" or not d.label:
                d.label = k[1] if f.is_builtin else f"{k[1]} ({k[0]}:{f.lineno})"
                d.lineno = f.lineno
            prev = getattr(d, side)
            if prev is None:
                setattr(d, side, FunctionStats(st.calls, st.primitive_calls,
                                               st.self_ticks, st.cum_ticks))
            else:                  # duplicate rows in one function table: add up
                prev.calls += st.calls
                prev.primitive_calls += st.primitive_calls
                prev.self_ticks += st.self_ticks
                prev.cum_ticks += st.cum_ticks
    for d in out.values():
        d.label = _CONTROL.sub("\ufffd", d.label.translate(_ONE_LINE))
    return list(out.values())


def _sub(b: float, a: float) -> float:
    """``b - a``, or 0 when the difference is only floating-point rounding."""
    d = b - a
    return 0.0 if abs(d) <= 1e-9 * max(abs(a), abs(b)) else d


def _total_seconds(p: Profile) -> float:
    return p.total_ticks() * p.tick_seconds


# -- the terminal table ------------------------------------------------------------------

def _signed(seconds: float) -> str:
    if seconds == 0:
        return "0"
    return ("+" if seconds > 0 else "-") + format_seconds(abs(seconds))


def _time(seconds: float | None) -> str:
    return "-" if seconds is None else "0" if seconds == 0 else format_seconds(seconds)


def _ratio_text(d: FunctionDiff, metric: str) -> str:
    if d.status != "both":
        return d.status
    r = d.ratio(metric)
    if r is None:
        return "-"
    if math.isinf(r):
        return "inf"
    return f"{r:.2f}x" if r < 100 else f"{r:.0f}x"


def _calls_text(d: FunctionDiff) -> str:
    if d.a is None:
        return f"- → {d.b.calls:,}"
    if d.b is None:
        return f"{d.a.calls:,} → -"
    if d.a.calls == d.b.calls:
        return f"{d.a.calls:,}"
    return f"{d.a.calls:,} → {d.b.calls:,}"


def sort_rows(rows: list[FunctionDiff], sort: str = "delta", metric: str = "self"
              ) -> list[FunctionDiff]:
    """``rows`` ordered by a ``SORT_KEYS`` key (ties by label)."""
    if sort not in SORT_KEYS:
        raise ValueError(f"unknown sort key {sort!r}; choose from {', '.join(SORT_KEYS)}")
    if metric not in METRICS:
        raise ValueError(f"unknown metric {metric!r}; choose from {', '.join(METRICS)}")

    def ratio_key(d: FunctionDiff) -> float:
        r = d.ratio(metric)
        return -(r if r is not None else 1.0) if d.status != "removed" else 0.0

    keys = {
        "delta": lambda d: (-abs(d.delta(metric)), d.label),
        "slower": lambda d: (-d.delta(metric), d.label),
        "faster": lambda d: (d.delta(metric), d.label),
        "ratio": lambda d: (ratio_key(d), -abs(d.delta(metric)), d.label),
        "a": lambda d: (-d.seconds("a", metric), d.label),
        "b": lambda d: (-d.seconds("b", metric), d.label),
        "calls": lambda d: (-abs(d.calls("b") - d.calls("a")), d.label),
        "name": lambda d: (d.label,),
    }
    return sorted(rows, key=keys[sort])


def format_diff(a: Profile, b: Profile, sort: str = "delta", metric: str = "self",
                limit: int | None = 30, name_filter: str | None = None,
                names: tuple[str, str] = ("A", "B"), colour: bool = False) -> str:
    """The diff table as text (ends with a newline)::

        hotpath diff: A = old.hprof, B = new.hprof
        total 1.48 s → 1.10 s (-380 ms, 0.74x); 2 new, 1 removed, 118 in both
            self A     self B          Δ    ratio        calls  function
          412 ms     96.1 ms    -316 ms    0.23x  1,000 → 10  Grid.lookup (app.py:40)
    """
    rows = diff_functions(a, b)
    pattern = re.compile(name_filter, re.IGNORECASE) if name_filter else None
    shown_rows = [d for d in rows if not pattern or pattern.search(d.label)]
    shown_rows = sort_rows(shown_rows, sort, metric)
    shown = shown_rows if limit is None or limit <= 0 else shown_rows[:limit]

    def paint(text: str, code: str) -> str:
        return f"\x1b[{code}m{text}\x1b[0m" if colour else text

    ta, tb = _total_seconds(a), _total_seconds(b)
    new = sum(d.status == "new" for d in rows)
    removed = sum(d.status == "removed" for d in rows)
    out = [paint(f"hotpath diff: A = {names[0]}, B = {names[1]}", "1")]
    change = f"{_signed(_sub(tb, ta))}, {tb / ta:.2f}x" if ta > 0 else _signed(tb)
    out.append(f"total {_time(ta)} → {_time(tb)} ({change}); "
               f"{new} new, {removed} removed, {len(rows) - new - removed} in both")
    for p, n in ((a, names[0]), (b, names[1])):
        if p.truncated:
            out.append(paint(f"note: {n}: the call tree reached its size cap; deeper "
                             "paths were merged", "31"))
    what = METRICS[metric]
    if name_filter:
        out.append(f"functions matching {name_filter!r}: {len(shown_rows)} of {len(rows)}, "
                   f"{what}")
    elif len(shown) < len(shown_rows):
        out.append(f"top {len(shown)} of {len(shown_rows)} functions by {sort}, {what}")
    else:
        out.append(f"{len(shown)} functions by {sort}, {what}")
    m = "self" if metric == "self" else "total"
    out.append(paint(f"{m + ' A':>10} {m + ' B':>10} {'delta':>10} {'ratio':>8} "
                     f"{'calls':>16}  function", "2"))
    for d in shown:
        sa = d.seconds("a", metric) if d.a is not None else None
        sb = d.seconds("b", metric) if d.b is not None else None
        delta = d.delta(metric)
        line = (f"{_time(sa):>10} {_time(sb):>10} {_signed(delta):>10} "
                f"{_ratio_text(d, metric):>8} {_calls_text(d):>16}  {d.label}")
        if delta > 0:
            line = paint(line, "31")
        elif delta < 0:
            line = paint(line, "32")
        out.append(line)
    return "\n".join(out) + "\n"


def print_diff(a: Profile, b: Profile, stream: IO[str] | None = None, **kw: Any) -> None:
    """Write ``format_diff`` to ``stream`` (stdout), coloured on a terminal; for two
    memory profiles, ``memdiff``'s table (``metric`` does not apply and is ignored).
    Raises ``DiffError`` for profiles of different kinds."""
    from .text import use_colour
    stream = stream if stream is not None else sys.stdout
    if check_comparable(a, b, kw.get("names", ("A", "B"))) == "memory":
        from .memdiff import print_memory_diff
        kw.pop("metric", None)
        print_memory_diff(a, b, stream, **kw)
        return
    stream.write(format_diff(a, b, colour=use_colour(stream), **kw))


# -- the merged tree -----------------------------------------------------------------------

@dataclass
class DiffTree:
    """Both profiles' calling-context trees merged by path (all threads together).

    Parallel columns; node 0 is the root, a parent precedes its children. ``func`` is an
    index into ``functions`` (``diff_functions`` order); ``a_*`` / ``b_*`` are calls, self
    ticks and widths (``node_spans``) in each profile's own ticks, 0 where the path does
    not occur.
    """
    functions: list[FunctionDiff]
    func: list[int]
    parent: list[int]
    a_calls: list[int]
    a_self: list[int]
    a_total: list[int]
    b_calls: list[int]
    b_self: list[int]
    b_total: list[int]

    def __len__(self) -> int:
        return len(self.func)


def diff_tree(a: Profile, b: Profile, functions: list[FunctionDiff] | None = None) -> DiffTree:
    """Merge the trees of ``a`` and ``b`` (every thread, identical paths added up)."""
    functions = diff_functions(a, b) if functions is None else functions
    index = {d.key: i for i, d in enumerate(functions)}
    tree = DiffTree(functions, [-1], [-1], [0], [0], [0], [0], [0], [0])
    child: dict[tuple[int, int], int] = {}
    for side, prof in (("a", a), ("b", b)):
        calls, self_, total = ((tree.a_calls, tree.a_self, tree.a_total) if side == "a"
                               else (tree.b_calls, tree.b_self, tree.b_total))
        fid = [index.get(k, -1) for k in function_keys(prof)]
        for t in prof.threads:
            spans = node_spans(t)
            total[0] += spans[0]
            mapped = [0] * len(t.func)
            for i, nfunc, nparent, ncalls, nself, span in zip(
                    range(1, len(spans)), t.func[1:], t.parent[1:], t.calls[1:],
                    t.self_ticks[1:], spans[1:]):
                parent = mapped[nparent]
                f = fid[nfunc] if nfunc >= 0 else -1
                m = child.get((parent, f))
                if m is None:
                    m = child[(parent, f)] = len(tree.func)
                    tree.func.append(f)
                    tree.parent.append(parent)
                    for col in (tree.a_calls, tree.a_self, tree.a_total,
                                tree.b_calls, tree.b_self, tree.b_total):
                        col.append(0)
                calls[m] += ncalls
                self_[m] += nself
                total[m] += span
                mapped[i] = m
    return tree


# -- the HTML page ---------------------------------------------------------------------------

def diff_data(a: Profile, b: Profile, names: tuple[str, str] = ("A", "B")) -> dict[str, Any]:
    """The JSON-able data the differential flame graph page reads."""
    functions = diff_functions(a, b)
    tree = diff_tree(a, b, functions)
    files: list[str] = []
    file_idx: dict[str, int] = {}
    funcs: dict[str, list] = {"name": [], "file": [], "line": [], "kind": [], "st": []}
    for d in functions:
        fi = file_idx.get(d.key[0])
        if fi is None:
            fi = file_idx[d.key[0]] = len(files)
            files.append(d.key[0])
        funcs["name"].append(d.key[1])
        funcs["file"].append(fi)
        funcs["line"].append(d.lineno)
        funcs["kind"].append(_KINDS.get(d.kind, 3))
        funcs["st"].append({"new": 1, "removed": 2}.get(d.status, 0))

    def flat(side: str) -> dict[str, list]:
        tick = a.tick_seconds if side == "a" else b.tick_seconds
        cols: dict[str, list] = {"n": [], "s": [], "c": []}
        for d in functions:
            s = getattr(d, side)
            cols["n"].append(s.calls if s else 0)
            # seconds, so that both sides share one unit whatever their timers
            cols["s"].append(s.self_ticks * tick if s else 0.0)
            cols["c"].append(s.cum_ticks * tick if s else 0.0)
        return cols

    return {
        "title": f"{names[0]} → {names[1]}",
        "names": list(names),
        "commands": [str(a.meta.get("command") or ""), str(b.meta.get("command") or "")],
        "exporter": exporter_name(),
        "tick": [a.tick_seconds, b.tick_seconds],
        "truncated": [a.truncated, b.truncated],
        "files": files,
        "funcs": funcs,
        "a": flat("a"),
        "b": flat("b"),
        # merged tree: function, parent; per side calls, self and width in its own ticks
        "tree": {"f": tree.func, "p": tree.parent,
                 "an": tree.a_calls, "as": tree.a_self, "at": tree.a_total,
                 "bn": tree.b_calls, "bs": tree.b_self, "bt": tree.b_total},
    }


def to_html(a: Profile, b: Profile, names: tuple[str, str] = ("A", "B")) -> str:
    """The differential flame graph page of ``a`` → ``b`` (one HTML document)."""
    from . import pages
    from .html import json_for_script
    data = diff_data(a, b, names)
    return pages.render("diff", title=xml_escape(f"hotpath diff: {data['title']}"),
                        data=json_for_script(data))


def write_diff_html(a: Profile, b: Profile, path: str,
                    names: tuple[str, str] = ("A", "B")) -> None:
    """Write the differential flame graph page of ``a`` → ``b`` to ``path``. Raises
    ``DiffError`` (nothing written) unless both are function profiles."""
    if check_comparable(a, b, names) == "memory":
        raise DiffError("the differential flame graph (-o) is drawn from function "
                        "timings, which memory profiles do not have; without -o, diff "
                        "prints the memory comparison")
    with open_output(path, "w", encoding="utf-8") as f:
        f.write(to_html(a, b, names))
