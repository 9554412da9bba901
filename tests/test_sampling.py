"""The sampling mode as users run it: ``hotpath run --sample`` on a script, a threaded
program, an asyncio program and one that forks; ``hotpath.Sampler``; ``hotpath attach``
(3.14+; elsewhere its one-line refusal). Nothing here asserts on wall-clock speed."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import pytest

import hotpath

# Five pure-Python functions with costs 16 : 8 : 4 : 2 : 1, called interleaved (about
# 0.8 s in all): well separated, so the order of the top two by self time holds on a
# loaded machine (the smaller ones, with tens of samples each when the sampler is starved
# of CPU, were seen swapped, so for those only the set is compared).
SEPARATED = """
    def k16():
        s = 0
        for i in range(16 * UNIT): s += i
    def k8():
        s = 0
        for i in range(8 * UNIT): s += i
    def k4():
        s = 0
        for i in range(4 * UNIT): s += i
    def k2():
        s = 0
        for i in range(2 * UNIT): s += i
    def k1():
        s = 0
        for i in range(UNIT): s += i
    UNIT = 20000
    for _ in range(25):
        k16(); k8(); k4(); k2(); k1()
"""


def top_python(path, n=5):
    """The ``n`` hottest Python functions of a profile file by self time: names."""
    data = hotpath.load(str(path))
    stats = data.function_stats()
    rows = sorted(((s.self_ticks, data.functions[f].name) for f, s in stats.items()
                   if f >= 0 and not data.functions[f].is_builtin), reverse=True)
    return [name for _, name in rows[:n]]


def test_sampled_hot_functions_agree_with_the_deterministic_profile(runner):
    runner.write("sep.py", SEPARATED)
    exact = runner.hotpath("run", "-q", "-o", "exact.hprof", "sep.py")
    sampled = runner.hotpath("run", "--sample", "-o", "sampled.hprof", "sep.py")
    assert exact.returncode == 0 and sampled.returncode == 0, sampled.stderr
    exact_top, sampled_top = (top_python(runner.cwd / f) for f in ("exact.hprof",
                                                                      "sampled.hprof"))
    assert set(exact_top) == set(sampled_top) == {"k16", "k8", "k4", "k2", "k1"}
    # the order of the two hottest (16 : 8) holds at any load; k4 against k2 (4 : 2, tens
    # of samples each on a loaded machine) was seen swapped under load, so only the set
    assert exact_top[:2] == sampled_top[:2] == ["k16", "k8"]
    assert "note: sampled: times are estimates (wall time" in sampled.stderr
    data = hotpath.load(str(runner.cwd / "sampled.hprof"))
    assert data.meta["sampled"] is True and data.meta["mode"] == "sample"
    s = data.meta["sampling"]
    assert s["rate_hz"] == 1000 and s["samples"] > 50 and s["clock"] == "wall"
    # samples are rooted at the program: hotpath's own frames are not in the tree
    names = {data.functions[data.threads[0].func[c]].name for c in data.threads[0].top_level()}
    assert names == {"<module>"}


# A caller whose own work is straight-line code (no loop, no call: no eval-breaker check
# in it) ending in a call to an empty function. A sample is taken at the running thread's
# next eval-breaker check, here the callee's entry; without the peek at the ask
# (common/stackpeek.h) the caller's whole time was charged to `tiny` (measured: tiny
# 52-63%, caller 0%). The program times its two functions itself (their real shares).
STRAIGHT = """
    import json, sys, threading, time
    exec("def caller(a):\\n    x = 0\\n" + "".join(f"    x = x + a * {i} % 7\\n" for i in range(3000))
         + "    tiny()\\n    return x\\n")
    def tiny():
        pass
    def looper(n):
        s = 0
        for i in range(n):
            s += i
        return s
    spent = {"caller": 0.0, "looper": 0.0}
    def work():
        clock = time.perf_counter
        for _ in range(600):
            t0 = clock()
            caller(3)
            t1 = clock()
            looper(3000)
            spent["caller"] += t1 - t0
            spent["looper"] += clock() - t1
    if sys.argv[1] == "thread":
        t = threading.Thread(target=work)
        t.start()
        t.join()
    else:
        work()
    with open("spent.json", "w") as f:
        json.dump(spent, f)
