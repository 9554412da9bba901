"""Following child processes: what it costs per process (issue 16).

The same pool workload three ways, each a whole ``hotpath run`` (or ``python``) command:

* ``plain``      python program.py                 (no profiler)
* ``no-follow``  hotpath run --no-follow           (the parent profiled, children not)
* ``follow``     hotpath run                       (every worker profiled and merged)

The pool runs TASKS tasks of fixed work on 2 workers with ``maxtasksperchild`` so that
PROCS worker processes are started; (follow − no-follow) / PROCS is the per-process
constant of following (a child's start-up of the capture, its profile write, the merge)
on top of the mode's own overhead, which the work itself shows (follow − no-follow at
one task per process vs many). Wall-clock medians of a few runs; the machine's load
shows in them, so the ratios matter more than the seconds.

    python benchmarks/bench_children.py [--runs N] [--method fork|spawn|forkserver]
"""
from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import textwrap
import time

PROGRAM = textwrap.dedent("""
    import multiprocessing as mp, sys

    def leaf(x):
        return x * 2

    def work(n):
        return sum(leaf(i) for i in range(n))

    if __name__ == "__main__":
        method, tasks, per = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
        with mp.get_context(method).Pool(2, maxtasksperchild=per) as p:
            print(sum(p.map(work, [20000] * tasks, chunksize=1)))
""")


def timed(cmd: list[str], cwd: str, runs: int) -> float:
    out = []
    for _ in range(runs):
        t0 = time.perf_counter()
        subprocess.run(cmd, cwd=cwd, check=True, capture_output=True)
        out.append(time.perf_counter() - t0)
    return statistics.median(out)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--method", default="fork", choices=["fork", "spawn", "forkserver"])
    ap.add_argument("--tasks", type=int, default=40)
    opts = ap.parse_args()
    py = sys.executable
    with tempfile.TemporaryDirectory() as d:
        with open(os.path.join(d, "prog.py"), "w") as f:
            f.write(PROGRAM)
        print(f"pool of 2 ({opts.method}), {opts.tasks} tasks, median of {opts.runs} runs")
        print(f"{'tasks/process':>14} {'procs':>6} {'plain s':>8} {'no-follow s':>12} "
              f"{'follow s':>9} {'follow/plain':>13} {'per process ms':>15}")
        for per in (1, 10):
            procs = -(-opts.tasks // per)
            args = ["prog.py", opts.method, str(opts.tasks), str(per)]
            plain = timed([py, *args], d, opts.runs)
            nof = timed([py, "-m", "hotpath", "run", "-q", "--no-follow", "-o", "x.hprof", *args], d, opts.runs)
            fol = timed([py, "-m", "hotpath", "run", "-q", "-o", "x.hprof", *args], d, opts.runs)
            print(f"{per:>14} {procs:>6} {plain:8.3f} {nof:12.3f} {fol:9.3f} {fol / plain:13.2f} "
                  f"{(fol - nof) / procs * 1e3:15.1f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
