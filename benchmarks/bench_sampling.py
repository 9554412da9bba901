"""Sampling profilers at 1 kHz: what each adds to the profiled program's own work.

For every workload in benchmarks/workloads/ (run as a program by workloads/_run_one.py,
which times only its work, in its own process CPU and wall time), in one run:

  plain         python _run_one.py NAME
  hotpath       python -m hotpath run --sample -q -o X _run_one.py NAME   (in-process, 1 kHz)
  pyinstrument  python -m pyinstrument -i 0.001 -r text -o X _run_one.py NAME  (in-process)
  py-spy        py-spy record -r 1000 -f raw -o X -- python _run_one.py NAME   (external)
  tachyon       python -m profiling.sampling run -o X _run_one.py NAME     (3.15+, external)

With ``--baseline DIR`` (another hotpath build installed with ``pip install --target DIR``),
``hotpath-base`` runs that build the same way (PYTHONPATH=DIR), interleaved with the rest:
a before/after comparison in one run on a loaded machine. Each overhead cell is the
median of the repetitions' medians' ratio; the spread line gives, per variant, the
quartiles of the per-repetition ratios (repetition i of a variant over repetition i of
plain, run back to back).

A peer that is not installed is skipped, saying so (pyinstrument and py-spy are in
requirements-dev.txt). Repetitions are interleaved and each figure is the median, as in
bench_external.py (whose runner this reuses). Overhead = t / t_plain - 1, in the program's
own CPU time (an in-process sampler's thread counts; an external one's process does not)
and in wall time. Target for hotpath: <= +3% at 1 kHz. It measures; it does not gate.

    python benchmarks/bench_sampling.py [--quick] [--reps N] [--only NAME] [--json PATH]
                                        [--baseline DIR]
"""
from __future__ import annotations

import importlib.util
import os
import shutil
import statistics
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import bench_external as be  # noqa: E402


def _have(module: str) -> bool:
    try:
        return importlib.util.find_spec(module) is not None
    except ImportError:
        return False


def _pyspy() -> str | None:
    here = Path(sys.executable).parent / "py-spy"
    return str(here) if here.exists() else shutil.which("py-spy")


SKIPPED: list[str] = []
BASELINE: str | None = None


def variants() -> list[str]:
    vs = ["plain"] + (["hotpath-base"] if BASELINE else []) + ["hotpath"]
    for name, ok, why in (("pyinstrument", _have("pyinstrument"), "pip install pyinstrument"),
                          ("py-spy", _pyspy() is not None, "pip install py-spy"),
                          ("tachyon", be.have_tachyon(), "needs CPython 3.15+")):
        if ok:
            vs.append(name)
        elif name not in [s.split(":")[0] for s in SKIPPED]:
            SKIPPED.append(f"{name}: not measured ({why})")
    return vs


def command(variant: str, name: str, out: str, prof: str, quick: bool) -> list[str]:
    prog = [str(be.RUN_ONE), name, out] + (["--quick"] if quick else [])
    py = sys.executable
    if variant == "plain":
        return [py, *prog]
    if variant == "hotpath":
        return [py, "-m", "hotpath", "run", "--sample", "-q", "-o", prof, *prog]
    if variant == "hotpath-base":
        return ["env", f"PYTHONPATH={BASELINE}", py, "-m", "hotpath", "run", "--sample", "-q",
                "-o", prof, *prog]
    if variant == "pyinstrument":
        return [py, "-m", "pyinstrument", "-i", "0.001", "-r", "text", "-o", prof, *prog]
    if variant == "py-spy":
        return [_pyspy() or "py-spy", "record", "-r", "1000", "-f", "raw", "-o", prof,
                "--", py, *prog]
    if variant == "tachyon":
        return [py, "-m", "profiling.sampling", "run", "--pstats", "-o", prof, *prog]
    raise ValueError(variant)


be.variants = variants
be.command = command
_print_table = be.print_table


def print_table(res: dict) -> None:
    _print_table(res)
    print("spread: quartiles of the per-repetition overheads (cpu | wall)")
    for r in res["workloads"]:
        runs = r["runs"]
        cells = []
        for v in res["variants"][1:]:
            q = []
            for key in ("cpu_s", "wall_s"):
                ratios = sorted(a[key] / b[key] - 1.0 for a, b in zip(runs[v], runs["plain"]))
                qs = statistics.quantiles(ratios, n=4) if len(ratios) > 1 else ratios * 3
                q.append(f"{qs[0] * 100:+.1f}..{qs[2] * 100:+.1f}%")
            cells.append(f"{v} {q[0]} | {q[1]}")
        print(f"  {r['name']}: " + "; ".join(cells))
    print(f"load average at the end: {' '.join(f'{x:.1f}' for x in os.getloadavg())}")
    for s in SKIPPED:
        print(s)


be.print_table = print_table

if __name__ == "__main__":
    sys.argv[0] = __file__
    if "--baseline" in sys.argv:
        i = sys.argv.index("--baseline")
        BASELINE = os.path.abspath(sys.argv[i + 1])
        del sys.argv[i:i + 2]
    sys.exit(be.main())
