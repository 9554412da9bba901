"""Collapsed stacks, the input of flamegraph.pl and inferno: ``a;b;c 123`` per line.

One line per distinct stack with self time: frames from the outermost in, separated by
``;``, then a space and the self time in integer nanoseconds (``unit`` changes that).
The values are rounded with a running sum, so the lines add up to the profile's total.
Frames are labelled ``qualname (short/path.py:12)``; ``;`` and line breaks inside labels
are replaced. With several threads, each stack starts with a frame naming its thread
(``split_threads=False`` merges them instead).

**Direct recursion is folded**, as flamegraph's ``stackcollapse-recursive.pl`` does: a
run of the same frame (``main;fib;fib;fib;len``) is written once (``main;fib;len``) and
the self time of the run's stacks is summed there. Without that, the format is quadratic
in stack depth (every line repeats its whole path): a 4,000-deep recursion of 26 KB
became a 160 MB file. ``fold_recursion=False`` keeps every frame.

**Size is bounded**: the size of the output is computed before a byte is written,
and a profile whose collapsed stacks would exceed ``max_bytes`` (1 GiB by default; deep
mutual recursion, which folding does not shorten) raises ``ExportError`` saying how
large it would be, so nothing half-written or out of memory is left behind. Lines are
streamed to the file one at a time from a shared path of labels; the only data kept is
the merged stack tree, one entry per distinct (folded) stack.
"""
from __future__ import annotations

import re
from typing import Iterable, Iterator

from ..model import Profile, ThreadProfile
from ..outfile import open_output
from . import ExportError
from .base import Labeler, Rounder, thread_label

__all__ = ["collapsed_lines", "write_collapsed", "collapsed_size", "UNITS", "MAX_BYTES"]

UNITS = {"ns": 1e9, "us": 1e6, "ms": 1e3, "s": 1.0}
MAX_BYTES = 1 << 30        #: default bound on a written file (1 GiB)
# Undecodable bytes in file names reach labels as lone surrogates: they are written as
# the bytes they came from (surrogateescape); other lone surrogates become U+FFFD first.
_ERRORS = "surrogateescape"
_OTHER_SURROGATES = re.compile("[\ud800-\udc7f\udd00-\udfff]")


def _writable(label: str) -> str:
    return _OTHER_SURROGATES.sub("\ufffd", label)


class _Stacks:
    """The threads' trees merged by label path (and folded): stack ``k`` is the path
    ``label[k]`` under ``parent[k]``; 0 is the root, and parents come before their
    children, which are in first-seen order. Thread frames (``split``) are not frames
    of code: recursion never folds into them."""

    def __init__(self) -> None:
        self.parent: list[int] = [-1]
        self.label: list[str] = [""]
        self.self_ticks: list[int] = [0]
        self.children: list[list[int]] = [[]]
        self.threads: set[int] = {0}            # the root and the thread frames
        self._index: dict[tuple, int] = {}      # (parent, label[, "thread"]) -> stack
        self.folded = 0                         # frames folded into their caller

    def _new(self, parent: int, label: str) -> int:
        k = len(self.parent)
        self.parent.append(parent)
        self.label.append(label)
        self.self_ticks.append(0)
        self.children.append([])
        self.children[parent].append(k)
        return k

    def add_thread(self, t: ThreadProfile, label: Labeler, split: bool, fold: bool) -> None:
        base = 0
        if split:
            name = _writable(thread_label(t))
            base = self._index.get((0, name, "thread"))
            if base is None:
                base = self._index[(0, name, "thread")] = self._new(0, name)
                self.threads.add(base)
        n = len(t.func)
        mapped = [0] * n
        mapped[0] = base
        texts: dict[int, str] = {}
        index, labels, ticks, threads = self._index, self.label, self.self_ticks, self.threads
        folded = 0
        # parents come before their children
        for i, func, parent, self_ticks in zip(range(1, n), t.func[1:], t.parent[1:],
                                               t.self_ticks[1:]):
            up = mapped[parent]
            text = texts.get(func)
            if text is None:
                text = texts[func] = _writable(label(func))
            if fold and labels[up] == text and up not in threads:
                k = up                     # a direct recursive call: same frame again
                folded += 1
            else:
                k = index.get((up, text))
                if k is None:
                    k = index[(up, text)] = self._new(up, text)
            ticks[k] += self_ticks
            mapped[i] = k
        self.folded += folded

    def walk(self, scale: float) -> Iterator[tuple[int, int, int]]:
        """(stack, depth, value) for every stack, depth first; values are rounded with a
        running sum in this order, so they add up exactly (0: no line for this stack)."""
        rounder = Rounder(scale)
        todo = [(c, 1) for c in reversed(self.children[0])]
        while todo:
            k, depth = todo.pop()
            ticks = self.self_ticks[k]
            yield k, depth, rounder.take(ticks) if ticks else 0
            todo.extend((c, depth + 1) for c in reversed(self.children[k]))

    def lines(self, scale: float) -> Iterator[str]:
        """The lines, each built from the shared path of labels (no path is kept)."""
        path: list[str] = []
        label = self.label
        for k, depth, value in self.walk(scale):
            path[depth - 1:] = [label[k]]
            if value > 0:
                yield f"{';'.join(path)} {value}"

    def _prefixes(self) -> tuple[list[int], list[int]]:
        """UTF-8 bytes of each stack's path (with a ';' before each frame), and depth."""
        widths: dict[str, int] = {}
        prefix, depth = [0], [0]
        parent = self.parent
        for k in range(1, len(parent)):    # parents first
            text = self.label[k]
            w = widths.get(text)
            if w is None:
                w = widths[text] = len(text.encode("utf-8", _ERRORS)) + 1
            prefix.append(prefix[parent[k]] + w)
            depth.append(depth[parent[k]] + 1)
        return prefix, depth

    def size(self, scale: float) -> int:
        """The exact number of bytes of the output, without building it."""
        prefix = self._prefixes()[0]
        # a line is its path without the first ';', a space, the value and '\n'
        return sum(prefix[k] + len(str(value)) + 1
                   for k, _, value in self.walk(scale) if value > 0)

    def estimate(self, scale: float) -> tuple[int, int, int]:
        """(bytes, lines, deepest line's frames) of the output, from the tree alone: the
        size to within a byte or two per line (values are rounded later)."""
        total = count = deepest = 0
        prefix, depth = self._prefixes()
        for k, ticks in enumerate(self.self_ticks):
            if ticks:
                total += prefix[k] + len(str(round(ticks * scale) + 1)) + 1
                count += 1
                deepest = max(deepest, depth[k])
        return total, count, deepest


