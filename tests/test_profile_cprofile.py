"""hotpath.Profile is a drop-in for cProfile.Profile: with a deterministic timer the
statistics are cProfile's exactly, program by program."""
from __future__ import annotations

import asyncio
import gc
import cProfile
import io
import marshal
import pstats
import sys

import pytest
from conftest import only_this_thread

import hotpath
from conftest import FakeTimer

# -- programs -------------------------------------------------------------------------


def fib(n):
    return n if n < 2 else fib(n - 1) + fib(n - 2)


def is_even(n):
    return True if n == 0 else is_odd(n - 1)


def is_odd(n):
    return False if n == 0 else is_even(n - 1)


def prog_recursion():
    fib(12)


def prog_mutual_recursion():
    is_even(30)
    is_odd(7)


def gen(n):
    for i in range(n):
        yield i * i


def prog_generators():
    total = sum(gen(50))
    total += sum(x for x in range(20))
    g = gen(5)
    next(g)
    next(g)
    g.close()
    return total


class Boom(Exception):
    pass


def raiser(depth):
    if depth == 0:
        raise Boom("deep")
    return raiser(depth - 1)


def prog_exceptions():
    for d in range(5):
        try:
            raiser(d)
        except Boom:
            pass
    try:
        int("not a number")
    except ValueError:
        pass
    try:
        {}["missing"]
    except KeyError:
        pass


def prog_builtins_with_kwargs():
    out = io.StringIO()
    data = sorted([5, 3, 9, 1], key=lambda x: -x, reverse=True)
    print("a", "b", sep="-", end="", file=out)
    int("101", base=2)
    dict(a=1, b=2)
    max([1, 2, 3], key=abs, default=0)
    "x".join(str(d) for d in data)
    isinstance(data, list)


class Point:
    def __init__(self, x, y):
        self.x, self.y = x, y

    @property
    def norm(self):
        return (self.x ** 2 + self.y ** 2) ** 0.5

    @classmethod
    def origin(cls):
        return cls(0, 0)

    @staticmethod
    def dist(a, b):
        return abs(a.x - b.x) + abs(a.y - b.y)


def prog_methods_of_c_types():
    items = []
    for i in range(20):
        items.append(i)
    d = {}
    for i in items:
        d.get(i, 0)
        d.setdefault(i % 3, []).append(i)
    s = set()
    s.add(1)
    s.update([2, 3])
    "Hello".upper().lower().split("l")
    b"abc".decode("ascii")
    items.sort(reverse=True)
    list.append(items, 99)          # unbound method descriptor called directly
    dict.fromkeys("abc")
    p = Point(3, 4)
    p.norm
    Point.origin()
    Point.dist(p, Point.origin())


async def leaf(i):
    await asyncio.sleep(0)
    return i


async def main_async():
    results = await asyncio.gather(*(leaf(i) for i in range(5)))
    async def inner():
        return sum(results)
    return await inner()


def prog_coroutines():
    async def step(n):
        total = 0
        for i in range(n):
            total += await leaf(i)
        return total
    coro = step(3)
    try:
        coro.send(None)
        while True:
            coro.send(None)
    except StopIteration:
        pass


PROGRAMS = [prog_recursion, prog_mutual_recursion, prog_generators, prog_exceptions,
            prog_builtins_with_kwargs, prog_methods_of_c_types, prog_coroutines]


def stats_of(cls, program, timer, timeunit=0.0, **kw):
    with only_this_thread():
        return _stats_of(cls, program, timer, timeunit, **kw)


def _stats_of(cls, program, timer, timeunit=0.0, **kw):
    p = cls(timer, timeunit, **kw)
    # Flags are passed to enable() too: from 3.14 cProfile's enable() resets subcalls and
    # builtins to True unless given (before, it kept the constructor's); hotpath keeps the
    # constructor's, as cProfile's documentation says.
    p.enable(**kw)
    try:
        program()
    finally:
        p.disable()
    p.create_stats()
    return p.stats


def own_entries(stats):
    """Drop the profilers' own disable() entries (their labels differ by design)."""
    return {k: v for k, v in stats.items() if not k[2].startswith("<method 'disable' of")}


def normalize(stats):
    out = {}
    for k, (cc, nc, tt, ct, callers) in own_entries(stats).items():
        callers = {c: v for c, v in callers.items() if not c[2].startswith("<method 'disable'")}
        out[k] = (cc, nc, tt, ct, callers)
    return out


@pytest.mark.parametrize("program", PROGRAMS, ids=lambda f: f.__name__)
@pytest.mark.parametrize("timeunit", [0.0, 0.001])
def test_statistics_equal_cprofile(program, timeunit):
    step = 0.001 if timeunit == 0.0 else 1
    expected = normalize(stats_of(cProfile.Profile, program, FakeTimer(step), timeunit))
    actual = normalize(stats_of(hotpath.Profile, program, FakeTimer(step), timeunit))
    assert actual.keys() == expected.keys()
    for key in expected:
        assert actual[key] == expected[key], key


