"""hotpath.bench / hotpath.compare: the Python API, the C timing loop, JSON and plots.

Nothing here asserts on wall-clock time. Timing-dependent behaviour is checked with a
deterministic fake timer (the Python-timer path shares calibration and subtraction
with the C path), and the C loop through what it calls, not how long it takes.
"""
import asyncio
import gc
import json
import math
import xml.etree.ElementTree as ET

import pytest

import hotpath
from hotpath import _timing
from hotpath.bench import BenchResult, CompareResult, compare, load
from hotpath.bench.runner import Options, Timed, compile_statement, measure, reference_for


class FakeClock:
    """A timer whose time advances only when told: 1 ns per read, and whatever the
    benchmarked code adds. Per round: elapsed = 1 ns + work, so with L loops the gross
    time per call is work/L + 1/L ns and the reference's is 1/L ns."""

    def __init__(self):
        self.t = 0.0

    def __call__(self):
        now = self.t
        self.t += 1e-9
        return now

    def work(self, seconds):
        self.t += seconds


def test_fake_timer_golden_calibration_and_subtraction():
    clock = FakeClock()

    def body():
        clock.work(5e-9)

    r = hotpath.bench(body, timer=clock, min_time=1e-6, repeat=7, warmup=0)
    # Calibration: 1 -> 10 -> 100 loops (6, 51, 501 ns), then 100 * 1.05 * 1000/501.
    assert r.loops == 209
    assert r.rounds == 7
    assert r.gross == pytest.approx([5e-9 + 1e-9 / 209] * 7)
    assert r.overhead == pytest.approx(1e-9 / 209)
    assert r.samples == pytest.approx([5e-9] * 7)
    assert r.median == pytest.approx(5e-9) and r.stddev == pytest.approx(0, abs=1e-18)
    assert r.warnings() == []


def test_fake_timer_gross_mode_and_fixed_number():
    clock = FakeClock()
    r = hotpath.bench(lambda: clock.work(2e-9), timer=clock, number=4, repeat=3,
                      subtract=False, warmup=0)
    assert r.loops == 4 and r.overhead == 0.0
    assert r.samples == pytest.approx([2e-9 + 0.25e-9] * 3)


def test_rounds_follow_the_time_budget():
    clock = FakeClock()
    # Round = 1000 loops x 1 us (+ ~0): ~1 ms; with the reference, ~1 ms per round pair.
    r = hotpath.bench(lambda: clock.work(1e-6), timer=clock, number=1000, max_time=0.02,
                      min_rounds=3, warmup=0)
    assert r.rounds == 19          # int(0.02 / (1.000001 ms + 1 ns)), the reference's
    r = hotpath.bench(lambda: clock.work(1e-6), timer=clock, number=1000, max_time=0.0001,
                      min_rounds=3, warmup=0)
    assert r.rounds == 3


def test_hotpath_bench_is_callable_module_and_function():
    import hotpath.bench as module
    assert callable(module)
    r = module(lambda: None, number=10, repeat=3, warmup=0)
    assert isinstance(r, BenchResult)
    assert isinstance(hotpath.bench("pass", number=10, repeat=3), BenchResult)
    assert hotpath.compare is compare


def test_c_run_calls_exactly_loops_times_with_args():
    seen = []
    ns = _timing.run(lambda a, b=0: seen.append((a, b)), 5, (1,), {"b": 2})
    assert isinstance(ns, int) and ns >= 0
    assert seen == [(1, 2)] * 5
    assert _timing.run(seen.append, 0, (9,)) >= 0 and len(seen) == 5


def test_c_run_each_uses_prepared_calls_in_order():
    seen = []
    _timing.run_each(lambda *a, **k: seen.append((a, k)), [((1,), None), ((2, 3), {"x": 4})])
    assert seen == [((1,), {}), ((2, 3), {"x": 4})]


def test_c_loop_propagates_exceptions_and_restores_gc():
    assert gc.isenabled()
    calls = []

    def boom():
        calls.append(1)
        if len(calls) == 3:
            raise KeyError("third")

    with pytest.raises(KeyError):
        _timing.run(boom, 10)
    assert len(calls) == 3
    assert gc.isenabled()


def test_c_loop_disables_gc_unless_asked():
    states = []
    _timing.run(lambda: states.append(gc.isenabled()), 2)
    _timing.run(lambda: states.append(gc.isenabled()), 2, None, None, 0, True)
    assert states == [False, False, True, True]
    assert gc.isenabled()


def test_c_calibrate_reaches_target_and_validates():
    loops, ns = _timing.calibrate(lambda: None, 200_000)
    assert loops >= 1 and ns >= 200_000
    loops, _ = _timing.calibrate(lambda: None, 10**12, max_loops=50)
    assert loops == 50
    with pytest.raises(ValueError):
        _timing.calibrate(lambda: None, 0)
    with pytest.raises(ValueError):
        _timing.run(lambda: None, 1, None, None, 7)
    with pytest.raises(TypeError):
        _timing.run(lambda *a: None, 1, [1, 2])


