"""The hot path through the user's own code: the calling-context tree, top down, with
library frames folded.

``hot_tree(profile)`` merges the threads' calling-context trees (one node per distinct
path of the user's functions) and folds every run of frames that are not the user's —
the standard library, installed packages, the import machinery, C functions — into one
*fold* node, which says how many functions of which packages it hides
("12 frames hidden (sympy, importlib, <built-in>)"). User code called back from library
code (a callback, a module imported through importlib) hangs below the fold again. "The
user's code" is ``model.usercode.UserCode``'s decision, the memory report's too;
``focus`` adds packages to it.

The frames that only launch the program (a fold at the top with only rows of the
user's below it and next to no time of its own: ``exec``, runpy) are left out.

Every node keeps exact counts: calls, self and total ticks (a fold's self is the time
spent in the frames it hides and nowhere below them). ``hot_path`` is the heaviest
path from the root: the heaviest child at each step, for as long as a child holds at
least as much as the node's own time, and, where the profile has line timings of the
last function of the user's on that path, the line of it that cost most (a *line* leaf).

Invariants: a node's total is the sum of the totals of the tree nodes it stands for
(never counted twice: those nodes are never above one another); children are sorted by
total, heaviest first. Cost: one pass over each tree's columns with a dict lookup per
node, plus one user-code decision per function (``UserCode`` caches it per file).
"""
from __future__ import annotations

from typing import Iterable, Iterator

from ..model import Profile, ThreadProfile
from ..model.lines import LineData
from ..model.usercode import UserCode
from .base import node_spans, thread_label

__all__ = ["HotNode", "HotTree", "hot_tree", "ROOT_KIND", "THREAD", "FUNC", "FOLD", "LINE"]

ROOT_KIND, THREAD, FUNC, FOLD, LINE = "root", "thread", "func", "fold", "line"


class HotNode:
    """One row of the hot-path tree.

    ``kind`` is ``func`` (a function of the user's: ``func`` is its index), ``fold``
    (frames hidden: ``hidden`` maps each hidden function to its self ticks, ``func`` is
    the first one entered), ``line`` (the costliest line of its parent function:
    ``line``, ``hits``, ``line_seconds``), ``thread`` (``name``) or ``root``.
    """
    __slots__ = ("kind", "func", "name", "calls", "self_ticks", "total_ticks", "children",
                 "hidden", "line", "hits", "line_seconds", "hot", "_kids")

    def __init__(self, kind: str, func: int = -1, name: str = "") -> None:
        self.kind = kind
        self.func = func
        self.name = name
        self.calls = 0
        self.self_ticks = 0
        self.total_ticks = 0
        self.children: list[HotNode] = []
        self.hidden: dict[int, int] = {}
        self.line = 0
        self.hits = 0
        self.line_seconds = 0.0
        self.hot = False              #: on the hottest path
        self._kids: dict[int, HotNode] | None = {}

    def __repr__(self) -> str:
        return (f"HotNode({self.kind}, func={self.func}, calls={self.calls}, "
                f"self={self.self_ticks}, total={self.total_ticks}, "
                f"{len(self.children)} children)")


class HotTree:
    """The folded tree of a profile (see the module docstring)."""

    def __init__(self, profile: Profile, root: HotNode, user: UserCode,
                 hot_path: list[HotNode]) -> None:
        self.profile = profile
        self.root = root
        self.user = user
        self.hot_path = hot_path
        self.total_ticks = root.total_ticks

    def packages(self, node: HotNode) -> list[str]:
        """The packages a fold hides, the one holding most of its own time first."""
        weight: dict[str, int] = {}
        fns = self.profile.functions
        for f, ticks in node.hidden.items():
            pkg = self.user.package(fns[f].filename) if f >= 0 else "?"
            weight[pkg] = weight.get(pkg, 0) + ticks
        return sorted(weight, key=lambda p: -weight[p])

    def walk(self) -> Iterator[tuple[HotNode, int]]:
        """Every node but the root with its depth (1 for the top), depth first,
        heaviest child first."""
        stack = [(c, 1) for c in reversed(self.root.children)]
        while stack:
            node, depth = stack.pop()
            yield node, depth
            stack.extend((c, depth + 1) for c in reversed(node.children))


