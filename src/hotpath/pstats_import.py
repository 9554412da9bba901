"""Read a cProfile/pstats file into hotpath's model, with an approximated call tree.

A pstats file is ``marshal.dump`` of the dictionary ``cProfile.Profile.create_stats``
builds (``hotpath.report.pstats`` documents the shape)::

    {(filename, lineno, name): (cc, nc, tt, ct, {caller: (nc, cc, tt, ct)})}

(the pure-Python ``profile`` module writes a bare call count for each caller). It has flat
per-function totals and one level of caller→callee edges, not the calling-context tree
hotpath's model keeps, so the tree is *approximated*:

* Expansion starts at the functions nobody calls (``builtins.exec``, ``<module>``) and
  follows callee edges. A node stands for a share of its function's time (the share of
  the edge that reached it in the callee's cumulative time); its children get that share
  of each outgoing edge's calls and time. The heaviest node is expanded first, a call
  whose function is already on the path becomes a leaf (recursion is folded into the
  outermost call, as cProfile's cumtime does), paths worth under half a call are not
  followed, and a node budget bounds the tree (the report then says the cap was reached).
* Functions the expansion never reaches (callers outside the table, cycles with no entry)
  start top-level paths of their own.
* Then, per function, calls, recursive calls, self time and cumulative time are
  apportioned over its nodes in integer ticks (largest remainder), so the flat totals
  hotpath derives from the tree — ncalls, primitive calls, tottime, cumtime — are the
  file's own numbers exactly.

The profile's ``meta["notes"]`` says the tree is approximated; the reports show it.
"""
from __future__ import annotations

import heapq
import marshal
import math
import os
from array import array
from typing import Any

from hotpath.fileformat import FormatError
from hotpath.model import ROOT, Function, Profile, ThreadProfile
from hotpath.model.calltree import column

__all__ = ["APPROXIMATION_NOTE", "DEFAULT_MAX_NODES", "is_pstats_data", "read_pstats",
           "loads_pstats", "stats_to_profile"]

APPROXIMATION_NOTE = "call tree approximated from caller edges (pstats file)"
DEFAULT_MAX_NODES = 100_000
TICK_SECONDS = 1e-9       # _lsprof's own unit: its floats are integer nanoseconds × 1e-9

# marshal's type code for a dict, without and with FLAG_REF (0x80).
_DICT_CODES = (ord("{"), ord("{") | 0x80)

Key = tuple[str, int, str]


def is_pstats_data(head: bytes) -> bool:
    """Whether bytes starting a file could be a pstats file (a marshal'd dict)."""
    return bool(head) and head[0] in _DICT_CODES


def read_pstats(path: str, *, max_nodes: int = DEFAULT_MAX_NODES) -> Profile:
    """Read the pstats file at ``path`` (as ``cProfile -o`` or ``Stats.dump_stats`` write).

    Raises :class:`hotpath.fileformat.FormatError` if it is not one; ``OSError`` if it
    cannot be read."""
    with open(path, "rb") as f:
        data = f.read()
    profile = loads_pstats(data, name=os.fspath(path), max_nodes=max_nodes)
    profile.meta["command"] = os.path.basename(os.fspath(path))
    profile.meta["source_file"] = os.path.abspath(path)
    return profile


def loads_pstats(data: bytes, *, name: str = "<bytes>", max_nodes: int = DEFAULT_MAX_NODES
                 ) -> Profile:
    """Decode the bytes of a pstats file; ``FormatError`` if they are not one."""
    if not is_pstats_data(data):
        raise FormatError(f"{name}: not a pstats file (not a marshal'd dictionary)")
    try:
        stats = marshal.loads(data)
    except (ValueError, EOFError, TypeError, MemoryError) as e:
        raise FormatError(f"{name}: a damaged pstats file: {e}") from None
    problem = _check_stats(stats)
    if problem:
        raise FormatError(f"{name}: not a pstats file: {problem}")
    return stats_to_profile(stats, max_nodes=max_nodes)


def _is_key(k: Any) -> bool:
    # The pure-Python profile module may put a code object where the name goes (its
    # own frame's key); pstats shows it, and so does hotpath (see _function).
    return type(k) is tuple and len(k) == 3 and type(k[1]) is int


def _function(key: tuple) -> Function:
    filename, lineno, name = key
    return Function(_text(filename), lineno, _text(name))


def _text(x: Any) -> str:
    return x if isinstance(x, str) else str(getattr(x, "co_name", x))


def _order(key: tuple) -> tuple[str, int, str]:
    return (_text(key[0]), key[1], _text(key[2]))


def _count(x: Any) -> bool:
    return type(x) is int and x >= 0


