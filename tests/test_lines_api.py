"""hotpath.LineProfiler's line_profiler-compatible API and hotpath.profile."""
from __future__ import annotations

import asyncio
import io
import sys
import threading

import pytest

import hotpath
from hotpath import LineProfiler
from hotpath.capture.lines import LineStats, load_stats


def work(n):
    s = 0
    for i in range(n):
        s += i
    return s


def gen_work(n):
    for i in range(n):
        yield i * 2


async def coro_work(n):
    s = 0
    for i in range(n):
        await asyncio.sleep(0)
        s += i
    return s


def _hits(lp, func):
    code = func.__code__
    rows = lp.get_stats().timings[(code.co_filename, code.co_firstlineno, code.co_qualname)]
    return {ln - code.co_firstlineno: h for ln, h, _ in rows}


def test_imports_from_the_installed_package():
    assert "site-packages" in hotpath.__file__


def test_decorator_records_only_during_decorated_calls():
    lp = LineProfiler()
    wrapped = lp(work)
    assert wrapped is not work and wrapped.__wrapped__ is work
    work(10)                       # not through the decorator: not recorded
    assert wrapped(10) == 45
    assert _hits(lp, work) == {1: 1, 2: 11, 3: 10, 4: 1}
    assert not lp.enabled


def test_generator_and_coroutine_wrappers_keep_results():
    lp = LineProfiler()
    g = lp(gen_work)
    c = lp(coro_work)
    assert list(g(4)) == [0, 2, 4, 6]
    assert asyncio.run(c(3)) == 3
    assert _hits(lp, gen_work) == {1: 5, 2: 4}
    assert _hits(lp, coro_work)[3] == 3   # the await line: one hit per suspension


def test_context_manager_enable_disable_runcall_runctx():
    lp = LineProfiler(work)
    with lp:
        work(3)
    lp.enable()
    work(3)
    lp.disable()
    assert lp.runcall(work, 3) == 3
    lp.runctx("work(3)", globals(), {})
    assert _hits(lp, work)[4] == 4


def test_enable_by_count_nests():
    lp = LineProfiler(work)
    lp.enable_by_count()
    lp.enable_by_count()
    lp.disable_by_count()
    assert lp.enabled
    work(2)
    lp.disable_by_count()
    assert not lp.enabled
    work(2)
    assert _hits(lp, work)[4] == 1


def test_get_stats_shape_and_empty_functions():
    lp = LineProfiler()
    lp.add_function(work)
    lp.add_function(gen_work)
    lp.runcall(work, 2)
    stats = lp.get_stats()
    assert stats.unit == 1e-9
    key = (work.__code__.co_filename, work.__code__.co_firstlineno, "work")
    rows = stats.timings[key]
    assert [r[0] for r in rows] == sorted(r[0] for r in rows)
    assert all(isinstance(t, int) and t >= 0 for _, _, t in rows)
    gkey = (gen_work.__code__.co_filename, gen_work.__code__.co_firstlineno, "gen_work")
    assert stats.timings[gkey] == []


def test_dump_and_load_stats_round_trip(tmp_path):
    lp = LineProfiler(work)
    lp.runcall(work, 5)
    path = tmp_path / "out.lprof"
    lp.dump_stats(path)
    loaded = load_stats(path)
    assert loaded == lp.get_stats()
    both = LineStats.from_files(path, path)
    key = next(iter(both.timings))
    assert [h for _, h, _ in both.timings[key]] == [2 * h for _, h, _ in loaded.timings[key]]


def test_print_stats_is_kernprofs_table():
    lp = LineProfiler(work)
    lp.runcall(work, 5)
    out = io.StringIO()
    lp.print_stats(stream=out)
    text = out.getvalue()
    assert text.startswith("Timer unit: 1e-06 s\n\n")
    assert "Total time: " in text
    assert f"Function: work at line {work.__code__.co_firstlineno}" in text
    assert "Line #      Hits         Time  Per Hit   % Time  Line Contents" in text
    assert "        s += i" in text


def test_print_stats_stripzeros_and_summary():
    lp = LineProfiler(work, gen_work)
    lp.runcall(work, 5)
    out = io.StringIO()
    lp.print_stats(stream=out, stripzeros=True, summarize=True)
    text = out.getvalue()
    assert "Function: gen_work" not in text
    assert " seconds - " in text and " - work\n" in text


class Widget:
    def __init__(self):
        self.n = 0

    def tick(self):
        self.n += 1
        return self.n

    @property
    def double(self):
        return self.n * 2

    @staticmethod
    def helper():
        return 1


