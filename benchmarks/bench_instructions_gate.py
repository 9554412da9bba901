"""Instruction counts as a regression gate on a noisy machine (issue 18).

    python benchmarks/bench_instructions_gate.py [--runs N] [--quick] [--json PATH]

Two versions of one benchmark: A (``sum(data)`` over 1,000 ints) and B, the same over
1,010 ints — about 1% more instructions. Every *run* is one ``hotpath.bench(...,
measure="instructions")`` call: the times of this process, and the counts of a fresh
worker process (under callgrind where the CPU gives no hardware counters), as a CI job
on one commit would produce them. Runs alternate A, B, A, B, ... so load hits both.

Reported, with the issue's targets:

1. **CV**: the coefficient of variation of A's instruction count over its first 5 runs
   (target < 0.1%).
2. **A/A**: the gate ``instructions:0.5%`` applied to consecutive runs of A (run i as
   "then", run i+1 as "now"), N pairs: false alarms (target 0 of 20).
3. **A/B**: the same gate with run i of A as "then" and run i of B as "now", N pairs:
   the 1% change flagged (target 20 of 20).

Side by side, the same three figures for the time gate ``median:0.5%`` (with its
Mann–Whitney test) on the same runs: what a timing gate does here.
Reports and does not gate: exits 0 whether or not the targets are met.
"""
from __future__ import annotations

import argparse
import json
import statistics
import sys
import time

import hotpath
from hotpath.bench.counts import backend
from hotpath.bench.gate import Gate

SETUP_A = "data = list(range(1000))"
SETUP_B = "data = list(range(1010))"
STMT = "sum(data)"


def run_once(setup: str, max_time: float) -> hotpath.bench.BenchResult:
    return hotpath.bench(STMT, setup=setup, measure="instructions", max_time=max_time,
                         name="sum(data)")


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--runs", type=int, default=20, help="pairs of each kind (default 20)")
    p.add_argument("--quick", action="store_true", help="4 pairs, short timing")
    p.add_argument("--json", metavar="PATH", help="write the figures as JSON")
    args = p.parse_args(argv)
    n = 4 if args.quick else args.runs
    max_time = 0.05 if args.quick else 0.2
    print(f"counting with: {backend()}; {n} A/A and {n} A/B pairs; Python "
          f"{sys.version.split()[0]}", flush=True)
    a_runs, b_runs = [], []
    t0 = time.perf_counter()
    for i in range(n + 1):
        a_runs.append(run_once(SETUP_A, max_time))
        if i < n:
            b_runs.append(run_once(SETUP_B, max_time))
        print(f"  run {i + 1}/{n + 1}: A {a_runs[-1].instructions:,.1f} instr "
              f"{a_runs[-1].median * 1e9:.0f} ns"
              + (f"; B {b_runs[-1].instructions:,.1f} instr {b_runs[-1].median * 1e9:.0f} ns"
                 if i < n else ""), flush=True)
    elapsed = time.perf_counter() - t0

    first = [r.instructions for r in a_runs[:5]]
    cv = statistics.pstdev(first) / statistics.mean(first)
    times = [r.median for r in a_runs[:5]]
    cv_time = statistics.pstdev(times) / statistics.mean(times)
    change = statistics.median(r.instructions for r in b_runs) / \
        statistics.median(r.instructions for r in a_runs) - 1
    figures = {"runs": n, "backend": backend(), "instructions_cv_5": cv, "time_cv_5": cv_time,
               "b_over_a_instructions": change, "seconds": elapsed}
    for label, gate in (("instructions", Gate.parse("instructions:0.5%")),
                        ("time", Gate.parse("median:0.5%"))):
        aa = sum(gate.check(a_runs[i + 1], a_runs[i]).failed for i in range(n))
        ab = sum(gate.check(b_runs[i], a_runs[i]).failed for i in range(n))
        figures[f"{label}_aa_false_alarms"] = aa
        figures[f"{label}_ab_flagged"] = ab

    def verdict(ok: bool) -> str:
        return "PASS" if ok else "MISS"

    print(f"\nB has {change:+.2%} instructions of A (median over the runs); {elapsed:.0f} s")
    print(f"{'':<28}{'instructions:0.5%':>20}{'median:0.5% (time)':>22}")
    print(f"{'CV of 5 runs of A':<28}{cv:>19.4%} {cv_time:>21.2%}   "
          f"target < 0.1%: {verdict(cv < 0.001)}")
    print(f"{'A/A false alarms':<28}{figures['instructions_aa_false_alarms']:>17} / {n}"
          f"{figures['time_aa_false_alarms']:>19} / {n}   target 0: "
          f"{verdict(figures['instructions_aa_false_alarms'] == 0)}")
    print(f"{'A/B (+1%) flagged':<28}{figures['instructions_ab_flagged']:>17} / {n}"
          f"{figures['time_ab_flagged']:>19} / {n}   target {n}: "
          f"{verdict(figures['instructions_ab_flagged'] == n)}")
    if args.json:
        with open(args.json, "w", encoding="utf-8") as fh:
            json.dump(figures, fh, indent=2)
    return 0


if __name__ == "__main__":
    sys.exit(main())
