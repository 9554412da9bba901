"""Hand-built profiles shared by the exporter tests (tests/test_export_*.py).

``build`` turns nested tuples into a ``Profile``; totals are computed bottom-up as
self + children, the way the capture produces them. Nothing here needs the C core.
"""
from __future__ import annotations

from hotpath.model import Function, Node, Profile, ThreadProfile

# A tree is a list of frames; a frame is (function index, calls, self ticks, [children]).
Frame = tuple


def build(functions: list[Function], threads: list[tuple[int, str, list[Frame]]],
          tick_seconds: float = 1e-6, meta: dict | None = None) -> Profile:
    """A Profile with one calling-context tree per ``(thread id, name, frames)``."""
    p = Profile(functions=list(functions), tick_seconds=tick_seconds,
                meta=dict(meta or {"command": "example.py"}))
    for tid, name, frames in threads:
        t = ThreadProfile(tid, name)
        todo = [(0, f) for f in frames]          # (parent index, frame), in order
        order = []
        while todo:
            parent, (func, calls, self_ticks, kids) = todo.pop(0)
            t.nodes.append(Node(func, parent, calls, self_ticks, 0))
            idx = len(t.nodes) - 1
            order.append(idx)
            todo[0:0] = [(idx, k) for k in kids]   # depth first, keep child order
        for idx in reversed(order):
            n = t.nodes[idx]
            n.total_ticks += n.self_ticks
            if n.parent > 0:
                t.nodes[n.parent].total_ticks += n.total_ticks
        p.threads.append(t)
    return p


EVIL_NAME = "<script>alert(\"x&y\")</script>"
EVIL_FILE = "/tmp/a&b/\"q'<x>;y.py"

SAMPLE_FUNCS = [
    Function("/home/u/proj/app.py", 10, "main", "main"),                      # 0
    Function("/home/u/proj/app.py", 20, "fib", "fib"),                        # 1
    Function("~", 0, "<built-in method builtins.len>"),                       # 2
    Function("~", 0, "<built-in method builtins.sorted>"),                    # 3
    Function("/home/u/proj/app.py", 30, "<lambda>", "main.<locals>.<lambda>"),  # 4
    Function("/home/u/proj/app.py", 31, "<lambda>", "main.<locals>.<lambda>"),  # 5
    Function(EVIL_FILE, 1, EVIL_NAME, EVIL_NAME),                             # 6
    Function("/home/u/proj/app.py", 40, "héllo_π", "Ünï.héllo_π"),            # 7
    Function("/usr/lib/python3.11/json/decoder.py", 332, "decode",
             "JSONDecoder.decode"),                                            # 8
    Function("/venv/lib/python3.11/site-packages/numpy/core/_methods.py", 47,
             "_sum", "_sum"),                                                  # 9
    Function("/home/u/proj/app.py", 50, "ping", "ping"),                      # 10
    Function("/home/u/proj/app.py", 60, "pong", "pong"),                      # 11
    Function("/home/u/proj/app.py", 70, "worker", "worker"),                  # 12
]


def sample_profile() -> Profile:
    """Two threads; direct and mutual recursion; builtins calling back into Python;
    two same-named lambdas in one file; names and paths holding markup and unicode."""
    main_tree = [
        (0, 1, 50, [
            (1, 1, 10, [(1, 2, 10, [(1, 2, 5, [(2, 2, 1, [])])])]),     # fib recursion
            (3, 1, 4, [(4, 5, 5, []), (5, 3, 6, [])]),                  # sorted(key=λ)
            (6, 2, 7, [(2, 1, 1, [])]),                                 # evil name
            (7, 1, 3, [(8, 1, 20, [])]),
            (10, 1, 2, [(11, 1, 2, [(10, 1, 2, [(11, 1, 2, [])])])]),  # ping/pong
        ]),
        (9, 3, 9, []),                                                  # 2nd top level
    ]
    worker_tree = [
        (12, 1, 30, [(1, 4, 8, [(1, 2, 4, [])]), (6, 1, 3, [])]),
    ]
    return build(SAMPLE_FUNCS, [(1001, "MainThread", main_tree),
                                (1002, "worker-1", worker_tree)],
                 tick_seconds=1e-6, meta={"command": "app.py", "cwd": "/home/u/proj"})


def wide_profile(n_funcs: int = 50_000, depth: int = 8) -> Profile:
    """``n_funcs`` distinct functions: ``f0`` calls chains ``f(i) → … → f(i+depth-1)``."""
    funcs = [Function(f"/src/mod{i % 97}.py", i + 1, f"f{i}", f"f{i}")
             for i in range(n_funcs)]
    chains: list = []
    for start in range(1, n_funcs, depth):
        frame = None
        for f in reversed(range(start, min(start + depth, n_funcs))):
            frame = (f, 1 + f % 3, 1 + f % 7, [frame] if frame else [])
        chains.append(frame)
    return build(funcs, [(1, "MainThread", [(0, 1, 1, chains)])], tick_seconds=1e-7)


def deep_profile(depth: int = 20_000) -> Profile:
    """One recursive function ``depth`` frames deep (checks nothing recurses in Python)."""
    funcs = [Function("/src/deep.py", 1, "down", "down")]
    p = Profile(functions=funcs, tick_seconds=1e-6)
    t = ThreadProfile(1, "MainThread")
    for d in range(depth):
        t.nodes.append(Node(0, d, 1, 1, depth - d))
    p.threads.append(t)
    return p