"""


@pytest.mark.parametrize("where", ["main", "thread"])
def test_a_callers_straight_line_work_is_charged_to_it(runner, where):
    import json
    runner.write("straight.py", STRAIGHT)
    r = runner.hotpath("run", "--sample", "-q", "-o", "s.hprof", "straight.py", where)
    assert r.returncode == 0, r.stderr
    data = hotpath.load(str(runner.cwd / "s.hprof"))
    own = {}
    for f, st in data.function_stats().items():
        if f >= 0:
            own[data.functions[f].name] = own.get(data.functions[f].name, 0) + st.self_ticks
    names = ("caller", "tiny", "looper")  # the thread case also samples join()'s wait
    total = sum(own.get(name, 0) for name in names)
    share = {name: own.get(name, 0) / total for name in names}
    spent = json.loads((runner.cwd / "spent.json").read_text())
    real = spent["caller"] / (spent["caller"] + spent["looper"])  # 0.55 (3.12)-0.62 (3.15)
    # a few hundred samples on a loaded machine: shares spread by +-0.15 (seen); the
    # bias this guards against is all or nothing
    assert abs(share["caller"] - real) < 0.2, (share, real)
    # the worker thread's samples asked for while no thread held the GIL (mid hand-over)
    # have no peek and land at the check, in `tiny`: 0-10% seen (3.14, loaded CI)
    assert share["tiny"] < 0.2, share
    if where == "main":
        sampling = data.meta["sampling"]
        assert sampling["peek_moved"] > 0 and sampling["peeked"] >= sampling["peek_moved"]


# A stack that never stays still: deep recursion across data-stack chunks, generators
# (frames that move between stacks), exceptions unwinding many frames. The sampler thread
# peeks at it thousands of times without the GIL; a torn read (a `previous` pointer of ~0
# read mid-update once crashed the ast-over-the-stdlib benchmark) must cost at most one
# sample, never the program.
CHURN = """
    import sys
    sys.setrecursionlimit(10000)
    def deep(n):
        return deep(n - 1) + 1 if n else 0
    def gen(n):
        for i in range(n):
            yield i
    def boom(n):
        if n == 0:
            raise ValueError
        boom(n - 1)
    total = 0
    for r in range(30):
        total += deep(2000 + r % 7 * 300)
        total += sum(gen(500))
        try:
            boom(200)
        except ValueError:
            pass
    print(total)
