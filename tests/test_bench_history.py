"""Benchmark history: runs saved by commit (hotpath bench --save, --hotpath-autosave),
``hotpath bench history`` naming the commit where a benchmark changed, ``--compare``
defaulting to the latest saved run, and per-benchmark histograms."""
import json
import subprocess
import sys

import pytest

from hotpath.bench import BenchResult
from hotpath.bench.history import Point, find_steps
from hotpath.bench.plot import histogram_svg, write_histograms

pytest_plugins = ["pytester"]


def test_find_steps_on_series():
    flat = [Point(f"c{i}", [1.0 + 0.01 * (j % 3) for j in range(10)]) for i in range(5)]
    assert find_steps(flat) == []
    step = [Point(f"c{i}", [(1.0 if i < 3 else 1.5) + 0.01 * (j % 3) for j in range(10)])
            for i in range(6)]
    (s,) = find_steps(step)
    assert s.index == 3 and 1.45 < s.ratio < 1.55
    two = [Point(f"c{i}", [v + 0.001 * j for j in range(8)])
           for i, v in enumerate([1, 1, 2, 2, 4, 4])]
    assert [s.index for s in find_steps(two)] == [2, 4]
    # Exact counts: a 1% change with rounds that do not overlap is a step.
    counts = [Point("a", [1000, 1000, 1001]), Point("b", [1010, 1010, 1010]),
              Point("c", [1010, 1011, 1010])]
    (s,) = find_steps(counts, min_effect=0.005, exact=True)
    assert s.index == 1


def _git(repo, *args):
    subprocess.run(["git", *args], cwd=repo, check=True, capture_output=True,
                   env={"GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@t",
                        "GIT_COMMITTER_NAME": "t", "GIT_COMMITTER_EMAIL": "t@t",
                        "PATH": "/usr/bin:/bin"})
    return subprocess.run(["git", "rev-parse", "HEAD"], cwd=repo, capture_output=True,
                          text=True).stdout.strip()


def test_history_names_the_commit_of_a_regression(runner, tmp_path):
    """Three commits of a scratch repository; the middle one makes work() five times
    slower. Each commit's run is saved with --save; history names the middle one."""
    repo = tmp_path
    _git(repo, "init", "-q")
    bench = ["bench", "--max-time", "0.05", "--min-rounds", "15", "-s", "from mod import work",
             "work()", "--save"]
    shas = []
    for i, (n, msg) in enumerate([(200, "fast"), (1000, "slow down work"),
                                  (1000, "unrelated change")]):
        runner.write("mod.py", f"def work():\n    return sum(range({n}))\n# {i}\n")
        _git(repo, "add", "mod.py")
        shas.append(_git(repo, "commit", "-qm", msg))
        p = runner.hotpath(*bench)
        assert p.returncode == 0, p.stderr
        assert "saved: .benchmarks/hotpath/" in p.stdout
    files = sorted((repo / ".benchmarks" / "hotpath").glob("*/*/*.json"))
    assert len(files) == 3
    assert [json.loads(f.read_text())["commit_info"]["id"] for f in files] == shas
    # A fivefold regression; the machine that runs the suite is shared, so identical
    # code may move by tens of percent between runs: only a doubling counts here.
    p = runner.hotpath("bench", "history", "work", "--plot", "hist.svg", "--min-effect", "1")
    assert p.returncode == 0, p.stderr
    changed = [line for line in p.stdout.splitlines() if "CHANGED at" in line]
    assert len(changed) == 1, p.stdout
    assert f"CHANGED at {shas[1][:10]}" in changed[0] and "slow down work" in changed[0]
    assert (repo / "hist.svg").read_text().startswith("<svg")
    # --compare without a file: the latest saved run of this machine and Python.
    p = runner.hotpath("bench", "--max-time", "0.02", "-s", "from mod import work", "work()",
                       "--compare")
    assert p.returncode == 0, p.stderr
    assert f"Against {files[-1].relative_to(repo)}" in p.stdout


def test_history_without_runs_is_a_clear_error(runner):
    p = runner.hotpath("bench", "history")
    assert p.returncode == 2 and "no saved runs" in p.stderr and "Traceback" not in p.stderr
    p = runner.hotpath("bench", "-s", "pass", "pass", "--compare")
    assert p.returncode == 2 and "no saved run" in p.stderr and "Traceback" not in p.stderr


def test_autosave_and_compare_latest_in_pytest(pytester):
    pytester.makepyfile(test_auto="""
        def test_work(hotpath_benchmark):
            hotpath_benchmark(sum, range(100))
    """)
    fast = ["-p", "no:cacheprovider", "--hotpath-max-time=0.005", "--hotpath-min-rounds=3"]
    pytester.runpytest(*fast, "--hotpath-autosave").assert_outcomes(passed=1)
    (saved,) = (pytester.path / ".benchmarks" / "hotpath").glob("*/*/*.json")
    result = pytester.runpytest(*fast, "--hotpath-compare")
    result.assert_outcomes(passed=1)
    result.stdout.fnmatch_lines([f"*compared with .benchmarks/hotpath/*/{saved.name}*"])


def test_histograms_per_benchmark(tmp_path):
    svg = histogram_svg([1.0, 1.1, 1.1, 1.2, 5.0], "t", "us", bins=4)
    assert svg.count('class="bin"') == 4 and "<title>4 rounds in [1, 2)" in svg
    results = [BenchResult(name="a", samples=[1e-6 * (1 + i % 5) for i in range(25)]),
               BenchResult(name="b/c", samples=[2e-6] * 9)]
    written = write_histograms(str(tmp_path / "out" / "h"), results)
    svgs = [w for w in written if w.endswith(".svg")]
    assert [p.rsplit("/", 1)[1] for p in svgs] == ["h-a.svg", "h-b_c.svg"]
    for w in written:
        with open(w, "rb") as fh:
            head = fh.read(8)
        assert head.startswith(b"<svg" if w.endswith(".svg") else b"\x89PNG")
    try:
        import matplotlib  # noqa: F401
    except ImportError:
        assert len(written) == 2
    else:
        assert len(written) == 4


def test_histogram_flags(pytester, runner):
    p = runner.hotpath("bench", "--max-time", "0.01", "--histogram", "figs/h", "sum(range(9))")
    assert p.returncode == 0, p.stderr
    assert (runner.cwd / "figs" / "h-sum_range_9.svg").exists()
    pytester.makepyfile(test_h="""
        def test_work(hotpath_benchmark):
            hotpath_benchmark(sum, range(10))
    """)
    result = pytester.runpytest("-p", "no:cacheprovider", "--hotpath-max-time=0.005",
                                "--hotpath-histogram=hh/x")
    result.assert_outcomes(passed=1)
    assert (pytester.path / "hh" / "x-test_h.py_test_work.svg").exists()


if __name__ == "__main__":
    sys.exit(pytest.main([__file__]))
