"""The columnar call-tree model (issue 13): trees are int columns, not a Python object per
node, and every derived view equals what the per-node model computed.

``reference_stats`` below is the per-node implementation the model had before (a
depth-first walk over ``Node`` objects with active counts, cProfile's recursion rules),
kept here as the oracle: the columnar loop must give the same numbers *and* the same key
order, on a real profile and on random trees (both its bit-set path and its fallback).
"""
from __future__ import annotations

import ast
import inspect
import random
import string
import struct
import tracemalloc
from array import array

import pytest

import hotpath
from hotpath import fileformat
from hotpath.capture.functions import profile_from_snapshot
from hotpath.model import ROOT, Function, Node, NodeRef, Profile, ThreadProfile
from hotpath.model import calltree
from hotpath.report.base import node_spans
from hotpath.report.pstats import to_pstats_dict


# -- the oracle: the per-node model's algorithm -------------------------------------------

def reference_stats(p: Profile, threads=None):
    """(function stats, edge stats) as {key: (calls, primitive, self, cum)}, keys in the
    order a depth-first walk first meets them, computed node by node."""
    fs: dict = {}
    es: dict = {}
    for t in (p.threads if threads is None else threads):
        nodes = [Node(*v) for v in zip(*t.columns())]
        kids: list[list[int]] = [[] for _ in nodes]
        for i, n in enumerate(nodes):
            if n.parent >= 0:
                kids[n.parent].append(i)
        active_f: dict = {}
        active_e: dict = {}
        todo = [(c, True) for c in reversed(kids[0])]
        while todo:
            i, entering = todo.pop()
            n = nodes[i]
            edge = (nodes[n.parent].func, n.func) if n.parent > 0 else None
            if entering:
                rec_f = active_f.get(n.func, 0) > 0
                r = fs.setdefault(n.func, [0, 0, 0, 0])
                r[0] += n.calls
                r[2] += n.self_ticks
                if not rec_f:
                    r[1] += n.calls
                    r[3] += n.total_ticks
                if edge is not None:
                    rec_e = active_e.get(edge, 0) > 0
                    r = es.setdefault(edge, [0, 0, 0, 0])
                    r[0] += n.calls
                    r[2] += n.self_ticks
                    if not rec_e:
                        r[1] += n.calls
                        r[3] += n.total_ticks
                    active_e[edge] = active_e.get(edge, 0) + 1
                active_f[n.func] = active_f.get(n.func, 0) + 1
                todo.append((i, False))
                todo.extend((c, True) for c in reversed(kids[i]))
            else:
                active_f[n.func] -= 1
                if edge is not None:
                    active_e[edge] -= 1
    return ({k: tuple(v) for k, v in fs.items()}, {k: tuple(v) for k, v in es.items()})


def as_tuples(stats: dict) -> dict:
    return {k: (s.calls, s.primitive_calls, s.self_ticks, s.cum_ticks) for k, s in stats.items()}


def check_same(p: Profile) -> None:
    ref_f, ref_e = reference_stats(p)
    fs, es = p.call_stats()
    assert as_tuples(fs) == ref_f and list(fs) == list(ref_f)      # numbers and order
    assert as_tuples(es) == ref_e and list(es) == list(ref_e)
    assert as_tuples(p.function_stats()) == ref_f
    assert as_tuples(p.edge_stats()) == ref_e
    ufs, ues = p.call_stats(ordered=False)
    assert as_tuples(ufs) == ref_f and as_tuples(ues) == ref_e      # same numbers, any order
    for t in p.threads:
        order = [i for i, _ in t.walk()]
        assert sorted(order) == list(range(1, len(t.func)))
        assert t.preorder() == order


def real_profile() -> Profile:
    """ast.unparse of a few standard-library modules: deep, recursive, many paths."""
    sources = [inspect.getsource(m) for m in (string, random)]
    prof = hotpath.Profile()
    prof.enable()
    for src in sources:
        ast.unparse(ast.parse(src))
    prof.disable()
    return prof.snapshot()


def random_tree(rng: random.Random, n: int, nfuncs: int, tid: int = 1) -> ThreadProfile:
    nodes = [Node(ROOT, -1)]
    for i in range(1, n):
        # mostly deep (recent parents), so functions recur on paths
        parent = rng.choice([0, rng.randrange(i), max(0, i - rng.randrange(1, 4))])
        nodes.append(Node(rng.randrange(nfuncs), parent, rng.randrange(0, 5),
                          rng.randrange(0, 100), rng.randrange(0, 1000)))
    return ThreadProfile(tid, f"t{tid}", nodes)


# -- equality with the per-node model --------------------------------------------------------

def test_real_profile_stats_equal_the_per_node_model():
    p = real_profile()
    assert len(p.threads[0].func) > 2000           # a real tree, with recursion
    check_same(p)
    # and through the file: narrow stored widths give the same numbers
    q = fileformat.loads(fileformat.dumps(p))
    assert q == p
    check_same(q)


