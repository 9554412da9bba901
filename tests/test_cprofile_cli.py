"""``python -m hotpath.cprofile`` as a user types it, side by side with ``python -m cProfile``
on the same program: the program's own output, the table's rows and call counts, the
pstats file ``-o`` writes (read back by ``pstats`` and ``python -m pstats``), exit
statuses, and one clear line for a mistake on the command line. Plus the module API
(``hotpath.run`` / ``hotpath.runctx`` / ``hotpath.cprofile``)."""
from __future__ import annotations

import io
import pstats
import re
import subprocess
import sys
from contextlib import redirect_stdout

import pytest

import hotpath
import hotpath.cprofile

PROGRAM = """\
    import sys

    def fib(n):
        return n if n < 2 else fib(n - 1) + fib(n - 2)

    def ping(n):
        return pong(n - 1) if n else 0

    def pong(n):
        return ping(n - 1) + 1 if n else 1

    def main():
        print("fib", fib(12), "ping", ping(9), "args", sys.argv[1:])
        print("name", __name__, "spec", getattr(__spec__, "name", None), "file", __file__.rsplit("/", 1)[-1])
        import __main__
        print("main is self", __main__.main is main)
        print(sorted(x for x in "hello"))

    main()
"""

# A table row: ncalls, four times, then the function's label.
ROW = re.compile(r"^\s*(\d+(?:/\d+)?)\s+[\d.]+\s+[\d.]+\s+[\d.]+\s+[\d.]+\s+(\S.*)$")
# The one row only one of the two profilers has: the profiler's own disable().
DISABLE = re.compile(r"\{method 'disable' of '[\w.]+' objects\}")


def both(runner, *args: str):
    """Run ``-m cProfile ARGS`` and ``-m hotpath.cprofile ARGS``; return both results."""
    return (runner.python("-m", "cProfile", *args),
            runner.python("-m", "hotpath.cprofile", *args))


def split_output(stdout: str) -> tuple[list[str], str, dict[str, str]]:
    """The program's lines (before the table), the "Ordered by" line, and the rows
    (label -> ncalls) without the profiler's own disable()."""
    lines = stdout.splitlines()
    start = next(i for i, line in enumerate(lines) if re.search(r"function calls", line))
    ordered = next(line.strip() for line in lines[start:] if "Ordered by" in line)
    rows = {}
    for line in lines[start:]:
        m = ROW.match(line)
        if m and not DISABLE.search(m.group(2)):
            rows[m.group(2).strip()] = m.group(1)
    return lines[:start], ordered, rows


def program_rows(rows: dict[str, str]) -> dict[str, str]:
    """Rows of the profiled script's own functions (the script is prog.py)."""
    return {k: v for k, v in rows.items() if k.startswith("prog.py:")}


@pytest.mark.parametrize("sort", ["cumulative", "tottime", "ncalls", "name"])
def test_sorted_table_matches_cprofile(runner, sort):
    runner.write("prog.py", PROGRAM)
    theirs, ours = both(runner, "-s", sort, "prog.py", "one", "--two")
    assert theirs.returncode == ours.returncode == 0, ours.stderr
    assert ours.stderr == theirs.stderr == ""
    their_prog, their_order, their_rows = split_output(theirs.stdout)
    our_prog, our_order, our_rows = split_output(ours.stdout)
    assert our_prog == their_prog                   # the program's output, unchanged
    assert "args ['one', '--two']" in "\n".join(our_prog)
    assert our_order == their_order
    assert program_rows(our_rows) == program_rows(their_rows)
    assert program_rows(our_rows)["prog.py:3(fib)"] == "465/1"
    assert program_rows(our_rows)["prog.py:6(ping)"] == "5/1"   # mutual recursion
    assert set(our_rows) == set(their_rows)         # builtins too, e.g. {built-in method builtins.print}
    if sort == "ncalls":                            # rows in the same order of counts
        order = lambda out: [v for k, v in split_output(out)[2].items() if k.startswith("prog.py:")]
        assert order(ours.stdout) == order(theirs.stdout)


def test_default_sort_and_statistics_header(runner):
    runner.write("prog.py", PROGRAM)
    theirs, ours = both(runner, "prog.py")
    assert split_output(ours.stdout)[1] == split_output(theirs.stdout)[1]
    head = lambda out: re.search(r"(\d+) function calls \((\d+) primitive calls\)", out).groups()
    # Each table has one disable() call of its own profiler, so the totals match exactly.
    assert head(ours.stdout) == head(theirs.stdout)


def test_output_file_is_a_pstats_file(runner, tmp_path):
    runner.write("prog.py", PROGRAM)
    theirs = runner.python("-m", "cProfile", "-o", "theirs.prof", "prog.py")
    ours = runner.python("-m", "hotpath.cprofile", "-o", "ours.prof", "prog.py")
    assert ours.returncode == theirs.returncode == 0, ours.stderr
    assert ours.stdout == theirs.stdout             # only the program's output, no table
    assert "function calls" not in ours.stdout
    our_stats = pstats.Stats(str(tmp_path / "ours.prof")).stats
    their_stats = pstats.Stats(str(tmp_path / "theirs.prof")).stats
    counts = lambda st: {k: v[:2] for k, v in st.items() if k[0].endswith("prog.py")}
    assert counts(our_stats) == counts(their_stats) != {}
    callers = lambda st: {k: {c: v[:2] for c, v in row[4].items()}
                          for k, row in st.items() if k[0].endswith("prog.py")}
    assert callers(our_stats) == callers(their_stats)
    # The real consumer: python -m pstats reads it and prints its table.
    p = subprocess.run([sys.executable, "-m", "pstats", "ours.prof"], cwd=tmp_path,
                       input="sort cumulative\nstats 5\nquit\n", capture_output=True,
                       text=True, timeout=60, env=runner.env())
    assert p.returncode == 0, p.stderr
    assert "prog.py:3(fib)" in p.stdout and "465/1" in p.stdout