"""


def test_a_churning_stack_sampled_at_10khz(runner):
    runner.write("churn.py", CHURN)
    plain = subprocess.run([sys.executable, "churn.py"], cwd=runner.cwd, capture_output=True,
                           text=True)
    r = runner.hotpath("run", "--sample=10k", "-q", "-o", "c.hprof", "churn.py")
    assert r.returncode == 0, r.stderr
    assert r.stdout == plain.stdout
    data = hotpath.load(str(runner.cwd / "c.hprof"))
    names = {data.functions[f].name for f in data.function_stats() if f >= 0}
    assert "deep" in names, names
    assert data.meta["sampling"]["peeked"] > 10  # thousands when the sampler gets a CPU


def test_reports_exports_and_diff_read_a_sampled_profile(runner):
    runner.write("sep.py", SEPARATED.replace("range(25)", "range(3)"))
    assert runner.hotpath("run", "--sample=2k", "-q", "sep.py").returncode == 0
    rep = runner.hotpath("report", "sep.hprof")
    assert rep.returncode == 0 and "times are estimates" in rep.stdout and "k16" in rep.stdout
    exp = runner.hotpath("export", "sep.hprof", "--format", "collapsed", "-o", "sep.txt")
    assert exp.returncode == 0
    assert any(line.startswith("<module>") and "k16" in line
               for line in (runner.cwd / "sep.txt").read_text().splitlines())
    d = runner.hotpath("diff", "sep.hprof", "sep.hprof")
    assert d.returncode == 0


def test_threads_are_sampled_each_with_its_gil_share(runner):
    runner.write("thr.py", """
        import threading, time
        def busy():
            t = time.monotonic() + 0.4
            while time.monotonic() < t:
                sum(range(200))
        def sleeper():
            time.sleep(0.4)
        ts = [threading.Thread(target=busy, name="busy"),
              threading.Thread(target=sleeper, name="sleeper")]
        for t in ts: t.start()
        for t in ts: t.join()
    """)
    wall = runner.hotpath("run", "--sample", "-o", "wall.hprof", "thr.py")
    assert wall.returncode == 0, wall.stderr
    data = hotpath.load(str(runner.cwd / "wall.hprof"))
    by_name = {t.name: t for t in data.threads}
    assert {"MainThread", "busy", "sleeper"} <= set(by_name)
    gil = data.meta["sampling"]["threads"]
    busy = gil[str(by_name["busy"].thread_id)]
    sleeper = gil[str(by_name["sleeper"].thread_id)]
    assert busy["samples"] > 20 and sleeper["samples"] > 20, gil  # wall: both counted
    assert busy["gil_samples"] > sleeper["gil_samples"]           # the sleeper waits in C
    assert "held the GIL in:" in wall.stderr

    cpu = runner.hotpath("run", "--sample", "--sample-clock", "cpu", "-o", "cpu.hprof", "thr.py")
    assert cpu.returncode == 0, cpu.stderr
    data = hotpath.load(str(runner.cwd / "cpu.hprof"))
    samples = {t.name: data.meta["sampling"]["threads"][str(t.thread_id)]["samples"]
               for t in data.threads}
    assert samples.get("busy", 0) > 20
    assert samples.get("sleeper", 0) <= 2          # asleep: off the CPU, not counted


def test_asyncio_task_stacks_are_whole(runner):
    runner.write("aio.py", """
        import asyncio
        def crunch():
            return sum(i * i for i in range(20000))
        async def inner():
            for _ in range(40):
                crunch()
                await asyncio.sleep(0)
        async def middle():
            await inner()
        async def outer():
            await asyncio.gather(middle(), middle())
        asyncio.run(outer())
    """)
    r = runner.hotpath("run", "--sample=2k", "-q", "aio.py")
    assert r.returncode == 0, r.stderr
    data = hotpath.load(str(runner.cwd / "aio.hprof"))
    (t,) = data.threads
    names = [data.functions[f].name if f >= 0 else "" for f in t.func]
    paths = set()
    for i in range(len(t.func)):
        if names[i] == "crunch":
            p, j = [], i
            while j > 0:
                p.append(names[j])
                j = t.parent[j]
            paths.add(tuple(reversed(p)))
    # the awaiting coroutines are on the path of the running task's work
    assert any(p[-3:] == ("middle", "inner", "crunch") for p in paths), paths


def test_a_program_that_forks(runner):
    runner.write("forks.py", """
        import os, sys
        def work():
            return sum(range(300000))
        work()
        pid = os.fork()
        if pid == 0:
            work()
            sys.exit(0)
        _, status = os.waitpid(pid, 0)
        work()
        print("parent done", os.waitstatus_to_exitcode(status))
    """)
    r = runner.hotpath("run", "--sample", "forks.py")
    assert r.returncode == 0, r.stderr
    assert r.stdout == "parent done 0\n"
    assert r.stderr.count("hotpath: profile written to") == 1


@pytest.mark.parametrize("args, message", [
    (["--sample=abc"], "sample rate 'abc'"),
    (["--sample=0"], "choose between 1 and 100k"),
    (["--sample", "--memory"], "--sample does not combine"),
    (["--sample", "--sample-clock", "gpu"], "invalid choice"),
])
def test_bad_sampling_options_are_one_line(runner, args, message):
    runner.write("p.py", "pass\n")
    r = runner.hotpath("run", *args, "p.py")
    assert r.returncode == 2
    assert message in r.stderr and "Traceback" not in r.stderr
    assert len(r.stderr.strip().splitlines()) == 1


def _spin(seconds):
    t = time.monotonic() + seconds
    while time.monotonic() < t:
        sum(range(100))


def test_a_main_thread_running_python_samples_itself():
    # The sampler thread posts a pending call; the main thread takes the sample at its
    # next eval-breaker check instead of handing the GIL over (3.11/3.12 need hotpath to
    # trip the breaker: Py_AddPendingCall from another thread does not).
    with hotpath.Sampler(rate=1000) as s:
        _spin(0.4)
    snap = s.raw_snapshot()
    assert snap["ticks"] >= 20
    assert snap["main_ticks"] >= snap["ticks"] // 2, (snap["ticks"], snap["main_ticks"])
    p = s.snapshot()
    assert p.meta["sampling"]["main_ticks"] == snap["main_ticks"]
    assert any(f.name == "_spin" for f in p.functions)


def test_a_thread_holding_the_gil_is_asked_to_drop_it():
    # A worker runs Python while the main thread waits in join(): the sampler thread
    # must take the GIL from it. With a 100 s switch interval, waiting for take_gil's own
    # drop request would give one sample at the end; hotpath asks for the drop at once.
    # (The worker first sleeps, so that the main thread is in join() before it spins: a
    # third thread waiting for the GIL could take it in the sampler's place, and the
    # sampler would then wait out the switch interval, as any waiting thread does.)
    import threading

    def spinner():
        time.sleep(0.05)
        _spin(0.4)

    old = sys.getswitchinterval()
    sys.setswitchinterval(100.0)
    try:
        with hotpath.Sampler(rate=1000) as s:
            th = threading.Thread(target=spinner, name="spinner")
            th.start()
            th.join()
    finally:
        sys.setswitchinterval(old)
    p = s.snapshot()
    samples = {t.name: p.meta["sampling"]["threads"][str(t.thread_id)]["samples"]
               for t in p.threads}
    assert samples.get("spinner", 0) >= 20, samples
    assert sys.getswitchinterval() == old


def test_sampler_api():
    from hotpath.capture.sampling import parse_rate
    assert parse_rate("10k") == 10000 and parse_rate("100") == 100 and parse_rate(250) == 250

    def hot():
        t = time.monotonic() + 0.2
        while time.monotonic() < t:
            sum(range(100))
    switch = sys.getswitchinterval()
    with hotpath.Sampler(rate="2k") as s:
        assert sys.getswitchinterval() == switch   # other threads' waits are left alone
        with pytest.raises(RuntimeError):
            hotpath.Sampler().start()          # one sampler at a time
        hot()
    assert sys.getswitchinterval() == switch and not s.running
    p = s.snapshot()
    assert p.meta["sampled"] and any(f.name == "hot" for f in p.functions)
    s.clear()
    assert s.snapshot().threads == []


@pytest.mark.skipif(sys.version_info >= (3, 14), reason="the refusal is for < 3.14")
def test_attach_needs_314(runner):
    r = runner.hotpath("attach", str(os.getpid()))
    assert r.returncode == 2
    assert r.stderr.strip() == (
        "hotpath: error: hotpath attach needs CPython 3.14 or newer (sys.remote_exec, "
        f"PEP 768); this is Python {'.'.join(map(str, sys.version_info[:3]))}")


@pytest.mark.skipif(sys.version_info < (3, 14), reason="sys.remote_exec is 3.14+")
@pytest.mark.parametrize("mode", ["sample", "functions", "lines"])
def test_attach_to_a_running_program(runner, mode):
    import pathlib
    longrun = pathlib.Path(__file__).resolve().parents[1] / "examples" / "longrun.py"
    target = subprocess.Popen([sys.executable, str(longrun), "60"], stdout=subprocess.PIPE,
                              text=True, env=runner.env())
    try:
        assert target.stdout.readline() == "ready\n"
        extra = ["-f", "__main__:heavy"] if mode == "lines" else []
        r = runner.hotpath("attach", str(target.pid), "--mode", mode, *extra,
                           "--duration", "0.5", "-o", "a.hprof")
        assert r.returncode == 0, r.stderr
        assert target.poll() is None               # still running
        data = hotpath.load(str(runner.cwd / "a.hprof"))
        if mode == "lines":
            assert "heavy" in r.stderr and "Line #" in r.stderr
        else:
            assert "heavy" in {data.functions[f].name for t in data.threads for f in t.func
                               if f >= 0}
            assert "hotpath-attach" not in {t.name for t in data.threads}
        # Ctrl-C instead of a duration
        a = subprocess.Popen([sys.executable, "-m", "hotpath", "attach", str(target.pid),
                              "-q", "-o", "b.hprof"], cwd=runner.cwd, env=runner.env(),
                             stderr=subprocess.PIPE, text=True)
        time.sleep(1.5)
        a.send_signal(signal.SIGINT)
        assert a.wait(60) == 0, a.stderr.read()
        assert hotpath.load(str(runner.cwd / "b.hprof")).meta["kind"] == "attach"
        assert target.poll() is None
    finally:
        target.kill()
        target.wait()