def _seconds(x: Any) -> bool:
    return type(x) in (int, float) and math.isfinite(x) and x >= 0


def _check_stats(stats: Any) -> str | None:
    """What is wrong with ``stats`` as a pstats dictionary, or None."""
    if not isinstance(stats, dict):
        return f"it holds a {type(stats).__name__}, not a statistics dictionary"
    for key, row in stats.items():
        if not _is_key(key):
            return f"key {key!r:.80} is not (filename, line, function)"
        if not (type(row) is tuple and len(row) == 5 and _count(row[0]) and _count(row[1])
                and _seconds(row[2]) and _seconds(row[3]) and isinstance(row[4], dict)):
            return f"the entry of {key!r:.80} is not (cc, nc, tt, ct, callers)"
        if row[0] > row[1]:
            return f"{key!r:.80} has more primitive calls than calls"
        for ckey, edge in row[4].items():
            if not _is_key(ckey):
                return f"caller {ckey!r:.80} of {key!r:.80} is not (filename, line, function)"
            if _count(edge):
                continue           # the pure-Python profile module: a call count
            if not (type(edge) is tuple and len(edge) == 4 and _count(edge[0])
                    and _count(edge[1]) and _seconds(edge[2]) and _seconds(edge[3])):
                return f"caller {ckey!r:.80} of {key!r:.80} is not (nc, cc, tt, ct)"
    return None


def _ticks(seconds: float) -> int:
    return round(seconds / TICK_SECONDS)


def stats_to_profile(stats: dict[Key, tuple], *, max_nodes: int = DEFAULT_MAX_NODES) -> Profile:
    """A model.Profile from a (checked) pstats dictionary; see the module docstring."""
    keys = sorted(stats, key=_order)
    index = {k: i for i, k in enumerate(keys)}
    n = len(keys)
    cc = [stats[k][0] for k in keys]
    nc = [stats[k][1] for k in keys]
    tt = [float(stats[k][2]) for k in keys]
    ct = [float(stats[k][3]) for k in keys]
    # callees[f] = [(g, calls, cumulative seconds)] of every edge f -> g
    callees: list[list[tuple[int, float, float]]] = [[] for _ in keys]
    called = [False] * n              # by some other function of the table
    for g, k in enumerate(keys):
        for ckey, edge in stats[k][4].items():
            f = index.get(ckey)
            if f is None:
                continue
            if type(edge) is int:     # a call count only: its share of g's time
                calls, cum = float(edge), (ct[g] * edge / nc[g] if nc[g] else 0.0)
            else:
                calls, cum = float(edge[0]), float(edge[3])
            callees[f].append((g, calls, cum))
            if f != g:
                called[g] = True
    for lst in callees:
        lst.sort(key=lambda e: -e[2])

    tree = _Tree(max_nodes)
    reached = [False] * n
    # Roots: nobody calls them; then whatever is still unreached, heaviest first.
    starts = sorted((g for g in range(n) if not called[g]), key=lambda g: (-ct[g], g))
    later = sorted(range(n), key=lambda g: (-ct[g], g))
    for g in [*starts, *later]:
        if reached[g]:
            continue
        share = 1.0
        root = tree.add(g, 0, nc[g], tt[g], ct[g], recursive=False)
        reached[g] = True
        heap = [(-ct[g], root, share)]
        while heap and not tree.full:
            _, node, share = heapq.heappop(heap)
            f = tree.func[node]
            path = tree.path_funcs(node)
            for g2, e_calls, e_cum in callees[f]:
                calls = share * e_calls
                if calls < 0.5 or tree.full:
                    continue
                if g2 in path:        # recursion: a leaf that carries the calls only
                    tree.add(g2, node, calls, 0.0, 0.0, recursive=True)
                    continue
                s2 = min(1.0, share * e_cum / ct[g2]) if ct[g2] > 0 else \
                    (min(1.0, calls / nc[g2]) if nc[g2] else 0.0)
                child = tree.add(g2, node, calls, s2 * tt[g2], s2 * ct[g2], recursive=False)
                reached[g2] = True
                heapq.heappush(heap, (-s2 * ct[g2], child, s2))

    callers_of: list[set[int]] = [set() for _ in keys]
    for f, lst in enumerate(callees):
        for g2, _, _ in lst:
            callers_of[g2].add(f)
    _make_exact(tree, cc, nc, tt, ct, callers_of)
    thread = ThreadProfile.from_columns(
        0, "MainThread", array("i", [ROOT, *tree.func[1:]]), array("i", [-1, *tree.parent[1:]]),
        column([0, *tree.int_calls[1:]]), column([0, *tree.int_self[1:]]),
        column([0, *tree.int_total[1:]]), truncated=tree.full)
    thread.approximated = True        # layouts fit children into parents (node_spans)
    total_tt = sum(tt)
    return Profile(functions=[_function(k) for k in keys], threads=[thread],
                   tick_seconds=TICK_SECONDS,
                   meta={"source_format": "pstats", "mode": "function",
                         "profiled_seconds": total_tt, "notes": [APPROXIMATION_NOTE]})


