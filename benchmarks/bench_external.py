"""Whole-process profilers: what each adds to the profiled program's own work.

For every workload in benchmarks/workloads/ this runs the workload as a program
(workloads/_run_one.py, which times only its work, in its own process CPU and wall time):

  plain      python _run_one.py NAME
  hotpath    python -m hotpath run -q -o X _run_one.py NAME     (deterministic, every call)
  tachyon    python -m profiling.sampling run -o X _run_one.py NAME
             CPython 3.15's external sampling profiler ("Tachyon", 1 kHz by default): it
             reads the target's memory from another process; only on 3.15+

Repetitions are interleaved (each runs every variant, in a rotating order); each variant's
figure is the median. Overhead = t / t_plain - 1, in the program's own CPU time (what the
profiled process pays; an external sampler's own process is not counted) and in wall time
(on this 2-core machine an external sampler also competes for a core).
It measures; it does not gate (exit 0 unless a run fails).

    python benchmarks/bench_external.py [--quick] [--reps N] [--only NAME] [--json PATH]
"""
from __future__ import annotations

import argparse
import importlib.util
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
RUN_ONE = HERE / "workloads" / "_run_one.py"


def have_tachyon() -> bool:
    try:
        return importlib.util.find_spec("profiling.sampling") is not None
    except ImportError:          # no `profiling` package at all (before 3.15)
        return False


def variants() -> list[str]:
    return ["plain", "hotpath"] + (["tachyon"] if have_tachyon() else [])


def command(variant: str, name: str, out: str, prof: str, quick: bool) -> list[str]:
    prog = [str(RUN_ONE), name, out] + (["--quick"] if quick else [])
    if variant == "plain":
        return [sys.executable, *prog]
    if variant == "hotpath":
        return [sys.executable, "-m", "hotpath", "run", "-q", "-o", prof, *prog]
    if variant == "tachyon":
        return [sys.executable, "-m", "profiling.sampling", "run", "--pstats", "-o", prof, *prog]
    raise ValueError(variant)


def run_once(variant: str, name: str, quick: bool, tmp: Path) -> dict:
    out, prof = tmp / f"{variant}.json", tmp / f"{variant}.prof"
    out.unlink(missing_ok=True)
    r = subprocess.run(command(variant, name, str(out), str(prof), quick),
                       capture_output=True, text=True, cwd=tmp)
    if r.returncode != 0 or not out.exists():
        raise RuntimeError(f"{variant} on {name} failed (exit {r.returncode}):\n{r.stderr[-2000:]}")
    if variant != "plain" and not prof.exists():
        raise RuntimeError(f"{variant} on {name} wrote no profile")
    return json.loads(out.read_text())


def workload_names(only: list[str] | None) -> list[str]:
    names = sorted(p.stem for p in (HERE / "workloads").glob("*.py") if not p.name.startswith("_"))
    return [n for n in names if not only or any(o.lower() in n.lower() for o in only)]


def measure(name: str, quick: bool, reps: int, tmp: Path) -> dict:
    vs = variants()
    for v in vs:
        run_once(v, name, quick, tmp)            # warm-up: page cache, .pyc files
    runs: dict[str, list[dict]] = {v: [] for v in vs}
    for rep in range(reps):
        k = rep % len(vs)
        for v in vs[k:] + vs[:k]:
            runs[v].append(run_once(v, name, quick, tmp))
    row = {"name": name, "median": {}, "overhead": {}}
    for key in ("cpu_s", "wall_s"):
        med = {v: statistics.median(r[key] for r in runs[v]) for v in vs}
        row["median"][key] = med
        row["overhead"][key] = {v: med[v] / med["plain"] - 1.0 for v in vs[1:]}
    row["runs"] = runs
    return row


def print_table(res: dict) -> None:
    vs = res["variants"]
    print(f"whole-process profilers: overhead on the program's own work -- {res['interpreter']}")
    print(f"{res['machine']}; median of {res['reps']} interleaved repetitions"
          f"{' (--quick)' if res['quick'] else ''}; overhead = t / t_plain - 1")
    if "tachyon" not in vs:
        print("tachyon (python -m profiling.sampling) needs CPython 3.15+: not measured here")
    head = ["workload", "plain cpu (ms)"] + [f"{v} cpu" for v in vs[1:]] + [f"{v} wall" for v in vs[1:]]
    table = [head]
    for r in res["workloads"]:
        o = r["overhead"]
        table.append([r["name"], f"{r['median']['cpu_s']['plain'] * 1e3:.1f}"]
                     + [f"{o['cpu_s'][v] * 100:+.1f}%" for v in vs[1:]]
                     + [f"{o['wall_s'][v] * 100:+.1f}%" for v in vs[1:]])
    widths = [max(len(row[i]) for row in table) for i in range(len(head))]
    for j, row in enumerate(table):
        print("  ".join([row[0].ljust(widths[0])] + [c.rjust(w) for c, w in zip(row[1:], widths[1:])]))
        if j == 0:
            print("  ".join("-" * w for w in widths))
    print(f"total benchmark time {res['elapsed_s']:.0f} s")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--quick", action="store_true", help="small workloads, 3 repetitions")
    ap.add_argument("--reps", type=int, help="repetitions per variant (default 7, 3 with --quick)")
    ap.add_argument("--only", action="append", metavar="NAME", help="only workloads matching NAME")
    ap.add_argument("--json", metavar="PATH", help="also write the results as JSON to PATH")
    args = ap.parse_args(argv)
    reps = args.reps or (3 if args.quick else 7)
    names = workload_names(args.only)
    if not names:
        ap.error("no workload matches --only")
    start = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="hotpath-bench-") as tmp:
        rows = [measure(n, args.quick, reps, Path(tmp)) for n in names]
    res = {
        "benchmark": "external",
        "interpreter": f"{platform.python_implementation()} {platform.python_version()}",
        "machine": f"{platform.machine()}, {os.cpu_count()} CPUs, {platform.system()} {platform.release()}",
        "variants": variants(), "reps": reps, "quick": args.quick, "workloads": rows,
        "elapsed_s": time.perf_counter() - start,
    }
    print_table(res)
    if args.json:
        Path(args.json).write_text(json.dumps(res, indent=2) + "\n")
        print(f"results written to {args.json}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
