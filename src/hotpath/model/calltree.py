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

A tree is stored as five parallel columns (``ThreadProfile.func``, ``parent``, ``calls``,
``self_ticks``, ``total_ticks``: ``array``s of machine integers, so a 673,000-node tree
costs 32 bytes a node, not a Python object per node). ``ThreadProfile.nodes`` is a view
over them that hands out ``Node``-shaped handles one at a time, for code that wants
per-node access; reporters read the columns. The derived views (``function_stats``,
``edge_stats``, ``ThreadProfile.walk``) work on the columns too: flat and edge totals
come from one depth-first walk in the C core (``_core._tree_stats``, which reads the
columns' buffers), with the same loops in Python as the fallback; elsewhere the children
of every node come from one C-speed sort of the parent column (``child_index``).
"""
from __future__ import annotations

from array import array
from collections import Counter
from dataclasses import dataclass, field
from itertools import accumulate, compress, repeat
from operator import add, mul, not_

TYPE_CHECKING = False
if TYPE_CHECKING:             # typing is not imported at run time (issue 13, start-up)
    from typing import Any, Iterable, Iterator

ROOT = -1          #: function index of the root node of every tree
TRUNCATED_NAME = "<hotpath: call tree size cap reached>"

#: The node columns of a tree, in file order.
COLUMNS = ("func", "parent", "calls", "self_ticks", "total_ticks")


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
    """One calling-context tree node as a free-standing value: one distinct stack path.

    Trees store their nodes as columns; build a tree from ``Node``s
    (``ThreadProfile(tid, name, [Node(ROOT, -1), ...])``, ``t.nodes.append(Node(...))``)
    and read it back through ``t.nodes[i]`` (a ``NodeRef`` with the same attributes).
    """
    func: int                #: index into Profile.functions, or ROOT
    parent: int              #: index of the parent node, -1 for the root
    calls: int = 0
    self_ticks: int = 0
    total_ticks: int = 0     #: includes time of recursive re-entries below this node


class NodeRef:
    """Node ``index`` of a tree: reads and writes go to the tree's columns."""
    __slots__ = ("_tree", "_index")

    def __init__(self, tree: ThreadProfile, index: int) -> None:
        self._tree = tree
        self._index = index

    def _values(self) -> tuple[int, ...]:
        t, i = self._tree, self._index
        return (t.func[i], t.parent[i], t.calls[i], t.self_ticks[i], t.total_ticks[i])

    def __eq__(self, other: object) -> bool:
        if isinstance(other, (Node, NodeRef)):
            return self._values() == _node_values(other)
        return NotImplemented

    __hash__ = None  # type: ignore[assignment]  # mutable, as Node

    def __repr__(self) -> str:
        return "Node(" + ", ".join(f"{k}={v!r}" for k, v in zip(COLUMNS, self._values())) + ")"


def _column_property(name: str) -> property:
    def get(self: NodeRef) -> Any:
        return getattr(self._tree, name)[self._index]

    def set(self: NodeRef, value: Any) -> None:
        self._tree._store(name, self._index, value)
    return property(get, set, doc=f"the node's {name} (in the tree's column)")


for _name in COLUMNS:
    setattr(NodeRef, _name, _column_property(_name))
del _name


def _node_values(n: Any) -> tuple:
    return (n.func, n.parent, n.calls, n.self_ticks, n.total_ticks)


class NodeList:
    """``ThreadProfile.nodes``: a list-like view of a tree's columns (len, index, iterate,
    append, extend, ``+=``, assign an item, compare with a list of nodes)."""
    __slots__ = ("_tree",)

    def __init__(self, tree: ThreadProfile) -> None:
        self._tree = tree

    def __len__(self) -> int:
        return len(self._tree.func)

    def __getitem__(self, i: int | slice) -> Any:
        n = len(self._tree.func)
        if isinstance(i, slice):
            return [NodeRef(self._tree, k) for k in range(*i.indices(n))]
        i = i.__index__()
        if i < 0:
            i += n
        if not 0 <= i < n:
            raise IndexError("node index out of range")
        return NodeRef(self._tree, i)

    def __setitem__(self, i: int, node: Any) -> None:
        ref = self[i]
        for name, value in zip(COLUMNS, _node_values(node)):
            self._tree._store(name, ref._index, value)

    def __iter__(self) -> Iterator[NodeRef]:
        t = self._tree
        return (NodeRef(t, i) for i in range(len(t.func)))

    def append(self, node: Any) -> None:
        self._tree._append(_node_values(node))

    def extend(self, nodes: Iterable[Any]) -> None:
        for node in list(nodes):
            self._tree._append(_node_values(node))

    def __iadd__(self, nodes: Iterable[Any]) -> NodeList:
        self.extend(nodes)
        return self

    def __eq__(self, other: object) -> bool:
        if isinstance(other, (list, tuple, NodeList)):
            return len(self) == len(other) and all(
                _node_values(a) == _node_values(b) for a, b in zip(self, other))
        return NotImplemented

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return f"<NodeList of {len(self)} nodes>"


def column(values: Iterable[int], code: str = "q") -> array | list:
    """An array of ``code`` holding ``values``, or a list if they do not fit one (the
    file writer then says which value is wrong)."""
    values = list(values)
    try:
        return array(code, values)
    except (TypeError, OverflowError):
        return values


_CODES = {"func": "i", "parent": "i", "calls": "q", "self_ticks": "q", "total_ticks": "q"}


class ThreadProfile:
    """The calling-context tree of one thread, as columns.

    ``func``, ``parent``, ``calls``, ``self_ticks`` and ``total_ticks`` are parallel
    sequences of ints (``array``s; a list only after a value that fits no array was
    stored) indexed by node; node 0 is the root. ``nodes`` is a list-like view of them.
    """

    #: The tree was rebuilt from caller edges (a pstats file), not measured: its node
    #: totals are shares that need not add up, so layouts fit children into their
    #: parents rather than widen the parents (``report.base.node_spans``). Not stored.
    approximated = False

    def __init__(self, thread_id: int, name: str, nodes: Iterable[Any] | None = None,
                 truncated: bool = False) -> None:
        self.thread_id = thread_id
        self.name = name
        self.truncated = truncated   #: the tree hit its size cap; deeper paths were merged
        self.nodes = [Node(ROOT, -1)] if nodes is None else nodes  # type: ignore[assignment]

    @classmethod
    def from_columns(cls, thread_id: int, name: str, func: Any, parent: Any, calls: Any,
                     self_ticks: Any, total_ticks: Any, truncated: bool = False
                     ) -> ThreadProfile:
        """A tree over the given columns (taken as they are, not copied)."""
        t = cls.__new__(cls)
        t.thread_id, t.name, t.truncated = thread_id, name, truncated
        t.func, t.parent, t.calls, t.self_ticks, t.total_ticks = (
            func, parent, calls, self_ticks, total_ticks)
        return t

    @property
    def nodes(self) -> NodeList:
        """The nodes, as a list-like view over the columns."""
        return NodeList(self)

    @nodes.setter
    def nodes(self, nodes: Iterable[Any]) -> None:
        if isinstance(nodes, NodeList):
            if nodes._tree is self:
                return                        # t.nodes += [...] assigns the view back
            nodes = list(nodes)
        rows = [_node_values(n) for n in nodes]
        for k, name in enumerate(COLUMNS):
            setattr(self, name, column((r[k] for r in rows), _CODES[name]))

    def columns(self) -> tuple[Any, Any, Any, Any, Any]:
        """(func, parent, calls, self_ticks, total_ticks)."""
        return (self.func, self.parent, self.calls, self.self_ticks, self.total_ticks)

    def _store(self, name: str, index: int, value: Any) -> None:
        col = getattr(self, name)
        try:
            col[index] = value
        except (TypeError, OverflowError):
            col = list(col)                   # a value no array holds: keep it as given
            col[index] = value
            setattr(self, name, col)

    def _append(self, values: tuple) -> None:
        for name, value in zip(COLUMNS, values):
            col = getattr(self, name)
            try:
                col.append(value)
            except (TypeError, OverflowError):
                col = list(col)
                col.append(value)
                setattr(self, name, col)

    def __len__(self) -> int:
        return len(self.func)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, ThreadProfile):
            return NotImplemented
        return ((self.thread_id, self.name, self.truncated)
                == (other.thread_id, other.name, other.truncated)
                and all(len(a) == len(b) and all(map(int.__eq__, a, b))
                        for a, b in zip(self.columns(), other.columns())))

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return (f"ThreadProfile(thread_id={self.thread_id!r}, name={self.name!r}, "
                f"{len(self.func)} nodes, truncated={self.truncated!r})")

    # -- structure ---------------------------------------------------------------------

    def child_index(self) -> tuple[list[int], list[int]]:
        """Every node's children, compactly: ``(order, start)`` where the children of node
        ``i`` are ``order[start[i]:start[i + 1]]``, in creation (index) order.

        One stable C-speed sort of the parent column, no per-node list.
        """
        parent = self.parent
        n = len(parent)
        order = sorted(range(1, n), key=parent.__getitem__)
        counts = Counter(parent)
        start = [0]
        start += accumulate(map(counts.get, range(n), repeat(0)))
        return order, start

    def children(self) -> list[list[int]]:
        """For every node, the indices of its children (in creation order)."""
        order, start = self.child_index()
        return [order[start[i]:start[i + 1]] for i in range(len(self.func))]

    def top_level(self) -> list[int]:
        """The indices of the top-level frames (the root's children), in order."""
        return list(compress(range(len(self.parent)), map(not_, self.parent)))

    def preorder(self) -> list[int]:
        """Every node but the root, depth first, children in creation (index) order.

        Two linear passes over the parent column (subtree sizes bottom-up, then each
        node's slot), no per-node list and no recursion.
        """
        pos = self.preorder_positions()
        perm = [0] * max(len(pos) - 1, 0)
        for i, k in zip(range(1, len(pos)), pos[1:]):
            perm[k] = i
        return perm

    def preorder_positions(self) -> list[int]:
        """For every node but the root (whose entry is 0), its position in ``preorder()``."""
        parent = self.parent
        n = len(parent)
        size = [1] * n
        # parents precede children, so a reverse scan adds up each subtree
        for i, up in zip(range(n - 1, 0, -1), reversed(parent)):
            size[up] += size[i]
        slot = [0] * n                       # the next free position below each node
        pos = [0] * n
        for i, up in zip(range(1, n), parent[1:]):
            k = pos[i] = slot[up]
            slot[up] = k + size[i]
            slot[i] = k + 1
        return pos

    def depths(self) -> list[int]:
        """Every node's depth: 0 for the root, 1 for a top-level frame."""
        depth = [0] * len(self.parent)
        for i, up in zip(range(1, len(depth)), self.parent[1:]):
            depth[i] = depth[up] + 1
        return depth

    def walk(self) -> Iterator[tuple[int, int]]:
        """Yield (node index, depth) depth first, children in creation order.

        Depth 1 is a top-level frame. Iterative, so a 50,000-deep recursion does not
        hit Python's recursion limit; callers that need the path keep a list and do
        ``path[depth - 1:] = [node.func]``.
        """
        perm = self.preorder()
        return zip(perm, map(self.depths().__getitem__, perm))


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
        Functions come in the order a depth-first walk of the trees first meets them.
        """
        return self.call_stats(threads, edges=False)[0]

    def edge_stats(self, threads: Iterable[ThreadProfile] | None = None
                   ) -> dict[tuple[int, int], FunctionStats]:
        """Caller→callee totals ``{(caller, callee): stats}`` with cProfile's rules.

        An edge's call is recursive when the same caller→callee pair is already active
        higher up the stack. Calls made from the root (top-level frames) have no edge.
        """
        return self.call_stats(threads)[1]

    def call_stats(self, threads: Iterable[ThreadProfile] | None = None, edges: bool = True,
                   ordered: bool = True
                   ) -> tuple[dict[int, FunctionStats], dict[tuple[int, int], FunctionStats]]:
        """``(function_stats(threads), edge_stats(threads))`` in one pass over each tree
        (the edges are left empty with ``edges=False``).

        With ``ordered`` (the default) keys come in the order a depth-first walk first
        meets them; without, in the order of the node columns (cheaper: no walk order
        to compute), for callers that sort the result anyway.
        """
        fstats: dict[int, FunctionStats] = {}
        estats: dict[tuple[int, int], FunctionStats] = {}
        threads = list(self.threads if threads is None else threads)
        for t in threads:
            frows, erows = _thread_rows(t, len(self.functions), edges, ordered)
            for f, *row in frows:
                s = fstats.get(f)
                if s is None:
                    fstats[f] = FunctionStats(*row)
                else:
                    s.calls += row[0]
                    s.primitive_calls += row[1]
                    s.self_ticks += row[2]
                    s.cum_ticks += row[3]
            for caller, callee, *row in erows:
                edge = (caller, callee)
                s = estats.get(edge)
                if s is None:
                    estats[edge] = FunctionStats(*row)
                else:
                    s.calls += row[0]
                    s.primitive_calls += row[1]
                    s.self_ticks += row[2]
                    s.cum_ticks += row[3]
        return fstats, estats

    def total_ticks(self) -> int:
        """Time spent in all top-level frames of all threads."""
        return sum(sum(compress(t.total_ticks, map(not_, t.parent)))
                   for t in self.threads)

    def seconds(self, ticks: int) -> float:
        return ticks * self.tick_seconds

    @property
    def truncated(self) -> bool:
        return any(t.truncated for t in self.threads)


#: Above this many functions with callees in one tree, recursion is found by a walk with
#: active counts instead of bit sets (each node's set would cost more than the walk).
MAX_MASK_FUNCTIONS = 2048


def _c_tree_stats() -> Any:
    """The C core's ``_tree_stats``, or None when the extension is not there."""
    try:
        from .._core import _tree_stats
    except ImportError:
        return None
    return _tree_stats