class _Tree:
    """The tree under construction: parallel lists, node 0 the root."""

    def __init__(self, max_nodes: int):
        self.max_nodes = max(2, max_nodes)
        self.func = [ROOT]
        self.parent = [-1]
        self.calls = [0.0]
        self.self_ = [0.0]
        self.total = [0.0]
        self.recursive = [False]
        # filled by _make_exact: per node, integer calls and ticks
        self.int_calls: list[int] = []
        self.int_self: list[int] = []
        self.int_total: list[int] = []

    @property
    def full(self) -> bool:
        return len(self.func) >= self.max_nodes

    def add(self, func: int, parent: int, calls: float, self_: float, total: float,
            *, recursive: bool) -> int:
        self.func.append(func)
        self.parent.append(parent)
        self.calls.append(calls)
        self.self_.append(self_)
        self.total.append(total)
        self.recursive.append(recursive)
        return len(self.func) - 1

    def path_funcs(self, node: int) -> set[int]:
        out = set()
        while node > 0:
            out.add(self.func[node])
            node = self.parent[node]
        return out


def _make_exact(tree: _Tree, cc: list[int], nc: list[int], tt: list[float], ct: list[float],
                callers_of: list[set[int]]) -> None:
    """Integer calls and ticks per node whose per-function sums are the file's totals."""
    by_func: dict[int, tuple[list[int], list[int]]] = {}
    for i in range(1, len(tree.func)):
        prim, rec = by_func.setdefault(tree.func[i], ([], []))
        (rec if tree.recursive[i] else prim).append(i)
    nodes_of: dict[int, list[int]] = {}
    for i in range(1, len(tree.func)):
        nodes_of.setdefault(tree.func[i], []).append(i)
    for g in range(len(cc)):
        prim, rec = by_func.setdefault(g, ([], []))
        if not prim:                  # every function of the table gets its row
            prim.append(tree.add(g, 0, cc[g], tt[g], ct[g], recursive=False))
        if nc[g] > cc[g] and not rec:
            # Recursive calls the expansion did not meet: under a caller of g that runs
            # with g on its path (ping -> pong -> ping: under the inner ping), else
            # under g's heaviest node (a self-call).
            fit = [i for f in callers_of[g] for i in nodes_of.get(f, ())
                   if g in tree.path_funcs(i)]
            top = max(fit or prim, key=lambda i: (tree.calls[i], tree.total[i], -i))
            rec.append(tree.add(g, top, nc[g] - cc[g], 0.0, 0.0, recursive=True))
    size = len(tree.func)
    tree.int_calls = [0] * size
    tree.int_self = [0] * size
    tree.int_total = [0] * size
    for g, (prim, rec) in by_func.items():
        _apportion(tree.int_calls, prim, cc[g], tree.calls)
        _apportion(tree.int_calls, rec, nc[g] - cc[g], tree.calls)
        _apportion(tree.int_self, prim + rec, _ticks(tt[g]), tree.self_, tree.calls)
        _apportion(tree.int_total, prim, _ticks(ct[g]), tree.total, tree.calls)


def _apportion(out: list[int], nodes: list[int], target: int, weights: list[float],
               fallback: list[float] | None = None) -> None:
    """Split the integer ``target`` over ``nodes`` in proportion to ``weights`` (largest
    remainder), into ``out``; by ``fallback``, then evenly, where the weights are all 0."""
    if not nodes or target == 0:
        return
    w = [weights[i] for i in nodes]
    if sum(w) <= 0 and fallback is not None:
        w = [fallback[i] for i in nodes]
    if sum(w) <= 0:
        w = [1.0] * len(nodes)
    total = sum(w)
    raw = [target * x / total for x in w]
    parts = [int(r) for r in raw]
    rest = target - sum(parts)
    order = sorted(range(len(nodes)), key=lambda j: (parts[j] - raw[j], j))
    for j in order[:max(rest, 0)]:
        parts[j] += 1
    if rest < 0:                      # float error: take it back from the largest parts
        for j in sorted(range(len(nodes)), key=lambda j: -parts[j])[:-rest]:
            parts[j] -= 1
    for j, i in enumerate(nodes):
        out[i] = parts[j]