def test_c_clock_info_and_noop():
    info = _timing.clock_info()
    assert set(info) == {0, 1, 2}
    assert all(res > 0 and cost > 0 for res, cost in info.values())
    assert _timing.noop(1, 2, x=3) is None


def test_reference_matches_call_shape():
    def f(a, b, *, c=0):
        return a + b + c

    ref = reference_for(f, (1, 2), {"c": 3})
    assert ref(1, 2, c=3) is None
    assert ref.__code__.co_argcount == 2 and ref.__code__.co_kwonlyargcount == 1

    class K:
        def m(self, x):
            return x

    bound = reference_for(K().m, (1,), {})
    assert bound(1) is None and bound.__self__ is not None
    assert reference_for(len, ([],), {}) is _timing.noop


def test_statement_shares_scope_with_setup_like_timeit():
    out = []
    fn = compile_statement("x += 1\nout.append(x)", "x = 0", globals={"out": out})
    fn(), fn(), fn()
    assert out == [1, 2, 3]              # setup's x, rebound by the statement, persists
    ns = {"y": 40}
    compile_statement("global z\nz = y + 2", globals=ns)()
    assert ns["z"] == 42
    with pytest.raises(SyntaxError):
        compile_statement("x +=")


def test_statement_reference_is_empty_template():
    r = hotpath.bench("pass", number=1000, repeat=5, warmup=0)
    assert r.source == "pass" and r.overhead > 0
    assert len(r.samples) == len(r.gross) == 5
    assert r.samples == pytest.approx([g - r.overhead for g in r.gross])


def test_bench_with_setup_callable_and_kwargs():
    got = []
    hotpath.bench(lambda a, b: got.append((a, b)), setup=lambda: (1, 2), number=3, repeat=2,
                  warmup=0)
    assert set(got) == {(1, 2)}
    hotpath.bench(lambda a, k=None: got.append((a, k)), 5, kwargs={"k": 6}, number=2,
                  repeat=2, warmup=0)
    assert (5, 6) in got
    with pytest.raises(TypeError):
        hotpath.bench("x", 1)
    with pytest.raises(TypeError):
        hotpath.bench(42)


def test_bench_async_function():
    calls = []

    async def coro(n):
        await asyncio.sleep(0)
        calls.append(n)
        return n

    r = hotpath.bench(coro, 7, number=5, repeat=3, warmup=0)
    assert r.is_async and r.rounds == 3
    assert calls.count(7) == 5 * 3 + 5          # rounds + calibration round
    assert r.overhead > 0


def test_bench_memory_peak():
    r = hotpath.bench(lambda: bytearray(1_000_000), number=2, repeat=2, warmup=0, memory=True)
    assert r.memory_peak is not None and r.memory_peak >= 1_000_000
    assert "peak memory" in str(r)


def test_bench_processes_with_statement():
    r = hotpath.bench("sum(range(50))", number=100, repeat=4, processes=2, warmup=0)
    assert r.rounds == 4 and r.options["processes"] == 2
    with pytest.raises(ValueError, match="worker process"):
        hotpath.bench(lambda: None, processes=2, number=10, repeat=2)


def test_result_summary_and_warnings():
    r = BenchResult(name="f", samples=[1e-6, 1.1e-6, 5e-6, 1e-6], gross=[1e-6, 1.1e-6, 5e-6, 1e-6],
                    loops=100, options=Options().as_dict())
    text = r.summary()
    assert text.splitlines()[0] == "f: 4 rounds x 100 loops"
    assert "median 1.05 us" in text
    w = " | ".join(r.warnings())
    assert "more than 4x slower" in w and "standard deviation" in w and "only 4 rounds" in w
    near_zero = BenchResult(name="z", samples=[1e-10] * 10, gross=[2e-8] * 10, overhead=2e-8)
    assert any("below a tenth" in x for x in near_zero.warnings())


def test_result_json_round_trip(tmp_path):
    r = hotpath.bench("sorted(x)", setup="x = [3, 1, 2]", number=50, repeat=6, warmup=0)
    r.extra_info["note"] = "hi"
    path = tmp_path / "r.json"
    r.save(str(path))
    doc = json.loads(path.read_text())
    assert doc["hotpath"]["kind"] == "bench" and doc["hotpath"]["format"] == "hotpath-bench"
    assert {"machine_info", "commit_info", "benchmarks", "datetime", "version"} <= set(doc)
    entry = doc["benchmarks"][0]
    assert entry["stats"]["data"] == r.samples and entry["stats"]["iterations"] == 50
    back = load(str(path))
    assert isinstance(back, BenchResult)
    assert back.samples == r.samples and back.gross == r.gross and back.overhead == r.overhead
    assert back.stats == r.stats and back.extra_info == {"note": "hi"}
    assert back.compare(r).verdict == "same"


