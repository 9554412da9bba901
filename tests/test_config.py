"""Defaults from [tool.hotpath] in the nearest pyproject.toml (hotpath.config): applied
to the commands and the pytest plugin, flags winning; bad tables are one clear error."""
from __future__ import annotations

import argparse
import json
import subprocess
import sys
import textwrap

import pytest

from hotpath import config


def _project(tmp_path, body: str):
    (tmp_path / "pyproject.toml").write_text("[project]\nname = 'x'\n\n[tool.hotpath]\n" +
                                             textwrap.dedent(body))
    sub = tmp_path / "src" / "deep"
    sub.mkdir(parents=True, exist_ok=True)
    return sub


def _hotpath(cwd, *args):
    return subprocess.run([sys.executable, "-m", "hotpath", *args], cwd=cwd,
                          capture_output=True, text=True, timeout=120)


PROG = """
def a(): return sum(range(200))
def b(): return [a() for _ in range(3)]
def c(): return [b() for _ in range(2)]
def d(): return c()
def e(): return d()
for _ in range(20):
    e()
"""


def _rows(text: str) -> list[str]:
    """The function table's rows (after its header line)."""
    lines = text.splitlines()
    start = next(i for i, line in enumerate(lines) if "ncalls" in line)
    rows = []
    for line in lines[start + 1:]:
        if not line.strip()[:1].isdigit():
            break
        rows.append(line)
    return rows


def test_read_from_the_nearest_pyproject_upwards(tmp_path):
    sub = _project(tmp_path, 'limit = 7\nfocus = ["mypkg"]\noutput_dir = "profiles"\n')
    got = config.load(str(sub))
    assert got == {"limit": 7, "focus": ["mypkg"], "output-dir": str(tmp_path / "profiles")}
    # a nearer pyproject.toml without the table means no settings
    (sub / "pyproject.toml").write_text("[project]\nname = 'inner'\n")
    assert config.load(str(sub)) == {}
    assert config.find_pyproject(str(sub)) == str(sub / "pyproject.toml")


def test_run_and_report_take_the_defaults_and_flags_win(tmp_path):
    sub = _project(tmp_path, 'sort = "calls"\nlimit = 2\noutput-dir = "profiles"\n')
    (sub / "prog.py").write_text(PROG)
    r = _hotpath(sub, "run", "prog.py")
    assert r.returncode == 0, r.stderr
    assert (tmp_path / "profiles" / "prog.hprof").is_file()     # output-dir
    assert not (sub / "prog.hprof").exists()
    rows = _rows(r.stderr + r.stdout)
    assert len(rows) == 2 and rows[0].split()[0] == "120"      # most calls first
    prof = str(tmp_path / "profiles" / "prog.hprof")
    r = _hotpath(sub, "report", prof)
    assert r.returncode == 0, r.stderr
    rows = _rows(r.stdout)
    assert len(rows) == 2 and rows[0].split()[0] == "120"      # a: 20 * 2 * 3 calls
    r = _hotpath(sub, "report", prof, "--limit", "4", "--sort", "name")
    rows = _rows(r.stdout)
    assert len(rows) == 4 and rows[0].split()[-2] != "a"
    r = _hotpath(sub, "run", "-o", "here.hprof", "--limit=3", "prog.py")
    assert r.returncode == 0 and (sub / "here.hprof").is_file()
    assert len(_rows(r.stderr + r.stdout)) == 3


def test_bench_clock_and_budget_for_the_command_parser(tmp_path):
    from hotpath.cli import _main_parser
    parser = _main_parser()
    config.apply_to_parser(parser, {"bench-clock": "process", "bench-budget": 0.25,
                                    "sort": "cumtime", "limit": 9})
    a = parser.parse_args(["bench", "x = 1"])
    assert (a.timer, a.max_time) == ("process", 0.25)
    a = parser.parse_args(["bench", "--timer", "perf", "--max-time", "2", "x = 1"])
    assert (a.timer, a.max_time) == ("perf", 2.0)
    a = parser.parse_args(["report", "f.hprof"])
    assert (a.sort, a.limit) == ("cumtime", 9)
    a = parser.parse_args(["diff", "a", "b"])
    assert (a.sort, a.limit) == ("delta", 9)          # cumtime is not one of diff's sorts