@pytest.mark.parametrize("seed", range(6))
def test_random_trees_equal_the_per_node_model(seed):
    rng = random.Random(seed)
    nfuncs = rng.choice([1, 3, 12, 60])
    p = Profile([Function("f.py", i, f"f{i}") for i in range(nfuncs)],
                [random_tree(rng, rng.randrange(2, 1500), nfuncs, tid) for tid in (1, 2)])
    check_same(p)


def test_fallback_walk_equals_the_bit_sets(monkeypatch):
    rng = random.Random(7)
    p = Profile([Function("f.py", i, f"f{i}") for i in range(40)],
                [random_tree(rng, 3000, 40)])
    fast = as_tuples(p.call_stats()[1]), list(p.call_stats()[0])
    monkeypatch.setattr(calltree, "MAX_MASK_FUNCTIONS", 2)     # force the walk
    check_same(p)
    assert (as_tuples(p.call_stats()[1]), list(p.call_stats()[0])) == fast


def test_pstats_dict_of_a_real_profile_matches_the_oracle():
    p = real_profile()
    ref_f, ref_e = reference_stats(p)
    d = to_pstats_dict(p)
    sec = p.tick_seconds
    for f, (calls, prim, self_t, cum) in ref_f.items():
        cc, nc, tt, ct, callers = d[p.functions[f].pstats_key]
        assert (cc, nc) == (prim, calls)
        assert tt == pytest.approx(self_t * sec) and ct == pytest.approx(cum * sec)
    for (a, b), (calls, prim, _s, _c) in ref_e.items():
        assert d[p.functions[b].pstats_key][4][p.functions[a].pstats_key][:2] == (calls, prim)


def test_node_spans_take_the_slow_path_when_a_child_is_wider():
    t = ThreadProfile(1, "T", [Node(ROOT, -1), Node(0, 0, 1, 2, 3), Node(0, 1, 1, 5, 5)])
    assert node_spans(t) == [7, 7, 5]
    t = ThreadProfile(1, "T", [Node(ROOT, -1), Node(0, 0, 1, 2, 9), Node(0, 1, 1, 5, 5)])
    assert node_spans(t) == [9, 9, 5]


# -- the view: per-node access still works, on the columns -----------------------------------

def test_nodes_view_reads_and_writes_the_columns():
    t = ThreadProfile(1, "T", [Node(ROOT, -1), Node(0, 0, 1, 2, 3)])
    assert isinstance(t.func, array) and list(t.calls) == [0, 1]
    n = t.nodes[1]
    assert isinstance(n, NodeRef) and n == Node(0, 0, 1, 2, 3)
    n.total_ticks += 4
    assert t.total_ticks[1] == 7 and t.nodes[-1].total_ticks == 7
    t.nodes.append(Node(0, 1, 5, 6, 7))
    t.nodes += [Node(0, 2, 1, 1, 1)]
    assert len(t.nodes) == 4 and list(t.parent) == [-1, 0, 1, 2]
    assert t.nodes == [Node(ROOT, -1), Node(0, 0, 1, 2, 7), Node(0, 1, 5, 6, 7),
                       Node(0, 2, 1, 1, 1)]
    with pytest.raises(IndexError):
        t.nodes[4]
    # a value no array holds is kept as given, for the writer to refuse with its message
    t.nodes[1].self_ticks = 1.5
    assert t.self_ticks[1] == 1.5
    with pytest.raises(ValueError, match="self_ticks"):
        fileformat.dumps(Profile([Function("f", 1, "f")], [t]))


# -- memory: no Python object per node -------------------------------------------------------

N_SYNTH = 200_000


