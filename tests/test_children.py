"""``hotpath run`` follows child processes: real programs with multiprocessing pools
(fork, spawn, forkserver), subprocess chains, and children that die without a profile.
Merged call counts are exact; the per-process view names every child."""
from __future__ import annotations

import os
import sys

import pytest

import hotpath
from conftest import call_counts as counts
from hotpath.model.processes import process_tree, processes, threads_of

POOL = """
    import multiprocessing as mp, sys

    def leaf(x):
        return x * 2

    def work(n):
        return sum(leaf(i) for i in range(n))

    if __name__ == "__main__":
        ctx = mp.get_context(sys.argv[1])
        extra = {"maxtasksperchild": 2} if len(sys.argv) > 2 else {}
        with ctx.Pool(2, **extra) as p:
            print(sum(p.map(work, [100] * 10, chunksize=1)))
"""


@pytest.mark.parametrize("method", ["fork", "spawn", "forkserver"])
def test_pool_counts_are_exact(runner, method):
    runner.write("pool.py", POOL)
    plain = runner.python("pool.py", method)
    r = runner.hotpath("run", "pool.py", method)
    assert r.returncode == plain.returncode == 0, r.stderr
    assert r.stdout == plain.stdout == "99000\n"
    prof = hotpath.load(str(runner.cwd / "pool.hprof"))
    assert counts(prof, ["leaf", "work"]) == {"leaf": 1000, "work": 10}
    procs = processes(prof)
    workers = [p for p in procs[1:] if not p.missing]
    assert len(workers) >= 1 and all(p.ppid for p in workers)
    # the work was done in the workers, none of it in the parent
    assert counts(prof, ["leaf"], threads_of(prof, procs[0].pid)) == {"leaf": 0}
    per_worker = [counts(prof, ["leaf"], threads_of(prof, p.pid))["leaf"] for p in workers]
    assert sum(per_worker) == 1000 and all(c % 100 == 0 for c in per_worker)
    assert f"{len(procs)} processes" in r.stderr
    busy = [p for p, c in zip(workers, per_worker) if c]
    assert busy and all("PoolWorker" in p.label for p in busy), [p.label for p in busy]


def test_pool_maxtasksperchild_replaces_workers(runner):
    runner.write("pool.py", POOL)
    r = runner.hotpath("run", "-q", "pool.py", "fork", "max", timeout=60)
    assert r.returncode == 0, r.stderr
    assert r.stdout == "99000\n"
    prof = hotpath.load(str(runner.cwd / "pool.hprof"))
    assert counts(prof, ["leaf", "work"]) == {"leaf": 1000, "work": 10}
    # 10 tasks, 2 per worker: at least 5 workers, each profiled
    workers = [p for p in processes(prof)[1:] if "PoolWorker" in p.label]
    assert len(workers) >= 5
    assert sum(counts(prof, ["work"], threads_of(prof, p.pid))["work"] for p in workers) == 10


def test_pool_terminated_early_does_not_hang(runner):
    runner.write("early.py", """
        import multiprocessing as mp, time

        def slow(x):
            time.sleep(0.05)
            return x

        if __name__ == "__main__":
            p = mp.get_context("spawn").Pool(2)
            r = p.map_async(slow, range(1000))
            time.sleep(0.3)
            p.terminate()
            p.join()
            print("terminated")
    """)
    r = runner.hotpath("run", "-q", "early.py", timeout=60)
    assert r.returncode == 0, r.stderr
    assert r.stdout == "terminated\n"
    prof = hotpath.load(str(runner.cwd / "early.hprof"))
    assert len(processes(prof)) >= 2


def test_followed_pools_exit_every_time(runner):
    # A pool's workers are ended by SIGTERM while they may be about to block on the task
    # queue's lock: the profile-writing handler must never leave one waiting forever.
    runner.write("pools.py", """
        import multiprocessing, sys
        def fib(n):
            return n if n < 2 else fib(n - 1) + fib(n - 2)
        if __name__ == "__main__":
            for i in range(40):
                with multiprocessing.get_context("fork").Pool(2) as p:
                    assert p.map_async(fib, [12] * 8).get(timeout=30) == [144] * 8
            print("done")
    """)
    r = runner.hotpath("run", "-q", "pools.py", timeout=120)
    assert r.returncode == 0 and r.stdout == "done\n", r.stderr
    prof = hotpath.load(str(runner.cwd / "pools.hprof"))
    assert counts(prof, ["fib"])["fib"] == 40 * 8 * 465