def _thread_rows(t: ThreadProfile, nfuncs: int, edges: bool, ordered: bool
                 ) -> tuple[list[tuple], list[tuple]]:
    """``([(func, calls, primitive, self, cum)], [(caller, callee, calls, ...)])`` of
    ``t``, keys in the order a depth-first walk first meets them (see ``_scan``).

    The C core's ``_tree_stats`` does it in one walk over the columns (about 40× the
    Python loops' speed on a 673,000-node tree); the Python loops below stay for trees it
    does not take (columns that are lists, nodes out of the model's order) and for when
    the extension is not built.
    """
    c_stats = _c_tree_stats()
    if c_stats is not None:
        try:
            return c_stats(*t.columns(), edges)
        except (TypeError, ValueError, OverflowError):
            pass
    # keys are caller * nf + callee: nf covers every index the tree uses
    nf = max(nfuncs, max(t.func) + 1 if len(t.func) > 1 else 1, 1)
    frows, erows = _scan_columns(t, nf, edges, ordered)
    return ([(f, *row) for f, row in frows.items()],
            [(*divmod(key, nf), *row) for key, row in erows.items()])


def _scan_columns(t: ThreadProfile, nf: int, edges: bool, ordered: bool
                  ) -> tuple[dict[int, list], dict[int, list]]:
    """Flat and edge rows of ``t`` (see ``_scan``), in one loop over the columns.

    Recursion without a walk: every node carries the set of functions active on its
    path as an int bit set, its parent's set plus its own function (``masks``; shared
    with the parent when nothing is added). A node is recursive when its function's bit
    is in its parent's set. Only functions that have callees somewhere get a bit (a
    function is only ever active above a node when it has callees), and likewise only
    caller→callee pairs met at nodes with children get an edge bit, so the sets stay a
    few machine words. Nodes are visited in index order, which puts parents before
    children (all the sets need); with ``ordered`` the keys are then put in the order of
    a depth-first walk (``preorder``).
    """
    func, parent, calls, selft, total = t.columns()
    n = len(func)
    if n <= 1:
        return {}, {}
    inner = set(parent)
    inner.discard(-1)
    inner.discard(0)
    inner_funcs = set(map(func.__getitem__, inner))
    if len(inner_funcs) > MAX_MASK_FUNCTIONS or min(func[1:]) < 0 or func[0] != ROOT:
        return _scan(t, nf, edges)
    bit = [0] * nf
    for k, f in enumerate(sorted(inner_funcs)):
        bit[f] = 1 << k
    seq = range(1, n)
    F, P, C, S, T = func[1:], parent[1:], calls[1:], selft[1:], total[1:]
    all_calls = [0] * nf
    all_self = [0] * nf
    prim_calls = [0] * nf
    cum = [0] * nf
    masks: list[int] = [0] * n
    erows: dict[int, list] = {}
    if not edges:
        for i, f, p, c, s, tt in zip(seq, F, P, C, S, T):
            m = masks[p]
            b = bit[f]
            all_calls[f] += c
            all_self[f] += s
            if not m & b:
                prim_calls[f] += c
                cum[f] += tt
                if b:
                    m |= b
            masks[i] = m
    else:
        # Every node's edge gets an id the first time it is met (``ids[caller][callee]``;
        # the root's function is -1, so top-level frames get edges of their own, from the
        # last slot); ``keys[j]`` is caller * nf + callee, negative for those. The
        # function totals are the sums over each function's incoming edges, so the loop
        # only keeps edges. Edges met at nodes with callees get a bit of their own.
        inner_edges = set(map(add, map(mul, map(func.__getitem__, map(parent.__getitem__, inner)),
                                       repeat(nf)), map(func.__getitem__, inner)))
        if len(inner_funcs) + len(inner_edges) > MAX_MASK_FUNCTIONS:
            return _scan(t, nf, edges)
        k = len(inner_funcs)
        ids: list[Any] = [None] * (nf + 1)   # filled below
        keys: list[int] = []
        fb: list[int] = []                     # the callee's bit
        eb: list[int] = []                     # the edge's own bit
        both: list[int] = []
        e_calls: list[int] = []
        e_self: list[int] = []
        prim_c: list[int] = []                 # calls and cum of nodes not recursive ...
        prim_t: list[int] = []
        rec_c: list[int] = []                  # ... and of recursive nodes whose edge is not
        rec_t: list[int] = []
        ej = array("i")                        # each node's edge id
        note = ej.append
        # One bit set per path holds both: the functions and the edges active on it.
        for f in inner_funcs:                  # every caller has callees: a table each
            ids[f] = {}
        ids[ROOT] = {}                         # (the last slot: top-level frames)
        for i, f, p, c, s, tt in zip(seq, F, P, C, S, T):
            fp = func[p]
            row = ids[fp]
            try:
                j = row[f]
            except KeyError:
                j = row[f] = len(keys)
                key = fp * nf + f
                keys.append(key)
                bf = bit[f]
                be = 0
                if key >= 0 and key in inner_edges:
                    be = 1 << k
                    k += 1
                fb.append(bf)
                eb.append(be)
                both.append(bf | be)
                for col in (e_calls, e_self, prim_c, prim_t, rec_c, rec_t):
                    col.append(0)
            note(j)
            e_calls[j] += c
            e_self[j] += s
            m = masks[p]
            if not m & fb[j]:
                prim_c[j] += c
                prim_t[j] += tt
            elif not m & eb[j]:
                rec_c[j] += c
                rec_t[j] += tt
            w = both[j]
            masks[i] = m | w if w else m
        callee = [key % nf for key in keys]
        for f, c, s, pc, pt in zip(callee, e_calls, e_self, prim_c, prim_t):
            all_calls[f] += c
            all_self[f] += s
            prim_calls[f] += pc
            cum[f] += pt
        order: Any = range(len(keys))
        if ordered:                      # keys in the order the walk first meets them
            first = [n] * len(keys)
            for j, q in zip(ej, t.preorder_positions()[1:]):
                if q < first[j]:
                    first[j] = q
            order = sorted(order, key=first.__getitem__)
        erows = {keys[j]: [e_calls[j], prim_c[j] + rec_c[j], e_self[j], prim_t[j] + rec_t[j]]
                 for j in order if keys[j] >= 0}
        funcs = dict.fromkeys([callee[j] for j in order])
        return ({f: [all_calls[f], prim_calls[f], all_self[f], cum[f]] for f in funcs},
                erows)
    if ordered:                          # functions in the order the walk first meets them
        first = [n] * nf
        for f, q in zip(F, t.preorder_positions()[1:]):
            if q < first[f]:
                first[f] = q
        funcs = sorted(set(F), key=first.__getitem__)
    else:
        funcs = dict.fromkeys(F)
    return {f: [all_calls[f], prim_calls[f], all_self[f], cum[f]] for f in funcs}, erows


