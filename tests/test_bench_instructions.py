"""Instruction counts (measure="instructions"): the counted region in hotpath._timing,
the callgrind and perf backends, the result, the CLI, the pytest fixture and the gates.

The valgrind tests run small targets under callgrind (a few seconds each) and are
skipped, saying so, where valgrind is not installed (Debian: apt-get install valgrind).
"""
import errno
import json
import os
import shutil

import pytest

from hotpath import _timing
from hotpath.bench import BenchResult
from hotpath.bench.counts import parse_total
from hotpath.bench.gate import Gate

HAVE_VALGRIND = shutil.which("valgrind") is not None
# The AddressSanitizer run (make asan) preloads libasan, which valgrind cannot host.
UNDER_ASAN = "libasan" in os.environ.get("LD_PRELOAD", "")
needs_valgrind = pytest.mark.skipif(not HAVE_VALGRIND or UNDER_ASAN,
                                    reason="valgrind not installed (apt-get install valgrind)"
                                    if not HAVE_VALGRIND else "valgrind cannot run under ASan")
pytest_plugins = ["pytester"]


def test_count_runs_the_loop_in_the_region_and_restores_gc():
    calls = []
    assert _timing.count(calls.append, 5, (1,)) is None
    assert calls == [1] * 5
    assert _timing.REGION_SYMBOL == "hp_timing_counted_region"

    def boom():
        raise KeyError("x")

    import gc
    assert gc.isenabled()
    with pytest.raises(KeyError):
        _timing.count(boom, 3)
    assert gc.isenabled()
    with pytest.raises(ValueError):
        _timing.count(boom, -1)


def test_perf_events_count_or_say_why_not():
    status = _timing.perf_status()
    if status:
        assert status in (errno.ENOENT, errno.EOPNOTSUPP, errno.EACCES, errno.EPERM,
                          errno.ENOSYS, errno.EINVAL, errno.ENODEV) or status > 0
        with pytest.raises(OSError) as info:
            _timing.count(len, 10, ((),), None, False, True)
        assert info.value.errno == status
    else:
        small = _timing.count(sum, 10, (range(10),), None, False, True)
        big = _timing.count(sum, 10, (range(10000),), None, False, True)
        assert 0 < small["instructions"] < big["instructions"]


def test_parse_total_reads_callgrind_totals():
    text = "# callgrind format\nversion: 1\nevents: Ir\nfn=x\n1 5\nsummary: 1234\ntotals: 1234\n"
    assert parse_total(text) == 1234
    with pytest.raises(ValueError):
        parse_total("not callgrind\n")


def _counted(name, samples):
    return BenchResult(name=name, samples=[1e-6] * 5,
                       counts={"backend": "callgrind", "loops": 64, "rounds": len(samples),
                               "samples": {"instructions": list(samples)}, "overhead": {}})


def test_instruction_gate_fails_a_one_percent_rise_only():
    gate = Gate.parse("instructions:0.5%")
    assert str(gate) == "instructions:0.5%"
    then = _counted("b", [10000, 10000, 10001])
    worse = gate.check(_counted("b", [10100, 10100, 10100]), then)
    assert worse.failed and "+1.00%" in worse.message
    same = gate.check(_counted("b", [10001, 10000, 10000]), then)
    assert not same.failed
    # Over the limit, but the rounds overlap: not a regression.
    noisy = gate.check(_counted("b", [9000, 11000, 10100]), _counted("b", [9000, 11000, 10000]))
    assert not noisy.failed and "overlap" in noisy.message
    # A gate on counts a run did not take fails, saying so.
    missing = gate.check(BenchResult(name="b", samples=[1e-6] * 5), then)
    assert missing.failed and "no instructions counted" in missing.message
    absolute = Gate.parse("instructions:50")
    assert absolute.check(_counted("b", [10060] * 3), then).failed
    assert not absolute.check(_counted("b", [10040] * 3), then).failed
    with pytest.raises(ValueError):
        Gate.parse("instructions:5us")


def test_counts_survive_json():
    r = _counted("b", [100.0, 101.0, 100.0])
    back = BenchResult.from_dict(json.loads(json.dumps(r.to_dict())))
    assert back.instructions == 100.0 and back.count_samples() == [100.0, 101.0, 100.0]
    assert "instructions 100.0 per call" in back.summary()