def test_focus_reaches_an_option_named_focus():
    """The --focus option (another part of the command line) gets the packages as its
    default; a flag replaces them."""
    p = argparse.ArgumentParser()
    sub = p.add_subparsers(dest="cmd")
    v = sub.add_parser("view")
    v.add_argument("--focus", action="append", metavar="PACKAGE")
    config.apply_to_parser(p, {"focus": ["mypkg", "other"]})
    assert p.parse_args(["view"]).focus == ["mypkg", "other"]
    assert p.parse_args(["view", "--focus", "x", "--focus", "y"]).focus == ["x", "y"]
    n = argparse.ArgumentParser()
    n.add_argument("--focus", nargs="+")
    config.apply_to_parser(n, {"focus": ["mypkg"]})
    assert n.parse_args([]).focus == ["mypkg"] and n.parse_args(["--focus", "x"]).focus == ["x"]
    opts = argparse.Namespace(focus=None, sort="tottime", limit=20)
    config.apply_to_options(opts, [], {"focus": ["mypkg"]})
    assert opts.focus == ["mypkg"]
    opts = argparse.Namespace(focus=["x"], sort="tottime", limit=20)
    config.apply_to_options(opts, ["--focus", "x"], {"focus": ["mypkg"]})
    assert opts.focus == ["x"]


def test_the_pytest_plugin_takes_bench_clock_and_budget(tmp_path):
    _project(tmp_path, 'bench-clock = "process"\nbench-budget = 0.05\n')
    (tmp_path / "test_b.py").write_text(
        "def test_b(hotpath_benchmark):\n    hotpath_benchmark(lambda: sum(range(10)))\n")
    for extra, clock, budget in (([], "process", 0.05),
                                 (["--hotpath-timer=thread", "--hotpath-max-time=0.1"],
                                  "thread", 0.1)):
        r = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider",
                            "test_b.py", "--hotpath-save=r.json", *extra], cwd=tmp_path,
                           capture_output=True, text=True, timeout=120)
        assert r.returncode == 0, r.stdout + r.stderr
        opts = json.loads((tmp_path / "r.json").read_text())["benchmarks"][0]["options"]
        assert (opts["clock"], opts["max_time"]) == (clock, budget)


@pytest.mark.parametrize("body, message", [
    ('colour = "red"\n', "unknown key 'colour' (known: output-dir, sort"),
    ('limit = "ten"\n', "limit must be an integer, 0 or more, not 'ten'"),
    ('limit = -1\n', "limit must be an integer, 0 or more, not -1"),
    ('sort = "fastest"\n', "sort must be one of tottime, cumtime, calls, name"),
    ('focus = "mypkg"\n', "focus must be a list of package names"),
    ('bench-clock = "sundial"\n', "bench-clock must be one of auto, perf, process, thread"),
    ('bench-budget = 0\n', "bench-budget must be a number of seconds, more than 0"),
    ('limit = \n', "not valid TOML"),
])
def test_bad_tables_are_one_clear_error(tmp_path, body, message):
    sub = _project(tmp_path, body)
    (sub / "prog.py").write_text("pass\n")
    for args in (("run", "prog.py"), ("report", "missing.hprof"), ("bench", "x = 1")):
        r = _hotpath(sub, *args)
        assert r.returncode == 2, (args, r.stderr)
        assert r.stderr.count("\n") == 1 and "Traceback" not in r.stderr, r.stderr
        assert r.stderr.startswith("hotpath: error: " + str(tmp_path / "pyproject.toml"))
        assert message in r.stderr
    r = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider"],
                       cwd=sub, capture_output=True, text=True, timeout=120)
    assert r.returncode == 4 and "Traceback" not in r.stderr
    if "TOML" not in message:                  # pytest reads the file itself first
        assert message in r.stderr
