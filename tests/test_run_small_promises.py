"""Issue 11's minor items, through the ``hotpath`` command: one line per user error,
help that names every form of an option, ``-`` as a script, -c tracebacks as python
shows them, pytest under ``hotpath run``, the pasteable hint, and ``--lines`` beside
coverage (which holds the trace hook on 3.11).
"""
from __future__ import annotations

import re
import shlex
import subprocess
import sys

import pytest

import hotpath


@pytest.mark.parametrize("args", [
    ["report", "x.hprof", "--filter", "("],
    ["memit", "x = ("],
    ["memit", "-s", "import (", "pass"],
    ["run", "--bogus", "x.py"],
    ["run", "--memory=bogus", "x.py"],
    ["run", "--lines=bogus", "x.py"],
    ["report"],
])
def test_bad_input_is_one_line(runner, args):
    assert runner.hotpath("run", "-q", "-o", "x.hprof", "-c", "pass").returncode == 0
    r = runner.hotpath(*args)
    assert r.returncode == 2
    assert r.stderr.count("\n") == 1 and r.stderr.startswith("hotpath: error: "), r.stderr
    assert "_memory-mode" not in r.stderr and "_lines-auto" not in r.stderr


def test_help_describes_every_command_and_option_form(runner):
    for cmd in ("report", "export", "view"):
        r = runner.hotpath(cmd, "--help")
        lines = r.stdout.splitlines()
        usage_end = next(i for i, line in enumerate(lines) if not line.strip())
        assert lines[usage_end + 1].strip(), f"{cmd} --help has no description"
    r = runner.hotpath("run", "--help")
    assert re.search(r"^  --lines\[=auto\]\s", r.stdout, re.M), r.stdout
    assert re.search(r"^  --memory\[=exact\|sampled\]\s", r.stdout, re.M), r.stdout


def test_script_from_stdin(runner):
    source = "import sys\nprint(sys.argv, __file__)\ndef work():\n    return 1\nwork()\n"
    def run(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run([sys.executable, *args], input=source, cwd=runner.cwd,
                              env=runner.env(), capture_output=True, text=True, timeout=60)
    plain = run("-", "a")
    r = run("-m", "hotpath", "run", "-", "a")
    assert plain.stdout == "['-', 'a'] <stdin>\n"
    assert r.returncode == 0, r.stderr
    assert r.stdout == plain.stdout
    assert any(f.name == "work" for f in hotpath.load(str(runner.cwd / "stdin.hprof")).functions)


def test_dash_c_traceback_reads_as_under_python(runner):
    code = "def f():\n    1/0\nf()"
    plain = runner.python("-c", code)
    r = runner.hotpath("run", "-q", "-c", code)
    assert r.returncode == plain.returncode == 1
    assert r.stderr == plain.stderr


def test_pytest_under_hotpath_run_warns_nothing(runner):
    runner.write("test_x.py", "def test_a():\n    assert 1 + 1 == 2\n")
    r = runner.hotpath("run", "-q", "-m", "pytest", "-q", "-p", "no:cacheprovider", "test_x.py")
    assert r.returncode == 0, r.stdout + r.stderr
    assert "1 passed" in r.stdout
    assert "PytestAssertRewriteWarning" not in r.stdout + r.stderr


def test_written_hint_can_be_pasted(runner):
    runner.write("prog.py", "print('hi')\n")
    r = runner.hotpath("run", "-o", "my profile.hprof", "prog.py")
    assert r.returncode == 0, r.stderr
    q = shlex.quote("my profile.hprof")
    assert f"hotpath: profile written to {q} (hotpath report {q})" in r.stderr


COV_PROGRAM = """\
@profile
def work(n):
    t = 0
    for i in range(n):
        t += i
    return t
print(work(1000))
"""

SHARES_TRACE_HOOK = sys.version_info < (3, 12)


def test_lines_under_coverage(runner):
    pytest.importorskip("coverage")
    runner.write("cov.py", COV_PROGRAM)
    r = runner.python("-m", "coverage", "run", "-m", "hotpath", "run", "--lines",
                      "-o", "c.hprof", "cov.py")
    if SHARES_TRACE_HOOK:
        # One trace hook, held by coverage: one clear line naming it, program not run.
        assert r.returncode == 2
        assert r.stdout == ""
        errors = [x for x in r.stderr.splitlines() if x.startswith("hotpath")]
        assert len(errors) == 1 and "coverage" in errors[0], r.stderr
        assert "Traceback" not in r.stderr
        assert not (runner.cwd / "c.hprof").exists()
    else:
        assert r.returncode == 0, r.stderr
        assert r.stdout == "499500\n"
        assert "t += i" in r.stderr          # kernprof's table with the loop's lines
        rep = runner.python("-m", "coverage", "report", "--include=cov.py")
        assert "cov.py" in rep.stdout and "100%" in rep.stdout, rep.stdout


def test_coverage_under_lines(runner):
    pytest.importorskip("coverage")
    runner.write("cov.py", COV_PROGRAM)
    r = runner.hotpath("run", "--lines", "-o", "c.hprof", "-m", "coverage", "run", "cov.py")
    assert r.returncode == 0, r.stderr
    assert r.stdout == "499500\n"
    if SHARES_TRACE_HOOK:
        assert ("hotpath: warning: the program took the trace hook (sys.settrace) "
                "that --lines needs") in r.stderr
    else:
        assert "t += i" in r.stderr
        rep = runner.python("-m", "coverage", "report", "--include=cov.py")
        assert "cov.py" in rep.stdout and "100%" in rep.stdout, rep.stdout