@pytest.mark.parametrize("program", PROGRAMS[:3], ids=lambda f: f.__name__)
def test_without_builtins_or_subcalls_equal_cprofile(program):
    for kw in ({"builtins": False}, {"subcalls": False}):
        expected = normalize(stats_of(cProfile.Profile, program, FakeTimer(), 1.0, **kw))
        actual = normalize(stats_of(hotpath.Profile, program, FakeTimer(), 1.0, **kw))
        assert actual == expected, kw


def test_asyncio_program_equals_cprofile():
    def program():
        asyncio.run(main_async())
    program()   # first use sets up the event loop policy: keep it out of both runs
    # The cyclic GC would run finalizers (__del__) inside one run and not the other.
    gc.collect()
    gc.disable()
    try:
        expected = normalize(stats_of(cProfile.Profile, program, FakeTimer(), 1.0))
        actual = normalize(stats_of(hotpath.Profile, program, FakeTimer(), 1.0))
    finally:
        gc.enable()
    key = next(k for k in expected if k[2] == "leaf")
    assert actual[key][:4] == expected[key][:4]
    assert actual.keys() == expected.keys()


def test_getstats_matches_cprofile():
    def entries(cls):
        p = cls(FakeTimer(), 1.0)
        p.runcall(prog_recursion)
        out = {}
        for e in p.getstats():
            label = e.code if isinstance(e.code, str) else (e.code.co_filename, e.code.co_name)
            if "disable" in str(label):
                continue
            calls = sorted((str(s.code if isinstance(s.code, str) else s.code.co_name),
                            s.callcount, s.reccallcount, s.totaltime, s.inlinetime)
                           for s in (e.calls or []))
            out[str(label)] = (e.callcount, e.reccallcount, e.totaltime, e.inlinetime, calls)
        return out
    assert entries(hotpath.Profile) == entries(cProfile.Profile)


def test_api_surface(tmp_path, capsys):
    p = hotpath.Profile()
    with p:
        fib(10)
    assert not p.enabled
    s = pstats.Stats(p)
    assert any(k[2] == "fib" for k in s.stats)
    p.print_stats("cumulative")
    out = capsys.readouterr().out
    assert "fib" in out and "function calls" in out
    path = tmp_path / "out.prof"
    p.dump_stats(str(path))
    with open(path, "rb") as f:
        loaded = marshal.load(f)
    assert any(k[2] == "fib" for k in loaded)
    pstats.Stats(str(path))  # python -m pstats reads the same file

    q = hotpath.Profile()
    assert q.runcall(fib, 8) == 21
    q.runctx("fib(5)", {"fib": fib}, {})
    q.create_stats()
    assert [v[1] for k, v in q.stats.items() if k[2] == "fib"] == [67 + 15]

    r = hotpath.Profile()
    r.run("import math; math.factorial(5)")
    r.clear()
    r.create_stats()
    assert r.stats == {}


def test_snapshot_has_model_and_metadata():
    p = hotpath.Profile()
    p.runcall(fib, 10)
    data = p.snapshot(meta={"command": "test"})
    assert data.meta["command"] == "test"
    assert data.meta["python"] == sys.version.split()[0]
    stats = data.function_stats()
    fib_id = next(i for i, f in enumerate(data.functions) if f.name == "fib")
    assert stats[fib_id].calls == 177 and stats[fib_id].primitive_calls == 1
    assert stats[fib_id].cum_ticks > 0 and data.tick_seconds > 0


def test_another_profiler_active_is_a_clear_error():
    c = cProfile.Profile()
    c.enable()
    try:
        if sys.version_info < (3, 12):
            # one profile hook per thread: the slot is taken
            with pytest.raises(RuntimeError, match="another profiler is active"):
                hotpath.Profile().enable()
        else:
            # sys.monitoring has several tool ids: hotpath and cProfile record side by side
            p = hotpath.Profile()
            with p:
                fib(5)
            assert any(f.name == "fib" for f in p.snapshot().functions)
    finally:
        c.disable()
    # and the slot is usable again afterwards
    p = hotpath.Profile()
    p.runcall(fib, 3)


@pytest.mark.skipif(sys.version_info < (3, 12), reason="sys.monitoring tool ids are 3.12+")
def test_no_free_tool_id_is_a_clear_error():
    mon = sys.monitoring
    taken = [i for i in (5, 3, 2) if mon.get_tool(i) is None]
    for i in taken:
        mon.use_tool_id(i, "test")
    try:
        with pytest.raises(RuntimeError, match="another profiler is active.*tool ids"):
            hotpath.Profile().enable()
    finally:
        for i in taken:
            mon.free_tool_id(i)
    hotpath.Profile().runcall(fib, 3)


