"""``hotpath run`` behaves exactly as the program would without hotpath (issue 11).

Forked children keep the program's signal handling, the profile survives a second
Ctrl-C, a program that closes or replaces its stderr keeps its exit status and hotpath
keeps its table, an unwritable output path is refused before the program runs, SIGHUP
writes the profile like SIGTERM, atexit handlers are profiled, children are mentioned.
"""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import pytest

import hotpath

needs_fork = pytest.mark.skipif(not hasattr(os, "fork"), reason="needs fork")


@needs_fork
def test_terminated_forked_child_ends_by_sigterm(runner):
    # A child that would catch BaseException must still die by SIGTERM, as without hotpath.
    runner.write("term.py", """
        import multiprocessing as mp, time
        def child():
            try:
                time.sleep(30)
            except BaseException:
                print("child caught it", flush=True)
                time.sleep(30)
        if __name__ == "__main__":
            mp.set_start_method("fork")
            p = mp.Process(target=child)
            p.start()
            time.sleep(0.5)
            p.terminate()
            p.join(10)
            print("exitcode", p.exitcode)
    """)
    plain = runner.python("term.py", timeout=60)
    r = runner.hotpath("run", "-q", "term.py", timeout=60)
    assert plain.stdout == "exitcode -15\n"
    assert r.stdout == plain.stdout, r.stderr
    assert "Traceback" not in r.stderr and r.returncode == 0


POOL = """
    import multiprocessing, sys
    def fib(n):
        return n if n < 2 else fib(n - 1) + fib(n - 2)
    if __name__ == "__main__":
        for i in range(RUNS):
            with multiprocessing.Pool(2) as p:
                r = p.map_async(fib, [12] * 8)
                assert r.get(timeout=30) == [144] * 8
        print("done", RUNS)
"""


@needs_fork
@pytest.mark.parametrize("mode", [[], ["--lines"], ["--memory"]], ids=["function", "lines", "memory"])
def test_fork_pool_exits_every_time(runner, mode):
    # Before the fix 2-10% of pool exits hung: a worker's SIGTERM reached hotpath's
    # handler (inherited through fork) and was swallowed. 200 pools in one run; a hang
    # fails through the subprocess timeout instead of hanging the suite.
    runner.write("pool.py", POOL.replace("RUNS", "200"))
    try:
        r = runner.hotpath("run", "-q", "--no-follow", *mode, "pool.py", timeout=150)
    except subprocess.TimeoutExpired:
        pytest.fail(f"a pool hung at exit under hotpath run {' '.join(mode)}")
    assert r.returncode == 0, r.stderr
    assert r.stdout == "done 200\n"
    assert "Traceback" not in r.stderr


def test_second_ctrl_c_keeps_the_profile(runner):
    # ~30k functions: writing takes about a second, and the second Ctrl-C lands in it.
    runner.write("many.py", """
        import time
        N = 30000
        src = "\\n".join(f"def f{i}(x):\\n    return x + {i}\\n" for i in range(N))
        ns = {}
        exec(compile(src, "gen.py", "exec"), ns)
        for i in range(N):
            ns[f"f{i}"](i)
        print("ready", flush=True)
        time.sleep(60)
    """)
    p = subprocess.Popen([sys.executable, "-m", "hotpath", "run", "-o", "many.hprof", "many.py"],
                         cwd=runner.cwd, env=runner.env(), stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE, text=True)
    try:
        assert p.stdout.readline() == "ready\n"
        p.send_signal(signal.SIGINT)
        time.sleep(0.3)
        p.send_signal(signal.SIGINT)
        out, err = p.communicate(timeout=120)
    finally:
        p.kill()
    assert "hotpath: writing profile…" in err
    assert p.returncode == -signal.SIGINT, err
    assert "hotpath/" not in err, err          # no traceback from inside hotpath
    data = hotpath.load(str(runner.cwd / "many.hprof"))
    assert sum(f.name.startswith("f") for f in data.functions) >= 30000


@pytest.mark.parametrize("how", ["sys.stderr.close()", "os.close(2)"])
def test_program_closing_its_stderr_keeps_its_exit_status(runner, how):
    runner.write("closes.py", f"""
        import os, sys
        def work():
            return sum(range(1000))
        work()
        {how}
        print("ok")
    """)
    plain = runner.python("closes.py")
    r = runner.hotpath("run", "closes.py")
    assert plain.returncode == 0
    assert r.returncode == 0, r.stderr
    assert r.stdout == "ok\n"
    assert "lost sys.stderr" not in r.stderr
    assert "work (closes.py:" in r.stderr        # the table reaches the original stderr
    assert any(f.name == "work" for f in hotpath.load(str(runner.cwd / "closes.hprof")).functions)


