"""What every hotpath hook shares, tested on each of them: one sys.monitoring tool-id
allocator and one event table (3.12+: src/hotpath/_core/common/monitoring.h), and one way to
take over and give back threading's hook for new threads (3.11 and every version:
src/hotpath/_core/common/newthreads.h)."""
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
    held says so the same way (capture/functions.py's ProfilerActiveError prefix), naming holders."""
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


# -- threading's hook for new threads: kept and given back ----------------------------------

PROGRAM_WITH_OWN_THREADING_HOOK = """
import threading

def mine(frame, event, arg):
    return None

threading.settrace(mine)
threading.setprofile(mine)

@profile
def work(n):
    total = 0
    for i in range(n):
        total += i * i
    return total

work(1000)
print("trace hook kept:", threading.gettrace() is mine)
print("profile hook kept:", threading.getprofile() is mine)
"""


def test_program_threading_hooks_are_its_own_under_line_profiling(runner):
    """Under ``hotpath run --lines`` a program that sets threading's hooks reads back its
    own, as under plain Python. (The tracer is disarmed only after the program and its
    atexit handlers, so the give-back itself is checked through the API below.)"""
    runner.write("prog.py", PROGRAM_WITH_OWN_THREADING_HOOK)
    plain = runner.python("-c", "import builtins; builtins.profile = lambda f: f; "
                                "exec(open('prog.py').read())")
    r = runner.hotpath("run", "-q", "--lines", "-o", "p.hprof", "prog.py")
    assert plain.returncode == r.returncode == 0, r.stderr
    assert r.stdout == plain.stdout
    assert "trace hook kept: True" in r.stdout


API_RUN = """
import sys, threading
import hotpath
from hotpath.capture.memlines import MemLineProfiler

def mine(frame, event, arg):
    return None

def work(n):
    return sum(list(range(n)))

threading.settrace(mine)
lp = hotpath.LineProfiler(work)
lp.enable()
work(100)
t = threading.Thread(target=work, args=(10,))
t.start(); t.join()
lp.disable()
print("after LineProfiler:", threading.gettrace() is mine)

mp = hotpath.MemoryProfiler(native=False).start()
lines = MemLineProfiler(mp)
lines.add_function(work)
lines.enable()
work(100)
t = threading.Thread(target=work, args=(10,))
t.start(); t.join()
lines.disable()
mp.stop()
print("after memory lines:", threading.gettrace() is mine, bool(lines.codes))
print("sys.gettrace:", sys.gettrace())
"""


@trace_hook_only
def test_threading_trace_hook_survives_line_and_memory_line_tracers(runner):
    runner.write("prog.py", API_RUN)
    r = runner.python("prog.py")
    assert r.returncode == 0, r.stderr
    assert r.stdout.splitlines() == ["after LineProfiler: True", "after memory lines: True True",
                                     "sys.gettrace: None"]


FAILED_INSTALL = """
import sys, threading
import hotpath
from hotpath.capture.memlines import MemLineProfiler

def mine(frame, event, arg):
    return None

def work(n):
    return sum(range(n))

fail_at = None                      # the n-th sys.settrace audit event raises
seen = 0
def audit(event, args):
    global seen
    if event == "sys.settrace" and fail_at is not None:
        seen += 1
        if seen == fail_at:
            raise RuntimeError("audit says no")
sys.addaudithook(audit)

go = threading.Event()
other_trace = []
def waiter():
    go.wait()
    other_trace.append(sys.gettrace())
t = threading.Thread(target=waiter)
t.start()

threading.settrace(mine)
mp = hotpath.MemoryProfiler(native=False).start()
for label, start in [("lines", lambda: hotpath.LineProfiler(work).enable()),
                     ("memory", lambda: mp._tracker.settrace(lambda f, e: None))]:
    for n in (1, 2):                # on the first thread, or after one got the hook
        fail_at, seen = n, 0
        try:
            start()
        except RuntimeError as e:
            print(label, n, "refused:", e)
        fail_at = None
        print(label, n, "kept:", threading.gettrace() is mine, sys.gettrace() is None)
mp.stop()
go.set(); t.join()
print("other thread untouched:", other_trace == [None])
"""


@trace_hook_only
def test_a_failed_install_leaves_everything_as_it_was(runner):
    """An audit hook refusing sys.settrace makes the C tracer's install fail on the first
    thread, or on the second after the first got the hook: nothing stays installed, and
    threading's hook is the program's again."""
    runner.write("prog.py", FAILED_INSTALL)
    r = runner.python("prog.py")
    assert r.returncode == 0, r.stderr
    out = r.stdout.splitlines()
    for label in ("lines", "memory"):
        for n in (1, 2):
            assert f"{label} {n} refused: audit says no" in out, r.stdout
            assert f"{label} {n} kept: True True" in out, r.stdout
    assert out[-1] == "other thread untouched: True", r.stdout
