"""Run one benchmark workload as a whole program and report its own timing.

    python benchmarks/workloads/_run_one.py NAME OUT.json [--quick]

Used by benchmarks that profile a whole process from outside (bench_external.py): the
program times only its work (after import and prepare), in process CPU time and wall time,
and writes them to OUT.json, so what a profiler adds to the process's own work is measured
the same way whatever launched it.
"""
import importlib.util
import json
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent


def main() -> None:
    name, out = sys.argv[1], sys.argv[2]
    quick = "--quick" in sys.argv[3:]
    sys.dont_write_bytecode = True
    spec = importlib.util.spec_from_file_location(f"workload_{name}", HERE / f"{name}.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    fn = mod.prepare(quick)
    c0, w0 = time.process_time(), time.perf_counter()
    fn()
    c1, w1 = time.process_time(), time.perf_counter()
    Path(out).write_text(json.dumps({"cpu_s": c1 - c0, "wall_s": w1 - w0}))


if __name__ == "__main__":
    main()