def _build(profile: Profile, threads: Iterable[ThreadProfile] | None,
           split_threads: bool | None, label: Labeler | None, fold: bool) -> _Stacks:
    threads = list(profile.threads if threads is None else threads)
    if split_threads is None:
        split_threads = len(threads) > 1
    label = label or Labeler(profile, forbid=";")
    stacks = _Stacks()
    for t in threads:
        stacks.add_thread(t, label, split_threads, fold)
    return stacks


def _scale(profile: Profile, unit: str) -> float:
    if unit not in UNITS:
        raise ValueError(f"unit must be one of {', '.join(UNITS)}, not {unit!r}")
    return profile.tick_seconds * UNITS[unit]


def collapsed_lines(profile: Profile, threads: Iterable[ThreadProfile] | None = None,
                    unit: str = "ns", split_threads: bool | None = None,
                    label: Labeler | None = None,
                    fold_recursion: bool = True) -> Iterator[str]:
    """Yield ``"a;b;c value"`` lines (without newlines), one per stack with self time."""
    scale = _scale(profile, unit)
    return _build(profile, threads, split_threads, label, fold_recursion).lines(scale)


def collapsed_size(profile: Profile, unit: str = "ns", fold_recursion: bool = True) -> int:
    """The number of bytes ``write_collapsed`` would write (computed, not built)."""
    scale = _scale(profile, unit)
    return _build(profile, None, None, None, fold_recursion).size(scale)


def _mib(n: int) -> str:
    return f"{n / (1 << 30):.1f} GiB" if n >= 1 << 30 else f"{n / (1 << 20):.1f} MiB"


def write_collapsed(profile: Profile, path: str, unit: str = "ns",
                    fold_recursion: bool = True, max_bytes: int = MAX_BYTES) -> str | None:
    """Write collapsed stacks of ``profile`` to ``path`` (UTF-8), line by line.

    Returns a note for the user when direct recursion was folded (None otherwise).
    Raises ``ExportError``, before writing anything, if the file would exceed
    ``max_bytes``.
    """
    scale = _scale(profile, unit)
    stacks = _build(profile, None, None, None, fold_recursion)
    size, count, deepest = stacks.estimate(scale)
    if size > max_bytes:
        raise ExportError(
            f"collapsed stacks of this profile would take {_mib(size)} ({count:,} lines, "
            f"up to {deepest:,} frames each; every line repeats its whole stack), over "
            f"the {_mib(max_bytes)} limit; export --format speedscope, svg or html, "
            f"which store each frame once")
    with open_output(path, "w", encoding="utf-8", errors=_ERRORS, newline="\n") as f:
        for line in stacks.lines(scale):
            f.write(line)
            f.write("\n")
    if stacks.folded:
        return (f"direct recursion folded: {stacks.folded:,} repeated frames written "
                f"once each (f;f;f -> f), as stackcollapse-recursive.pl does")
    return None
