"""Does the sampler name the same hot functions as the deterministic profile?

For every workload in benchmarks/workloads/, run as a program (workloads/_run_one.py):

  exact    python -m hotpath run --no-builtins -q -o exact.hprof _run_one.py NAME
           (every call; C functions' time in their Python callers, as a sample sees it)
  sampled  python -m hotpath run --sample -q -o sampled.hprof _run_one.py NAME   (1 kHz)

  py-spy   py-spy record -r 1000 -f raw -o X -- python _run_one.py NAME   (when installed:
           an outside sampler that pauses the program at each sample: a second opinion
           with no eval-breaker and no per-call cost)

and compare the five hottest Python functions by self time (issue 17's check): the same
five, and the same order wherever two of them differ by more than 10% in the exact
profile (closer pairs may swap: a sample estimate cannot order them). Two further
columns: "hot" applies the same check to the functions holding at least 5% of the exact
profile's Python self time (a 1 kHz sampler sees a function of 1 ms once or not at all:
the tail of the top 5 is often import-time work of that size), and "py-spy" compares
hotpath's samples with py-spy's by the top-5 rule (a deterministic profile charges its own
per-call cost to call-heavy functions; two samplers have no such cost). Each workload is
run ``--reps`` times; a repetition agrees or not, and the table says how many agreed.
Where a repetition disagrees, the rankings are printed.

    python benchmarks/bench_sampling_agreement.py [--quick] [--reps N] [--only NAME]
"""
from __future__ import annotations

import argparse
import collections
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
WORKLOADS = HERE / "workloads"


def top(path: Path, n: int = 5) -> list[tuple[str, float]]:
    """The ``n`` hottest Python functions of a profile by self time: (name, seconds),
    and their share of all Python self time as a last pseudo-row ("", total)."""
    import hotpath
    data = hotpath.load(str(path))
    stats = data.function_stats()
    own: collections.Counter = collections.Counter()
    for f, s in stats.items():
        if f >= 0 and not data.functions[f].is_builtin:
            own[data.functions[f].qualname or data.functions[f].name] += (
                s.self_ticks * data.tick_seconds)
    return own.most_common(n) + [("", sum(own.values()))]


def top_pyspy(raw: Path, n: int = 5) -> list[tuple[str, float]]:
    """The same from py-spy's raw (collapsed) output: samples per leaf function."""
    own: collections.Counter = collections.Counter()
    for line in raw.read_text().splitlines():
        stack, _, count = line.rpartition(" ")
        leaf = stack.rsplit(";", 1)[-1].split(" (", 1)[0]
        if leaf and count.isdigit():
            own[leaf] += int(count) * 1e-3
    return own.most_common(n) + [("", sum(own.values()))]


def hot(ranked: list[tuple[str, float]], share: float = 0.05) -> list[tuple[str, float]]:
    """Those of the top five that hold at least ``share`` of all Python self time."""
    total = ranked[-1][1]
    return [(n, t) for n, t in ranked[:-1] if total and t >= share * total]


def agrees_hot(exact: list[tuple[str, float]], sampled: list[tuple[str, float]]) -> bool:
    """Every hot function of the exact profile among the sampled top five, in the same
    order wherever the exact profile separates them by > 10%."""
    h = hot(exact)
    rank = {n: i for i, (n, _) in enumerate(sampled[:-1])}
    if any(n not in rank for n, _ in h):
        return False
    return all(not (ta > 1.1 * tb and rank[a] > rank[b])
               for i, (a, ta) in enumerate(h) for b, tb in h[i + 1:])


def agrees(exact: list[tuple[str, float]], sampled: list[tuple[str, float]]) -> bool:
    """The same five, and, for every pair the exact profile separates by > 10%, the
    same order in the sampled one."""
    exact, sampled = exact[:-1], sampled[:-1]
    if {n for n, _ in exact} != {n for n, _ in sampled}:
        return False
    rank = {n: i for i, (n, _) in enumerate(sampled)}
    for i, (a, ta) in enumerate(exact):
        for b, tb in exact[i + 1:]:
            if ta > 1.1 * tb and rank[a] > rank[b]:
                return False
    return True


def pyspy() -> str | None:
    here = Path(sys.executable).parent / "py-spy"
    return str(here) if here.exists() else shutil.which("py-spy")


def ranking(rows: list[tuple[str, float]]) -> str:
    return ", ".join(f"{n} {t * 1e3:.1f} ms" for n, t in rows[:-1])


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
    spy = pyspy()
    print(f"Python {platform.python_version()}: top 5 by self time, exact vs --sample "
          f"(1 kHz), {opts.reps} repetitions" + ("" if spy else "; py-spy not installed"))
    print(f"{'workload':<18} {'top 5':>8} {'hot':>8} {'py-spy':>8}")
    for name in names:
        ok = ok_hot = ok_spy = 0
        notes = []
        for _ in range(opts.reps):
            with tempfile.TemporaryDirectory() as tmp:
                prog = [str(WORKLOADS / "_run_one.py"), name, str(Path(tmp) / "t.json")]
                prog += ["--quick"] if opts.quick else []
                run(["--no-builtins", "-o", "exact.hprof", *prog], tmp)
                run(["--sample", "-o", "sampled.hprof", *prog], tmp)
                e, s = top(Path(tmp) / "exact.hprof"), top(Path(tmp) / "sampled.hprof")
                p = None
                if spy:
                    subprocess.run([spy, "record", "-r", "1000", "-f", "raw", "-o", "spy.txt",
                                    "--", sys.executable, *prog], cwd=tmp, check=True,
                                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
                    p = top_pyspy(Path(tmp) / "spy.txt")
            ok += agrees(e, s)
            ok_hot += agrees_hot(e, s)
            ok_spy += bool(p) and agrees(p, s)
            if not (agrees(e, s) and (not p or agrees(p, s))):
                notes.append(f"    exact:   {ranking(e)}\n    sampled: {ranking(s)}"
                             + (f"\n    py-spy:  {ranking(p)}" if p else ""))
        spy_col = f"{ok_spy} / {opts.reps}" if spy else "-"
        print(f"{name:<18} {ok:>4} / {opts.reps} {ok_hot:>4} / {opts.reps} {spy_col:>8}")
        for note in notes:
            print(note)
    return 0


if __name__ == "__main__":
    sys.exit(main())