def test_two_hotpath_profilers_cannot_record_at_once():
    a, b = hotpath.Profile(), hotpath.Profile()
    with a:
        with pytest.raises(RuntimeError, match="hotpath profiler is already recording"):
            b.enable()
    with b:
        fib(3)


def test_alternating_profilers_keep_one_tree_per_thread():
    a, b = hotpath.Profile(), hotpath.Profile()
    for _ in range(5):
        for p in (a, b):
            with p:
                fib(4)
    for p in (a, b):
        data = p.snapshot()
        assert len(data.threads) == 1
        (fid,) = [i for i, f in enumerate(data.functions) if f.name == "fib"]
        assert data.function_stats()[fid].calls == 5 * 9


def test_threading_profile_hook_is_restored():
    import threading

    def user_hook(frame, event, arg):
        pass
    threading.setprofile(user_hook)
    try:
        p = hotpath.Profile()
        with p:
            fib(3)
        assert threading.getprofile() is user_hook
    finally:
        threading.setprofile(None)


@pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning")
def test_custom_timer_that_fails_stops_recording_cleanly():
    calls = {"n": 0}

    def timer():
        calls["n"] += 1
        if calls["n"] > 6:
            raise ValueError("broken clock")
        return calls["n"]
    p = hotpath.Profile(timer, 1.0)
    with only_this_thread():
        p.enable()
        fib(6)
        with pytest.raises(RuntimeError, match="custom timer failed"):
            p.disable()
    assert calls["n"] == 7                  # stopped at the first failure
    data = p.snapshot()
    assert data.meta["capture_error"] == "the custom timer failed"
    for t in data.threads:
        assert all(n.self_ticks >= 0 and n.total_ticks >= 0 for n in t.nodes)


def test_timer_cannot_free_the_profiler_under_itself():
    box = {}

    def timer():
        p = box.get("p")
        if p is not None and p.enabled:
            with pytest.raises(RuntimeError, match="from inside its own timer"):
                p.clear()
            box["refused"] = True
        return 1
    p = box["p"] = hotpath.Profile(timer, 1.0)
    p.runcall(fib, 3)
    assert box["refused"]


def test_callbacks_called_from_python_with_junk_do_not_crash():
    import threading
    p = hotpath.Profile()
    with p:
        if sys.version_info < (3, 12):
            hook = threading.getprofile()
            hook(None, "call", None)
            hook("x", "return", None)
        else:
            mon = sys.monitoring
            tool = next(i for i in (5, 3, 2) if mon.get_tool(i) == "hotpath")
            cb = mon.register_callback(tool, mon.events.PY_START, None)
            mon.register_callback(tool, mon.events.PY_START, cb)
            cb("not code", 0)
            cb()
        fib(3)
    p.create_stats()
    assert any(k[2] == "fib" for k in p.stats)


def test_deep_recursion_50000():
    def down(n):
        return 0 if n == 0 else down(n - 1) + 1
    old = sys.getrecursionlimit()
    sys.setrecursionlimit(60_000)
    try:
        p = hotpath.Profile()
        assert p.runcall(down, 50_000) == 50_000
    finally:
        sys.setrecursionlimit(old)
    p.create_stats()
    (key,) = [k for k in p.stats if k[2] == "down"]
    cc, nc, tt, ct, callers = p.stats[key]
    assert (cc, nc) == (1, 50_001)
    assert ct >= tt * 0.999
    assert callers[key][0] == 50_000   # down -> down: every call but the first


def test_sys_exit_and_keyboard_interrupt_pass_through():
    def exits():
        fib(5)
        sys.exit(3)

    def interrupted():
        fib(5)
        raise KeyboardInterrupt

    for program, exc in ((exits, SystemExit), (interrupted, KeyboardInterrupt)):
        p = hotpath.Profile()
        with pytest.raises(exc):
            p.runcall(program)
        p.create_stats()
        assert [v[1] for k, v in p.stats.items() if k[2] == "fib"] == [15]
        assert [v[1] for k, v in p.stats.items() if k[2] == program.__name__] == [1]


def test_tree_cap_is_reported_and_totals_kept():
    def make(n):
        src = "\n".join(f"def f{i}(g):\n    return g()" for i in range(n))
        ns = {}
        exec(src, ns)
        return [ns[f"f{i}"] for i in range(n)]
    funcs = make(40)

    def program():
        for f in funcs:
            f(lambda: None)
    p = hotpath.Profile(builtins=False, max_nodes=16)
    p.runcall(program)
    data = p.snapshot()
    assert data.truncated
    t = data.threads[0]
    assert len(t.nodes) <= 17
    stats = data.function_stats()
    prog = next(i for i, f in enumerate(data.functions) if f.name == "program")
    capped = next(i for i, f in enumerate(data.functions) if "cap reached" in f.name)
    # everything the program did is still accounted for under it
    assert stats[prog].cum_ticks >= stats[capped].cum_ticks > 0