def test_load_pytest_benchmark_file_without_data(tmp_path):
    entry = {"group": None, "name": "test_x", "fullname": "t.py::test_x", "params": None,
             "param": None, "extra_info": {}, "options": {},
             "stats": {"min": 1.0, "max": 2.0, "mean": 1.5, "stddev": 0.1, "rounds": 5,
                       "median": 1.5, "iqr": 0.2, "q1": 1.4, "q3": 1.6, "iqr_outliers": 0,
                       "stddev_outliers": 1, "outliers": "1;0", "ld15iqr": 1.0,
                       "hd15iqr": 2.0, "ops": 0.66, "total": 7.5, "iterations": 1}}
    path = tmp_path / "pb.json"
    path.write_text(json.dumps({"machine_info": {}, "commit_info": {}, "benchmarks": [entry],
                                "datetime": "x", "version": "5.2.3"}))
    (res,) = load(str(path))
    assert res.samples == [] and res.stats.median == 1.5 and res.rounds == 5
    assert res.compare(res).verdict == "unknown"


def test_load_rejects_other_files(tmp_path):
    p = tmp_path / "x.json"
    p.write_text('{"a": 1}')
    with pytest.raises(ValueError):
        load(str(p))
    p.write_text('{"benchmarks": [], "hotpath": {"format": "hotpath-bench", "format_version": 99}}')
    with pytest.raises(ValueError, match="newer"):
        load(str(p))


def _compare_small(**kw):
    def builtin_sum(n):
        return sum(range(n))

    def loop_sum(n):
        t = 0
        for i in range(n):
            t += i
        return t

    kw.setdefault("report", False)
    return compare({"sum": builtin_sum, "loop": loop_sum}, sizes=[10, 100, 1000],
                   number=20, repeat=6, warmup=0, **kw)


def test_compare_structure_tables_and_round_trip(tmp_path):
    res = _compare_small()
    assert isinstance(res, CompareResult)
    assert res.baseline == "sum" and res.sizes == [10, 100, 1000]
    assert set(res.results) == {(i, s) for i in ("sum", "loop") for s in (10, 100, 1000)}
    assert all(r.rounds == 6 and r.loops == 20 for r in res.results.values())
    assert res.normalized("sum", 100) == 1.0
    text = res.report()
    assert "size=10" in text and "sum (baseline)" in text and "Mann-Whitney" in text
    assert res.comparison("loop", 1000).verdict in {"faster", "slower", "same"}
    path = tmp_path / "c.json"
    res.save(str(path))
    back = load(str(path))
    assert isinstance(back, CompareResult)
    assert back.implementations == ["sum", "loop"] and back.sizes == [10, 100, 1000]
    assert back.result("loop", 100).samples == res.result("loop", 100).samples
    assert "sum" in back.against(res)


def test_compare_calls_setup_per_cell_and_interleaves():
    order = []

    def a(x):
        order.append("a")

    def b(x):
        order.append("b")

    made = []
    compare({"a": a, "b": b}, sizes=[1, 2], setup=lambda n: made.append(n) or [n],
            number=1, repeat=4, warmup=0, report=False)
    assert made == [1, 1, 2, 2]
    # Every cell of every size is calibrated (one call) and probed for the clock
    # (three calls) before any rounds; then rounds alternate and the order rotates.
    assert order[:16] == ["a"] * 4 + ["b"] * 4 + ["a"] * 4 + ["b"] * 4
    assert order[16:24] == ["a", "b", "b", "a", "a", "b", "b", "a"]
    assert len(order) == 32


def test_compare_prints_and_plots(tmp_path, capsys):
    res = _compare_small(plot=str(tmp_path / "p.svg"), report=True)
    out = capsys.readouterr().out
    assert "Normalised to sum" in out and "plot: " in out
    root = ET.parse(tmp_path / "p.svg").getroot()
    assert root.tag.endswith("svg")
    circles = root.findall(".//{http://www.w3.org/2000/svg}circle")
    assert len(circles) == 12          # 2 implementations x 3 sizes, absolute and normalised
    assert res.plot(str(tmp_path / "q.svg"))[0].endswith("q.svg")


def test_compare_without_sizes_and_with_list():
    def one():
        return 1

    def two():
        return 2

    res = compare([one, two], number=5, repeat=3, warmup=0, report=False)
    assert res.implementations == ["one", "two"] and res.sizes == [None]
    assert "time" in res.table_absolute()
    with pytest.raises(ValueError):
        compare({"a": one}, baseline="zzz", number=1, repeat=1, report=False)


def test_png_plot_when_matplotlib(tmp_path):
    pytest.importorskip("matplotlib")
    res = _compare_small()
    written = res.plot(str(tmp_path / "p.png"))
    assert (tmp_path / "p.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert written == [str(tmp_path / "p.png")]


def test_measure_interleaved_timed_directly():
    t = Timed("x = 1", options=Options(number=3, repeat=2, warmup=0))
    r = measure(t)
    assert r.name == "x = 1" and r.loops == 3 and not math.isnan(r.median)
