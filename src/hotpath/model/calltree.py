"""The profile model: one in-memory shape for every mode.

A profile is what the C capture hands over, turned into plain Python data:

* ``functions`` — the function table. A Python function is (filename, first line, name);
  a C function is ``("~", 0, "<built-in method builtins.len>")`` exactly as cProfile
  labels it, so pstats keys come out identical.
* ``threads`` — for each thread that ran Python code while profiling, its calling-context
  tree: every distinct stack path from the thread's root, with the calls, self ticks and
  total ticks spent on that path. Flat per-function totals and caller→callee edges are
  *derived* from the trees (``function_stats`` / ``edge_stats``), with cProfile's rules
  for recursion: a call whose function is already on the stack adds to the recursive call
  count and not to the cumulative time.
* ``meta`` — run metadata: command, Python version, timer, start time, duration, mode.
* ``tick_seconds`` — seconds per tick; every time is stored as integer ticks.

Line and memory data keep sections of their own in ``extra`` (a name → JSON-able value
mapping; the file format stores them as they are), read through their typed models:
``hotpath.model.lines.LineData`` and ``hotpath.model.memory.MemoryView``.

Invariant: in each tree, a node's parent index is smaller than its own index (a node is
created when its path is first entered, after its parent), and node 0 is the root, whose
function is ``ROOT`` and whose counters are zero.
"""
from __future__ import annotations

from dataclasses import dataclass, field
TYPE_CHECKING = False
if TYPE_CHECKING:             # typing is not imported at run time (issue 13, start-up)
    from typing import Any, Iterable, Iterator

ROOT = -1          #: function index of the root node of every tree
TRUNCATED_NAME = "<hotpath: call tree size cap reached>"


@dataclass(frozen=True)
class Function:
    """One row of the function table: where the function lives and what it is called."""
    filename: str            #: source file, or "~" for C functions (as cProfile)
    lineno: int              #: first line, or 0 for C functions
    name: str                #: co_name, or cProfile's label for C functions
    qualname: str = ""       #: co_qualname where known (display only)

    @property
    def is_builtin(self) -> bool:
        return self.filename == "~"

    @property
    def pstats_key(self) -> tuple[str, int, str]:
        """The key ``pstats`` uses for this function."""
        return (self.filename, self.lineno, self.name)

    @property
    def display_name(self) -> str:
        return self.qualname or self.name


@dataclass(slots=True)
class Node:
    """One calling-context tree node: one distinct stack path."""
    func: int                #: index into Profile.functions, or ROOT
    parent: int              #: index of the parent node, -1 for the root
    calls: int = 0
    self_ticks: int = 0
    total_ticks: int = 0     #: includes time of recursive re-entries below this node


@dataclass
class ThreadProfile:
    """The calling-context tree of one thread."""
    thread_id: int
    name: str
    nodes: list[Node] = field(default_factory=lambda: [Node(ROOT, -1)])
    truncated: bool = False  #: the tree hit its size cap; deeper paths were merged

    def children(self) -> list[list[int]]:
        """For every node, the indices of its children (in creation order)."""
        kids: list[list[int]] = [[] for _ in self.nodes]
        for i, n in enumerate(self.nodes):
            if n.parent >= 0:
                kids[n.parent].append(i)
        return kids

    def walk(self) -> Iterator[tuple[int, int]]:
        """Yield (node index, depth) depth first, children in creation order.

        Depth 1 is a top-level frame. Iterative, so a 50,000-deep recursion does not
        hit Python's recursion limit; callers that need the path keep a list and do
        ``path[depth - 1:] = [node.func]``.
        """
        kids = self.children()
        stack: list[tuple[int, int]] = [(c, 1) for c in reversed(kids[0])]
        while stack:
            i, depth = stack.pop()
            yield i, depth
            for c in reversed(kids[i]):
                stack.append((c, depth + 1))