def _scan(t: ThreadProfile, nf: int, edges: bool) -> tuple[dict[int, list], dict[int, list]]:
    """One depth-first walk of ``t`` applying cProfile's recursion rules.

    Returns ``({func: [calls, primitive, self, cum]}, {caller * nf + callee: [...]})``,
    each in the order the walk first meets its keys. A node is recursive for its
    function when that function is active above it (``active``), and for its edge when
    the same caller→callee pair is; nodes with children are entered (counts raised) and
    left again (``~i`` on the stack), leaves only looked at.
    """
    func, parent, calls, selft, total = t.columns()
    order, start = t.child_index()
    frows: dict[int, list] = {}
    erows: dict[int, list] = {}
    active = [0] * nf
    eactive: dict[int, int] = {}
    stack = order[start[0]:start[1]]
    stack.reverse()
    pop, push = stack.pop, stack.extend
    while stack:
        i = pop()
        if i < 0:                              # leaving node ~i
            i = ~i
            f = func[i]
            active[f] -= 1
            if edges:
                p = parent[i]
                if p > 0:
                    eactive[func[p] * nf + f] -= 1
            continue
        f = func[i]
        c = calls[i]
        row = frows.get(f)
        if row is None:
            row = frows[f] = [0, 0, 0, 0]
        row[0] += c
        s = selft[i]
        row[2] += s
        if not active[f]:
            row[1] += c
            row[3] += total[i]
        a, b = start[i], start[i + 1]
        if edges:
            p = parent[i]
            if p > 0:
                key = func[p] * nf + f
                erow = erows.get(key)
                if erow is None:
                    erow = erows[key] = [0, 0, 0, 0]
                erow[0] += c
                erow[2] += s
                if eactive.get(key, 0) == 0:
                    erow[1] += c
                    erow[3] += total[i]
                if a != b:
                    eactive[key] = eactive.get(key, 0) + 1
        if a != b:                             # has children: enter it
            active[f] += 1
            stack.append(~i)
            kids = order[a:b]
            kids.reverse()
            push(kids)
    return frows, erows