def test_add_class_and_methods_and_properties():
    lp = LineProfiler()
    assert lp.add_class(Widget) == 4
    with lp:
        w = Widget()
        w.tick()
        _ = w.double + Widget.helper()
    assert _hits(lp, Widget.tick) == {1: 1, 2: 1}


def test_add_module_counts_functions(tmp_path, monkeypatch):
    (tmp_path / "mod_for_api.py").write_text(
        "import os\n\ndef a():\n    return 1\n\nclass B:\n    def m(self):\n        return 2\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    import mod_for_api
    lp = LineProfiler()
    assert lp.add_module(mod_for_api) == 2      # a and B.m; not os or its functions


def test_add_function_rejects_what_has_no_code():
    with pytest.raises(TypeError):
        LineProfiler().add_function(len)


def test_only_one_profiler_records_at_a_time():
    a, b = LineProfiler(work), LineProfiler(work)
    a.enable()
    try:
        with pytest.raises(RuntimeError):
            b.enable()
    finally:
        a.disable()
    b.enable()
    b.disable()


def test_paused_decorator_profiler_gives_way_to_another():
    a, b = LineProfiler(), LineProfiler()
    fa = a(work)
    fa(3)                 # a is now armed but paused (3.12+)
    b.add_function(gen_work)
    with b:
        list(gen_work(3))
    assert _hits(b, gen_work)[1] == 4
    fa(3)
    assert _hits(a, work)[4] == 2


def test_clear_zeroes_counters():
    lp = LineProfiler(work)
    lp.runcall(work, 3)
    lp.clear()
    assert _hits(lp, work) == {}


def test_hotpath_profile_is_a_passthrough_when_inactive():
    assert hotpath.profile(work) is work
    assert "inactive" in repr(hotpath.profile)


def test_hotpath_profile_registers_when_installed():
    lp = LineProfiler()
    hotpath.profile.install(lp)
    try:
        assert hotpath.profile(work) is work
    finally:
        hotpath.profile.install(None)
    assert work.__code__ in lp._codes


def test_threads_started_while_enabled_are_recorded():
    lp = LineProfiler(work)
    with lp:
        ts = [threading.Thread(target=work, args=(10,)) for _ in range(3)]
        for t in ts:
            t.start()
        for t in ts:
            t.join()
    assert _hits(lp, work) == {1: 3, 2: 33, 3: 30, 4: 3}


def test_disable_releases_the_tool_id_or_trace_slot():
    lp = LineProfiler(work)
    lp.enable()
    if sys.version_info >= (3, 12):
        assert "hotpath-lines" in [sys.monitoring.get_tool(i) for i in range(6)]
    lp.disable()
    if sys.version_info >= (3, 12):
        assert all(sys.monitoring.get_tool(i) != "hotpath-lines" for i in range(6))
    else:
        assert sys.gettrace() is None


def _helper_calls_back(lp_fn, n):
    total = 0
    for i in range(n):
        total += lp_fn(i)
    return total


def _inner(i):
    if i % 2:
        return i
    return -i


def _outer(n):
    s = _helper_calls_back(_inner, n)
    try:
        _helper_raises()
    except ValueError:
        s += 1
    g = sum(x for x in gen_work(3))
    return s + g


def _helper_raises():
    raise ValueError("x")


@pytest.mark.parametrize("other_profiler", [False, True])
def test_chosen_frames_under_unchosen_callers_keep_every_line(other_profiler):
    # A chosen function calls unchosen ones, one of which calls chosen code again, one
    # raises, a chosen generator runs in between. On 3.11 the trace function is switched
    # on only while a chosen frame runs when the profile slot is free, and stays on when
    # another profiler holds that slot: both must give the same hits.
    import cProfile
    lp = LineProfiler()
    lp.add_function(_outer)
    lp.add_function(_inner)
    lp.add_function(gen_work)
    other = cProfile.Profile() if other_profiler else None
    before = sys.gettrace(), sys.getprofile()
    if other:
        other.enable()
    try:
        with lp:
            if sys.version_info < (3, 12):      # gated exactly when the slot was free
                assert (sys.getprofile() is lp._tracer) is not other_profiler
            assert _outer(5) == -2 + 1 + 6
            assert _outer(2) == 1 + 1 + 6
    finally:
        if other:
            other.disable()
    assert (sys.gettrace(), sys.getprofile()) == before
    assert _hits(lp, _outer) == {1: 2, 2: 2, 3: 2, 4: 2, 5: 2, 6: 2, 7: 2}
    assert _hits(lp, _inner) == {1: 7, 2: 3, 3: 4}
    assert _hits(lp, gen_work) == {1: 8, 2: 6}