@dataclass
class FunctionStats:
    """Flat totals of one function, cProfile's columns, in ticks."""
    calls: int = 0           #: ncalls: every call, recursive ones included
    primitive_calls: int = 0 #: calls that were not recursive
    self_ticks: int = 0      #: tottime
    cum_ticks: int = 0       #: cumtime: outermost calls only


@dataclass
class Profile:
    """A whole profile: functions, per-thread trees, metadata."""
    functions: list[Function] = field(default_factory=list)
    threads: list[ThreadProfile] = field(default_factory=list)
    tick_seconds: float = 1e-9
    meta: dict[str, Any] = field(default_factory=dict)
    extra: dict[str, Any] = field(default_factory=dict)

    # -- derived views ---------------------------------------------------------------

    def function_stats(self, threads: Iterable[ThreadProfile] | None = None
                       ) -> dict[int, FunctionStats]:
        """Flat per-function totals, merged over ``threads`` (default: all).

        Recursion follows cProfile: a call is *recursive* when the same function is
        already on the stack; its time counts in tottime but not again in cumtime.
        """
        stats: dict[int, FunctionStats] = {}
        for t in (self.threads if threads is None else threads):
            for node, on_stack in _walk_with_counts(t, key=lambda n: n.func):
                n = t.nodes[node]
                s = stats.get(n.func)
                if s is None:
                    s = stats[n.func] = FunctionStats()
                s.calls += n.calls
                s.self_ticks += n.self_ticks
                if on_stack:
                    pass  # recursive: counted in calls only
                else:
                    s.primitive_calls += n.calls
                    s.cum_ticks += n.total_ticks
        return stats

    def edge_stats(self, threads: Iterable[ThreadProfile] | None = None
                   ) -> dict[tuple[int, int], FunctionStats]:
        """Caller→callee totals ``{(caller, callee): stats}`` with cProfile's rules.

        An edge's call is recursive when the same caller→callee pair is already active
        higher up the stack. Calls made from the root (top-level frames) have no edge.
        """
        stats: dict[tuple[int, int], FunctionStats] = {}
        for t in (self.threads if threads is None else threads):
            def key(n: Node, nodes=t.nodes) -> tuple[int, int] | None:
                return (nodes[n.parent].func, n.func) if n.parent > 0 else None
            for node, on_stack in _walk_with_counts(t, key=key):
                n = t.nodes[node]
                if n.parent <= 0:
                    continue
                edge = (t.nodes[n.parent].func, n.func)
                s = stats.get(edge)
                if s is None:
                    s = stats[edge] = FunctionStats()
                s.calls += n.calls
                s.self_ticks += n.self_ticks
                if not on_stack:
                    s.primitive_calls += n.calls
                    s.cum_ticks += n.total_ticks
        return stats

    def total_ticks(self) -> int:
        """Time spent in all top-level frames of all threads."""
        return sum(t.nodes[c].total_ticks for t in self.threads for c in t.children()[0])

    def seconds(self, ticks: int) -> float:
        return ticks * self.tick_seconds

    @property
    def truncated(self) -> bool:
        return any(t.truncated for t in self.threads)


def _walk_with_counts(t: ThreadProfile, key) -> Iterator[tuple[int, bool]]:
    """Depth-first over ``t``; for each node, whether its key is active above it.

    ``key(node)`` names the thing whose recursion matters (the function, or the
    caller→callee pair); None means "never recursive".
    """
    kids = t.children()
    nodes = t.nodes
    active: dict[Any, int] = {}
    # (node, entering?) — explicit stack, no Python recursion.
    todo: list[tuple[int, bool]] = [(c, True) for c in reversed(kids[0])]
    while todo:
        i, entering = todo.pop()
        k = key(nodes[i])
        if entering:
            yield i, (k is not None and active.get(k, 0) > 0)
            if k is not None:
                active[k] = active.get(k, 0) + 1
            todo.append((i, False))
            for c in reversed(kids[i]):
                todo.append((c, True))
        elif k is not None:
            active[k] -= 1