def hot_tree(profile: Profile, threads: Iterable[ThreadProfile] | None = None,
             focus: Iterable[str] = (), user: UserCode | None = None,
             split_threads: bool | None = None) -> HotTree:
    """The hot-path tree of ``threads`` (default: all) of ``profile``.

    ``focus``: packages to count as the user's. With ``split_threads`` (default: when
    there is more than one thread) every thread gets a node of its own.
    """
    threads = list(profile.threads if threads is None else threads)
    user = user or UserCode(profile.meta.get("cwd"), focus)
    functions = profile.functions
    is_user: list[bool | None] = [None] * len(functions)
    if split_threads is None:
        split_threads = len(threads) > 1
    root = HotNode(ROOT_KIND, name="all")
    for t in threads:
        spans = node_spans(t)
        base = root
        if split_threads:
            base = HotNode(THREAD, name=thread_label(t))
            base.total_ticks = spans[0]
            root.children.append(base)
        root.total_ticks += spans[0]
        mapped: list[HotNode] = [base] * len(t.func)
        for i, f, up, calls, selft, span in zip(range(1, len(spans)), t.func[1:], t.parent[1:],
                                                t.calls[1:], t.self_ticks[1:], spans[1:]):
            pd = mapped[up]
            mine = False
            if 0 <= f < len(functions):
                mine = is_user[f]
                if mine is None:
                    mine = is_user[f] = user.is_user(functions[f].filename)
            if mine:
                kids = pd._kids
                d = kids.get(f)                                   # type: ignore[union-attr]
                if d is None:
                    d = kids[f] = HotNode(FUNC, f)                # type: ignore[index]
                    pd.children.append(d)
                d.calls += calls
                d.self_ticks += selft
                d.total_ticks += span
            elif pd.kind == FOLD:                                 # deeper in the same fold
                d = pd
                d.self_ticks += selft
                d.hidden[f] = d.hidden.get(f, 0) + selft
            else:                                                 # a fold starts here
                key = -2 - f if f >= 0 else -1
                kids = pd._kids
                d = kids.get(key)                                 # type: ignore[union-attr]
                if d is None:
                    d = kids[key] = HotNode(FOLD, f)              # type: ignore[index]
                    pd.children.append(d)
                d.calls += calls
                d.self_ticks += selft
                d.total_ticks += span
                d.hidden[f] = d.hidden.get(f, 0) + selft
            mapped[i] = d
    for base in [root, *(c for c in root.children if c.kind == THREAD)]:
        _drop_launch_folds(base)
    # children heaviest first; the build tables go
    stack = [root]
    while stack:
        node = stack.pop()
        node._kids = None
        node.children.sort(key=lambda c: -c.total_ticks)
        stack.extend(node.children)
    path = _hottest(root)
    _add_line_leaf(profile, path)
    for node in path:
        node.hot = True
    return HotTree(profile, root, user, path)


def _drop_launch_folds(base: HotNode) -> None:
    """Leave out the frames that only start the program (``exec``, runpy's
    ``run_module``): a fold at the top that holds next to no time of its own (1% at
    most) and only rows of the user's below it is replaced by those rows (its own time
    goes to ``base``)."""
    kids = []
    for c in base.children:
        if (c.kind == FOLD and c.children and all(x.kind == FUNC for x in c.children)
                and c.self_ticks * 100 <= c.total_ticks):
            base.self_ticks += c.self_ticks
            kids += c.children
        else:
            kids.append(c)
    base.children = kids


def _hottest(root: HotNode) -> list[HotNode]:
    """The heaviest path: the heaviest child, while it holds at least the node's own time."""
    path = [root]
    node = root
    while node.children:
        top = node.children[0]
        if top.total_ticks <= 0 or top.total_ticks < node.self_ticks:
            break
        path.append(top)
        node = top
    return path


def _add_line_leaf(profile: Profile, path: list[HotNode]) -> None:
    """Below the last function of the user's on ``path`` that has line timings: its
    costliest line, as a ``line`` node (put on the path when that function ends it)."""
    data = LineData.of(profile)
    if data is None or not data.functions:
        return
    rows = {(f.filename, f.lineno): f.lines for f in data.functions}
    fns = profile.functions
    for k in range(len(path) - 1, 0, -1):
        node = path[k]
        if node.kind != FUNC:
            continue
        fn = fns[node.func]
        lines = rows.get((fn.filename, fn.lineno))
        if not lines:
            continue
        ln, hits, time = max(lines, key=lambda r: (r[2], -r[0]))
        if time <= 0:
            return
        leaf = HotNode(LINE, node.func)
        leaf.line, leaf.hits, leaf.calls = ln, hits, hits
        leaf.line_seconds = time * data.unit
        leaf.total_ticks = leaf.self_ticks = round(leaf.line_seconds / profile.tick_seconds)
        node.children.insert(0, leaf)
        if k == len(path) - 1:
            path.append(leaf)
        return
