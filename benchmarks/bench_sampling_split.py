"""Where an in-process sampler's cost goes: the profiled thread vs the sampler thread.

One pure-Python workload (a recursive fib(31), ~0.15 s of CPU) runs in a fresh process per
repetition, under ``hotpath.Sampler`` at each rate (and, with ``--baseline DIR``, under
another hotpath build installed with ``pip install --target DIR``), interleaved with
plain runs. Each run reports, over the work only:

  main     the main thread's own CPU time (time.thread_time): what the program pays
           for being interrupted (GIL hand-overs, pending calls, stack walks)
  sampler  the rest of the process's CPU time (process_time - main): the sampler thread
  vcsw     the main thread's voluntary context switches (/proc/thread-self/status):
           how often it had to wait (for the GIL)
  ticks    samples taken, and how many the main thread took itself (pending calls)

Per-thread CPU clocks are far steadier than wall time on a loaded machine, but not
immune: read the medians with the printed quartiles.

    python benchmarks/bench_sampling_split.py [--reps N] [--rates 100,250,1000]
                                              [--baseline DIR] [--n 31]
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys

CHILD = r"""
import json, sys, time
rate, n = float(sys.argv[1]), int(sys.argv[2])
def vcsw():
    try:
        with open("/proc/thread-self/status") as f:
            for line in f:
                if line.startswith("voluntary_ctxt_switches"):
                    return int(line.split()[1])
    except OSError:
        return 0
    return 0
def fib(k):
    return k if k < 2 else fib(k - 1) + fib(k - 2)
fib(20)
s = None
if rate:
    import hotpath
    s = hotpath.Sampler(rate=rate)
    s.start()
    time.sleep(0.01)
c0, t0, v0 = time.process_time(), time.thread_time(), vcsw()
fib(n)
c1, t1, v1 = time.process_time(), time.thread_time(), vcsw()
snap = {}
if s is not None:
    s.stop()
    snap = s.raw_snapshot()
print(json.dumps({"proc": c1 - c0, "main": t1 - t0, "vcsw": v1 - v0,
                  "ticks": snap.get("ticks", 0), "main_ticks": snap.get("main_ticks", 0)}))
"""


def run(variant: tuple[str, float], n: int, baseline: str | None) -> dict:
    name, rate = variant
    env = dict(os.environ)
    if name == "base":
        env["PYTHONPATH"] = baseline or ""
    out = subprocess.run([sys.executable, "-c", CHILD, str(rate), str(n)], env=env,
                         capture_output=True, text=True, check=True).stdout
    return json.loads(out)


def q(xs: list[float]) -> tuple[float, float, float]:
    if len(xs) < 2:
        return xs[0], xs[0], xs[0]
    a, b, c = statistics.quantiles(xs, n=4)
    return a, statistics.median(xs), c


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--reps", type=int, default=7)
    ap.add_argument("--rates", default="100,250,1000")
    ap.add_argument("--baseline", metavar="DIR")
    ap.add_argument("--n", type=int, default=31, help="fib(N) as the work (default 31)")
    ap.add_argument("--json", metavar="PATH")
    args = ap.parse_args()
    rates = [float(r) for r in args.rates.split(",")]
    variants = [("plain", 0.0)] + [("hotpath", r) for r in rates]
    if args.baseline:
        variants += [("base", r) for r in rates]
    runs: dict[tuple[str, float], list[dict]] = {v: [] for v in variants}
    load0 = os.getloadavg()
    for rep in range(args.reps):
        k = rep % len(variants)
        for v in variants[k:] + variants[:k]:
            runs[v].append(run(v, args.n, args.baseline))
    load1 = os.getloadavg()
    plain = runs[("plain", 0.0)]
    print(f"sampler cost split -- Python {sys.version.split()[0]}, fib({args.n}), "
          f"median [quartiles] of {args.reps} interleaved runs; "
          f"load {load0[0]:.1f} -> {load1[0]:.1f}")
    print(f"plain: main CPU {statistics.median(r['main'] for r in plain) * 1e3:.1f} ms")
    print("variant        rate  process CPU vs plain    main CPU vs plain    "
          "sampler us/tick  vcsw  ticks (main's)")
    table = []
    for v in variants[1:]:
        rs = runs[v]
        proc = q([a["proc"] / b["proc"] - 1 for a, b in zip(rs, plain)])
        mainr = q([a["main"] / b["main"] - 1 for a, b in zip(rs, plain)])
        per_tick = q([(r["proc"] - r["main"]) / max(r["ticks"], 1) * 1e6 for r in rs])
        vcsw = statistics.median(r["vcsw"] for r in rs)
        ticks = statistics.median(r["ticks"] for r in rs)
        mt = statistics.median(r["main_ticks"] for r in rs)
        print(f"{v[0]:<10} {v[1]:>8g}  {proc[1] * 100:+5.1f}% [{proc[0] * 100:+.1f},{proc[2] * 100:+.1f}]"
              f"  {mainr[1] * 100:+5.1f}% [{mainr[0] * 100:+.1f},{mainr[2] * 100:+.1f}]"
              f"  {per_tick[1]:8.1f}  {vcsw:5.0f}  {ticks:5.0f} ({mt:.0f})")
        table.append({"variant": v[0], "rate": v[1], "proc": proc, "main": mainr,
                      "sampler_us_per_tick": per_tick, "vcsw": vcsw, "ticks": ticks,
                      "main_ticks": mt})
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"python": sys.version.split()[0], "reps": args.reps, "load": [load0, load1],
                       "rows": table}, f, indent=2)
    return 0


if __name__ == "__main__":
    sys.exit(main())
