"""Sampling profilers at 1 kHz: what each adds to the profiled program's own work.

For every workload in benchmarks/workloads/ (run as a program by workloads/_run_one.py,
which times only its work, in its own process CPU and wall time), in one run:

  plain         python _run_one.py NAME
  hotpath       python -m hotpath run --sample -q -o X _run_one.py NAME   (in-process, 1 kHz)
  pyinstrument  python -m pyinstrument -i 0.001 -r text -o X _run_one.py NAME  (in-process)
  py-spy        py-spy record -r 1000 -f raw -o X -- python _run_one.py NAME   (external)
  tachyon       python -m profiling.sampling run -o X _run_one.py NAME     (3.15+, external)

A peer that is not installed is skipped, saying so (pyinstrument and py-spy are in
requirements-dev.txt). Repetitions are interleaved and each figure is the median, as in
bench_external.py (whose runner this reuses). Overhead = t / t_plain - 1, in the program's
own CPU time (an in-process sampler's thread counts; an external one's process does not)
and in wall time. Target for hotpath: <= +3% at 1 kHz. It measures; it does not gate.

    python benchmarks/bench_sampling.py [--quick] [--reps N] [--only NAME] [--json PATH]
"""
from __future__ import annotations

import importlib.util
import shutil
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


def variants() -> list[str]:
    vs = ["plain", "hotpath"]
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
    for s in SKIPPED:
        print(s)


be.print_table = print_table

if __name__ == "__main__":
    sys.argv[0] = __file__
    sys.exit(be.main())
