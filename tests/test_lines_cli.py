"""``hotpath run --lines[=auto] / -f`` and ``hotpath report`` with line data."""
from __future__ import annotations

import os
import shutil
from pathlib import Path

import hotpath
from hotpath import fileformat

EXAMPLE = Path(__file__).resolve().parent.parent / "examples" / "lines_demo.py"

HOT = """
def slow_part(n):
    s = 0
    for i in range(n):
        s += i % 7
    return s


def cold():
    return 1


class Box:
    def fill(self, n):
        out = []
        for i in range(n):
            out.append(i)
        return len(out)


if __name__ == "__main__":
    print(sum(slow_part(300_000) for _ in range(8)), cold(), Box().fill(10))
"""


def test_example_with_profile_decorator(runner):
    shutil.copy(EXAMPLE, runner.cwd / "lines_demo.py")
    plain = runner.python("lines_demo.py")
    assert plain.returncode == 0, plain.stderr
    r = runner.hotpath("run", "--lines", "-o", "demo.hprof", "lines_demo.py")
    assert r.returncode == 0, r.stderr
    assert r.stdout == plain.stdout                     # the program's output is unchanged
    err = r.stderr
    assert "Timer unit: 1e-06 s" in err
    assert "Function: Simulator.evolve at line" in err
    assert "Function: make_particles at line" in err
    assert "Line #      Hits         Time  Per Hit   % Time  Line Contents" in err
    data = fileformat.read(str(runner.cwd / "demo.hprof"))
    lines = data.extra["lines"]
    assert lines["mode"] == "explicit" and lines["unit"] == 1e-9
    names = {f["name"]: f for f in lines["functions"]}
    evolve = names["Simulator.evolve"]
    hits = {ln: h for ln, h, _ in evolve["lines"]}
    assert max(hits.values()) > 1000
    rep = runner.hotpath("report", "demo.hprof")
    assert rep.returncode == 0, rep.stderr
    assert "Function: Simulator.evolve at line" in rep.stdout


def test_function_specs_module_and_file(runner):
    runner.write("hot.py", HOT)
    runner.write("helpers.py", "def twice(x):\n    y = x * 2\n    return y\n")
    runner.write("main.py", "import helpers, hot\nprint(helpers.twice(3), hot.Box().fill(3))\n")
    r = runner.hotpath("run", "-f", "helpers:twice", "-f", "hot.py:Box.fill", "-o", "m.hprof",
                       "main.py")
    assert r.returncode == 0, r.stderr
    assert r.stdout == "6 3\n"
    assert "Function: twice at line 1" in r.stderr
    assert "Function: Box.fill at line" in r.stderr
    data = fileformat.read(str(runner.cwd / "m.hprof"))
    names = {f["name"]: f for f in data.extra["lines"]["functions"]}
    assert {ln: h for ln, h, _ in names["twice"]["lines"]} == {2: 1, 3: 1}


def test_function_spec_of_the_script_itself(runner):
    runner.write("hot.py", HOT)
    r = runner.hotpath("run", "-f", "hot.py:slow_part", "-o", "s.hprof", "hot.py")
    assert r.returncode == 0, r.stderr
    assert "Function: slow_part at line 2" in r.stderr
    data = fileformat.read(str(runner.cwd / "s.hprof"))
    rows = data.extra["lines"]["functions"][0]["lines"]
    assert {ln: h for ln, h, _ in rows}[5] == 8 * 300_000


def test_bad_function_spec_is_a_user_error(runner):
    runner.write("hot.py", HOT)
    r = runner.hotpath("run", "-f", "nocolon", "hot.py")
    assert r.returncode == 2 and r.stderr.startswith("hotpath: error: -f 'nocolon'")
    r = runner.hotpath("run", "-f", "no_such_mod_xyz:f", "hot.py")
    assert r.returncode == 2 and "no_such_mod_xyz" in r.stderr


def test_unmatched_function_spec_warns(runner):
    runner.write("hot.py", HOT)
    r = runner.hotpath("run", "-f", "hot.py:missing", "-o", "w.hprof", "hot.py")
    assert r.returncode == 0
    assert "hotpath: warning: -f hot.py:missing" in r.stderr


def test_auto_mode_chooses_the_hot_function(runner):
    runner.write("hot.py", HOT)
    r = runner.hotpath("run", "--lines=auto", "-o", "a.hprof", "hot.py")
    assert r.returncode == 0, r.stderr
    assert "hotpath --lines=auto chose" in r.stderr
    assert "slow_part (" in r.stderr
    assert "Chosen by --lines=auto: timed from" in r.stderr
    data = fileformat.read(str(runner.cwd / "a.hprof"))
    lines = data.extra["lines"]
    assert lines["mode"] == "auto"
    chosen = {f["name"]: f for f in lines["functions"]}
    assert "slow_part" in chosen and chosen["slow_part"]["auto"]["chosen_at"] >= 0
    assert "cold" not in chosen
    rep = runner.hotpath("report", "a.hprof")
    assert "hotpath --lines=auto chose" in rep.stdout


def test_lines_without_any_target_says_how(runner):
    runner.write("hot.py", "print('hi')\n")
    r = runner.hotpath("run", "--lines", "-o", "n.hprof", "hot.py")
    assert r.returncode == 0 and r.stdout == "hi\n"
    assert "hotpath: no line timings: decorate functions with @profile" in r.stderr


def test_profile_builtin_is_only_injected_with_lines(runner):
    runner.write("p.py", "import builtins\nprint(hasattr(builtins, 'profile'))\n")
    assert runner.hotpath("run", "-o", "x.hprof", "p.py").stdout == "False\n"
    assert runner.hotpath("run", "--lines", "-o", "x.hprof", "p.py").stdout == "True\n"


def test_hotpath_profile_env_var(runner):
    runner.write("e.py", "import hotpath\n@hotpath.profile\ndef f(n):\n    return n + 1\n"
                         "print(f(1))\n")
    env_run = runner.python("e.py")
    assert env_run.stdout == "2\n"                     # inactive: plain passthrough
    os.environ["HOTPATH_LINES"] = "1"
    try:
        r = runner.python("e.py")
    finally:
        del os.environ["HOTPATH_LINES"]
    assert r.stdout.startswith("2\nTimer unit: 1e-06 s")
    assert "Function: f at line 2" in r.stdout
    assert hotpath.profile.profiler is None
