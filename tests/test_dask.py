"""Dask workers profiled and merged into one profile: ``hotpath.dask.profile(client)`` on
a real ``distributed.LocalCluster`` with two worker processes (one cluster for the
module: starting one takes seconds), and a script that starts its own cluster under
``hotpath run`` (its workers followed as child processes). Tasks are pinned to workers,
so the per-worker split of the call counts is known as well as the total."""
from __future__ import annotations

import logging
import os
import signal
import sys
import time

import pytest

import hotpath
from conftest import call_counts as counts
from hotpath.model.processes import processes, threads_of

distributed = pytest.importorskip(
    "distributed", reason="Dask's 'distributed' is not installed (requirements-dev.txt)")

import hotpath.dask  # noqa: E402


def leaf(i):
    return i * 2


def work(n):
    s = 0
    for i in range(n):
        s += leaf(i)
    return s


def allocate(n):
    """Allocates ``n`` blocks of 100 kB on the worker (returned: still live)."""
    out = []
    for _ in range(n):
        out.append(bytearray(100_000))
    return out


def bytes_in(prof, name):
    """Bytes allocated by stacks whose innermost frame is in function ``name``."""
    from hotpath.model.memory import MemoryView
    v = MemoryView.of(prof)
    return sum(st.alloc_bytes for st in v.stacks
               if st.frames and v.functions[v.frames[st.frames[0]][0]][1] == name)


@pytest.fixture(scope="module")
def client():
    # dashboard_address=":0": no dashboard is served without bokeh, but the scheduler's
    # HTTP server still binds, and two clusters (pytest-xdist) would race for port 8787
    cluster = distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                       dashboard_address=":0", silence_logs=logging.ERROR,
                                       worker_dashboard_address=None)
    c = distributed.Client(cluster)
    try:
        yield c
    finally:
        c.close()
        cluster.close()


def two_workers(client):
    client.wait_for_workers(2, timeout=60)
    return sorted(client.scheduler_info()["workers"])


def run_pinned(client, plan):
    """``plan``: address -> list of n; each work(n) runs on that worker."""
    futures = [client.submit(work, n, workers=[addr], allow_other_workers=False, pure=False)
               for addr, ns in plan.items() for n in ns]
    return client.gather(futures)


def worker_entry(prof, address):
    found = [p for p in processes(prof) if address in p.label]
    assert len(found) == 1, [p.label for p in processes(prof)]
    return found[0]


def test_merged_counts_exact_and_split_per_worker(client, tmp_path):
    a, b = two_workers(client)
    with hotpath.dask.profile(client) as prof:
        results = run_pinned(client, {a: [100, 100, 100], b: [50, 50, 50, 50]})
    assert results == [9900] * 3 + [2450] * 4
    assert counts(prof, ["leaf", "work"]) == {"leaf": 500, "work": 7}
    procs = processes(prof)
    assert len(procs) == 3 and procs[0].pid == os.getpid() and not procs[0].threads
    pa, pb = worker_entry(prof, a), worker_entry(prof, b)
    assert counts(prof, ["leaf", "work"], threads_of(prof, pa.pid)) == {"leaf": 300, "work": 3}
    assert counts(prof, ["leaf", "work"], threads_of(prof, pb.pid)) == {"leaf": 200, "work": 4}
    assert pa.pid != pb.pid and not pa.missing and not pb.missing
    assert pa.end is not None and pa.end >= pa.start > 0
    # the report's process tree names each worker; the file round-trips
    from hotpath.report.processes import format_processes
    text = format_processes(prof)
    assert "3 processes" in text and "dask worker" in text and a in text and b in text
    path = tmp_path / "dask.hprof"
    prof.save(str(path))
    back = hotpath.load(str(path))
    assert counts(back, ["leaf", "work"]) == {"leaf": 500, "work": 7}
    assert [p.label for p in processes(back)] == [p.label for p in procs]


def test_every_export_reads_it(client, tmp_path, runner):
    a, b = two_workers(client)
    with hotpath.dask.profile(client) as prof:
        run_pinned(client, {a: [10], b: [20]})
    path = tmp_path / "d.hprof"
    prof.save(str(path))
    r = runner.hotpath("report", str(path))
    assert r.returncode == 0, r.stderr
    assert "dask worker" in r.stdout + r.stderr
    for fmt, name in [("pstats", "d.pstats"), ("speedscope", "d.json"),
                      ("collapsed", "d.txt"), ("callgrind", "callgrind.out.d"),
                      ("html", "d.html")]:
        r = runner.hotpath("export", "--format", fmt, "-o", str(tmp_path / name), str(path))
        assert r.returncode == 0, (fmt, r.stderr)
        assert (tmp_path / name).stat().st_size > 0
    import json
    doc = json.loads((tmp_path / "d.json").read_text())
    names = " ".join(p["name"] for p in doc["profiles"])
    for addr in (a, b):                       # one speedscope profile per worker thread
        assert f"[pid {worker_entry(prof, addr).pid}]" in names
    html = (tmp_path / "d.html").read_text()
    assert a in html and b in html
    import pstats
    st = pstats.Stats(str(tmp_path / "d.pstats"))
    leaf_calls = [v[1] for k, v in st.stats.items() if k[2] == "leaf"]
    assert leaf_calls == [30]


