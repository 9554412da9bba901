"""Everything after capture, on the call-path-rich program (issue 13, second target).

    python benchmarks/bench_postcapture.py [--quick] [--workload NAME] [--keep DIR]

Profiles ``benchmarks/workloads/stdlib_ast_all.py`` (ast.parse + ast.unparse over the
whole standard library; ``--quick``: every 25th file) under hotpath and under cProfile, each
in a fresh process, and measures in the same run:

  C tree        what the capture holds: RSS growth over the profiled run minus the same
                run's growth without a profiler (another fresh process)
  model         Python memory of ``snapshot()``'s result, kept (tracemalloc), and the peak
                while building it; cProfile: of ``pstats.Stats(prof)``
  save          CPU of writing the file (hotpath: fileformat.write; cProfile: dump_stats)
                and its tracemalloc peak
  Stats(p)      CPU of ``pstats.Stats(profiler)`` on the live profiler
  report        process CPU and max RSS of ``hotpath report FILE`` (cProfile: ``python -c
                "pstats.Stats(FILE).sort_stats('tottime').print_stats(20)"``)
  export html   process CPU and max RSS of ``hotpath export FILE --format html``

Targets (issue 13): model <= 1x the C tree, report and HTML export <= 0.5 s CPU,
``pstats.Stats(profile)`` <= 0.3 s. Prints met / MISSED for each; exits 0 either way.
CPU is process CPU time (user + system), so load from other processes on the machine
counts less than in wall time; it is still one run, not a median.
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent

CHILD = r'''
import gc, importlib.util, json, os, sys, time, tracemalloc
kind, name, quick, out, prof_path = sys.argv[1], sys.argv[2], sys.argv[3] == "1", sys.argv[4], sys.argv[5]
spec = importlib.util.spec_from_file_location("w", os.path.join(sys.argv[6], name + ".py"))
mod = importlib.util.module_from_spec(spec); spec.loader.exec_module(mod)
fn = mod.prepare(quick)
def rss():
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
def cpu(f, *a):
    c = time.process_time(); r = f(*a); return r, time.process_time() - c
res = {}
gc.collect(); r0 = rss()
if kind == "plain":
    fn()
elif kind == "hotpath":
    import hotpath
    p = hotpath.Profile()
    p.enable(); fn(); p.disable()
elif kind == "cprofile":
    import cProfile
    p = cProfile.Profile()
    p.enable(); fn(); p.disable()
gc.collect(); res["run_rss"] = rss() - r0
if kind == "hotpath":
    from hotpath import fileformat
    # times without tracemalloc (it slows every allocation), memory with it
    model, res["snapshot_s"] = cpu(p.snapshot)
    _, res["save_s"] = cpu(fileformat.write, model, prof_path)
    del model; gc.collect()
    tracemalloc.start()
    model = p.snapshot()
    cur, peak = tracemalloc.get_traced_memory()
    res["model_bytes"], res["model_peak"] = cur, peak
    res["nodes"] = sum(len(t.nodes) for t in model.threads)
    res["functions"] = len(model.functions)
    tracemalloc.reset_peak()
    fileformat.write(model, prof_path)
    res["save_peak"] = tracemalloc.get_traced_memory()[1] - cur
    tracemalloc.stop()
    del model; gc.collect()
    import pstats
    _, res["stats_s"] = cpu(pstats.Stats, p)
elif kind == "cprofile":
    import pstats
    st, res["stats_s"] = cpu(pstats.Stats, p)
    del st
    _, res["save_s"] = cpu(p.dump_stats, prof_path)
    tracemalloc.start()
    st = pstats.Stats(p)
    cur, peak = tracemalloc.get_traced_memory()
    res["model_bytes"], res["model_peak"] = cur, peak
    del st; gc.collect()
    tracemalloc.reset_peak()
    p.dump_stats(prof_path)
    res["save_peak"] = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
with open(out, "w") as f:
    json.dump(res, f)
'''


def child(kind: str, name: str, quick: bool, tmp: str, prof: str) -> dict:
    out = os.path.join(tmp, f"{kind}.json")
    subprocess.run([sys.executable, "-c", CHILD, kind, name, "1" if quick else "0", out,
                    prof, str(HERE / "workloads")], check=True)
    return json.loads(Path(out).read_text())


def process_cpu(cmd: list[str]) -> tuple[float, int]:
    """(CPU seconds, max RSS bytes) of one whole child process."""
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _, status, ru = os.wait4(proc.pid, 0)
    proc.returncode = os.waitstatus_to_exitcode(status)
    err = proc.stderr.read().decode(errors="replace") if proc.stderr else ""
    if proc.returncode != 0:
        raise SystemExit(f"failed ({proc.returncode}): {' '.join(cmd)}\n{err}")
    return ru.ru_utime + ru.ru_stime, ru.ru_maxrss * 1024


def mib(n: float) -> str:
    return f"{n / 2**20:7.1f} MiB"


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--quick", action="store_true", help="every 25th file: a smoke run")
    ap.add_argument("--workload", default="stdlib_ast_all")
    ap.add_argument("--keep", metavar="DIR", help="write the profile files here and keep them")
    ap.add_argument("--json", metavar="PATH", help="also write the figures as JSON")
    args = ap.parse_args()
    py = sys.executable
    with tempfile.TemporaryDirectory() as tmp:
        where = args.keep or tmp
        os.makedirs(where, exist_ok=True)
        hprof, cprof = os.path.join(where, "run.hprof"), os.path.join(where, "run.prof")
        t0 = time.perf_counter()
        plain = child("plain", args.workload, args.quick, tmp, "")
        hp = child("hotpath", args.workload, args.quick, tmp, hprof)
        cp = child("cprofile", args.workload, args.quick, tmp, cprof)
        rep = process_cpu([py, "-m", "hotpath", "report", hprof])
        rep_c = process_cpu([py, "-c", "import pstats,sys; pstats.Stats(sys.argv[1])"
                             ".sort_stats('tottime').print_stats(20)", cprof])
        html = os.path.join(tmp, "out.html")
        exp = process_cpu([py, "-m", "hotpath", "export", hprof, "--format", "html", "-o", html])
        tree = max(hp["run_rss"] - plain["run_rss"], 1)
        tree_c = cp["run_rss"] - plain["run_rss"]
        n = hp["nodes"]
        print(f"bench_postcapture: {args.workload}{' (quick)' if args.quick else ''}, "
              f"Python {sys.version.split()[0]}, {n:,} nodes, {hp['functions']:,} functions, "
              f"load {os.getloadavg()[0]:.2f}, {time.perf_counter() - t0:.0f} s")
        print(f"{'':24} {'hotpath':>22} {'cProfile':>22}")
        rows = [
            ("C tree (RSS growth)", f"{mib(tree)} {tree / n:5.0f} B/node", mib(tree_c)),
            ("model kept", f"{mib(hp['model_bytes'])} {hp['model_bytes'] / n:5.0f} B/node",
             mib(cp["model_bytes"])),
            ("model peak", mib(hp["model_peak"]), mib(cp["model_peak"])),
            ("snapshot() CPU", f"{hp['snapshot_s']:.3f} s", "-"),
            ("save CPU", f"{hp['save_s']:.3f} s", f"{cp['save_s']:.3f} s"),
            ("save peak", mib(hp["save_peak"]), mib(cp["save_peak"])),
            ("pstats.Stats(p) CPU", f"{hp['stats_s']:.3f} s", f"{cp['stats_s']:.3f} s"),
            ("report CPU / max RSS", f"{rep[0]:.3f} s {mib(rep[1])}",
             f"{rep_c[0]:.3f} s {mib(rep_c[1])}"),
            ("export html CPU / RSS", f"{exp[0]:.3f} s {mib(exp[1])}", "-"),
        ]
        for label, a, b in rows:
            print(f"{label:24} {a:>22} {b:>22}")
        checks = [
            ("model <= 1x C tree", hp["model_bytes"] <= tree,
             f"{hp['model_bytes'] / tree:.2f}x"),
            ("report <= 0.5 s CPU", rep[0] <= 0.5, f"{rep[0]:.3f} s"),
            ("export html <= 0.5 s CPU", exp[0] <= 0.5, f"{exp[0]:.3f} s"),
            ("pstats.Stats(p) <= 0.3 s", hp["stats_s"] <= 0.3, f"{hp['stats_s']:.3f} s"),
        ]
        for label, ok, value in checks:
            print(f"  {'met   ' if ok else 'MISSED'} {label}: {value}")
        if args.json:
            Path(args.json).write_text(json.dumps(
                {"plain": plain, "hotpath": hp, "cprofile": cp, "report": rep,
                 "report_cprofile": rep_c, "export_html": exp, "quick": args.quick}, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
