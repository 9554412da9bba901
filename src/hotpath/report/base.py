"""Shared helpers for every reporter: labels, short paths, unit rounding, flame trees.

Reporters read only the model (``hotpath.model``); what several of them need in the
same way lives here:

* ``PathShortener`` — ``/usr/lib/python3.11/json/decoder.py`` → ``json/decoder.py``,
  ``…/site-packages/numpy/core/_methods.py`` → ``numpy/core/_methods.py``, files under
  the project root → relative paths; everything else stays as it is.
* ``Labeler`` — one display label per function (``name (file.py:12)``, or cProfile's
  label for C functions), cached.
* ``Rounder`` — turns a sequence of fractional amounts into integers whose running sum
  stays exact, so integer-only formats (callgrind, collapsed stacks) add up to the total.
* ``FlameNode`` / ``flame_tree`` — the calling-context trees of several threads merged
  into one tree keyed by function, with consistent widths (a node is never narrower than
  its children), which flame graphs draw directly.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from operator import add, le
from typing import Iterable

from ..model import ROOT, Function, Profile, ThreadProfile
from ..model.paths import PathShortener

__all__ = ["PathShortener", "Labeler", "Rounder", "FlameNode", "flame_tree",
           "node_spans", "child_sums", "format_seconds", "exporter_name", "xml_escape",
           "thread_label"]

# Characters XML 1.0 forbids (C0 controls but tab/LF/CR, lone surrogates, U+FFFE/F).
_XML_BAD = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")
_XML_ESC = {ord("&"): "&amp;", ord("<"): "&lt;", ord(">"): "&gt;", ord('"'): "&quot;",
            ord("'"): "&#39;"}


def xml_escape(text: str) -> str:
    """Escape ``text`` for XML/HTML content *and* attribute values.

    Characters XML cannot hold at all are replaced by U+FFFD, so any string a profile
    may hold (names come from programs) yields a well-formed document.
    """
    return _XML_BAD.sub("\ufffd", text).translate(_XML_ESC)


def exporter_name() -> str:
    """``hotpath <version>``, for the creator fields of exported files."""
    try:
        from .. import __version__
    except ImportError:  # pragma: no cover - partial installs
        __version__ = "?"
    return f"hotpath {__version__}"


class Labeler:
    """Display labels for functions: ``qualname (short/path.py:12)``.

    C functions keep cProfile's label (``<built-in method builtins.len>``). Characters in
    ``forbid`` (``;`` for collapsed stacks) become ``,`` and line breaks and tabs become
    spaces, so a label is always one line.
    """

    def __init__(self, profile: Profile, shorten: PathShortener | None = None,
                 with_location: bool = True, forbid: str = "") -> None:
        self.functions = profile.functions
        self.shorten = shorten or PathShortener(profile.meta.get("cwd"))
        self.with_location = with_location
        self._table = str.maketrans({c: " " for c in "\r\n\t"} |
                                    {c: "," for c in forbid})
        self._cache: dict[int, str] = {}

    def __call__(self, func: int) -> str:
        label = self._cache.get(func)
        if label is None:
            label = self._cache[func] = self.label(self.functions[func])
        return label

    def label(self, f: Function) -> str:
        if f.is_builtin or not self.with_location:
            text = f.display_name
        else:
            text = f"{f.display_name} ({self.shorten(f.filename)}:{f.lineno})"
        return text.translate(self._table)


class Rounder:
    """Convert scaled amounts to integers so that the running sum is rounded only once.

    ``take(x)`` returns ``round((seen + x) * scale) - round(seen * scale)``: every value
    is within one unit of ``x * scale`` and all values add up to
    ``round(sum(x) * scale)`` (exactly, when the amounts are integer ticks).
    """

    def __init__(self, scale: float = 1.0) -> None:
        self.scale = scale
        self._acc = 0            # in the caller's units: exact when they are integers
        self._emitted = 0

    def take(self, amount: float) -> int:
        self._acc += amount
        value = round(self._acc * self.scale) - self._emitted
        self._emitted += value
        return value


def format_seconds(seconds: float) -> str:
    """``1.23 s``, ``45.6 ms``, ``789 µs``, ``12 ns``; 999.96 µs is ``1 ms`` (3 digits)."""
    a = abs(seconds)
    for scale, unit in ((1.0, "s"), (1e-3, "ms"), (1e-6, "µs"), (1e-9, "ns")):
        if a >= scale * 0.9995 or unit == "ns":
            v = seconds / scale
            return f"{v:.0f} {unit}" if abs(v) >= 999.5 else f"{v:.3g} {unit}"
    raise AssertionError("unreachable")


def child_sums(t: ThreadProfile, values) -> list[int]:
    """For every node of ``t``: the sum of ``values`` over its children."""
    below = [0] * len(values)
    for up, v in zip(t.parent[1:], values[1:]):
        below[up] += v
    return below


def node_spans(t: ThreadProfile) -> list[int]:
    """For every node of ``t``: its width in ticks, ``max(total, self + Σ children)``.

    A consistent tree has ``total == self + Σ children``; taking the maximum keeps
    layouts sound when it does not (e.g. after the tree's size cap merged paths). A tree
    rebuilt from caller edges (``t.approximated``) is laid out the other way: its totals
    are estimates, so children are scaled to fit their parent (``_fitted_spans``).
    """
    selft, total, parent = t.self_ticks, t.total_ticks, t.parent
    if not t.approximated:
        try:
            from .._core import _tree_spans     # the same rule, in one C pass
            return _tree_spans(selft, total, parent)
        except (ImportError, TypeError, ValueError, OverflowError):
            pass
    n = len(total)
    below = child_sums(t, total)
    if all(map(le, map(add, selft[1:], below[1:]), total[1:])) and \
            all(map(le, selft[1:], total[1:])):
        # every node holds its self time and its children: widths are the totals
        spans = list(total)
        spans[0] = below[0]
        return spans
    if t.approximated:
        return _fitted_spans(t, below)
    spans = list(map(max, total, selft))
    child_sum = [0] * n
    # Parents precede children (model invariant), so a reverse scan is bottom-up.
    for i in range(n - 1, 0, -1):
        span = spans[i]
        inner = selft[i] + child_sum[i]
        if inner > span:
            span = spans[i] = inner
        child_sum[parent[i]] += span
    spans[0] = child_sum[0]
    return spans


def _fitted_spans(t: ThreadProfile, below: list[int]) -> list[int]:
    """Widths where every node keeps its total scaled by its parent's factor, and a node
    whose self + children exceed that width shrinks them to fit (parents first). The
    top-level frames keep their totals, so the root is what was profiled, not more."""
    selft, total, parent = t.self_ticks, t.total_ticks, t.parent
    n = len(total)
    spans = [0] * n
    factor = [1.0] * n                 # what this node's children are scaled by
    for i in range(1, n):
        width = total[i] if parent[i] <= 0 else total[i] * factor[parent[i]]
        spans[i] = int(width)
        need = max(total[i], selft[i] + below[i])
        factor[i] = spans[i] / need if need else 0.0
    spans[0] = sum(spans[i] for i in range(1, n) if parent[i] == 0)
    return spans


@dataclass(eq=False)
class FlameNode:
    """One frame of a merged flame tree (all children share one parent path)."""
    func: int                           #: function index, ROOT, or THREAD
    name: str                           #: display label
    calls: int = 0
    self_ticks: int = 0
    total_ticks: int = 0                #: width: never less than self + Σ children
    children: dict = field(default_factory=dict)   #: key → FlameNode, in first-seen order


THREAD = -2   #: ``FlameNode.func`` of a per-thread frame


def flame_tree(profile: Profile, threads: Iterable[ThreadProfile] | None = None,
               label: Labeler | None = None, split_threads: bool | None = None,
               root_name: str = "all") -> FlameNode:
    """Merge the threads' calling-context trees into one ``FlameNode`` tree.

    With ``split_threads`` (default: when there is more than one thread) every thread
    gets a frame of its own under the root; otherwise identical paths of different
    threads merge. Works iteratively, so arbitrarily deep trees are fine.
    """
    threads = list(profile.threads if threads is None else threads)
    label = label or Labeler(profile)
    if split_threads is None:
        split_threads = len(threads) > 1
    root = FlameNode(ROOT, root_name)
    for t in threads:
        base = root
        spans = node_spans(t)
        if split_threads:
            base = FlameNode(THREAD, thread_label(t))
            root.children[("thread", t.thread_id, id(t))] = base
            base.total_ticks = spans[0]
        root.total_ticks += spans[0]
        mapped: list[FlameNode | None] = [None] * len(t.func)
        mapped[0] = base
        for i, func, up, calls, self_ticks, span in zip(
                range(1, len(spans)), t.func[1:], t.parent[1:], t.calls[1:],
                t.self_ticks[1:], spans[1:]):
            parent = mapped[up]
            fn = parent.children.get(func)
            if fn is None:
                fn = parent.children[func] = FlameNode(func, label(func))
            fn.calls += calls
            fn.self_ticks += self_ticks
            fn.total_ticks += span
            mapped[i] = fn
    return root


def thread_label(t: ThreadProfile) -> str:
    """``MainThread`` or ``worker-1 (tid 140213)``: the name, and the id when useful."""
    name = (t.name or "thread").translate(str.maketrans("\r\n;", "  ,"))
    return name if name == "MainThread" or not t.thread_id else f"{name} (tid {t.thread_id})"