@pytest.mark.parametrize("mode", [[], ["--memory"]], ids=["function", "memory"])
def test_program_replacing_its_stderr_does_not_swallow_the_table(runner, mode):
    runner.write("repl.py", """
        import io, sys
        def work():
            return [0] * 100000
        work()
        sys.stderr = io.StringIO()
        print("kept", file=sys.stderr)
    """)
    r = runner.hotpath("run", *mode, "repl.py")
    assert r.returncode == 0, r.stderr
    assert "\nkept\n" not in r.stderr           # the program's own stderr is its StringIO
    assert "hotpath: profile written to repl.hprof" in r.stderr


def test_unwritable_output_fails_before_the_program_runs(runner):
    # /proc takes no new files, even for root (a chmod 555 directory would not stop root).
    runner.write("prog.py", """
        print("the program ran")
    """)
    r = runner.hotpath("run", "-o", "/proc/hotpath-test.hprof", "prog.py")
    assert r.returncode == 2
    assert r.stdout == ""
    assert r.stderr.count("\n") == 1 and r.stderr.startswith("hotpath: error: cannot write")


@pytest.mark.skipif(hasattr(os, "geteuid") and os.geteuid() == 0, reason="root writes anyway")
def test_read_only_directory_fails_before_the_program_runs(runner):
    runner.write("prog.py", 'print("the program ran")\n')
    ro = runner.cwd / "ro"
    ro.mkdir()
    ro.chmod(0o555)
    try:
        r = runner.hotpath("run", "-o", "ro/out.hprof", "prog.py")
    finally:
        ro.chmod(0o755)
    assert r.returncode == 2 and r.stdout == ""
    assert r.stderr.startswith("hotpath: error: cannot write") and r.stderr.count("\n") == 1


def test_table_is_shown_when_the_profile_cannot_be_written(runner):
    # The output directory disappears while the program runs: one error line, and the
    # table all the same. (work() outweighs the program's own `import shutil`, which
    # hotpath does not import for it, in the table's 20 rows.)
    runner.write("prog.py", """
        import shutil
        def work():
            t = 0
            for i in range(200_000):
                t += i
            return t
        work()
        shutil.rmtree("out")
    """)
    (runner.cwd / "out").mkdir()
    r = runner.hotpath("run", "-o", "out/p.hprof", "prog.py")
    assert r.returncode == 0
    assert "hotpath: error: cannot write 'out/p.hprof'" in r.stderr
    assert "work (prog.py:" in r.stderr


def test_sighup_writes_the_profile_then_ends_by_sighup(runner):
    runner.write("hup.py", """
        import os, signal, time
        def work():
            return sum(range(1000))
        work()
        print("sending", flush=True)
        os.kill(os.getpid(), signal.SIGHUP)
        time.sleep(5)
        print("not reached")
    """)
    plain = runner.python("hup.py")
    r = runner.hotpath("run", "-q", "hup.py")
    assert plain.returncode == -signal.SIGHUP
    assert r.returncode == plain.returncode
    assert r.stdout == plain.stdout == "sending\n"
    assert any(f.name == "work" for f in hotpath.load(str(runner.cwd / "hup.hprof")).functions)


def test_atexit_handlers_are_profiled(runner):
    runner.write("ae.py", """
        import atexit
        def at_exit_work():
            print("at exit", sum(range(1000)))
        atexit.register(at_exit_work)
        print("main")
    """)
    plain = runner.python("ae.py")
    r = runner.hotpath("run", "-q", "ae.py")
    assert r.stdout == plain.stdout == "main\nat exit 499500\n"
    assert r.returncode == 0
    names = {f.name for f in hotpath.load(str(runner.cwd / "ae.hprof")).functions}
    assert "at_exit_work" in names


def test_children_not_followed_is_said(runner):
    runner.write("kids.py", """
        import subprocess, sys
        subprocess.run([sys.executable, "-c", "sum(range(3_000_000))"], check=True)
    """)
    r = runner.hotpath("run", "--no-follow", "kids.py")
    assert r.returncode == 0, r.stderr
    assert "children are not followed" in r.stderr
    r = runner.hotpath("run", "kids.py")          # followed: merged, no such note
    assert r.returncode == 0, r.stderr
    assert "children are not followed" not in r.stderr
    assert "2 processes" in r.stderr
    r = runner.hotpath("run", "-c", "pass")
    assert "children are not followed" not in r.stderr


def test_help_says_what_is_not_covered(runner):
    r = runner.hotpath("run", "--help")
    text = " ".join(r.stdout.split())
    assert "os._exit()" in text and "not followed" in text and "--no-follow" in text
