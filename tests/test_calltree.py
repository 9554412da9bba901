"""The C calling-context tree (``_core/func/calltree.c``) read straight from ``snapshot()``.

Nodes are compact (48 bytes), children are found through a most-recently-used list or,
for a node with many children, a per-thread table; these tests drive each of those paths
(and their switch-over, node chunks, freed code objects, the size cap) with programs
whose exact call counts per path are known, and compare with cProfile where it applies.
"""
from __future__ import annotations

import cProfile
import gc
import pstats
import struct
import types

from hotpath import _core

NODE = struct.Struct("<IIQqq")  # func, parent, calls, self ticks, total ticks
ROOT = 0xFFFFFFFF


def paths(snap: dict, thread: int = 0) -> dict[tuple[str, ...], int]:
    """{(qualname, ...) from the root: calls} for one thread; several nodes for one path
    (a freed code object and its successor) add up."""
    funcs = snap["functions"]
    raw = snap["threads"][thread]["nodes"]
    nodes = [NODE.unpack_from(raw, i) for i in range(0, len(raw), NODE.size)]
    names: list[tuple[str, ...]] = []
    out: dict[tuple[str, ...], int] = {}
    for i, (func, parent, calls, self_t, total_t) in enumerate(nodes):
        assert (parent == ROOT) == (i == 0) and (i == 0 or parent < i)
        assert 0 <= self_t <= total_t or i == 0
        path = () if i == 0 else names[parent] + (funcs[func][3],)
        names.append(path)
        if i:
            out[path] = out.get(path, 0) + calls
    return out


def profile(fn, **kw) -> tuple[dict, _core.Profiler]:
    p = _core.Profiler(builtins=False, **kw)
    p.enable()
    try:
        fn()
    finally:
        p.disable()
    return p.snapshot(), p


def test_a_node_is_at_most_48_bytes():
    snap, p = profile(lambda: None)
    stats = p._tree_stats()
    assert stats["node_size"] <= 48
    assert stats["nodes"] >= 1


def make_leaves(n: int) -> list:
    ns: dict = {}
    exec("\n".join(f"def leaf{i}(): return {i}" for i in range(n)), ns)
    return [ns[f"leaf{i}"] for i in range(n)]


def test_narrow_and_wide_nodes_count_every_path_exactly():
    """A caller with 3 children (found in its list, reordered on every call) and one with
    200 (past the list: the thread's child table), called in rotation and in runs."""
    few, many = make_leaves(3), make_leaves(200)

    def narrow():
        for _ in range(50):
            for f in few:
                f()
        for f in few:
            for _ in range(7):
                f()

    def wide():
        for _ in range(5):
            for f in many:
                f()
        for f in reversed(many):
            f()
            f()

    def program():
        narrow()
        wide()
        wide()

    snap, p = profile(program)
    got = paths(snap)
    q = "test_narrow_and_wide_nodes_count_every_path_exactly.<locals>."
    top = (q + "program",)
    assert got[top] == 1
    assert got[top + (q + "narrow",)] == 1
    assert got[top + (q + "wide",)] == 2
    for i in range(3):
        assert got[top + (q + "narrow", f"leaf{i}")] == 57
    for i in range(200):
        assert got[top + (q + "wide", f"leaf{i}")] == 2 * 7
    assert len(got) == 3 + 3 + 200
    assert p._tree_stats()["wide_children"] >= 200


def test_every_function_the_same_as_cprofile_across_node_chunks():
    """More nodes than one chunk holds (4096), with callers: hotpath's flat counts and
    caller edges are cProfile's."""
    leaves = make_leaves(6000)

    def middle(f):
        return f()

    def program():
        for f in leaves:
            middle(f)
        for f in leaves[::3]:
            f()

    snap, p = profile(program)
    assert p._tree_stats()["nodes"] > 6000
    cp = cProfile.Profile()
    cp.enable()
    program()
    cp.disable()
    ours: dict[str, int] = {}
    for path, calls in paths(snap).items():
        ours[path[-1]] = ours.get(path[-1], 0) + calls
    theirs = {name: v[1] for (_, _, name), v in pstats.Stats(cp).stats.items()
              if name.startswith(("leaf", "middle", "program"))}
    mine = {name.rsplit(".", 1)[-1]: c for name, c in ours.items()}
    assert mine == theirs
    got = paths(snap)
    q = "test_every_function_the_same_as_cprofile_across_node_chunks.<locals>."
    assert got[(q + "program", q + "middle", "leaf4097")] == 1
    assert got[(q + "program", "leaf3")] == 1 and (q + "program", "leaf4") not in got


def test_freed_code_under_narrow_and_wide_callers_is_a_new_function():
    """Functions exec'd, called and dropped one after another: each is its own node,
    whether its caller is narrow (few children) or wide (many), even when a new code
    object reuses a freed one's address."""
    others = make_leaves(20)

    def call_generated(i):
        ns: dict = {}
        exec(f"def gen{i}(): return {i}", ns)
        ns[f"gen{i}"]()
        ns[f"gen{i}"]()

    def narrow():
        for i in range(300):
            call_generated(i)

    def wide():
        for f in others:
            f()
        for i in range(300, 600):
            ns: dict = {}
            exec(f"def gen{i}(): return {i}", ns)
            ns[f"gen{i}"]()
            del ns
            gc.collect(0)

    def program():
        narrow()
        wide()

    snap, _ = profile(program)
    got = paths(snap)
    q = "test_freed_code_under_narrow_and_wide_callers_is_a_new_function.<locals>."
    for i in range(300):
        assert got[(q + "program", q + "narrow", q + "call_generated", f"gen{i}")] == 2
    for i in range(300, 600):
        assert got[(q + "program", q + "wide", f"gen{i}")] == 1
    assert sum(1 for f in snap["functions"] if f[3].startswith("gen")) == 600


def test_a_full_tree_sends_new_paths_to_the_overflow_node():
    leaves = make_leaves(100)

    def program():
        for _ in range(3):
            for f in leaves:
                f()

    snap, p = profile(program, max_nodes=16)
    assert snap["threads"][0]["truncated"]
    got = paths(snap)
    assert p._tree_stats()["nodes"] == 17  # the cap and the overflow node
    assert sum(got.values()) == 1 + 300
    overflow = [c for path, c in got.items() if path[-1] == snap["functions"][0][3]]
    assert overflow == [300 - 3 * 14]


def test_freed_code_in_a_short_child_list_is_a_new_function():
    """Under a caller with few children (its list, no table), a dropped function's node
    keeps its counts and a new code object (often at the freed one's address) gets its own."""

    def few():
        for i in range(5):
            # The function's code straight from the compiled module's constants: running
            # the module would make its code object a child as well.
            module = compile(f"def short{i}(): return {i}", "<short>", "exec")
            f = types.FunctionType(module.co_consts[0], {})
            del module
            for _ in range(i + 1):
                f()
            del f
            gc.collect(0)

    snap, p = profile(few)
    assert p._tree_stats()["wide_children"] == 0
    got = paths(snap)
    q = "test_freed_code_in_a_short_child_list_is_a_new_function.<locals>.few"
    # (other children of few() may be gc.callbacks that earlier tests left installed,
    # hypothesis's among them: gc.collect runs them)
    assert {path[-1]: c for path, c in got.items()
            if len(path) == 2 and path[-1].startswith("short")} == {
        f"short{i}": i + 1 for i in range(5)}
    assert got[(q,)] == 1
    shorts = [f for f in snap["functions"] if f[3].startswith("short")]
    assert len(shorts) == 5 and all(f[4] is None for f in shorts)  # each was freed
