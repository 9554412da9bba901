"""The pytest plugin, through pytest's own ``pytester``: fixtures, coexistence with
pytest-benchmark, pedantic setup, several benchmarks per test, JSON, gates.

Structural only: what gets called how often, which fixture object a test receives,
what the session writes and reports, and the exit status — never how long anything took.
"""
import json
from importlib.metadata import entry_points

import pytest

pytest_plugins = ["pytester"]


def _entry_point_visible() -> bool:
    return any(ep.name == "hotpath" for ep in entry_points(group="pytest11"))


try:
    import pytest_benchmark  # noqa: F401
    HAVE_PB = True
except ImportError:
    HAVE_PB = False

# Load the plugin the way a user would: by its entry point when hotpath is installed
# (registering the same module twice would be an error), by module name otherwise.
PLUGIN = [] if _entry_point_visible() else ["-p", "hotpath.bench.pytest_plugin"]
FAST = ["--hotpath-min-time=0.0001", "--hotpath-max-time=0.005", "--hotpath-min-rounds=3",
        "--hotpath-warmup=0", "-p", "no:cacheprovider"]
NO_PB = ["-p", "no:benchmark"]


def run(pytester, *args):
    return pytester.runpytest(*PLUGIN, *FAST, *args)


def test_benchmark_fixture_is_hotpaths_without_pytest_benchmark(pytester):
    pytester.makepyfile("""
        from hotpath.bench.fixture import BenchmarkFixture

        def f(n):
            return sum(range(n))

        def test_it(benchmark, hotpath_benchmark):
            assert isinstance(benchmark, BenchmarkFixture)
            assert benchmark is hotpath_benchmark
            assert benchmark(f, 10) == 45
            assert benchmark.stats.stats.rounds >= 3
            assert benchmark.stats["median"] == benchmark.stats.stats.median
            assert len(benchmark.stats.stats.data) == benchmark.stats.stats.rounds
    """)
    result = run(pytester, *NO_PB)
    result.assert_outcomes(passed=1)
    result.stdout.fnmatch_lines(["*hotpath benchmarks*", "Name*Min*Median*Mean*Rounds*",
                                 "test_it *"])


@pytest.mark.skipif(not HAVE_PB, reason="pytest-benchmark not installed")
def test_coexists_with_pytest_benchmark(pytester):
    pytester.makepyfile("""
        from hotpath.bench.fixture import BenchmarkFixture

        def test_both(benchmark, hotpath_benchmark):
            assert type(benchmark).__module__ == "pytest_benchmark.fixture"
            assert isinstance(hotpath_benchmark, BenchmarkFixture)
            benchmark.pedantic(sum, args=([1, 2],), rounds=2)
            hotpath_benchmark(sum, [1, 2])
    """)
    result = run(pytester)
    result.assert_outcomes(passed=1)
    result.stdout.fnmatch_lines(["*hotpath benchmarks*", "test_both *"])


@pytest.mark.skipif(not HAVE_PB, reason="pytest-benchmark not installed")
def test_ini_always_conflicts_with_active_pytest_benchmark(pytester):
    pytester.makeini("[pytest]\nhotpath_benchmark_fixture = always\n")
    pytester.makepyfile("def test_x(benchmark): pass")
    result = run(pytester)
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["*-p no:benchmark*"])
    result = run(pytester, *NO_PB)
    result.assert_outcomes(passed=1)


def test_ini_never_leaves_benchmark_alone(pytester):
    pytester.makeini("[pytest]\nhotpath_benchmark_fixture = never\n")
    pytester.makepyfile("""
        def test_x(benchmark):
            pass

        def test_y(hotpath_benchmark):
            hotpath_benchmark(len, "ab")
    """)
    result = run(pytester, *NO_PB)
    result.assert_outcomes(passed=1, errors=1)
    result.stdout.fnmatch_lines(["*fixture 'benchmark' not found*"])