def test_line_timings_on_workers(client):
    a, b = two_workers(client)
    with hotpath.dask.profile(client, lines=[work]) as prof:
        run_pinned(client, {a: [30], b: [40, 5]})
    fns = [f for f in prof.extra["lines"]["functions"] if f["name"] == "work"]
    assert len(fns) == 1
    hits = {line: h for line, h, _ in fns[0]["lines"]}
    first = work.__code__.co_firstlineno
    assert hits[first + 1] == 3                # s = 0: once per task
    assert hits[first + 3] == 75               # s += leaf(i)


def test_memory_on_workers(client):
    a, b = two_workers(client)
    with hotpath.dask.profile(client, memory=True) as prof:
        kept = [client.submit(allocate, 20, workers=[a], pure=False),
                client.submit(allocate, 10, workers=[b], pure=False)]
        distributed.wait(kept)
    del kept
    # 30 blocks of 100 kB, each with its object header (and the list growing)
    assert 3_000_000 <= bytes_in(prof, "allocate") < 3_000_000 + 30 * 400
    assert prof.extra["memory"]["totals"]["alloc_bytes"] >= 3_000_000
    assert counts(prof, ["allocate"]) == {"allocate": 2}


def test_worker_killed_is_reported_and_its_replacement_joins(client):
    a, b = two_workers(client)
    pids = client.run(os.getpid)
    with hotpath.dask.profile(client) as prof:
        run_pinned(client, {a: [10], b: [10]})
        os.kill(pids[a], signal.SIGKILL)
        deadline = time.monotonic() + 60
        while a in client.scheduler_info()["workers"] and time.monotonic() < deadline:
            time.sleep(0.1)
        new = [w for w in two_workers(client) if w not in pids]     # the nanny restarts it
        assert new, "the killed worker was not replaced"
        run_pinned(client, {new[0]: [7], b: [3]})
    dead = worker_entry(prof, a)
    assert dead.missing and dead.pid == pids[a]
    assert "left the cluster during the run" in dead.reason
    joined = worker_entry(prof, new[0])
    assert not joined.missing and "joined" in joined.reason
    assert counts(prof, ["leaf"], threads_of(prof, joined.pid)) == {"leaf": 7}
    assert counts(prof, ["leaf"], threads_of(prof, pids[b])) == {"leaf": 13}
    from hotpath.report.processes import format_processes
    assert "1 without a profile" in format_processes(prof)


def test_without_distributed_one_clear_error(monkeypatch):
    monkeypatch.setitem(sys.modules, "distributed", None)
    with pytest.raises(ImportError, match="pip install distributed"):
        hotpath.dask.profile(object())


CLUSTER_MAIN = """
if __name__ == "__main__":
    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                      dashboard_address=":0", silence_logs=logging.ERROR) as cluster, \\
            Client(cluster) as client:
        a, b = sorted(client.scheduler_info()["workers"])
        with hotpath.dask.profile(client) as prof:    # the followed workers say so
            futures = [client.submit(work, n, workers=[w], pure=False)
                       for w, n in [(a, 100), (a, 100), (b, 60)]]
            print(sum(client.gather(futures)))
        for p in processes(prof)[1:]:
            print(p.status, p.reason, file=sys.stderr)
"""


def test_script_starting_its_own_cluster_under_hotpath_run(runner):
    import inspect
    runner.write("cluster.py", "import logging, sys\nfrom distributed import Client, LocalCluster\n"
                 "import hotpath.dask\nfrom hotpath.model.processes import processes\n"
                 + inspect.getsource(leaf) + inspect.getsource(work) + CLUSTER_MAIN)
    r = runner.hotpath("run", "cluster.py", timeout=240)
    assert r.returncode == 0, r.stderr
    assert r.stdout == f"{2 * work(100) + work(60)}\n"
    prof = hotpath.load(str(runner.cwd / "cluster.hprof"))
    assert counts(prof, ["leaf", "work"]) == {"leaf": 260, "work": 3}
    workers = [p for p in processes(prof) if p.label.startswith("dask worker")]
    assert len(workers) == 2 and all(not p.missing for p in workers)
    split = sorted(counts(prof, ["leaf"], threads_of(prof, p.pid))["leaf"] for p in workers)
    assert split == [60, 200]
    assert r.stderr.count("dask worker") == 2
    assert r.stderr.count("missing it is recorded already, as a child process") == 2
