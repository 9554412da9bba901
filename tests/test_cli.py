"""hotpath run/report/export from the outside: the program behaves as under python,
the profile is written however it ends, and bad input gets one clear line."""
from __future__ import annotations

import os
import pstats
import signal
import sys

import pytest

import hotpath

SCRIPT = """
import os, sys
def work(n):
    return sum(i * i for i in range(n))
print("argv", sys.argv)
print("name", __name__, "file", os.path.basename(__file__))
print("path0", os.path.abspath(sys.path[0]) == os.path.dirname(os.path.abspath(__file__)))
print("to stderr", file=sys.stderr)
print("result", work(100000))
"""


def test_run_script_behaves_like_python(runner):
    runner.write("prog.py", SCRIPT)
    plain = runner.python("prog.py", "a", "--flag")
    prof = runner.hotpath("run", "prog.py", "a", "--flag")
    assert prof.returncode == plain.returncode == 0
    assert prof.stdout == plain.stdout
    assert prof.stderr.startswith(plain.stderr)
    assert "ncalls" in prof.stderr and "work" in prof.stderr
    data = hotpath.load(str(runner.cwd / "prog.hprof"))
    assert any(f.name == "work" for f in data.functions)
    assert data.meta["command"] == "prog.py a --flag"
    quiet = runner.hotpath("run", "-q", "-o", "q.hprof", "prog.py", "a", "--flag")
    assert quiet.stderr == plain.stderr and quiet.stdout == plain.stdout
    assert (runner.cwd / "q.hprof").exists()


def test_run_module_and_code(runner):
    runner.write("pkg/__init__.py", "")
    runner.write("pkg/tool.py", """
        import sys
        def main():
            print("module", __name__, sys.argv[1:])
        main()
    """)
    plain = runner.python("-m", "pkg.tool", "x", "-y")
    prof = runner.hotpath("run", "-o", "m.hprof", "-m", "pkg.tool", "x", "-y")
    assert prof.returncode == plain.returncode == 0
    assert prof.stdout == plain.stdout == "module __main__ ['x', '-y']\n"
    assert (runner.cwd / "m.hprof").exists()

    code = "import sys; print('code', sys.argv)"
    plain = runner.python("-c", code, "1", "2")
    prof = runner.hotpath("run", "-o", "c.hprof", "-c", code, "1", "2")
    assert prof.stdout == plain.stdout == "code ['-c', '1', '2']\n"
    assert (runner.cwd / "c.hprof").exists()


@pytest.mark.parametrize("body, expected_status", [
    ("raise ValueError('boom')", 1),
    ("sys.exit(3)", 3),
    ("sys.exit('bye')", 1),
    ("raise SystemExit(0)", 0),
])
def test_exit_status_and_stderr_pass_through(runner, body, expected_status):
    runner.write("ends.py", f"""
        import sys
        def work():
            return [i for i in range(100)]
        work()
        print("before")
        def fail():
            {body}
        fail()
    """)
    plain = runner.python("ends.py")
    prof = runner.hotpath("run", "-q", "ends.py")
    assert plain.returncode == expected_status
    assert prof.returncode == plain.returncode
    assert prof.stdout == plain.stdout
    assert prof.stderr == plain.stderr          # tracebacks read exactly as under python
    data = hotpath.load(str(runner.cwd / "ends.hprof"))
    assert any(f.name == "fail" for f in data.functions)


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM])
def test_profile_written_on_signal(runner, sig):
    runner.write("sig.py", f"""
        import os, signal, sys
        def work():
            return sum(range(1000))
        work()
        print("sending", flush=True)
        os.kill(os.getpid(), {int(sig)})
        import time
        time.sleep(5)
        print("not reached")
    """)
    plain = runner.python("sig.py")
    prof = runner.hotpath("run", "-q", "sig.py")
    assert plain.returncode == -sig
    assert prof.returncode == plain.returncode
    assert prof.stdout == plain.stdout == "sending\n"
    data = hotpath.load(str(runner.cwd / "sig.hprof"))
    assert any(f.name == "work" for f in data.functions)


def test_threads_in_a_script(runner):
    runner.write("thr.py", """
        import threading
        def work():
            return sum(i for i in range(2000))
        ts = [threading.Thread(target=work, name=f"w{i}") for i in range(3)]
        for t in ts: t.start()
        for t in ts: t.join()
    """)
    prof = runner.hotpath("run", "thr.py")
    assert prof.returncode == 0
    assert "4 threads" in prof.stderr
    data = hotpath.load(str(runner.cwd / "thr.hprof"))
    assert {"MainThread", "w0", "w1", "w2"} <= {t.name for t in data.threads}