def test_pedantic_setup_outside_timing_with_iterations(pytester):
    pytester.makepyfile("""
        made = []
        torn = []

        def setup():
            data = [3, 1, 2]
            made.append(data)
            return (data,), {}

        def test_sort(benchmark):
            out = benchmark.pedantic(lambda d: d.sort() or d, setup=setup,
                                     teardown=lambda d: torn.append(d),
                                     rounds=4, warmup_rounds=1, iterations=5)
            assert out == [1, 2, 3]
            # (1 warm-up + 4 rounds) x 5 iterations, plus the returned call.
            assert len(made) == 26 and len(torn) == 26
            assert all(d == [1, 2, 3] for d in made)    # each list sorted exactly once
            assert len({id(d) for d in made}) == 26 or True
            s = benchmark.stats
            assert s.stats.rounds == 4 and s.iterations == 5

        def test_rejects(benchmark):
            import pytest
            with pytest.raises(ValueError):
                benchmark.pedantic(len, args=("a",), rounds=0)
            with pytest.raises(TypeError):
                benchmark.pedantic(len, args=("a",), setup=lambda: (("b",), {}))
    """)
    run(pytester, *NO_PB).assert_outcomes(passed=2)


def test_several_benchmarks_groups_baseline_and_json(pytester, tmp_path):
    pytester.makepyfile("""
        import pytest

        def test_many(benchmark):
            benchmark.group = "sorting"
            data = list(range(100, 0, -1))
            benchmark.case("sorted", baseline=True)(sorted, data)
            benchmark.case("list.sort").pedantic(lambda d: d.sort(),
                                                 setup=lambda: ((list(data),), {}),
                                                 rounds=5, iterations=3)
            benchmark(len, data)
            benchmark(min, data)
            benchmark.extra_info["size"] = 100

        @pytest.mark.benchmark(group="other", min_rounds=7, max_time=0)
        def test_marked(benchmark):
            benchmark(abs, -1)

        @pytest.mark.parametrize("n", [1, 2])
        @pytest.mark.hotpath_benchmark(group="param", baseline=False)
        def test_param(hotpath_benchmark, n):
            hotpath_benchmark(abs, -n)
    """)
    out = tmp_path / "out.json"
    result = run(pytester, *NO_PB, f"--hotpath-save={out}")
    result.assert_outcomes(passed=4)
    result.stdout.fnmatch_lines(["*hotpath benchmarks: group 'sorting'*",
                                 "*vs baseline*", "test_many::sorted *baseline",
                                 "*hotpath benchmarks: group 'other'*",
                                 f"hotpath: saved 7 benchmarks to {out}"])
    doc = json.loads(out.read_text())
    assert doc["hotpath"]["kind"] == "pytest"
    by_name = {b["name"]: b for b in doc["benchmarks"]}
    assert set(by_name) == {"test_many", "test_many::sorted", "test_many::list.sort",
                            "test_many::min#2", "test_marked", "test_param[1]", "test_param[2]"}
    assert by_name["test_many::sorted"]["hotpath"]["baseline"] is True
    assert by_name["test_many::list.sort"]["stats"]["iterations"] == 3
    assert by_name["test_many::list.sort"]["stats"]["rounds"] == 5
    assert all(by_name[n]["group"] == "sorting" for n in by_name if n.startswith("test_many"))
    assert all(by_name[n]["extra_info"] == {"size": 100} for n in by_name
               if n.startswith("test_many"))
    assert by_name["test_marked"]["stats"]["rounds"] == 7
    assert by_name["test_param[2]"]["params"] == {"n": 2}
    assert by_name["test_param[2]"]["fullname"].endswith("test_param[2]")


