"""Foreign benchmark files given to ``--compare`` / ``--hotpath-compare``.

Issue 10, item 8: a pyperf file ended in a raw ``KeyError: 'name'`` (under pytest: a
crash after the tests had run). hotpath now reads pyperf's format, checks every file's
shape before reading it, and turns anything else into one clear error — before any
benchmark or test runs.
"""
import json
import subprocess
import sys

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from hotpath.bench import load_results

from test_bench_plugin import FAST, NO_PB, PLUGIN

pytest_plugins = ["pytester"]

HOTPATH = [sys.executable, "-m", "hotpath"]
STMT, SETUP = "d.get('k')", "d = {'k': 1}"


@pytest.fixture(scope="module")
def pyperf_file(tmp_path_factory):
    """A real pyperf file: ``pyperf timeit`` on d.get('k'), named like a test below."""
    pytest.importorskip("pyperf")
    path = tmp_path_factory.mktemp("pyperf") / "pyperf.json"
    proc = subprocess.run([sys.executable, "-m", "pyperf", "timeit", "-q", "-p", "2", "-n", "3",
                           "-l", "1000", "-w", "1", "--name", "test_work", "-o", str(path),
                           "-s", SETUP, STMT], capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    return path


def test_cli_compares_with_a_pyperf_file(pyperf_file):
    # --timer thread: under load (or ASan) auto may itself pick the wall clock, and then
    # the runs would be alike in that respect.
    proc = subprocess.run([*HOTPATH, "bench", "--compare", str(pyperf_file), "-n", "1000",
                           "-r", "5", "--timer", "thread", "-s", SETUP, STMT],
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert "Traceback" not in proc.stderr
    row = next(ln for ln in proc.stdout.splitlines() if ln.startswith(STMT + "  "))
    assert "x" in row and "p=" in row                        # a ratio and a p-value
    # pyperf reads the wall clock and subtracts nothing: said, never silent.
    assert "then wall clock" in row and "then gross" in row


def test_pyperf_file_is_read_as_pyperf_wrote_it(pyperf_file):
    doc = json.loads(pyperf_file.read_text())
    values = [v for b in doc["benchmarks"] for run in b["runs"] for v in run.get("values", [])]
    (r,) = load_results(str(pyperf_file))
    assert r.name == "test_work" and r.source == STMT
    assert r.samples == values == r.gross and len(values) == 6
    assert r.clock == "perf" and r.options["subtract"] is False


def test_pytest_compares_with_a_pyperf_file(pytester, pyperf_file):
    pytester.makepyfile("""
        def test_work(hotpath_benchmark):
            d = {'k': 1}
            hotpath_benchmark(d.get, 'k')
    """)
    result = pytester.runpytest(*PLUGIN, *FAST, *NO_PB, f"--hotpath-compare={pyperf_file}")
    result.assert_outcomes(passed=1)
    assert result.ret == pytest.ExitCode.OK
    result.stdout.fnmatch_lines(["*hotpath: compared with*", "test_work *x*p=*then wall clock*"])


BAD_FILES = {
    "list": [1, 2, 3],
    "no benchmarks": {"a": 1},
    "benchmark not an object": {"benchmarks": [1]},
    "no name": {"benchmarks": [{"stats": {"data": [1e-6]}}]},
    "data not numbers": {"benchmarks": [{"name": "x", "stats": {"data": "abc"}}]},
    "stats without numbers": {"benchmarks": [{"name": "x", "stats": {"min": "1"}}]},
    "header not an object": {"benchmarks": [{"name": "x", "stats": {"data": [1.0]}}],
                             "hotpath": 5},
    "pyperf without name": {"version": "1.0", "benchmarks": [{"runs": [{"values": [1e-6]}]}]},
    "pyperf bytes": {"version": "1.0", "metadata": {"name": "m", "unit": "byte"},
                     "benchmarks": [{"runs": [{"values": [10]}]}]},
    "pyperf old version": {"version": "0.9.6", "benchmarks": [{"runs": []}]},
    "compare without cells": {"benchmarks": [{"name": "x", "stats": {"data": [1.0]}}],
                              "hotpath": {"format": "hotpath-bench", "kind": "compare",
                                          "compare": {"implementations": ["a"], "sizes": [1],
                                                      "baseline": "a"}}},
}


@pytest.mark.parametrize("what", sorted(BAD_FILES))
def test_cli_rejects_a_malformed_file_in_one_line(tmp_path, what):
    path = tmp_path / "bad.json"
    path.write_text(json.dumps(BAD_FILES[what]))
    proc = subprocess.run([*HOTPATH, "bench", "--compare", str(path), "-n", "10", "-r", "3",
                           "pass"], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 2
    assert proc.stdout == ""                       # nothing was measured
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("hotpath bench: error: --compare: "), lines


def test_cli_rejects_a_file_that_is_not_json(tmp_path):
    path = tmp_path / "bad.json"
    path.write_bytes(b"\xff\xfe not json")
    proc = subprocess.run([*HOTPATH, "bench", "--compare", str(path), "pass"],
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 2 and "Traceback" not in proc.stderr
    assert proc.stderr.startswith("hotpath bench: error: --compare: ")


def test_pytest_rejects_a_malformed_file_before_running_tests(pytester, tmp_path):
    path = tmp_path / "bad.json"
    path.write_text(json.dumps(BAD_FILES["pyperf without name"]))
    pytester.makepyfile("""
        def test_work(hotpath_benchmark):
            raise AssertionError("ran")
    """)
    result = pytester.runpytest(*PLUGIN, *FAST, *NO_PB, f"--hotpath-compare={path}")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["*--hotpath-compare: *benchmarks[[]0[]]*without a 'name'*"])
    assert "ran" not in result.stdout.str() and "Traceback" not in result.stderr.str()


def test_compare_and_save_to_the_same_file_reads_the_earlier_run(pytester, tmp_path):
    """The file is read when the session starts, before --hotpath-save rewrites it."""
    pytester.makepyfile("""
        def test_work(hotpath_benchmark):
            hotpath_benchmark(sum, range(100))
    """)
    path = tmp_path / "runs.json"
    pytester.runpytest(*PLUGIN, *FAST, *NO_PB, f"--hotpath-save={path}").assert_outcomes(passed=1)
    doc = json.loads(path.read_text())
    doc["benchmarks"][0]["stats"]["data"] = [x * 1e6 for x in doc["benchmarks"][0]["stats"]["data"]]
    path.write_text(json.dumps(doc))
    result = pytester.runpytest(*PLUGIN, *FAST, *NO_PB, f"--hotpath-save={path}",
                                f"--hotpath-compare={path}")
    result.assert_outcomes(passed=1)
    result.stdout.fnmatch_lines(["test_work *faster*"])


# Any JSON at all: load_results either reads benchmarks that can be summarised and
# compared, or raises ValueError — nothing else.
_json = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=5),
    lambda children: st.lists(children, max_size=4)
    | st.dictionaries(st.sampled_from(["name", "stats", "data", "benchmarks", "hotpath",
                                       "runs", "values", "metadata", "version", "min",
                                       "rounds", "gross", "loops", "format", "kind",
                                       "compare", "options", "params"]), children, max_size=5),
    max_leaves=25)


# ... and documents that look like bench files from a distance: a "benchmarks" list of
# objects with the keys the readers look at, holding anything.
_entry = st.dictionaries(st.sampled_from(["name", "stats", "hotpath", "runs", "metadata",
                                          "options", "params", "group"]), _json, max_size=5)
_doc = _json | st.fixed_dictionaries(
    {"benchmarks": st.lists(_entry | _json, min_size=1, max_size=3)},
    optional={"hotpath": _json, "version": st.sampled_from(["1.0", "5.1.0"]) | _json,
              "metadata": _json})


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(doc=_doc)
def test_any_json_is_read_or_rejected_with_value_error(tmp_path, doc):
    path = tmp_path / "any.json"
    path.write_text(json.dumps(doc))
    try:
        results = load_results(str(path))
    except ValueError:
        return
    for r in results:
        r.summary()
        r.compare(r).describe()
        r.differences(r)
