"""Start-up and whole-process cost of `hotpath run` against `python -m cProfile` (issue 13).

    python benchmarks/bench_startup.py [--reps N] [--quick] [--json PATH]

Prints, in one run on this interpreter:

1. **Import time**, from ``-X importtime`` (the sum of the top-level imports after
   ``site``, in a fresh process each time; median of N): ``import hotpath`` and
   ``import hotpath; hotpath.Profile()`` next to ``import cProfile`` and
   ``import cProfile; cProfile.Profile()``, with the number of modules each imports.
2. **Process CPU time** (user + system of the child, from ``os.wait4``) of a program
   making about one call per microsecond of its own work, calibrated here to about 50 ms
   and 0.5 s of CPU time (and run empty: the fixed costs alone), run three ways, interleaved with the order rotating each repetition:

   | variant  | command |
   |----------|---------|
   | plain    | ``python prog.py`` |
   | cProfile | ``python -m cProfile -o out.prof prog.py`` |
   | hotpath  | ``python -m hotpath run -q -o out.hprof prog.py`` |

   Each cell is the median and IQR over the repetitions; ``hotpath/cProfile`` is the ratio
   of the medians; ``paired`` is the median of each repetition's hotpath − cProfile
   difference (the two ran back to back, so load hits both alike).

``--instructions`` also runs each variant of the empty and 50 ms programs once under
callgrind and prints the instructions each executes: on a loaded machine they show the
difference that CPU time blurs.

Targets: ``import hotpath`` <= 5 ms, and ``import hotpath; hotpath.Profile()`` <= 5 ms;
`hotpath run` on the 50 ms program costs no more process CPU than
``python -m cProfile -o`` on it (hotpath/cProfile <= 1.00). The verdicts are computed from
this run's figures: ``met`` or ``MISSED``. Benchmarks report, they do not gate: the exit
status is 0 either way.
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time

IMPORT_TARGET_MS = 5.0

PROGRAM = '''\
import sys


class Vec:
    __slots__ = ("x", "y")

    def __init__(self, x, y):
        self.x = x
        self.y = y

    def add(self, other):
        return Vec(self.x + other.x, self.y + other.y)

    def norm2(self):
        return self.x * self.x + self.y * self.y


def fib(n):
    return n if n < 2 else fib(n - 1) + fib(n - 2)


def step(i):
    v = Vec(i, i + 1).add(Vec(1, 2))
    acc = 0
    for j in range(150):         # work between calls: about one call per microsecond
        acc += j * i
    return v.norm2() + len(str(acc))


def main(n):
    total = 0
    for i in range(n):
        total += step(i)
        if i % 500 == 0:
            total += fib(8)
    return total


main(int(sys.argv[1]))
'''


# -- import time ---------------------------------------------------------------------------

def import_cost(code: str) -> tuple[float, int]:
    """(-X importtime total in ms of what ``code`` imports after start-up, modules)."""
    r = subprocess.run([sys.executable, "-X", "importtime", "-c", code],
                       capture_output=True, text=True, check=True)
    rows = []
    for line in r.stderr.splitlines():
        if not line.startswith("import time:") or "self [us]" in line:
            continue
        _, cum, name = line[len("import time:"):].split("|")
        rows.append((int(cum), name))
    # Everything up to and including the top-level "site" is the interpreter's own start.
    last_site = max((i for i, (_, n) in enumerate(rows) if n.strip() == "site" and
                     not n.startswith(" " * 2)), default=-1)
    after = rows[last_site + 1:]
    total = sum(cum for cum, name in after if not name.startswith("  "))
    return total / 1000.0, len(after)


# -- process CPU time ----------------------------------------------------------------------

def child_cpu(cmd: list[str], cwd: str) -> float:
    """User + system CPU seconds of one run of ``cmd`` (output discarded)."""
    p = subprocess.Popen(cmd, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _, status, ru = os.wait4(p.pid, 0)
    p.returncode = os.waitstatus_to_exitcode(status)
    err = p.stderr.read() if p.stderr else b""
    if p.stderr:
        p.stderr.close()
    if p.returncode != 0:
        raise SystemExit(f"bench_startup: {' '.join(cmd)} failed ({p.returncode}):\n"
                         f"{err.decode(errors='replace')}")
    return ru.ru_utime + ru.ru_stime


def instructions(cmd: list[str], cwd: str) -> int | None:
    """Instructions one run of ``cmd`` executes (callgrind's total), or None without
    valgrind."""
    import shutil
    valgrind = shutil.which("valgrind")
    if valgrind is None:
        return None
    r = subprocess.run([valgrind, "--tool=callgrind", "--callgrind-out-file=/dev/null", *cmd],
                       cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    for line in r.stderr.splitlines():
        if "Collected :" in line:
            return int(line.split(":")[-1])
    return None


def calibrate(target_s: float) -> int:
    """Loop count for which the program's own work takes about ``target_s`` CPU here."""
    ns: dict = {}
    exec(compile(PROGRAM.replace("main(int(sys.argv[1]))", ""), "<prog>", "exec"), ns)
    n = 200
    while True:
        t = time.process_time()
        ns["main"](n)
        dt = time.process_time() - t
        if dt > 0.05:
            return max(1, int(n * target_s / dt))
        n *= 4


def quartiles(xs: list[float]) -> tuple[float, float, float]:
    if len(xs) < 2:
        return xs[0], xs[0], xs[0]
    q = statistics.quantiles(xs, n=4, method="inclusive")
    return q[0], statistics.median(xs), q[2]


def verdict(ok: bool) -> str:
    return "met" if ok else "MISSED"


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--reps", type=int, default=15, help="repetitions (default 15)")
    ap.add_argument("--quick", action="store_true", help="a smoke run: 3 repetitions")
    ap.add_argument("--json", metavar="PATH", help="also write the figures as JSON")
    ap.add_argument("--instructions", action="store_true",
                    help="also count each variant's instructions once under callgrind "
                         "(noise-free on a loaded machine; slow)")
    opts = ap.parse_args()
    reps = 3 if opts.quick else max(1, opts.reps)
    py = sys.executable
    results: dict = {"python": sys.version.split()[0], "reps": reps,
                     "loadavg": os.getloadavg() if hasattr(os, "getloadavg") else None}
    print(f"bench_startup: Python {results['python']}, {reps} repetitions, "
          f"load average {results['loadavg'] and ' '.join(f'{x:.2f}' for x in results['loadavg'])}")

    # 1. import time
    cases = [("import hotpath", "import hotpath"),
             ("import hotpath; hotpath.Profile()", "import hotpath; hotpath.Profile()"),
             ("import cProfile", "import cProfile"),
             ("import cProfile; cProfile.Profile()", "import cProfile; cProfile.Profile()")]
    times: dict[str, list[float]] = {c: [] for c, _ in cases}
    mods: dict[str, int] = {}
    for i in range(reps):
        for label, code in cases[i % len(cases):] + cases[:i % len(cases)]:
            ms, n = import_cost(code)
            times[label].append(ms)
            mods[label] = n
    print("\nimport time (-X importtime, sum of top-level imports after site; ms)")
    print(f"  {'code':<38} {'median':>8} {'IQR':>15} {'modules':>8}")
    imports = {}
    for label, _ in cases:
        lo, med, hi = quartiles(times[label])
        imports[label] = {"median_ms": med, "q1_ms": lo, "q3_ms": hi, "modules": mods[label]}
        print(f"  {label:<38} {med:8.2f} {lo:7.2f}..{hi:6.2f} {mods[label]:8d}")
    results["imports"] = imports
    targets = []
    for label in ("import hotpath", "import hotpath; hotpath.Profile()"):
        med = imports[label]["median_ms"]
        targets.append((f"{label} <= {IMPORT_TARGET_MS:g} ms", med <= IMPORT_TARGET_MS,
                        f"{med:.2f} ms"))

    # 2. process CPU time
    with tempfile.TemporaryDirectory() as tmp:
        with open(os.path.join(tmp, "prog.py"), "w") as f:
            f.write(PROGRAM)
        results["cpu"] = {}
        for size_label, target_s in (("empty", 0.0), ("50 ms", 0.05), ("0.5 s", 0.5)):
            n = calibrate(target_s) if target_s else 0
            variants = [
                ("plain", [py, "prog.py", str(n)]),
                ("cProfile", [py, "-m", "cProfile", "-o", "out.prof", "prog.py", str(n)]),
                ("hotpath", [py, "-m", "hotpath", "run", "-q", "-o", "out.hprof", "prog.py",
                             str(n)]),
            ]
            for _, cmd in variants:            # one untimed warm-up each
                child_cpu(cmd, tmp)
            cpu: dict[str, list[float]] = {v: [] for v, _ in variants}
            r = reps if target_s < 0.1 else max(3, reps // 2 + 1)
            print(f"\nprocess CPU time, {size_label} program (main({n}); {r} repetitions; ms)")
            for i in range(r):
                for v, cmd in variants[i % 3:] + variants[:i % 3]:
                    cpu[v].append(child_cpu(cmd, tmp))
            print(f"  {'variant':<10} {'median':>8} {'IQR':>17} {'above plain':>12}")
            meds = {}
            for v, _ in variants:
                lo, med, hi = quartiles(cpu[v])
                meds[v] = med
                print(f"  {v:<10} {med * 1e3:8.1f} {lo * 1e3:8.1f}..{hi * 1e3:7.1f} "
                      f"{(med - statistics.median(cpu['plain'])) * 1e3:+11.1f}")
            paired = [h - c for h, c in zip(cpu["hotpath"], cpu["cProfile"])]
            plo, pmed, phi = quartiles(paired)
            ratio = meds["hotpath"] / meds["cProfile"]
            over_h = meds["hotpath"] - meds["plain"]
            over_c = meds["cProfile"] - meds["plain"]
            print(f"  hotpath/cProfile {ratio:.2f}; paired hotpath - cProfile "
                  f"{pmed * 1e3:+.1f} ms (IQR {plo * 1e3:+.1f}..{phi * 1e3:+.1f}); "
                  f"cost above plain: hotpath {over_h * 1e3:.1f} ms, cProfile {over_c * 1e3:.1f} ms")
            results["cpu"][size_label] = {"n": n, "runs": cpu, "ratio": ratio,
                                          "paired_median": pmed}
            if opts.instructions and target_s < 0.1:
                ir = {v: instructions(cmd, tmp) for v, cmd in variants}
                if None not in ir.values():
                    print("  instructions (callgrind, one run each): " + ", ".join(
                        f"{v} {ir[v] / 1e6:.1f} M" for v, _ in variants) +
                        f"; above plain: hotpath {(ir['hotpath'] - ir['plain']) / 1e6:.1f} M, "
                        f"cProfile {(ir['cProfile'] - ir['plain']) / 1e6:.1f} M "
                        f"(hotpath/cProfile {ir['hotpath'] / ir['cProfile']:.2f} of the whole)")
                    results["cpu"][size_label]["instructions"] = ir
            if size_label == "50 ms":
                targets.append(("hotpath run <= python -m cProfile -o, 50 ms program",
                                ratio <= 1.0, f"hotpath/cProfile {ratio:.2f}"))
            else:
                print(f"  (report only) {verdict(ratio <= 1.0)}: hotpath/cProfile {ratio:.2f}")

    print("\ntargets")
    for what, ok, figure in targets:
        print(f"  {verdict(ok):<7} {what}: {figure}")
    results["targets"] = [{"target": w, "met": ok, "figure": fig} for w, ok, fig in targets]
    if opts.json:
        with open(opts.json, "w") as f:
            json.dump(results, f, indent=1)
    return 0


if __name__ == "__main__":
    sys.exit(main())
