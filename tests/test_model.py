"""The model's derived views: cProfile's recursion rules computed from call trees."""
from hotpath.model import ROOT, Function, Node, Profile, ThreadProfile


def make(nodes, funcs=("a", "b", "c")):
    functions = [Function("f.py", i + 1, n) for i, n in enumerate(funcs)]
    t = ThreadProfile(1, "MainThread", [Node(ROOT, -1)] + [Node(*n) for n in nodes])
    return Profile(functions=functions, threads=[t])


def test_flat_stats_simple():
    # a -> b (2 calls), a -> c
    p = make([(0, 0, 1, 10, 50), (1, 1, 2, 30, 30), (2, 1, 1, 10, 10)])
    s = p.function_stats()
    assert (s[0].calls, s[0].primitive_calls, s[0].self_ticks, s[0].cum_ticks) == (1, 1, 10, 50)
    assert (s[1].calls, s[1].cum_ticks) == (2, 30)
    e = p.edge_stats()
    assert set(e) == {(0, 1), (0, 2)}
    assert e[(0, 1)].calls == 2 and e[(0, 1)].cum_ticks == 30


def test_direct_recursion_counts_outermost_only():
    # a -> a -> a: totals 100, 60, 20
    p = make([(0, 0, 1, 40, 100), (0, 1, 1, 40, 60), (0, 2, 1, 20, 20)])
    s = p.function_stats()[0]
    assert (s.calls, s.primitive_calls, s.self_ticks, s.cum_ticks) == (3, 1, 100, 100)
    e = p.edge_stats()[(0, 0)]
    # the a->a edge: outermost a->a call counts its total, the inner one is recursive
    assert (e.calls, e.primitive_calls, e.cum_ticks) == (2, 1, 60)


def test_mutual_recursion():
    # a -> b -> a -> b
    p = make([(0, 0, 1, 10, 100), (1, 1, 1, 20, 90), (0, 2, 1, 30, 70), (1, 3, 1, 40, 40)])
    s = p.function_stats()
    assert (s[0].calls, s[0].primitive_calls, s[0].cum_ticks) == (2, 1, 100)
    assert (s[1].calls, s[1].primitive_calls, s[1].cum_ticks) == (2, 1, 90)
    e = p.edge_stats()
    assert (e[(0, 1)].calls, e[(0, 1)].primitive_calls, e[(0, 1)].cum_ticks) == (2, 1, 90)
    assert (e[(1, 0)].calls, e[(1, 0)].primitive_calls, e[(1, 0)].cum_ticks) == (1, 1, 70)


def test_threads_merge_and_split():
    p = make([(0, 0, 1, 10, 10)])
    t2 = ThreadProfile(2, "worker", [Node(ROOT, -1), Node(0, 0, 3, 5, 5)])
    p.threads.append(t2)
    assert p.function_stats()[0].calls == 4
    assert p.function_stats([t2])[0].calls == 3
    assert p.total_ticks() == 15


def test_deep_tree_is_walked_without_recursion():
    depth = 50_000
    nodes = [(0, i, 1, 1, depth - i) for i in range(depth)]
    p = make(nodes)
    s = p.function_stats()[0]
    assert (s.calls, s.primitive_calls, s.cum_ticks, s.self_ticks) == (depth, 1, depth, depth)
    assert sum(1 for _ in p.threads[0].walk()) == depth
