"""``hotpath diff A B`` of two memory profiles: what allocates or holds more memory.

Both sides are read through ``MemoryView`` (the memory model's tables), so a line's
numbers here are the ones ``hotpath report`` prints for it: each allocation at the
innermost line of the user's code in its stack. Lines are matched across profiles by
(short path, line, function name) — ``PathShortener`` makes paths of two checkouts or
virtual environments meet, as the function diff does.

* ``memory_totals`` — allocated (bytes, blocks), live at exit, the peak, of one side.
* ``diff_lines(a, b)`` — one ``LineDiff`` per line that allocated in either profile.
* ``format_memory_diff`` / ``print_memory_diff`` — the terminal table: totals before,
  after and the change, then the lines with the largest change in bytes allocated.
"""
from __future__ import annotations

import re
import sys
from dataclasses import dataclass, field
from typing import IO, Any

from ..model import Profile
from .base import PathShortener
from ..model.memory import NO_FRAME, MemoryView, Row
from .memory import format_bytes

__all__ = ["LineDiff", "memory_totals", "diff_lines", "format_memory_diff",
           "print_memory_diff", "SORT_KEYS"]

#: what each ``--sort`` of a memory diff puts first (the function diff's names, where
#: they mean something for memory)
SORT_KEYS = {"delta": "largest change in bytes allocated either way",
             "slower": "largest growth first", "faster": "largest shrink first",
             "ratio": "largest B/A ratio of bytes allocated first (new lines first)",
             "a": "most allocated in A first", "b": "most allocated in B first",
             "calls": "largest change in blocks first", "name": "by location"}

Key = tuple[str, int, str]      # (short path, line, function name)

#: (label, key in totals) of the summary rows
_TOTALS = (("allocated", "alloc_bytes", "alloc_count"), ("live at exit", "live_bytes",
                                                          "live_count"),
           ("peak", "peak_bytes", "peak_count"))


def _view(p: Profile) -> MemoryView:
    return MemoryView.of(p, p.meta.get("cwd"))


def memory_totals(p: Profile) -> dict[str, int]:
    """The section's totals (bytes and blocks allocated, live at exit, at the peak)."""
    t = _view(p).totals
    return {k: int(t.get(k, 0)) for _, b, c in _TOTALS for k in (b, c)}


@dataclass
class LineDiff:
    """One line that allocated in A or B; a side is None where the line did not."""
    key: Key
    label: str
    a: Row | None = None
    b: Row | None = None
    source: str = field(default="", repr=False)

    def get(self, side: str, attr: str) -> int:
        row = self.a if side == "a" else self.b
        return int(getattr(row, attr)) if row is not None else 0

    def delta(self, attr: str = "alloc_bytes") -> int:
        return self.get("b", attr) - self.get("a", attr)

    @property
    def status(self) -> str:
        return "new" if self.a is None else "removed" if self.b is None else "both"


def diff_lines(a: Profile, b: Profile) -> list[LineDiff]:
    """Every line of A or B with its memory rows on each side, A's order first."""
    out: dict[Key, LineDiff] = {}
    for side, prof in (("a", a), ("b", b)):
        v = _view(prof)
        shorten = PathShortener(v.root)
        for row in v.by_line(user=True):
            filename, line, name = row.key
            if filename == NO_FRAME:
                key: Key = (NO_FRAME, 0, "")
                label = NO_FRAME
            else:
                key = (shorten(filename), int(line), str(name))
                label = f"{key[0]}:{line} ({name})" if name else f"{key[0]}:{line}"
            d = out.get(key)
            if d is None:
                d = out[key] = LineDiff(key, label)
            setattr(d, side, row)
    return list(out.values())


def _signed_bytes(n: int) -> str:
    return "0" if n == 0 else ("+" if n > 0 else "") + format_bytes(n)


def _change(a: int, b: int) -> str:
    d = b - a
    pct = f" ({100 * d / a:+.0f}%)" if a and d else ""
    return _signed_bytes(d) + pct


def _ratio_key(d: LineDiff) -> float:
    a, b = d.get("a", "alloc_bytes"), d.get("b", "alloc_bytes")
    return -(b / a) if a else (-float("inf") if b else 0.0)


