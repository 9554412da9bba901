"""Building the memory report against the program's own run time (issue 10, item 4).

    python benchmarks/bench_memory_report.py [--funcs K] [--calls N] [--work W] [--quick]

Generates a program of K functions that call each other along data-dependent paths
(every call allocates a list and a NumPy array), so the run has many distinct allocation
stacks, like a SciPy solver. Prints, in one run on this interpreter:

  program         the program alone (python prog.py)
  run --memory    the whole `hotpath run --memory -q` (capture, writing the file, report)
  post-run        of that, the CPU time after the program ended: the memory section
                  (memory_data), the text report, the SVG, writing the file (measured in
                  the same run, from the end of MemoryMode.stop to the process's exit)
  report          `hotpath report` on the file it wrote (reading, aggregating, printing)

Target: post-run and report <= 0.2 x program. The ratio depends on how many distinct stacks the
program makes per second of its own work (printed as "stacks/s"); the SciPy Burgers
solver of the issue made about 35,000 per second (520,796 stacks in 15 s); --work adds
NumPy work per leaf call to move this benchmark towards it. Times are the best of
--repeat runs, process CPU time of the whole child process.
"""
from __future__ import annotations

import argparse
import os
import random
import resource
import subprocess
import sys
import tempfile


def program(k: int, work: int) -> str:
    rnd = random.Random(1)
    out = ["import sys", "import numpy as np", ""]
    for i in range(k):
        out += [f"def f{i}(d, s):",
                f"    a = [s] * {8 + i % 5}",
                f"    b = np.ones({16 + (i % 7) * 8})",
                "    if d <= 0:",
                f"        return len(a) + int(np.cumsum(np.arange({work}.0))[-1] > 0) + int(b[0])",
                f"    k = (s * {rnd.randrange(3, 97)} + {i}) % 4"]
        for j in range(4):
            out += [f"    {'if' if j == 0 else 'elif'} k == {j}:",
                    f"        return f{rnd.randrange(k)}(d - 1, (s * 31 + {j}) % 1000003)"]
        out.append("")
    out += ["total = 0",
            "for s in range(int(sys.argv[1])):",
            "    total += f0(9, s)",
            "print(total)"]
    return "\n".join(out) + "\n"


def _children_cpu() -> float:
    r = resource.getrusage(resource.RUSAGE_CHILDREN)
    return r.ru_utime + r.ru_stime


#: `hotpath run` with the post-run clock: started when MemoryMode.stop returns (the program
#: has ended and the tracker stopped), read when the command returns (not at exit: hotpath
#: runs the program's atexit functions when the program ends). Run with the preload shim already in
#: LD_PRELOAD, so hotpath does not re-exec itself (which would lose the hook).
POSTRUN = """
import sys, time
from hotpath.session import memory as sm
stop = sm.MemoryMode.stop
t0 = []
def timed_stop(self):
    stop(self)
    t0.append(time.process_time())
sm.MemoryMode.stop = timed_stop
from hotpath.cli import main
rc = main(sys.argv[1:])
with open("postrun.txt", "w") as f:
    f.write(str(time.process_time() - t0[0]) if t0 else "nan")
sys.exit(rc)
"""


def postrun(py: str, args: list[str], cwd: str) -> float:
    """The post-run CPU seconds of one `hotpath run --memory -q` (see POSTRUN)."""
    from hotpath.capture.memory import preload_env
    env = preload_env() or dict(os.environ)
    env["HOTPATH_MEMORY_PRELOADED"] = "1"
    subprocess.run([py, "-c", POSTRUN, "run", "--memory", "-q", "-o", "post.hprof", *args],
                   cwd=cwd, env=env, check=True, stdout=subprocess.DEVNULL,
                   stderr=subprocess.DEVNULL)
    with open(os.path.join(cwd, "postrun.txt")) as f:
        return float(f.read())


def timed(cmd: list[str], cwd: str, repeat: int) -> float:
    """The best of ``repeat`` runs' process CPU time (user + system): on a busy machine
    wall clock measures the neighbours."""
    best = float("inf")
    for _ in range(repeat):
        t = _children_cpu()
        subprocess.run(cmd, cwd=cwd, check=True, stdout=subprocess.DEVNULL,
                       stderr=subprocess.DEVNULL)
        best = min(best, _children_cpu() - t)
    return best


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--funcs", type=int, default=60)
    ap.add_argument("--calls", type=int, default=20000)
    ap.add_argument("--work", type=int, default=4000, help="NumPy elements per leaf call")
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--quick", action="store_true")
    opts = ap.parse_args()
    if opts.quick:
        opts.calls, opts.repeat = 2000, 1
    py = sys.executable
    with tempfile.TemporaryDirectory() as tmp:
        with open(os.path.join(tmp, "prog.py"), "w") as f:
            f.write(program(opts.funcs, opts.work))
        args = ["prog.py", str(opts.calls)]
        t_prog = timed([py, *args], tmp, opts.repeat)
        t_run = timed([py, "-m", "hotpath", "run", "--memory", "-q", "-o", "prog.hprof",
                       *args], tmp, 1)
        t_rep = timed([py, "-m", "hotpath", "report", "prog.hprof"], tmp, opts.repeat)
        t_post = min(postrun(py, args, tmp) for _ in range(opts.repeat))
        from hotpath import fileformat
        mem = fileformat.read(os.path.join(tmp, "prog.hprof")).extra["memory"]
        from hotpath.model.memory import MemoryView
        n_stacks = len(MemoryView(mem))
        n_frames = sum(map(len, MemoryView(mem)._frames_col))
        size = os.path.getsize(os.path.join(tmp, "prog.hprof"))
    ratio = t_rep / t_prog
    print(f"Python {sys.version.split()[0]}; {opts.funcs} functions, {opts.calls} calls, "
          f"work {opts.work}")
    print(f"stacks {n_stacks:,} ({n_frames:,} frames, file {size / 1e6:.1f} MB); "
          f"{n_stacks / t_prog:,.0f} stacks/s of program time")
    print(f"{'program':<14} {t_prog:8.2f} s")
    print(f"{'run --memory':<14} {t_run:8.2f} s   {t_run / t_prog:6.2f} x program")
    print(f"{'post-run':<14} {t_post:8.2f} s   {t_post / t_prog:6.2f} x program   "
          f"target <= 0.20 x: {'PASS' if t_post <= 0.2 * t_prog else 'MISS'}")
    print(f"{'report':<14} {t_rep:8.2f} s   {ratio:6.2f} x program   "
          f"target <= 0.20 x: {'PASS' if ratio <= 0.2 else 'MISS'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
