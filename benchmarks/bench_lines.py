"""Line profiler overhead: plain vs line_profiler vs hotpath, measured in one run.

    python benchmarks/bench_lines.py [--repeat N] [--quick]

Workloads (each decorated the way the tools are used):
  evolve     a particle simulation's inner loop, the decorated function is the hot loop
  fib        a decorated recursive function (every call goes through the decorator)
  calls      a decorated function calling many undecorated ones
and, on 3.12+, `undecorated`: the `calls` helpers run directly while hotpath is
recording another function — code that is not line-profiled should run at plain speed.

hotpath is measured twice: as a decorator (``LineProfiler()(f)``, line_profiler's usage,
a by-count wrapper around every call) and as ``hotpath run --lines`` uses it (the function
registered, the profiler enabled for the whole run, no wrapper). Overhead = t/t_plain - 1;
the target is hotpath's overhead <= 0.25 x line_profiler's on each workload. Times are the
best of --repeat runs, each configuration on freshly compiled functions.
`calls` is issue 13's decorated-caller case; its target there is hp/lp <= 0.5 on 3.11
(where hotpath gates the trace function to the chosen frames: lines_legacy.c).
"""
from __future__ import annotations

import argparse
import platform
import sys
import time

SOURCE = '''
import math

class Particle:
    def __init__(self, x, y, ang_vel):
        self.x = x
        self.y = y
        self.ang_vel = ang_vel

def make_particles(n):
    return [Particle(((i * 37) % 200 - 100) / 100.0, ((i * 91) % 200 - 100) / 100.0,
                     ((i * 53) % 200 - 100) / 100.0) for i in range(n)]

def evolve(particles, dt):
    timestep = 0.00001
    nsteps = int(dt / timestep)
    for i in range(nsteps):
        for p in particles:
            norm = math.sqrt(p.x ** 2 + p.y ** 2)
            v_x = -p.y / norm
            v_y = p.x / norm
            d_x = timestep * p.ang_vel * v_x
            d_y = timestep * p.ang_vel * v_y
            p.x += d_x
            p.y += d_y

def fib(n):
    if n < 2:
        return n
    return fib(n - 1) + fib(n - 2)

def h_add(a, b):
    return a + b

def h_scale(x, k):
    y = x * k
    return y

def h_clip(x, lo, hi):
    if x < lo:
        return lo
    if x > hi:
        return hi
    return x

def h_mix(a, b):
    return h_clip(h_add(h_scale(a, 3), h_scale(b, 5)), -1000, 1000)

def calls(n):
    acc = 0
    for i in range(n):
        acc = h_mix(acc % 97, i % 89)
    return acc
'''

SIZES = {"evolve": (100, 0.02), "fib": 22, "calls": 60_000}


def fresh() -> dict:
    ns: dict = {"__name__": "bench_lines_workload"}
    exec(compile(SOURCE, "<bench_lines workload>", "exec"), ns)
    return ns


def call(ns: dict, name: str, target) -> None:
    if name == "evolve":
        n, dt = SIZES["evolve"]
        target(ns["make_particles"](n), dt)
    elif name in ("calls", "undecorated"):
        target(SIZES["calls"])
    else:
        target(SIZES["fib"])


def timed(fn) -> float:
    t0 = time.perf_counter()
    fn()
    return time.perf_counter() - t0


def run_config(config: str, workload: str) -> float:
    ns = fresh()
    name = "calls" if workload == "undecorated" else workload
    if config == "plain":
        return timed(lambda: call(ns, workload, ns[name]))
    if config == "line_profiler":
        import line_profiler
        lp = line_profiler.LineProfiler()
        f = lp(ns[name])
        ns[name] = f                      # recursive calls go through the decorator too
        return timed(lambda: call(ns, workload, f))
    from hotpath import LineProfiler
    lp = LineProfiler()
    if config == "hotpath":
        f = lp(ns[name])
        ns[name] = f
        return timed(lambda: call(ns, workload, f))
    # "hotpath-run": as `hotpath run --lines` does: registered, enabled for the run
    if workload == "undecorated":
        lp.add_function(ns["evolve"])     # recording something else; calls' code untouched
    else:
        lp.add_function(ns[name])
    lp.enable()
    try:
        return timed(lambda: call(ns, workload, ns[name]))
    finally:
        lp.disable()


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--quick", action="store_true", help="smaller sizes, 3 repeats")
    opts = ap.parse_args(argv)
    if opts.quick:
        SIZES.update(evolve=(50, 0.01), fib=18, calls=15_000)
        opts.repeat = 3
    try:
        import line_profiler
        lp_version = line_profiler.__version__
    except ImportError:
        print("line_profiler is not installed (pip install line_profiler)", file=sys.stderr)
        return 2
    import hotpath

    workloads = ["evolve", "fib", "calls"]
    if sys.version_info >= (3, 12):
        workloads.append("undecorated")
    configs = ["plain", "line_profiler", "hotpath", "hotpath-run"]
    best: dict[tuple[str, str], float] = {}
    for w in workloads:
        for _ in range(opts.repeat):
            for c in configs:                       # interleaved, so drift hits all alike
                if w == "undecorated" and c in ("line_profiler", "hotpath"):
                    continue
                t = run_config(c, w)
                best[c, w] = min(best.get((c, w), float("inf")), t)

    print(f"hotpath {hotpath.__version__} line profiler vs line_profiler {lp_version} — "
          f"CPython {platform.python_version()}, best of {opts.repeat}")
    head = (f"{'workload':<12} {'plain':>9} {'line_profiler':>15} {'hotpath':>15} "
            f"{'hotpath run':>15} {'hp/lp':>7}  target")
    print(head)
    print("-" * len(head))
    ok = True
    for w in workloads:
        plain = best["plain", w]

        def cell(c):
            if (c, w) not in best:
                return "—".rjust(15), None
            over = best[c, w] / plain - 1
            return f"{best[c, w] / plain:6.2f}x {over * 100:+6.0f}%", over
        lp_s, lp_o = cell("line_profiler")
        hp_s, hp_o = cell("hotpath")
        run_s, run_o = cell("hotpath-run")
        if w == "undecorated":
            verdict = "ok (<= 5%)" if run_o is not None and run_o <= 0.05 else "MISS (> 5%)"
            ratio = "—"
            ok &= verdict.startswith("ok")
        else:
            r = hp_o / lp_o if lp_o and lp_o > 0 else float("inf")
            ratio = f"{r:.2f}"
            verdict = "ok (<= 0.25)" if r <= 0.25 else "MISS (> 0.25)"
            ok &= r <= 0.25
        print(f"{w:<12} {plain * 1e3:7.1f}ms {lp_s:>15} {hp_s:>15} {run_s:>15} {ratio:>7}  "
              f"{verdict}")
    print("\nhp/lp = hotpath's overhead / line_profiler's (decorator vs decorator); "
          "'hotpath run' = no wrapper, enabled for the run, as `hotpath run --lines`.")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
