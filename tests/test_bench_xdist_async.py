"""The pytest fixture under pytest-xdist (-n 2: each worker measures its own tests, the
controller prints one table and writes one file) and with ``async def`` targets, through
real pytest runs (pytester)."""
import json

import pytest

pytest_plugins = ["pytester"]
pytest.importorskip("xdist")

FAST = ["-p", "no:cacheprovider", "--hotpath-max-time=0.005", "--hotpath-min-rounds=3",
        "--hotpath-warmup=0"]


def test_xdist_workers_results_merge_at_the_controller(pytester):
    pytester.makepyfile(test_many="""
        import os
        import pytest

        @pytest.mark.parametrize("n", [10, 20, 30, 40])
        def test_sum(hotpath_benchmark, n):
            hotpath_benchmark.extra_info["worker"] = os.environ.get("PYTEST_XDIST_WORKER")
            hotpath_benchmark(sum, range(n))
    """)
    saved = pytester.path / "all.json"
    result = pytester.runpytest(*FAST, "-n", "2", f"--hotpath-save={saved}")
    result.assert_outcomes(passed=4)
    out = result.stdout.str()
    assert out.count("hotpath benchmarks") == 1               # one table
    for n in (10, 20, 30, 40):
        assert f"test_sum[{n}]" in out
    result.stdout.fnmatch_lines(["*2 pytest-xdist workers measured at the same time*"
                                 "--hotpath-measure=instructions*"])
    doc = json.loads(saved.read_text())
    assert sorted(b["param"] for b in doc["benchmarks"]) == ["10", "20", "30", "40"]
    workers = {b["extra_info"]["worker"] for b in doc["benchmarks"]}
    assert workers == {"gw0", "gw1"}                          # measured in both workers
    # A comparison (and its gate) happens once, at the controller.
    result = pytester.runpytest(*FAST, "-n", "2", f"--hotpath-compare={saved}",
                                "--hotpath-compare-fail=median:1000%")
    result.assert_outcomes(passed=4)
    assert result.stdout.str().count("hotpath: compared with") == 1
    assert result.ret == 0


def test_async_function_with_an_argument(pytester):
    """hotpath_benchmark(async_fn, arg): awaited in one event loop for all the rounds
    (plus one for the value returned), the loop's own cost subtracted."""
    pytester.makepyfile(test_async_bench="""
        import asyncio
        import asyncio.events as events

        made = []
        _new = events.new_event_loop

        def counting_new_event_loop():
            made.append(1)
            return _new()

        events.new_event_loop = counting_new_event_loop

        async def double(x):
            await asyncio.sleep(0)
            return 2 * x

        def test_async(hotpath_benchmark):
            assert hotpath_benchmark(double, 21) == 42
            r = hotpath_benchmark.stats.result
            assert r.is_async and r.rounds >= 3 and r.loops > 1
            assert r.overhead > 0                       # an empty coroutine's round
            assert len(made) == 2, made
    """)
    saved = pytester.path / "a.json"
    result = pytester.runpytest(*FAST, f"--hotpath-save={saved}")
    result.assert_outcomes(passed=1)
    (entry,) = json.loads(saved.read_text())["benchmarks"]
    assert entry["hotpath"]["async"] is True and entry["hotpath"]["overhead"] > 0
    assert entry["options"]["clock"] == "perf"              # the event loop may wait
