"""The hooks hotpath takes, on every version: what sys.monitoring (3.12+) and the legacy
profile/trace hooks (3.11; built on sys.monitoring from 3.12) look like before, during
and after, and a program's own hooks beside hotpath's."""
from __future__ import annotations

import sys

import pytest

import hotpath
from hotpath import _core

monitoring_only = pytest.mark.skipif(sys.version_info < (3, 12),
                                     reason="sys.monitoring is 3.12+")


def _single_events() -> list[tuple[str, int]]:
    ev = sys.monitoring.events
    return [(n, getattr(ev, n)) for n in dir(ev)
            if n.isupper() and bin(getattr(ev, n)).count("1") == 1]


def leftovers() -> list[tuple]:
    """Every tool id hotpath could have used (0-5): in use by anyone, events still set,
    or a callback still registered. free_tool_id clears events and callbacks only from
    3.14 (clear_tool_id); before, hotpath must do it itself. Tests compare this before and
    after, judging only the ids that were free before."""
    mon = sys.monitoring
    out = []
    for tid in range(6):
        if mon.get_tool(tid) is not None:
            out.append((tid, "in use by", mon.get_tool(tid)))
            continue
        mon.use_tool_id(tid, "probe")
        try:
            if mon.get_events(tid):
                out.append((tid, "events", mon.get_events(tid)))
            for name, bit in _single_events():
                if mon.register_callback(tid, bit, None) is not None:
                    out.append((tid, "callback", name))
        finally:
            mon.free_tool_id(tid)
    return out


def _busy() -> set[int]:
    """Tool ids in use before a test: another in-process test may have left a profiler
    alive (a dropped, still enabled one keeps its id, as cProfile's does), and a new one
    may take over or release it; only the ids that were free are judged."""
    return {i for i in range(6) if sys.monitoring.get_tool(i) is not None}


def work() -> int:
    def fib(n: int) -> int:
        return n if n < 2 else fib(n - 1) + fib(n - 2)
    return fib(12) + len(sorted([3, 1, 2]))


@monitoring_only
@pytest.mark.parametrize("make", [hotpath.Profile, lambda: _core.NullHook(builtins=True)],
                         ids=["Profile", "floor"])
def test_disable_leaves_no_tool_events_or_callbacks(make):
    busy = _busy()
    p = make()
    p.enable()
    try:
        work()
    finally:
        p.disable()
    assert [x for x in leftovers() if x[0] not in busy] == []


@monitoring_only
def test_line_profiler_leaves_nothing_behind():
    # A line tracer an earlier test left armed but paused (its decorated calls all
    # returned) holds its tool id until another is enabled: make it give way first.
    give_way = hotpath.LineProfiler()
    give_way.enable()
    give_way.disable()
    busy = _busy()
    lp = hotpath.LineProfiler()
    wrapped = lp(work)
    lp.enable()
    try:
        wrapped()
    finally:
        lp.disable()
    assert [x for x in leftovers() if x[0] not in busy] == []


@monitoring_only
def test_tool_id_policy_is_the_same_on_every_version():
    """hotpath takes the first free of 5, 3, 2 (never the debugger's 0, the coverage
    tool's 1 or the optimizer's): the same order on 3.12 through 3.15."""
    mon = sys.monitoring
    taken = {i for i in range(6) if mon.get_tool(i) is not None}
    p = hotpath.Profile()
    p.enable()
    try:
        held = [i for i in range(6) if mon.get_tool(i) == "hotpath"]
    finally:
        p.disable()
    assert held == [next(i for i in (5, 3, 2) if i not in taken)]


PROGRAM_WITH_OWN_PROFILE_HOOK = """
import sys
seen = []
def hook(frame, event, arg):
    if event == "call":
        seen.append(frame.f_code.co_name)
def leaf():
    return 1
def work():
    return sum(leaf() for _ in range(3))
sys.setprofile(hook)
work()
sys.setprofile(None)
print("own hook saw", sorted(set(seen)), "leaf calls", seen.count("leaf"))
"""


def test_program_with_its_own_profile_hook_sees_what_it_sees_under_python(runner):
    """From 3.12 sys.setprofile is built on sys.monitoring (its own tool id); on 3.11 it
    displaces hotpath's C hook (the report says so). Either way the program's output is
    what plain Python prints."""
    runner.write("prog.py", PROGRAM_WITH_OWN_PROFILE_HOOK)
    plain = runner.python("prog.py")
    prof = runner.hotpath("run", "-q", "-o", "p.hprof", "prog.py")
    assert plain.returncode == prof.returncode == 0, prof.stderr
    assert prof.stdout == plain.stdout
    assert "leaf calls 3" in plain.stdout
    data = hotpath.load(str(runner.cwd / "p.hprof"))
    if sys.version_info >= (3, 12):
        assert any(f.name == "leaf" for f in data.functions)


def test_a_second_profiler_is_refused_as_cprofile_refuses_it():
    """cProfile (3.12+) raises ValueError for a second profiler; hotpath's refusal is a
    ValueError too (and a RuntimeError, as it always was), and leaves the first recording."""
    first, second = hotpath.Profile(), hotpath.Profile()
    first.enable()
    try:
        with pytest.raises(ValueError, match="another profiler is active"):
            second.enable()
        with pytest.raises(RuntimeError):
            second.enable()
        work()
    finally:
        first.disable()
    assert any(e.code is not None and getattr(e.code, "co_name", "") == "fib"
               for e in first.getstats())