@pytest.fixture
def force_valgrind(monkeypatch):
    monkeypatch.setenv("HOTPATH_COUNTER", "valgrind")
    monkeypatch.delenv("HOTPATH_CALLGRIND_OUT", raising=False)


@needs_valgrind
def test_cli_counts_statements_exactly(runner, force_valgrind):
    """Two statements, one doing twice the other's work: counts in proportion, the
    rounds within 0.5% of each other (the heap's state between rounds moves a count by
    a few instructions), saved in the JSON beside the times."""
    p = runner.hotpath("bench", "--measure", "instructions", "--max-time", "0.02", "--json",
                       "-s", "a = list(range(300)); b = list(range(600))", "sum(a)", "sum(b)",
                       timeout=300)
    assert p.returncode == 0, p.stderr
    doc = json.loads(p.stdout)
    counts = {b["name"]: b["hotpath"]["counts"] for b in doc["benchmarks"]}
    one, two = counts["sum(a)"], counts["sum(b)"]
    assert one["backend"] == "callgrind"
    for c in (one, two):
        xs = c["samples"]["instructions"]
        assert len(xs) == 3 and max(xs) - min(xs) < 0.005 * min(xs)
    ratio = two["samples"]["instructions"][0] / one["samples"]["instructions"][0]
    assert 1.7 < ratio < 2.1
    entry = doc["benchmarks"][0]["hotpath"]
    assert entry["instructions"] == sorted(one["samples"]["instructions"])[1]


@needs_valgrind
def test_api_counts_a_module_level_callable(force_valgrind):
    import math

    import hotpath
    r = hotpath.bench(math.factorial, 60, measure="instructions", max_time=0.02)
    assert r.instructions and r.instructions > 0
    assert r.counts["overhead"]["instructions"] > 0      # the loop's own count, subtracted
    with pytest.raises(ValueError, match="module-level function"):
        hotpath.bench(lambda: None, measure="instructions", max_time=0.01)
    with pytest.raises(ValueError, match="measure"):
        hotpath.bench(len, (), measure="cycles")


@needs_valgrind
def test_fixture_counts_in_a_rerun_under_callgrind(pytester, force_valgrind):
    """--hotpath-measure=instructions where only valgrind counts: the benchmarking test
    runs once more under callgrind; a closure (nothing to pickle) and an async function
    are counted, and a gate on instructions reads the saved counts."""
    pytester.makepyfile(test_counted="""
        import asyncio

        async def twice(x):
            await asyncio.sleep(0)
            return x * 2

        def test_closure(hotpath_benchmark):
            data = list(range(100))
            hotpath_benchmark(lambda: [x + 1 for x in data])

        def test_async(hotpath_benchmark):
            assert hotpath_benchmark(twice, 4) == 8
    """)
    saved = pytester.path / "run.json"
    result = pytester.runpytest_subprocess(
        "-p", "no:cacheprovider", "--hotpath-max-time=0.01", "--hotpath-min-rounds=3",
        "--hotpath-measure=instructions", f"--hotpath-save={saved}", timeout=600)
    result.assert_outcomes(passed=2)
    result.stdout.fnmatch_lines(["*Instructions*", "*counted by callgrind*"])
    doc = json.loads(saved.read_text())
    by_name = {b["name"]: b["hotpath"] for b in doc["benchmarks"]}
    assert by_name["test_closure"]["instructions"] > 100
    assert by_name["test_async"]["instructions"] > 0 and by_name["test_async"]["async"]


def test_without_counters_or_valgrind_one_clear_error(runner, pytester, monkeypatch):
    monkeypatch.setenv("HOTPATH_COUNTER", "valgrind")      # as if perf events were absent
    monkeypatch.setenv("PATH", "/nonexistent")             # and valgrind not installed
    p = runner.hotpath("bench", "--measure", "instructions", "--max-time", "0.01", "1 + 1")
    assert p.returncode == 2 and "Traceback" not in p.stderr
    assert "valgrind is not installed" in p.stderr
    pytester.makepyfile(test_x="def test_x(hotpath_benchmark):\n    hotpath_benchmark(len, ())\n")
    result = pytester.runpytest("--hotpath-measure=instructions")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["*--hotpath-measure=instructions: *valgrind is not installed*"])