def test_subprocess_chain_three_deep(runner):
    runner.write("chainmod.py", """
        import subprocess, sys

        def step(level):
            return level + 1

        def main(level):
            for _ in range(5):
                step(level)
            if level == 1:        # -m, then -c, then a script
                cmd = ["-m", "chainmod", "2"]
            elif level == 2:
                cmd = ["-c", "import chainmod; chainmod.main(3)"]
            elif level == 3:
                cmd = ["chainmod.py", "4"]
            else:
                return
            subprocess.run([sys.executable, *cmd], check=True)

        if __name__ == "__main__":
            main(int(sys.argv[1]))
    """)
    r = runner.hotpath("run", "-q", "chainmod.py", "1")
    assert r.returncode == 0, r.stderr
    prof = hotpath.load(str(runner.cwd / "chainmod.hprof"))
    assert counts(prof, ["step"]) == {"step": 20}
    tree = process_tree(processes(prof))
    assert [d for _p, d in tree] == [0, 1, 2, 3]
    assert all(not p.missing for p, _d in tree)
    argv = [" ".join(p.argv) for p, _d in tree[1:]]
    assert "-m chainmod 2" in argv[0] and "-c" in argv[1] and "chainmod.py 4" in argv[2]
    for p, _d in tree:          # each level ran step five times
        assert counts(prof, ["step"], threads_of(prof, p.pid)) == {"step": 5}


def test_killed_child_is_reported_missing(runner):
    runner.write("killed.py", """
        import os, signal, subprocess, sys
        import multiprocessing as mp

        def leaf():
            return 1

        def victim():
            leaf()
            os.kill(os.getpid(), signal.SIGKILL)

        def fine():
            leaf()

        if __name__ == "__main__":
            ctx = mp.get_context("fork")
            p = ctx.Process(target=victim)
            p.start(); p.join()
            q = ctx.Process(target=fine)
            q.start(); q.join()
            r = subprocess.run([sys.executable, "-c", "import os; os._exit(3)"])
            print(p.exitcode, q.exitcode, r.returncode)
            sys.exit(5)
    """)
    plain = runner.python("killed.py")
    r = runner.hotpath("run", "killed.py")
    assert r.returncode == plain.returncode == 5, r.stderr
    assert r.stdout == plain.stdout == "-9 0 3\n"
    prof = hotpath.load(str(runner.cwd / "killed.hprof"))
    procs = processes(prof)
    missing = [p for p in procs if p.missing]
    assert len(procs) == 4 and len(missing) == 2
    assert any("Process-1" in p.label for p in missing)
    assert all("SIGKILL" in p.reason for p in missing)
    assert counts(prof, ["leaf"]) == {"leaf": 1}      # the survivor's call, not the victim's
    assert "2 without a profile" in r.stderr
    for p in missing:
        assert str(p.pid) in r.stderr


def test_no_follow(runner):
    runner.write("pool.py", POOL)
    r = runner.hotpath("run", "-q", "--no-follow", "pool.py", "fork")
    assert r.returncode == 0 and r.stdout == "99000\n", r.stderr
    prof = hotpath.load(str(runner.cwd / "pool.hprof"))
    assert "processes" not in prof.extra
    assert counts(prof, ["leaf"]) == {"leaf": 0}


def test_child_sees_its_own_sitecustomize_and_path(runner, tmp_path):
    site = tmp_path / "site"
    runner.write("site/sitecustomize.py", "import builtins; builtins.SITE_RAN = 1\n")
    runner.write("kid.py", """
        import subprocess, sys
        code = "import sys, builtins; print(builtins.SITE_RAN, any('_boot' in p for p in sys.path))"
        subprocess.run([sys.executable, "-c", code], check=True)
    """)
    env = runner.env()
    env["PYTHONPATH"] = str(site)
    import subprocess
    r = subprocess.run([sys.executable, "-m", "hotpath", "run", "-q", "kid.py"], cwd=runner.cwd,
                       capture_output=True, text=True, env=env, timeout=60)
    assert r.returncode == 0, r.stderr
    assert r.stdout == "1 False\n"
    assert len(processes(hotpath.load(str(runner.cwd / "kid.hprof")))) == 2


def test_lines_in_children(runner):
    runner.write("pool.py", POOL)
    r = runner.hotpath("run", "-q", "--lines", "-f", "pool.py:leaf", "pool.py", "spawn")
    assert r.returncode == 0, r.stderr
    prof = hotpath.load(str(runner.cwd / "pool.hprof"))
    fn = [f for f in prof.extra["lines"]["functions"] if f["name"] == "leaf"]
    assert len(fn) == 1
    hits = {line: h for line, h, _t in fn[0]["lines"]}
    assert hits[fn[0]["lineno"] + 1] == 1000


def test_process_report_and_exports(runner, tmp_path):
    runner.write("pool.py", POOL)
    r = runner.hotpath("run", "-q", "pool.py", "fork")
    assert r.returncode == 0, r.stderr
    path = str(runner.cwd / "pool.hprof")
    rep = runner.hotpath("report", path)
    assert rep.returncode == 0 and "processes" in rep.stdout, rep.stderr
    prof = hotpath.load(path)
    # a worker that did some of the work (one started late may have had none left)
    n, pid = max((counts(prof, ["leaf"], threads_of(prof, p.pid))["leaf"], p.pid)
                 for p in processes(prof)[1:])
    assert 0 < n <= 1000
    one = runner.hotpath("report", "--process", str(pid), "--filter", "^leaf", path)
    assert one.returncode == 0, one.stderr
    assert f"{n:>12}" in one.stdout
    bad = runner.hotpath("report", "--process", "1", path)
    assert bad.returncode != 0 and "no process 1" in bad.stderr and "Traceback" not in bad.stderr