def test_output_path_is_resolved_before_the_program_changes_directory(runner, tmp_path):
    (tmp_path / "elsewhere").mkdir()
    runner.write("prog.py", "import os\nos.chdir('elsewhere')\nprint('moved')\n")
    r = runner.python("-m", "hotpath.cprofile", "-o", "out.prof", "prog.py")
    assert r.returncode == 0, r.stderr
    assert r.stdout == "moved\n"
    assert (tmp_path / "out.prof").is_file()
    assert not (tmp_path / "elsewhere" / "out.prof").exists()
    assert any(k[2] == "<module>" for k in pstats.Stats(str(tmp_path / "out.prof")).stats)


def test_module_mode_runs_like_cprofile(runner, tmp_path):
    runner.write("pkgdemo/__init__.py", "")
    runner.write("pkgdemo/__main__.py", "import sys\nprint('pkg main', __name__, sys.argv[1:])\n")
    runner.write("moddemo.py", PROGRAM)
    for target in ("moddemo", "pkgdemo"):
        theirs, ours = both(runner, "-m", target, "x", "-s", "y")
        assert ours.returncode == theirs.returncode == 0, ours.stderr
        assert split_output(ours.stdout)[0] == split_output(theirs.stdout)[0]
    assert "pkg main __main__ ['x', '-s', 'y']" in ours.stdout


def test_exit_status_and_program_errors_as_cprofile(runner):
    runner.write("fails.py", "print('before')\nraise KeyError('boom')\n")
    runner.write("exits.py", "import sys\nprint('before')\nsys.exit(3)\n")
    theirs, ours = both(runner, "fails.py")
    assert ours.returncode == theirs.returncode == 1
    assert ours.stdout.startswith("before\n")
    # the program's own traceback, as cProfile shows it
    assert "Traceback" in ours.stderr and ours.stderr.strip().endswith("KeyError: 'boom'")
    assert ours.stderr.strip().splitlines()[-1] == theirs.stderr.strip().splitlines()[-1]
    theirs, ours = both(runner, "exits.py")
    # cProfile stops at the program's SystemExit, prints the table and exits normally.
    assert ours.returncode == theirs.returncode
    assert "function calls" in ours.stdout and "function calls" in theirs.stdout


@pytest.mark.parametrize("args, status, message", [
    (["-x", "prog.py"], 2, "error: no such option: -x"),
    (["-s", "nonsense", "prog.py"], 2, "option -s: invalid choice: 'nonsense'"),
    (["-o"], 2, "error: -o option requires 1 argument"),
    (["missing.py"], 2, "can't open file 'missing.py': [Errno 2] No such file or directory"),
    (["-m", "no_such_module_xyz"], 1, "No module named no_such_module_xyz"),
    (["-m"], 2, "error: -m needs a module name"),
    (["broken.py"], 1, "SyntaxError"),
])
def test_command_line_mistakes_are_one_clear_error(runner, args, status, message):
    runner.write("prog.py", "print('ran')\n")
    runner.write("broken.py", "def f(:\n    pass\n")
    r = runner.python("-m", "hotpath.cprofile", *args)
    assert r.returncode == status, (r.stdout, r.stderr)
    assert message in r.stderr
    assert "Traceback" not in r.stderr
    assert "ran" not in r.stdout


def test_no_arguments_prints_usage(runner):
    theirs, ours = both(runner)
    assert ours.returncode == theirs.returncode == 2
    assert ours.stdout.replace("cprofile", "cProfile") == theirs.stdout.replace("cprofile", "cProfile")
    assert "[-o output_file_path] [-s sort] [-m module | scriptfile]" in ours.stdout


def test_module_api_surface(tmp_path):
    import cProfile
    import importlib
    origin = importlib.import_module(cProfile.run.__module__)  # profiling.tracing from 3.15
    assert hotpath.cprofile.Profile is hotpath.Profile
    assert hotpath.run is hotpath.cprofile.run and hotpath.runctx is hotpath.cprofile.runctx
    assert hotpath.cprofile.__all__ == cProfile.__all__
    assert callable(hotpath.cprofile.main)
    assert hotpath.cprofile.label("max") == origin.label("max") == ("~", 0, "max")
    code = test_module_api_surface.__code__
    assert hotpath.cprofile.label(code) == origin.label(code)
    import inspect
    for name in ("run", "runctx"):
        assert (inspect.signature(getattr(hotpath.cprofile, name))
                == inspect.signature(getattr(cProfile, name)))


def _fib(n):
    return n if n < 2 else _fib(n - 1) + _fib(n - 2)


def test_run_and_runctx_print_or_write(tmp_path):
    out = io.StringIO()
    with redirect_stdout(out):
        result = hotpath.runctx("_fib(10)", globals(), {}, sort="ncalls")
    assert result is None
    text = out.getvalue()
    assert "Ordered by: call count" in text
    assert re.search(r"177/1\s.*\(_fib\)", text)
    path = tmp_path / "run.prof"
    hotpath.runctx("_fib(10)", globals(), {}, filename=str(path))
    stats = pstats.Stats(str(path)).stats
    ((key, row),) = [(k, v) for k, v in stats.items() if k[2] == "_fib"]
    assert row[:2] == (1, 177)
    out = io.StringIO()
    with redirect_stdout(out):
        hotpath.run("sorted([3, 1, 2])", sort=("tottime", "stdname"))
    assert "Ordered by: internal time, standard name" in out.getvalue()
    assert "{built-in method builtins.sorted}" in out.getvalue()
