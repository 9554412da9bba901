"""pytest-benchmark's command-line flags on hotpath's ``benchmark`` fixture, with
pytest-benchmark *not installed*, and the saved runs read by the real
``pytest-benchmark compare`` (and the other way round).

"Not installed" is simulated for real: the inner pytest runs in a subprocess with plugin
autoloading off and a first plugin (``nopb``) that makes ``pytest_benchmark``
unimportable, so neither its entry point nor ``importlib.util.find_spec`` sees it;
hotpath's plugin is then loaded by name. Each inner test file checks that. Structural
only: counts, names, order, files and exit status — never how long anything took.
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from xml.etree import ElementTree

import pytest

from hotpath.bench.pb_flags import machine_id

pytest_plugins = ["pytester"]

try:
    import pytest_benchmark.utils as pb_utils
    HAVE_PB = True
except ImportError:
    HAVE_PB = False

NOPB = "import sys\nsys.modules['pytest_benchmark'] = None   # as if not installed\n"
FAST = ["--benchmark-min-time=0.0001", "--benchmark-max-time=0.005",
        "--benchmark-min-rounds=3", "--benchmark-warmup=off", "-p", "no:cacheprovider"]
NOT_INSTALLED_CHECK = """
import importlib.util

def test_pytest_benchmark_is_not_installed_here():
    assert importlib.util.find_spec("pytest_benchmark") is None
"""
BENCHES = """
import pytest

@pytest.mark.parametrize("n", [10, 3000])
def test_sum(benchmark, n):
    assert benchmark(sum, range(n)) == n * (n - 1) // 2

@pytest.mark.benchmark(group="strings")
def test_upper(benchmark):
    benchmark(str.upper, "abc")

def test_plain():
    pass