def test_exports_and_page_of_several_processes(runner):
    import json
    import pstats
    runner.write("pool.py", POOL)
    r = runner.hotpath("run", "-q", "pool.py", "fork")
    assert r.returncode == 0, r.stderr
    path = str(runner.cwd / "pool.hprof")
    prof = hotpath.load(path)
    pids = [p.pid for p in processes(prof) if not p.missing]
    for fmt in ("pstats", "speedscope", "collapsed", "callgrind", "html"):
        e = runner.hotpath("export", "--format", fmt, "-o", f"out.{fmt}", path)
        assert e.returncode == 0, (fmt, e.stderr)
    st = pstats.Stats(str(runner.cwd / "out.pstats")).stats
    assert [v[:2] for k, v in st.items() if k[2] == "leaf"] == [(1000, 1000)]
    names = [p["name"] for p in json.loads((runner.cwd / "out.speedscope").read_text())["profiles"]]
    for pid in pids[1:]:
        assert any(f"[pid {pid}]" in n for n in names), names
    assert "leaf" in (runner.cwd / "out.collapsed").read_text()
    page = (runner.cwd / "out.html").read_text()
    assert '"processes":[{"pid":%d' % pids[0] in page
    d = runner.hotpath("diff", path, path)
    assert d.returncode == 0, d.stderr


MEMORY = """
    import multiprocessing as mp, sys
    KEEP = []

    def grab(n):
        KEEP.append(bytearray(n))
        return n

    def child_main():
        grab(3_000_000)

    if __name__ == "__main__":
        ctx = mp.get_context(sys.argv[1])
        if sys.argv[1] == "fork":
            with ctx.Pool(2) as p:
                print(sum(p.map(grab, [1_000_000] * 4, chunksize=1)))
        else:
            child = ctx.Process(target=child_main)
            child.start()
            child.join()
            print(child.exitcode)
"""


@pytest.mark.parametrize("method, expected", [("fork", 4_000_000), ("spawn", 3_000_000)])
def test_memory_of_children_is_merged(runner, method, expected):
    """--memory: the children's allocations are in the parent's file, at their lines,
    without hotpath's own frames; none of them in the parent's own process."""
    from hotpath.model.memory import MemoryView
    runner.write("mem.py", MEMORY)
    r = runner.hotpath("run", "--memory", "mem.py", method)
    assert r.returncode == 0, r.stderr
    prof = hotpath.load(str(runner.cwd / "mem.hprof"))
    v = MemoryView.of(prof)
    grab = [st for st in v.stacks
            if st.frames and v.functions[v.frames[st.frames[0]][0]][1] == "grab"]
    got = sum(st.alloc_bytes for st in grab)
    assert expected <= got < expected + 4096, got      # the blocks and their headers
    names = {v.functions[v.frames[w][0]][0] for st in v.stacks for w in st.frames}
    own = os.path.dirname(hotpath.__file__) + os.sep
    assert not [n for n in names if n.startswith(own)]       # hotpath's own frames
    assert v.totals["alloc_bytes"] >= got
    assert len([p for p in processes(prof) if not p.missing]) >= 2


def test_where_the_parent_waited_on_its_children(runner):
    """The process tree says how long the parent waited in subprocess / multiprocessing
    calls for its children, and where each child ran within the parent's run."""
    from hotpath.report.processes import format_processes, process_rows
    runner.write("waits.py", """
        import multiprocessing as mp, subprocess, sys, time

        def nap(s):
            time.sleep(s)
            return s

        if __name__ == "__main__":
            subprocess.run([sys.executable, "-c", "import time; time.sleep(0.4)"], check=True)
            p = mp.get_context("spawn").Process(target=nap, args=(0.3,))
            p.start()
            p.join()
    """)
    r = runner.hotpath("run", "waits.py")
    assert r.returncode == 0, r.stderr
    prof = hotpath.load(str(runner.cwd / "waits.hprof"))
    rows = process_rows(prof)
    parent, children = rows[0], rows[1:]
    assert len(children) == 2 and all(c["waited"] is None for c in children)
    waits = dict(parent["waits"])
    # the children slept 0.4 s and 0.3 s: the parent waited at least that long in each
    assert waits["subprocess.run"] >= 0.4 and waits["BaseProcess.join"] >= 0.3
    assert parent["waited"] == pytest.approx(sum(waits.values()))
    assert parent["waited"] <= parent["proc"].seconds
    for c in children:          # each child's span lies within the parent's run
        assert parent["begin"] <= c["begin"] <= c["end"] <= parent["end"]
    text = format_processes(prof)
    assert f"pid {parent['proc'].pid} waited on its children" in text
    assert "subprocess.run" in text and "BaseProcess.join" in text
    assert "waited on its children" in r.stderr