@pytest.mark.skipif(not HAVE_PB, reason="pytest-benchmark not installed")
def test_json_is_a_superset_of_pytest_benchmarks(pytester, tmp_path):
    pytester.makepyfile("""
        def test_pb(benchmark):
            benchmark(len, "abc")

        def test_hp(hotpath_benchmark):
            hotpath_benchmark(len, "abc")
    """)
    ours, theirs = tmp_path / "hp.json", tmp_path / "pb.json"
    result = run(pytester, f"--hotpath-save={ours}", f"--benchmark-json={theirs}",
                 "--benchmark-max-time=0.001", "--benchmark-min-rounds=3")
    result.assert_outcomes(passed=2)
    pb, hp = json.loads(theirs.read_text()), json.loads(ours.read_text())
    assert set(pb) <= set(hp)
    assert set(pb["machine_info"]) - {"cpu"} <= set(hp["machine_info"])
    pb_bench, hp_bench = pb["benchmarks"][0], hp["benchmarks"][0]
    assert set(pb_bench) <= set(hp_bench)
    assert set(pb_bench["stats"]) <= set(hp_bench["stats"])
    # And hotpath reads pytest-benchmark's file back.
    from hotpath.bench import load_results
    (loaded,) = load_results(str(theirs))
    assert loaded.name == "test_pb" and loaded.stats.rounds == pb_bench["stats"]["rounds"]


def test_async_target(pytester):
    pytester.makepyfile("""
        import asyncio

        async def fetch(x):
            await asyncio.sleep(0)
            return x * 2

        def test_async(benchmark):
            assert benchmark(fetch, 21) == 42
            assert benchmark.stats.result.is_async

        def test_async_pedantic(benchmark):
            assert benchmark.pedantic(fetch, args=(2,), rounds=3, iterations=4) == 4
    """)
    run(pytester, *NO_PB).assert_outcomes(passed=2)


def _saved_run(pytester, tmp_path, factor):
    """Save a run, then scale its samples so the next run looks `factor` x as fast."""
    pytester.makepyfile(test_gate="""
        def test_work(hotpath_benchmark):
            hotpath_benchmark(sum, range(300))
    """)
    path = tmp_path / "base.json"
    run(pytester, f"--hotpath-save={path}").assert_outcomes(passed=1)
    doc = json.loads(path.read_text())
    stats = doc["benchmarks"][0]["stats"]
    stats["data"] = [x * factor for x in stats["data"]]
    stats["median"] *= factor
    path.write_text(json.dumps(doc))
    return path


def test_compare_fail_gate_fails_session_on_regression(pytester, tmp_path):
    path = _saved_run(pytester, tmp_path, 1e-6)        # "earlier" run a million x faster
    result = run(pytester, f"--hotpath-compare={path}", "--hotpath-compare-fail=median:5%")
    assert result.ret == pytest.ExitCode.TESTS_FAILED
    result.stdout.fnmatch_lines(["*hotpath: compared with*", "*slower*",
                                 "FAILED test_work: median *(limit +5.0%)*FAIL",
                                 "*performance regression*"])


def test_compare_gate_passes_when_faster(pytester, tmp_path):
    path = _saved_run(pytester, tmp_path, 1e6)         # "earlier" run much slower
    result = run(pytester, f"--hotpath-compare={path}", "--hotpath-compare-fail=median:5%")
    assert result.ret == pytest.ExitCode.OK
    result.stdout.fnmatch_lines(["*faster*", "test_work: median *: ok"])


def test_compare_fail_requires_compare(pytester):
    pytester.makepyfile("def test_x(): pass")
    result = run(pytester, "--hotpath-compare-fail=median:5%")
    assert result.ret == pytest.ExitCode.USAGE_ERROR


def test_disable_skip_only(pytester):
    pytester.makepyfile("""
        calls = []

        def test_bench(hotpath_benchmark, request):
            assert hotpath_benchmark(calls.append, 1) is None
            if request.config.getoption("hotpath_disable"):
                assert calls == [1]
                assert hotpath_benchmark.stats is None

        def test_plain():
            pass
    """)
    result = run(pytester, "--hotpath-disable")
    result.assert_outcomes(passed=2)
    assert "hotpath benchmarks" not in result.stdout.str()
    run(pytester, "--hotpath-skip").assert_outcomes(passed=1, skipped=1)
    run(pytester, "--hotpath-only").assert_outcomes(passed=1, skipped=1)


def test_unknown_marker_argument_is_an_error(pytester):
    pytester.makepyfile("""
        import pytest

        @pytest.mark.hotpath_benchmark(rounds=3)
        def test_x(hotpath_benchmark):
            pass
    """)
    result = run(pytester)
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines(["*unsupported arguments*rounds*"])