"""


@pytest.fixture
def inner(pytester, monkeypatch):
    """Run pytest in a subprocess without pytest-benchmark: ``inner(*flags)``."""
    monkeypatch.setenv("PYTEST_DISABLE_PLUGIN_AUTOLOAD", "1")
    monkeypatch.setenv("NO_COLOR", "1")
    monkeypatch.setenv("COLUMNS", "200")
    pytester.makepyfile(nopb=NOPB, test_not_installed=NOT_INSTALLED_CHECK)

    def run(*args, fast=True):
        result = pytester.runpytest_subprocess(
            "-p", "nopb", "-p", "hotpath.bench.pytest_plugin", *(FAST if fast else []), *args,
            timeout=240)
        return result
    return run


def _names_in_order(lines: list[str], names: list[str]) -> list[str]:
    """The names, in the order their table rows appear."""
    rows = [ln.split()[0] for ln in lines if ln.split() and ln.split()[0] in names]
    return rows


def _machine_dir(root: Path) -> Path:
    return root / ".benchmarks" / machine_id()


@pytest.mark.skipif(not HAVE_PB, reason="pytest-benchmark not installed")
def test_machine_id_is_pytest_benchmarks():
    assert machine_id() == pb_utils.get_machine_id()


def test_skip_only_disable(inner, pytester):
    pytester.makepyfile(test_b="""
        import pytest
        calls = []

        def work():
            calls.append(1)
            return 7

        def test_bench(benchmark):
            assert benchmark(work) == 7
            if not benchmark.enabled:
                assert len(calls) == 1          # --benchmark-disable: one untimed call

        def test_plain():
            pass
    """)
    r = inner("--benchmark-skip")
    r.assert_outcomes(passed=2, skipped=1)          # the not-installed check runs too
    r = inner("--benchmark-only")
    r.assert_outcomes(passed=1, skipped=2)
    r.stdout.fnmatch_lines(["*test_bench*"])       # the benchmark's table row
    r = inner("--benchmark-skip", "--benchmark-only")  # only wins, as pytest-benchmark
    r.assert_outcomes(passed=1, skipped=2)
    r = inner("--benchmark-disable")
    r.assert_outcomes(passed=3)
    assert "hotpath benchmarks" not in r.stdout.str()   # nothing timed, no table
    r = inner("--benchmark-disable", "--benchmark-enable")
    r.stdout.fnmatch_lines(["*hotpath benchmarks*"])
    r = inner("--benchmark-disable", "--benchmark-only")
    assert r.ret == pytest.ExitCode.USAGE_ERROR
    r.stderr.fnmatch_lines(["*Can't have both --benchmark-only and --benchmark-disable*"])


def test_blocked_with_no_benchmark_in_process(pytester):
    """The other way of not having pytest-benchmark: ``-p no:benchmark``."""
    pytester.makepyfile(test_b="""
        def test_bench(benchmark):
            benchmark(len, "x")

        def test_plain():
            pass
    """)
    plugin = ["-p", "hotpath.bench.pytest_plugin"] if os.environ.get(
        "PYTEST_DISABLE_PLUGIN_AUTOLOAD") else []
    r = pytester.runpytest(*plugin, "-p", "no:benchmark", *FAST, "--benchmark-skip")
    r.assert_outcomes(passed=1, skipped=1)


def test_rounds_timer_gc_warmup_and_json(inner, pytester, tmp_path):
    pytester.makepyfile(test_b=BENCHES)
    out = tmp_path / "sub" / "run.json"
    r = inner("--benchmark-min-rounds=7", "--benchmark-max-time=0",
              "--benchmark-timer=time.process_time", "--benchmark-disable-gc",
              "--benchmark-min-time=0.0002", f"--benchmark-json={out}")
    r.assert_outcomes(passed=5)
    r.stdout.fnmatch_lines([f"*Wrote benchmark data in: {out}*"])
    doc = json.loads(out.read_text())
    names = sorted(b["name"] for b in doc["benchmarks"])
    assert names == ["test_sum[10]", "test_sum[3000]", "test_upper"]
    for b in doc["benchmarks"]:
        assert b["stats"]["rounds"] == 7 and len(b["stats"]["data"]) == 7
        assert b["options"]["min_rounds"] == 7 and b["options"]["warmup"] == 0
        assert b["options"]["min_time"] == 0.0002
        assert b["options"]["clock"] == "process" and b["options"]["disable_gc"] is True
    by_name = {b["name"]: b for b in doc["benchmarks"]}
    assert by_name["test_upper"]["group"] == "strings"
    assert by_name["test_sum[3000]"]["params"] == {"n": 3000}
    # warm-up on: hotpath's warm-up round; a bad value is one usage line
    r = inner("--benchmark-warmup", f"--benchmark-json={out}", "test_b.py::test_upper")
    assert json.loads(out.read_text())["benchmarks"][0]["options"]["warmup"] >= 1
    r = inner("--benchmark-warmup=sometimes")
    assert r.ret == pytest.ExitCode.USAGE_ERROR
    r.stderr.fnmatch_lines(["*--benchmark-warmup*sometimes*"])


def test_sort_group_by_and_columns(inner, pytester):
    pytester.makepyfile(test_b="""
        def test_a_slow(benchmark):
            benchmark(sum, range(20000))

        def test_b_fast(benchmark):
            benchmark(len, "x")
    """)
    names = ["test_a_slow", "test_b_fast"]
    r = inner("--benchmark-sort=name", "test_b.py")
    assert _names_in_order(r.outlines, names) == ["test_a_slow", "test_b_fast"]
    r = inner("--benchmark-sort=min", "test_b.py")
    assert _names_in_order(r.outlines, names) == ["test_b_fast", "test_a_slow"]
    r = inner("--benchmark-sort=mean", "--benchmark-columns=min,rounds,iterations",
              "test_b.py")
    head = next(ln for ln in r.outlines if ln.startswith("Name"))
    assert head.split() == ["Name", "Min", "Rounds", "Iterations"]
    assert _names_in_order(r.outlines, names) == ["test_b_fast", "test_a_slow"]
    r = inner("--benchmark-columns=median,bogus")
    assert r.ret == pytest.ExitCode.USAGE_ERROR
    r.stderr.fnmatch_lines(["*Invalid column name(s): bogus*"])

    pytester.makepyfile(test_b=BENCHES)
    r = inner("--benchmark-group-by=param:n", "test_b.py")
    out = r.stdout.str()
    assert "group 'n=10'" in out and "group 'n=3000'" in out
    r = inner("--benchmark-group-by=func", "test_b.py")
    seps = [ln for ln in r.outlines if "hotpath benchmarks: group" in ln]
    assert len(seps) == 2 and "'test_sum'" in seps[0] and "'test_upper'" in seps[1]
    r = inner("test_b.py")                         # default: by the marker's group
    seps = [ln for ln in r.outlines if "hotpath benchmarks" in ln]
    assert len(seps) == 2 and any("'strings'" in s for s in seps)
    r = inner("--benchmark-sort=fastest")
    assert r.ret == pytest.ExitCode.USAGE_ERROR


def test_save_autosave_and_compare_with_the_latest(inner, pytester):
    pytester.makepyfile(test_b=BENCHES)
    store = _machine_dir(pytester.path)
    inner("--benchmark-save=base").assert_outcomes(passed=5)
    first = store / "0001_base.json"
    assert [p.name for p in store.iterdir()] == [first.name]
    doc = json.loads(first.read_text())
    assert len(doc["benchmarks"]) == 3 and doc["machine_info"]["python_implementation"]
    # autosave: the next number, named <commit>_<time>[_uncommitted-changes]
    inner("--benchmark-autosave").assert_outcomes(passed=5)
    second = [p for p in store.iterdir() if p.name.startswith("0002_")]
    assert len(second) == 1 and second[0].name.startswith("0002_unversioned_")
    # --benchmark-compare with no value: the latest saved run
    r = inner("--benchmark-compare")
    r.stdout.fnmatch_lines([f"*compared with *{second[0].name}*", "Name*now / then*",
                            "test_sum?10? *"])
    # a number: that run
    r = inner("--benchmark-compare=0001", "--benchmark-save=third")
    r.stdout.fnmatch_lines([f"*compared with *{first.name}*"])
    assert (store / "0003_third.json").is_file()
    # nothing to compare with: pytest-benchmark's warning, the run goes on
    r = inner("--benchmark-compare=0042")
    r.assert_outcomes(passed=5)
    r.stdout.fnmatch_lines(["*Can't compare. No benchmark files in*match '0042'*"])


def test_storage_option(inner, pytester):
    pytester.makepyfile(test_b="def test_x(benchmark):\n    benchmark(len, 'x')\n")
    inner("--benchmark-storage=file://runs", "--benchmark-save=a").assert_outcomes(passed=2)
    assert (pytester.path / "runs" / machine_id() / "0001_a.json").is_file()
    inner("--benchmark-storage=runs", "--benchmark-save=b").assert_outcomes(passed=2)
    assert (pytester.path / "runs" / machine_id() / "0002_b.json").is_file()
    r = inner("--benchmark-storage=runs", "--benchmark-compare")
    r.stdout.fnmatch_lines(["*compared with *0002_b.json*"])
    r = inner("--benchmark-storage=elasticsearch+http://localhost:9200/")
    assert r.ret == pytest.ExitCode.USAGE_ERROR
    r.stderr.fnmatch_lines(["*hotpath keeps saved runs in files only*"])
    assert "Traceback" not in r.stderr.str()
    r = inner("--benchmark-save=a/b")
    assert r.ret == pytest.ExitCode.USAGE_ERROR


def _scale_saved(path: Path, factor: float) -> None:
    doc = json.loads(path.read_text())
    for b in doc["benchmarks"]:
        s = b["stats"]
        s["data"] = [x * factor for x in s["data"]]
        for k in ("min", "max", "mean", "median", "stddev", "q1", "q3", "iqr"):
            s[k] *= factor
    path.write_text(json.dumps(doc))


def test_compare_fail_regression_and_a_a(inner, pytester):
    pytester.makepyfile(test_b="""
        def test_work(benchmark):
            benchmark(sum, range(3000))
    """)
    store = _machine_dir(pytester.path)
    # Process CPU time, so the machine's other load (2 cores, shared) does not stretch one
    # run against the other in the A/A comparison.
    cpu = "--benchmark-timer=time.process_time"
    inner(cpu, "--benchmark-min-rounds=15", "--benchmark-save=base").assert_outcomes(passed=2)
    # A/A: the same code against its own saved run passes
    r = inner(cpu, "--benchmark-min-rounds=15", "--benchmark-compare",
              "--benchmark-compare-fail=median:50%", "--benchmark-compare-fail=mean:0.01")
    assert r.ret == pytest.ExitCode.OK, r.stdout.str()
    r.stdout.fnmatch_lines(["*test_work: median*: ok*"])
    # the saved run made a thousand times faster: this run is a regression
    _scale_saved(store / "0001_base.json", 1e-3)
    r = inner("--benchmark-min-rounds=15", "--benchmark-compare=0001",
              "--benchmark-compare-fail=min:5%")
    assert r.ret == pytest.ExitCode.TESTS_FAILED
    r.stdout.fnmatch_lines(["FAILED test_work: min +*% (limit +5.0%)*",
                            "*performance regression (--benchmark-compare-fail): test_work*"])
    r = inner("--benchmark-compare-fail=min:5%")       # no --benchmark-compare
    assert r.ret == pytest.ExitCode.USAGE_ERROR
    r.stderr.fnmatch_lines(["*--benchmark-compare-fail requires valid --benchmark-compare*"])
    r = inner("--benchmark-compare", "--benchmark-compare-fail=min:five")
    assert r.ret == pytest.ExitCode.USAGE_ERROR


def test_histogram(inner, pytester):
    pytester.makepyfile(test_b=BENCHES)
    r = inner("--benchmark-histogram=plots/h")
    r.assert_outcomes(passed=5)
    files = sorted(p.name for p in (pytester.path / "plots").iterdir())
    assert files == ["h-strings.svg", "h.svg"]
    root = ElementTree.parse(pytester.path / "plots" / "h.svg").getroot()
    titles = [t.text for t in root.iter("{http://www.w3.org/2000/svg}title")]
    assert [t.split(" - ")[0] for t in titles] == ["test_sum[10]", "test_sum[3000]"]
    assert all(" rounds: min " in t for t in titles)


# ------------------------------------------------ the real pytest-benchmark on both sides


def _pb_cli(cwd: Path, *args: str) -> subprocess.CompletedProcess:
    env = dict(os.environ, COLUMNS="250")
    for name in ("PYTEST_DISABLE_PLUGIN_AUTOLOAD", "PYTEST_XDIST_WORKER"):
        env.pop(name, None)
    return subprocess.run([sys.executable, "-m", "pytest_benchmark", *args], cwd=cwd,
                          capture_output=True, text=True, timeout=120, env=env)


@pytest.mark.skipif(not HAVE_PB, reason="pytest-benchmark not installed")
def test_pytest_benchmark_compare_reads_hotpaths_runs(inner, pytester):
    pytester.makepyfile(test_b=BENCHES)
    inner("--benchmark-save=one").assert_outcomes(passed=5)
    inner("--benchmark-autosave").assert_outcomes(passed=5)
    r = _pb_cli(pytester.path, "list")
    assert r.returncode == 0 and "0001_one.json" in r.stdout and "0002_" in r.stdout
    r = _pb_cli(pytester.path, "compare", "0001", "0002", "--group-by=name")
    assert r.returncode == 0, r.stderr
    assert "Failed to load" not in r.stdout + r.stderr
    for name in ("test_sum[10]", "test_sum[3000]", "test_upper"):
        assert name in r.stdout
    assert "(0001_one)" in r.stdout and "(0002_unversi)" in r.stdout


@pytest.mark.skipif(not HAVE_PB, reason="pytest-benchmark not installed")
def test_hotpath_compares_with_a_run_saved_by_pytest_benchmark(inner, pytester):
    pytester.makepyfile(test_b="""
        def test_work(benchmark):
            benchmark(sum, range(3000))
    """)
    # pytest-benchmark itself (autoloaded, active) saves the first run.
    env = dict(os.environ)
    env.pop("PYTEST_DISABLE_PLUGIN_AUTOLOAD", None)
    done = subprocess.run([sys.executable, "-m", "pytest", "-p", "no:cacheprovider",
                           "-p", "no:xdist", "test_b.py", "--benchmark-save=theirs",
                           "--benchmark-max-time=0.01", "--benchmark-min-rounds=5"],
                          cwd=pytester.path, capture_output=True, text=True, timeout=240,
                          env=env)
    assert done.returncode == 0, done.stdout + done.stderr
    saved = _machine_dir(pytester.path) / "0001_theirs.json"
    assert "hotpath" not in json.loads(saved.read_text())      # written by pytest-benchmark
    r = inner("--benchmark-compare", "--benchmark-compare-fail=mean:1000%", "test_b.py")
    assert r.ret == pytest.ExitCode.OK, r.stdout.str()
    r.stdout.fnmatch_lines(["*compared with *0001_theirs.json*", "test_work *",
                            "*test_work: mean*no raw samples*: ok*"])
    # and hotpath's next save numbers after it
    inner("--benchmark-autosave", "test_b.py").assert_outcomes(passed=1)
    assert any(p.name.startswith("0002_") for p in saved.parent.iterdir())
