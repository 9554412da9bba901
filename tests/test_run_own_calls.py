"""``hotpath run`` profiles hold the program's calls, not hotpath's own.

Recording starts just before the program's first line and stops after it ends, so the
thread running the program also sees hotpath start up and tear down (waiting for
threads, restoring signal handlers, its finish callbacks, the call that disables the
profiler). None of that may reach the profile or its exports: a viewer such as snakeviz
would open on ``runner.finish``. Checked through the CLI on programs that end normally,
by ``sys.exit``, by an exception, and with a thread that outlives the main code, by
reading the written profile and its pstats export.
"""
from __future__ import annotations

import os
import pstats

import pytest

import hotpath
from hotpath import fileformat

HOTPATH_DIR = os.path.dirname(os.path.abspath(hotpath.__file__))

PROGRAMS = {
    "normal": ("""\
        def work(n):
            return sum(i * i for i in range(n))
        print(work(10000))
        """, 0, {"work"}),
    "sys_exit": ("""\
        import sys
        def work(n):
            return sum(range(n))
        work(1000)
        sys.exit(3)
        """, 3, {"work"}),
    "exception": ("""\
        def work():
            raise ValueError("boom")
        work()
        """, 1, {"work"}),
    "threads": ("""\
        import threading, time
        def spin(n):
            return sum(i * i for i in range(n))
        def worker():
            time.sleep(0.05)
            spin(50000)
        threading.Thread(target=worker).start()
        spin(1000)
        """, 0, {"spin", "worker"}),
}


def _is_hotpath(filename: str, name: str) -> bool:
    if filename != "~":
        return os.path.abspath(filename).startswith(HOTPATH_DIR + os.sep)
    return "hotpath" in name              # C methods such as Profiler.disable


def _check(runner, args: list[str], status: int, own: set[str], first: str) -> None:
    r = runner.hotpath("run", "-q", "-o", "out.hprof", *args)
    assert r.returncode == status, r.stderr
    assert HOTPATH_DIR not in r.stderr, r.stderr       # no hotpath frame in a traceback

    prof = fileformat.read(str(runner.cwd / "out.hprof"))
    names = {f.name for f in prof.functions}
    assert own <= names, names                       # the program itself is there
    ours = [f for f in prof.functions if _is_hotpath(f.filename, f.name)]
    assert not ours, ours
    assert not any(f.filename.endswith("signal.py") for f in prof.functions), names
    main = next(t for t in prof.threads if t.name == "MainThread")
    tops = [prof.functions[main.nodes[c].func].name for c in main.children()[0]]
    assert tops == [first], tops                     # one entry, no teardown roots

    r = runner.hotpath("export", "out.hprof", "--format", "pstats", "-o", "out.prof")
    assert r.returncode == 0, r.stderr
    stats = pstats.Stats(str(runner.cwd / "out.prof")).stats  # type: ignore[attr-defined]
    keys = set(stats)
    assert own <= {name for _, _, name in keys}
    assert not [k for k in keys if _is_hotpath(k[0], k[2])], sorted(keys)
    assert not [k for k in keys if k[0].endswith("signal.py")], sorted(keys)


@pytest.mark.parametrize("case", sorted(PROGRAMS))
def test_script_profile_has_no_hotpath_calls(runner, case):
    source, status, own = PROGRAMS[case]
    runner.write("prog.py", source)
    _check(runner, ["prog.py"], status, own, "<built-in method builtins.exec>")


def test_code_sys_exit_profile_is_the_program_only(runner):
    # the example: 23 of 26 recorded calls were hotpath's
    _check(runner, ["-c", "import sys; sys.exit(3)"], 3, {"<module>"},
           "<built-in method builtins.exec>")
    prof = fileformat.read(str(runner.cwd / "out.hprof"))
    assert sum(s.calls for s in prof.function_stats().values()) == 3   # exec, <module>, exit


def test_module_profile_has_no_hotpath_calls(runner):
    runner.write("pkg/__init__.py", "")
    runner.write("pkg/tool.py", PROGRAMS["threads"][0])
    _check(runner, ["-m", "pkg.tool"], 0, {"spin", "worker"}, "run_module")
