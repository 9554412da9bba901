"""What every hotpath hook shares, tested on each of them: one sys.monitoring tool-id
allocator and one event table (3.12+: src/hotpath/_core/monitoring.h), and one way to
take over and give back threading's hook for new threads (3.11 and every version:
src/hotpath/_core/newthreads.h)."""
from __future__ import annotations

import cProfile
import pstats
import sys

import pytest

import hotpath
from hotpath import _core

monitoring_only = pytest.mark.skipif(sys.version_info < (3, 12),
                                     reason="sys.monitoring tool ids are 3.12+")
trace_hook_only = pytest.mark.skipif(sys.version_info >= (3, 12),
                                     reason="the 3.11 line tracers' threading.settrace hook")


def fib(n: int) -> int:
    return n if n < 2 else fib(n - 1) + fib(n - 2)


def _tool(name: str) -> int:
    held = [i for i in range(6) if sys.monitoring.get_tool(i) == name]
    assert len(held) == 1, (name, [sys.monitoring.get_tool(i) for i in range(6)])
    return held[0]


# -- 3.12+: one tool-id allocator, one event table -------------------------------------------

@monitoring_only
@pytest.mark.parametrize("builtins", [True, False])
def test_floor_runs_beside_cprofile_on_the_profilers_events(builtins):
    """The floor took tool id 2 itself, so it failed while cProfile (which insists on 2)
    ran. Now it takes an id as hotpath.Profile does, and hooks exactly its events."""
    c = cProfile.Profile()
    floor = _core.NullHook(builtins=builtins)
    prof = hotpath.Profile(builtins=builtins)
    c.enable()
    try:
        floor.enable()
        try:
            prof.enable()
            try:
                fib(10)
                mon = sys.monitoring
                floor_events = mon.get_events(_tool("hotpath-floor"))
                prof_events = mon.get_events(_tool("hotpath"))
            finally:
                prof.disable()
        finally:
            floor.disable()
    finally:
        c.disable()
    assert floor_events == prof_events != 0
    assert "hotpath-floor" not in [sys.monitoring.get_tool(i) for i in range(6)]
    cprofile_names = {fn for (_, _, fn) in pstats.Stats(c).stats}
    assert "fib" in cprofile_names
    assert any(f.name == "fib" for f in prof.snapshot().functions)


@monitoring_only
def test_floor_run_under_python_m_cprofile(runner):
    """The benchmarks' floor, in a program run under ``python -m cProfile``."""
    runner.write("prog.py", """
        from hotpath import _core
        def fib(n):
            return n if n < 2 else fib(n - 1) + fib(n - 2)
        floor = _core.NullHook()
        floor.enable()
        fib(12)
        floor.disable()
        print("floor ok")
    """)
    r = runner.python("-m", "cProfile", "prog.py")
    assert r.returncode == 0, r.stderr
    assert "floor ok" in r.stdout and "(fib)" in r.stdout


@monitoring_only
@pytest.mark.parametrize("make, ids", [
    (lambda: _core.NullHook(), (5, 3, 2)),
    (hotpath.Profile, (5, 3, 2)),
    (lambda: hotpath.LineProfiler(fib), (4, 3)),
], ids=["floor", "Profile", "LineProfiler"])
def test_every_hook_says_the_same_when_its_ids_are_taken(make, ids):
    """One allocator: each hook takes the first free id of its order, and when all are
    held says so the same way (profiler.py's ProfilerActiveError prefix), naming holders."""
    hook = make()      # a line tracer an earlier test left armed but paused holds its id
    hook.enable()      # until another is enabled: make it give way first
    hook.disable()
    mon = sys.monitoring
    mine = [i for i in ids if mon.get_tool(i) is None]
    for i in mine:
        mon.use_tool_id(i, "test-holder")
    try:
        with pytest.raises(RuntimeError, match=r"^another profiler is active: .*tool ids "
                                               + r".*".join(str(i) for i in ids)):
            make().enable()
    finally:
        for i in mine:
            mon.free_tool_id(i)
    hook = make()
    hook.enable()
    hook.disable()
