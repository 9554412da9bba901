"""Run every benchmarks/bench_*.py with this interpreter and print their tables.

    python benchmarks/run_all.py [--quick] [--json-dir DIR] [--only SUBSTRING]

Each script runs as its own subprocess (``sys.executable``), one after the other, so one
benchmark's state cannot leak into the next. ``--quick`` is passed on to every script that
has that option; with ``--json-dir DIR`` each script that has a ``--json`` option gets
``--json DIR/<script stem>.json``.
Benchmarks report, they do not gate: the exit status is 0 unless a script failed to run
(non-zero exit), in which case it is 1 and the failures are listed at the end.
"""
from __future__ import annotations

import argparse
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--quick", action="store_true", help="pass --quick to every benchmark")
    ap.add_argument("--json-dir", metavar="DIR", help="save each benchmark's results as DIR/<name>.json")
    ap.add_argument("--only", metavar="SUBSTRING", help="run only scripts whose name contains this")
    args = ap.parse_args(argv)
    scripts = sorted(p for p in HERE.glob("bench_*.py") if not args.only or args.only in p.name)
    if not scripts:
        print("no benchmarks/bench_*.py to run", file=sys.stderr)
        return 1
    if args.json_dir:
        Path(args.json_dir).mkdir(parents=True, exist_ok=True)
    failed = []
    for script in scripts:
        cmd = [sys.executable, str(script)]
        source = script.read_text(encoding="utf-8")
        notes = []
        for flag, wanted, extra in (("--quick", args.quick, []),
                                    ("--json", args.json_dir,
                                     [str(Path(args.json_dir or ".") / f"{script.stem}.json")])):
            if not wanted:
                continue
            if flag in source:          # only pass options the script knows
                cmd += [flag] + extra
            else:
                notes.append(f"{flag} not supported, not passed")
        print(f"=== {script.name} ({sys.executable})" + (f" [{'; '.join(notes)}]" if notes else ""),
              flush=True)
        start = time.perf_counter()
        rc = subprocess.call(cmd)
        print(f"=== {script.name}: exit {rc}, {time.perf_counter() - start:.0f} s\n", flush=True)
        if rc != 0:
            failed.append(f"{script.name} (exit {rc})")
    if failed:
        print("benchmarks that failed to run: " + ", ".join(failed), file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
