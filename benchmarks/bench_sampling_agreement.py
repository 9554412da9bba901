"""Does the sampler name the same hot functions as the deterministic profile?

For every workload in benchmarks/workloads/, run as a program (workloads/_run_one.py):

  exact    python -m hotpath run --no-builtins -q -o exact.hprof _run_one.py NAME
           (every call; C functions' time in their Python callers, as a sample sees it)
  sampled  python -m hotpath run --sample -q -o sampled.hprof _run_one.py NAME   (1 kHz)

and compare the five hottest Python functions by self time (issue 17's check): the same
five, and the same order wherever two of them differ by more than 10% in the exact
profile (closer pairs may swap: a sample estimate cannot order them). Each workload is
run ``--reps`` times; a repetition agrees or not, and the table says how many agreed.
Where a repetition disagrees, the two rankings are printed.

    python benchmarks/bench_sampling_agreement.py [--quick] [--reps N] [--only NAME]
"""
from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
WORKLOADS = HERE / "workloads"


def top(path: Path, n: int = 5) -> list[tuple[str, float]]:
    """The ``n`` hottest Python functions of a profile by self time: (name, seconds)."""
    import hotpath
    data = hotpath.load(str(path))
    stats = data.function_stats()
    rows = sorted(((s.self_ticks * data.tick_seconds, data.functions[f].qualname or
                    data.functions[f].name) for f, s in stats.items()
                   if f >= 0 and not data.functions[f].is_builtin), reverse=True)
    return [(name, t) for t, name in rows[:n]]


def agrees(exact: list[tuple[str, float]], sampled: list[tuple[str, float]]) -> bool:
    """The same five, and, for every pair the exact profile separates by > 10%, the
    same order in the sampled one."""
    if {n for n, _ in exact} != {n for n, _ in sampled}:
        return False
    rank = {n: i for i, (n, _) in enumerate(sampled)}
    for i, (a, ta) in enumerate(exact):
        for b, tb in exact[i + 1:]:
            if ta > 1.1 * tb and rank[a] > rank[b]:
                return False
    return True


def run(args: list[str], cwd: str) -> None:
    subprocess.run([sys.executable, "-m", "hotpath", "run", "-q", *args], cwd=cwd,
                   check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--quick", action="store_true", help="the workloads' quick sizes")
    ap.add_argument("--reps", type=int, default=3)
    ap.add_argument("--only", action="append", default=[], metavar="NAME")
    opts = ap.parse_args()
    names = sorted(p.stem for p in WORKLOADS.glob("*.py") if not p.stem.startswith("_"))
    names = [n for n in names if not opts.only or n in opts.only]
    import platform
    print(f"Python {platform.python_version()}: top 5 by self time, exact vs --sample "
          f"(1 kHz), {opts.reps} repetitions")
    print(f"{'workload':<18} {'agreed':>8}")
    misses = 0
    for name in names:
        ok = 0
        notes = []
        for _ in range(opts.reps):
            with tempfile.TemporaryDirectory() as tmp:
                prog = [str(WORKLOADS / "_run_one.py"), name, str(Path(tmp) / "t.json")]
                prog += ["--quick"] if opts.quick else []
                run(["--no-builtins", "-o", "exact.hprof", *prog], tmp)
                run(["--sample", "-o", "sampled.hprof", *prog], tmp)
                e, s = top(Path(tmp) / "exact.hprof"), top(Path(tmp) / "sampled.hprof")
            if agrees(e, s):
                ok += 1
            else:
                notes.append(f"    exact:   {', '.join(f'{n} {t * 1e3:.1f} ms' for n, t in e)}\n"
                             f"    sampled: {', '.join(f'{n} {t * 1e3:.1f} ms' for n, t in s)}")
        misses += ok < opts.reps
        print(f"{name:<18} {ok:>4} / {opts.reps}")
        for note in notes:
            print(note)
    return 0


if __name__ == "__main__":
    sys.exit(main())