def synthetic_snapshot(n: int) -> dict:
    """A capture snapshot of an n-node tree over 50 functions (the packed C layout)."""
    rec = struct.Struct("<IIQqq")
    buf = bytearray(rec.pack(0xFFFFFFFF, 0xFFFFFFFF, 0, 0, 0))
    for i in range(1, n):
        buf += rec.pack(i % 50, (i - 1) // 3, 1 + i % 7, 10 + i % 13, 100 + i % 17)
    funcs = [(f"/m{k}.py", k + 1, f"f{k}", f"f{k}", None) for k in range(50)]
    return {"functions": funcs, "threads": [{"ident": 1, "name": "MainThread",
                                              "nodes": bytes(buf), "truncated": False}],
            "clock": "test", "enabled_seconds": 1.0, "tick_seconds": 1e-9}


def traced_bytes(make):
    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        kept = make()
        after = tracemalloc.get_traced_memory()[0]
    finally:
        tracemalloc.stop()
    return kept, after - before


def test_snapshot_model_holds_no_python_object_per_node():
    snap = synthetic_snapshot(N_SYNTH)
    model, grown = traced_bytes(lambda: profile_from_snapshot(snap))
    assert len(model.threads[0].func) == N_SYNTH
    # five columns of 4-8 bytes: 32 B/node; a Node object alone is 72 B
    assert grown / N_SYNTH < 40, f"{grown / N_SYNTH:.0f} bytes per node"
    assert model.threads[0].nodes[5] == Node(5, 1, 6, 15, 105)


def test_read_model_holds_no_python_object_per_node():
    data = fileformat.dumps(profile_from_snapshot(synthetic_snapshot(N_SYNTH)))
    model, grown = traced_bytes(lambda: fileformat.loads(data))
    assert len(model.threads[0].func) == N_SYNTH
    assert grown / N_SYNTH < 40, f"{grown / N_SYNTH:.0f} bytes per node"


def test_stats_memory_is_bounded_by_functions_not_nodes():
    model = profile_from_snapshot(synthetic_snapshot(20_000))   # tracemalloc is slow
    stats, _ = traced_bytes(lambda: model.function_stats())
    assert len(stats) == 50
    # what the result keeps is per function; the walk's temporaries are gone
    _, grown = traced_bytes(lambda: model.call_stats())
    # 50 functions and their edges: 60-70 KiB, by version; anything kept per node (an
    # int is 28 B) would be 560 KiB or more
    assert grown / 20_000 < 8, f"{grown} bytes kept for 20,000 nodes"


# -- the C walk (_core._tree_stats) and the Python loops it stands in for --------------------

def test_python_loops_equal_the_c_walk(monkeypatch):
    """The C walk is what call_stats uses; the Python loops stay as its fallback: both
    give the oracle's numbers and order (bit sets and the walk alike)."""
    rng = random.Random(11)
    p = Profile([Function("f.py", i, f"f{i}") for i in range(30)],
                [random_tree(rng, 2500, 30, tid) for tid in (1, 2)])
    assert calltree._c_tree_stats() is not None
    with_c = p.call_stats()
    monkeypatch.setattr(calltree, "_c_tree_stats", lambda: None)
    check_same(p)
    assert p.call_stats() == with_c
    monkeypatch.setattr(calltree, "MAX_MASK_FUNCTIONS", 2)
    check_same(p)


def test_c_walk_takes_every_stored_width_and_refuses_what_is_not_a_tree():
    from hotpath._core import _tree_stats
    rng = random.Random(3)
    t = random_tree(rng, 800, 9)
    want = _tree_stats(*t.columns(), True)
    assert want[0] and want[1]
    # the file stores each column in its narrowest width, signed or not
    narrow = [array(code, col) for code, col in zip("bhHHI", t.columns())]
    assert _tree_stats(*narrow, True) == want
    assert _tree_stats(*t.columns(), False) == (want[0], [])
    with pytest.raises(TypeError):
        _tree_stats(list(t.func), *t.columns()[1:], True)         # not a buffer
    with pytest.raises(TypeError):
        _tree_stats(array("d", t.func), *t.columns()[1:], True)   # not ints
    bad = array("i", t.parent)
    bad[5] = 7                                                     # a parent after its child
    with pytest.raises(ValueError):
        _tree_stats(t.func, bad, *t.columns()[2:], True)
    with pytest.raises(ValueError):
        _tree_stats(t.func, t.parent[:-1], *t.columns()[2:], True)
    big = array("Q", t.calls)
    big[3] = 2 ** 63 + 1
    with pytest.raises(OverflowError):
        _tree_stats(t.func, t.parent, big, *t.columns()[3:], True)


def test_trees_the_c_walk_refuses_still_get_stats():
    """Columns that became lists (a value no array holds) and totals beyond 64 bits go
    through the Python loops, with the same rules."""
    rng = random.Random(5)
    t = random_tree(rng, 600, 7)
    t.nodes[4] = Node(t.func[4], t.parent[4], t.calls[4], t.self_ticks[4], 2 ** 70)
    assert isinstance(t.total_ticks, list)
    p = Profile([Function("f.py", i, f"f{i}") for i in range(7)], [t])
    check_same(p)


@pytest.mark.parametrize("seed", range(4))
def test_c_spans_and_check_equal_the_python_loops(seed):
    """node_spans' C pass (measured trees) gives the Python rule's widths, consistent or
    not; the reader's C check finds the first node out of range as the loops do."""
    from hotpath._core import _tree_check, _tree_spans
    rng = random.Random(seed)
    t = random_tree(rng, 1200, 9)          # random totals: many children wider than parents
    as_lists = ThreadProfile(1, "t", list(t.nodes))
    as_lists.self_ticks = list(as_lists.self_ticks)       # a list: the Python loops
    with pytest.raises(TypeError):
        _tree_spans(as_lists.self_ticks, t.total_ticks, t.parent)
    assert node_spans(t) == node_spans(as_lists)
    assert _tree_spans(t.self_ticks, t.total_ticks, t.parent) == node_spans(as_lists)
    assert _tree_check(t.func, t.parent, 9) == 0
    assert _tree_check(t.func, t.parent, 8) == next(i for i in range(1, 1200) if t.func[i] >= 8)
    bad = array("i", t.parent)
    bad[700] = 700
    assert _tree_check(t.func, bad, 9) == 700