def format_memory_diff(a: Profile, b: Profile, sort: str = "delta", limit: int | None = 30,
                       name_filter: str | None = None,
                       names: tuple[str, str] = ("A", "B")) -> str:
    """The memory diff as text (ends with a newline)::

        hotpath diff (memory): A = old.hprof, B = new.hprof
                             A            B        change
        allocated      12.0 MiB     18.5 MiB     +6.5 MiB (+54%)   in 1,204 → 1,530 blocks
        ...
    """
    if sort not in SORT_KEYS:
        raise ValueError(f"a memory diff sorts by one of {', '.join(SORT_KEYS)}, "
                         f"not {sort!r}")
    ta, tb = memory_totals(a), memory_totals(b)
    va, vb = _view(a), _view(b)
    out = [f"hotpath diff (memory): A = {names[0]}, B = {names[1]}"]
    if va.sampled or vb.sampled:
        out.append("note: sampled mode on "
                   + ("both sides" if va.sampled and vb.sampled else
                      f"{'A' if va.sampled else 'B'} only")
                   + ": amounts are estimates, small changes may be noise")
    out.append(f"{'':14} {'A':>11} {'B':>11}  {'change':<18} blocks")
    for label, kb, kc in _TOTALS:
        out.append(f"{label:14} {format_bytes(ta[kb]):>11} {format_bytes(tb[kb]):>11}  "
                   f"{_change(ta[kb], tb[kb]):<18} {ta[kc]:,} → {tb[kc]:,}")
    rows = diff_lines(a, b)
    pattern = re.compile(name_filter, re.IGNORECASE) if name_filter else None
    rows = [d for d in rows if not pattern or pattern.search(d.label)]
    keys = {
        "delta": lambda d: (-abs(d.delta()), d.label),
        "slower": lambda d: (-d.delta(), d.label),
        "faster": lambda d: (d.delta(), d.label),
        "ratio": lambda d: (_ratio_key(d), -abs(d.delta()), d.label),
        "a": lambda d: (-d.get("a", "alloc_bytes"), d.label),
        "b": lambda d: (-d.get("b", "alloc_bytes"), d.label),
        "calls": lambda d: (-abs(d.delta("alloc_count")), d.label),
        "name": lambda d: (d.label,),
    }
    rows.sort(key=keys[sort])
    shown = rows if limit is None or limit <= 0 else rows[:limit]
    new = sum(d.status == "new" for d in rows)
    removed = sum(d.status == "removed" for d in rows)
    what = f"matching {name_filter!r}" if name_filter else "that allocated"
    out.append("")
    out.append(f"{len(shown)} of {len(rows)} lines {what} ({new} new, {removed} removed), "
               f"by {SORT_KEYS[sort]}; each allocation at the innermost line of your code")
    out.append(f"{'alloc A':>10} {'alloc B':>10} {'change':>10} {'blocks':>17} "
               f"{'live A':>10} {'live B':>10} {'peak A':>10} {'peak B':>10}  line")

    def cell(d: LineDiff, side: str, attr: str) -> str:
        row = d.a if side == "a" else d.b
        return "-" if row is None else format_bytes(getattr(row, attr))

    for d in shown:
        blocks = f"{d.get('a', 'alloc_count'):,} → {d.get('b', 'alloc_count'):,}"
        out.append(f"{cell(d, 'a', 'alloc_bytes'):>10} {cell(d, 'b', 'alloc_bytes'):>10} "
                   f"{_signed_bytes(d.delta()):>10} {blocks:>17} "
                   f"{cell(d, 'a', 'live_bytes'):>10} {cell(d, 'b', 'live_bytes'):>10} "
                   f"{cell(d, 'a', 'peak_bytes'):>10} {cell(d, 'b', 'peak_bytes'):>10}  "
                   f"{d.label}")
    return "\n".join(out) + "\n"


def print_memory_diff(a: Profile, b: Profile, stream: IO[str] | None = None,
                      **kw: Any) -> None:
    """Write ``format_memory_diff`` to ``stream`` (stdout)."""
    (stream if stream is not None else sys.stdout).write(format_memory_diff(a, b, **kw))