def test_report_and_export_pstats(runner):
    runner.write("prog.py", SCRIPT)
    assert runner.hotpath("run", "-q", "prog.py").returncode == 0
    rep = runner.hotpath("report", "prog.hprof", "--sort", "cumtime", "--limit", "5")
    assert rep.returncode == 0
    table, _, tree = rep.stdout.partition("\nhot path (")
    assert "cumtime" in table and len(table.splitlines()) <= 9
    assert "work (prog.py:" in tree     # the hot-path tree follows it (work: most of the run)
    filt = runner.hotpath("report", "prog.hprof", "--filter", "work")
    assert "work" in filt.stdout and "genexpr" not in filt.stdout.replace("work", "")[:0]
    exp = runner.hotpath("export", "prog.hprof", "--format", "pstats", "-o", "prog.prof")
    assert exp.returncode == 0
    stats = pstats.Stats(str(runner.cwd / "prog.prof"))
    assert any(k[2] == "work" for k in stats.stats)
    shown = runner.python("-m", "pstats", "prog.prof")
    assert shown.returncode == 0


@pytest.mark.parametrize("args, message", [
    (["run", "missing.py"], "can't open file"),
    (["run", "-m", "no_such_module_xyz"], "No module named no_such_module_xyz"),
    (["run", "--limit", "x", "prog.py"], "invalid int value"),
    (["run"], "give exactly one of"),
    (["report", "missing.hprof"], "no such file"),
    (["report", "junk.hprof"], "not a hotpath profile"),
    (["report", "truncated.hprof"], "truncated"),
    (["export", "good.hprof", "--format", "nope", "-o", "x"], "unknown format"),
    (["run", "-o", "/no/such/dir/x.hprof", "prog.py"], "does not exist"),
])
def test_bad_input_is_one_clear_error(runner, args, message):
    runner.write("prog.py", "print('hi')\n")
    runner.write("junk.hprof", "this is not a profile\n")
    runner.hotpath("run", "-q", "-o", "good.hprof", "prog.py")
    good = (runner.cwd / "good.hprof").read_bytes()
    (runner.cwd / "truncated.hprof").write_bytes(good[: len(good) // 2])
    r = runner.hotpath(*args)
    assert r.returncode == 2
    assert message in r.stderr
    assert "Traceback" not in r.stderr
    assert r.stdout == ""


def test_version_and_help(runner):
    assert runner.hotpath("--version").stdout.startswith("hotpath ")
    h = runner.hotpath("run", "--help")
    assert h.returncode == 0 and "-m MODULE" in h.stdout


def test_exported_pstats_reads_in_gprof2dot(runner):
    pytest.importorskip("gprof2dot")
    runner.write("prog.py", SCRIPT)
    assert runner.hotpath("run", "-q", "prog.py").returncode == 0
    assert runner.hotpath("export", "prog.hprof", "-f", "pstats", "-o", "prog.prof").returncode == 0
    dot = runner.python("-m", "gprof2dot", "-f", "pstats", "prog.prof")
    assert dot.returncode == 0, dot.stderr
    assert dot.stdout.startswith("digraph") and "work" in dot.stdout


def test_program_using_cprofile_runs_under_hotpath(runner):
    runner.write("uses_cprofile.py", """
        import cProfile, io, pstats, sys
        def work():
            return sum(range(1000))
        pr = cProfile.Profile()
        pr.enable()
        work()
        pr.disable()
        pstats.Stats(pr, stream=io.StringIO()).print_stats()
        print("cProfile ok")
        work()
    """)
    plain = runner.python("uses_cprofile.py")
    prof = runner.hotpath("run", "-q", "uses_cprofile.py")
    assert plain.returncode == 0 and prof.returncode == 0, prof.stderr
    assert prof.stdout == plain.stdout == "cProfile ok\n"
    data = hotpath.load(str(runner.cwd / "uses_cprofile.hprof"))
    if sys.version_info < (3, 12):
        # one hook slot: cProfile displaced hotpath's, and the profile says so
        assert "replaced hotpath's profile hook" in data.meta["capture_error"]
    else:
        assert "capture_error" not in data.meta


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs fork")
def test_forked_child_does_not_write_the_profile(runner):
    runner.write("forks.py", """
        import os, sys
        def work():
            return sum(range(1000))
        work()
        pid = os.fork()
        if pid == 0:
            work()
            sys.exit(0)
        os.waitpid(pid, 0)
        print("parent done")
    """)
    prof = runner.hotpath("run", "forks.py")
    assert prof.returncode == 0
    assert prof.stdout == "parent done\n"
    assert prof.stderr.count("hotpath: profile written to") == 1


def test_profiler_slot_taken_is_one_clear_error(runner):
    runner.write("hello.py", "print('hi')\n")
    code = ("import cProfile, sys; from hotpath.cli import main; c = cProfile.Profile(); "
            "c.enable(); rc = main(['run', '-o', 'h.hprof', 'hello.py']); c.disable(); "
            "sys.exit(rc)")
    if sys.version_info >= (3, 12):
        # cProfile and hotpath coexist there: take every tool id hotpath could use
        code = ("import sys; [sys.monitoring.use_tool_id(i, 'x') for i in (5, 3) "
                "if sys.monitoring.get_tool(i) is None]; ") + code
    r = runner.python("-c", code)
    assert r.returncode == 2
    assert "hotpath: error: another profiler is active" in r.stderr
    assert "Traceback" not in r.stderr
    assert not (runner.cwd / "h.hprof").exists()
