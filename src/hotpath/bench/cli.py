"""``hotpath bench``: a superset of ``python -m timeit``.

    hotpath bench [-s SETUP] [-n N] [-r N] [-u UNIT] [-p] [-v] STATEMENT [STATEMENT ...]

timeit's options mean what they mean there (``-s`` setup, may repeat; ``-n`` loops per
round; ``-r`` rounds; ``-u`` unit; ``-p`` process time; ``-v`` verbose). One difference:
each STATEMENT is a separate benchmark — several are measured interleaved and compared
with the first — where timeit joins its arguments into one multi-line statement (write
``"a = 1; b = 2"`` or a real newline for that).

``--sizes 100,1000,10000`` runs every statement at every size with ``n`` (or
``--size-name``) bound to the size before the setup runs, and prints the comparison
tables; ``--plot FILE`` draws normalised runtime against size. ``--save FILE`` writes
JSON (``--save`` alone: into the history under .benchmarks/, keyed by commit, machine
and Python); ``--compare FILE`` compares with a saved run (``--compare`` alone: the
latest of this machine and Python) and ``--compare-fail median:5%`` (or
``instructions:0.5%``) turns that into an exit status. ``--measure instructions``
counts instructions per call beside the times (:mod:`hotpath.bench.counts`);
``--histogram PREFIX`` draws each benchmark's rounds.

``hotpath bench history [NAME]``: each saved benchmark over the commits and the commit
where it changed (:mod:`hotpath.bench.history`).

Exit status: 0 ok; 1 a statement raised, or a ``--compare-fail`` gate failed; 2 usage.
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import traceback
from typing import Sequence

from hotpath.outfile import writable_problem

from .compare import compare_timed, render_table
from .counts import CountsUnavailable
from .gate import Gate
from .jsonio import load_results
from .result import BenchResult
from .runner import Options, Timed
from .stats import ALPHA, MIN_EFFECT, UNITS

__all__ = ["register", "build_parser", "run", "main"]

DESCRIPTION = ("Time Python statements with calibrated loops and honest statistics "
               "(a superset of python -m timeit).")


def _add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("statements", nargs="+", metavar="STATEMENT",
                   help="statement to time; several are measured interleaved and compared "
                        "with the first")
    g = p.add_argument_group("timeit options")
    g.add_argument("-s", "--setup", action="append", default=[],
                   help="statement run once before timing (may repeat; default: pass)")
    g.add_argument("-n", "--number", type=int, default=None,
                   help="loops per round (default: calibrated so a round lasts --min-time)")
    g.add_argument("-r", "--repeat", type=int, default=None,
                   help="rounds (default: as many as fit in --max-time, at least --min-rounds)")
    g.add_argument("-u", "--unit", choices=sorted(UNITS, key=UNITS.get),
                   help="time unit for the output (default: automatic)")
    g.add_argument("-p", "--process", action="store_true",
                   help="measure process CPU time (same as --timer process)")
    g.add_argument("-v", "--verbose", action="store_true",
                   help="also print gross times and raw samples")
    h = p.add_argument_group("hotpath options")
    h.add_argument("--min-time", type=float, default=Options.min_time, metavar="SECONDS",
                   help="shortest round when calibrating (default: %(default)s)")
    h.add_argument("--max-time", type=float, default=Options.max_time, metavar="SECONDS",
                   help="time budget for the rounds of each benchmark (each size with "
                        "--sizes) (default: %(default)s)")
    h.add_argument("--min-rounds", type=int, default=Options.min_rounds, metavar="N",
                   help="fewest rounds (default: %(default)s)")
    h.add_argument("--warmup", type=int, default=Options.warmup, metavar="N",
                   help="rounds thrown away before measuring (default: %(default)s)")
    h.add_argument("--timer", choices=["auto", "perf", "process", "thread"], default="auto",
                   help="auto (default): thread CPU time when the statement runs on this "
                        "thread only, wall clock otherwise; perf: wall clock, as timeit")
    h.add_argument("--gc", action="store_true",
                   help="keep the garbage collector on while timing (timeit's 'gc.enable()')")
    h.add_argument("--gross", action="store_true",
                   help="do not subtract the loop's own cost: report timeit's figure (the "
                        "time of the loop around the statement / its length)")
    h.add_argument("--processes", type=int, default=0, metavar="N",
                   help="run the rounds in N fresh worker processes, one after another")
    h.add_argument("--memory", action="store_true",
                   help="also report the peak memory one execution allocates")
    h.add_argument("--sizes", metavar="N,N,...",
                   help="run each statement at each size, with the size bound to --size-name "
                        "before the setup")
    h.add_argument("--size-name", default="n", metavar="NAME",
                   help="name the size is bound to (default: %(default)s)")
    h.add_argument("--baseline", metavar="N", type=int, default=1,
                   help="which statement (1-based) the others are compared with (default: 1)")
    h.add_argument("--alpha", type=float, default=ALPHA,
                   help="significance level of the Mann-Whitney U test (default: %(default)s)")
    h.add_argument("--min-effect", type=float, default=MIN_EFFECT, metavar="FRACTION",
                   help="smallest difference of medians reported as real (default: %(default)s)")
    h.add_argument("--plot", metavar="FILE",
                   help="with several statements or --sizes: plot normalised runtime "
                        "(.svg always; .png with matplotlib)")
    h.add_argument("--measure", choices=["time", "instructions"], default="time",
                   help="instructions: also count the instructions (and hardware events where "
                        "the CPU gives them) of one execution, exactly and immune to load "
                        "(perf events, else valgrind's callgrind)")
    h.add_argument("--histogram", metavar="PREFIX",
                   help="draw each benchmark's rounds: PREFIX-<name>.svg (and .png with "
                        "matplotlib)")
    h.add_argument("--save", metavar="FILE", nargs="?", const="",
                   help="write the results as JSON; without FILE, into the history "
                        "(.benchmarks/hotpath/<machine>/<python>/, keyed by commit)")
    h.add_argument("--json", action="store_true",
                   help="print the results as JSON instead of text")
    h.add_argument("--compare", metavar="FILE", nargs="?", const="",
                   help="compare with the same statements in a file written by --save; "
                        "without FILE, the latest saved run of this machine and Python")
    h.add_argument("--compare-fail", metavar="EXPR", action="append", default=[],
                   help="with --compare: exit 1 when STAT got worse by more than the limit "
                        "and significantly, e.g. median:5%% or min:0.000001 (may repeat)")


def build_parser(prog: str = "hotpath bench") -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog=prog, description=DESCRIPTION)
    _add_arguments(p)
    return p


def register(subparsers: "argparse._SubParsersAction") -> None:
    """Add the ``bench`` subcommand to the ``hotpath`` command line."""
    p = subparsers.add_parser("bench", help="time statements (a superset of python -m timeit)",
                              description=DESCRIPTION)
    _add_arguments(p)
    p.set_defaults(func=run)


def _parse_sizes(text: str) -> list:
    out = []
    for part in text.split(","):
        part = part.strip()
        if not part:
            continue
        try:
            out.append(int(part))
        except ValueError:
            try:
                out.append(float(part))
            except ValueError:
                out.append(part)
    if not out:
        raise ValueError("--sizes is empty")
    return out


def _label(stmts: Sequence[str]) -> list[str]:
    """Benchmark names: the statements themselves, made unique."""
    names, seen = [], {}
    for s in stmts:
        name = " ".join(s.split()) or "pass"
        if name in seen:
            seen[name] += 1
            name = f"{name} #{seen[name]}"
        else:
            seen[name] = 1
        names.append(name)
    return names


def run(args: argparse.Namespace) -> int:
    """Run ``hotpath bench`` with parsed arguments; returns the exit status."""
    err = sys.stderr
    try:
        gates = [Gate.parse(e) for e in args.compare_fail]
        sizes = _parse_sizes(args.sizes) if args.sizes else None
    except ValueError as exc:
        print(f"hotpath bench: error: {exc}", file=err)
        return 2
    for name, value, least in (("-n/--number", args.number, 1), ("-r/--repeat", args.repeat, 1),
                               ("--min-rounds", args.min_rounds, 1), ("--warmup", args.warmup, 0),
                               ("--processes", args.processes, 0)):
        if value is not None and value < least:
            print(f"hotpath bench: error: {name} must be at least {least}, not {value}", file=err)
            return 2
    for name, value in (("--min-time", args.min_time), ("--max-time", args.max_time)):
        if not value > 0:
            print(f"hotpath bench: error: {name} must be a positive number of seconds", file=err)
            return 2
    for flag, path in (("--save", args.save), ("--plot", args.plot)):
        problem = writable_problem(path) if path else None
        if problem:                         # before the run, not after it
            print(f"hotpath bench: error: {flag}: {problem}", file=err)
            return 2
    if gates and args.compare is None:
        print("hotpath bench: error: --compare-fail needs --compare FILE", file=err)
        return 2
    if not 1 <= args.baseline <= len(args.statements):
        print(f"hotpath bench: error: --baseline must be between 1 and {len(args.statements)}",
              file=err)
        return 2
    if sizes is not None and not args.size_name.isidentifier():
        print(f"hotpath bench: error: --size-name {args.size_name!r} is not a Python name",
              file=err)
        return 2
    earlier = None
    if args.compare == "":
        from .history import latest, run_dir
        found = latest()
        if found is None:
            print(f"hotpath bench: error: --compare: no saved run in {run_dir()} (save one "
                  "with --save)", file=err)
            return 2
        args.compare = str(found)
    if args.compare:                        # read (and check) it before measuring anything
        try:
            earlier = load_results(args.compare)
        except (OSError, ValueError) as exc:
            print(f"hotpath bench: error: --compare: {exc}", file=err)
            return 2
    if os.curdir not in sys.path:           # as timeit does: import from the current dir
        sys.path.insert(0, os.curdir)
    opts = Options(min_time=args.min_time, max_time=args.max_time, min_rounds=args.min_rounds,
                   number=args.number, repeat=args.repeat, warmup=args.warmup,
                   timer="process" if args.process else args.timer, gc=args.gc,
                   subtract=not args.gross, processes=args.processes, memory=args.memory,
                   measure=args.measure)
    setup = "\n".join(args.setup) or "pass"
    names = _label(args.statements)
    size_list = sizes if sizes is not None else [None]
    out = sys.stdout
    from hotpath.progress import progress
    try:
        with progress("benchmarking"):      # gone before the results print
            cells = {}
            for s in size_list:
                pre = f"{args.size_name} = {s!r}\n" if s is not None else ""
                for name, stmt in zip(names, args.statements):
                    cells[(name, s)] = Timed(stmt, setup=pre + setup, options=opts, name=name)
            if len(names) == 1 and sizes is None:
                from .runner import measure
                results = [measure(cells[(names[0], None)])]
                cmp = None
            else:
                if args.processes:
                    print("hotpath bench: error: --processes works with one statement and no "
                          "--sizes (interleaved comparisons run in this process)", file=err)
                    return 2
                cmp = compare_timed(cells, names, size_list, names[args.baseline - 1],
                                    alpha=args.alpha, min_effect=args.min_effect,
                                    size_name=args.size_name)
                results = [cmp.results[(n, s)] for s in size_list for n in names]
                if args.measure == "instructions":
                    from .runner import add_counts
                    add_counts([cells[(n, s)] for s in size_list for n in names], results)
    except SyntaxError:
        traceback.print_exc(limit=0, file=err)
        return 2
    except CountsUnavailable as exc:
        print(f"hotpath bench: error: --measure instructions: {exc}", file=err)
        return 2
    except Exception:
        traceback.print_exc(file=err)
        return 1

    if args.json:
        doc = cmp.to_document() if cmp else json.loads(results[0].to_json())
        json.dump(doc, out, indent=2)
        out.write("\n")
    else:
        # One statement: its summary. Several: their summaries, then the tables. With
        # --sizes: the tables (each cell's summary too with -v).
        per_result = sizes is None or args.verbose
        if per_result:
            for r in results:
                label = r.name if sizes is None else f"{r.name} @ {args.size_name}={r.params['size']}"
                print(r.summary(args.unit, args.verbose).replace(r.name, label, 1), file=out)
        if cmp is not None:
            if per_result:
                print(file=out)
            print(cmp.report(args.unit, warnings=not per_result), file=out)
    if args.plot:
        if cmp is None:
            print("hotpath bench: note: --plot needs several statements or --sizes", file=err)
        else:
            written = cmp.plot(args.plot)
            print("plot: " + ", ".join(written), file=err if args.json else out)
    if args.histogram:
        from .plot import write_histograms
        written = write_histograms(args.histogram, results)
        print("histogram: " + ", ".join(written), file=err if args.json else out)
    if args.save is not None:
        doc = cmp.to_document() if cmp is not None else json.loads(results[0].to_json())
        if args.save == "":
            from .history import autosave
            saved = str(autosave(doc))
        else:
            saved = args.save
            with open(saved, "w", encoding="utf-8") as fh:
                json.dump(doc, fh, indent=2)
                fh.write("\n")
        print(f"saved: {saved}", file=err if args.json else out)
    status = 0
    if earlier is not None:
        status = _compare_with(args.compare, earlier, results, gates, args.alpha,
                               args.min_effect, err if args.json else out)
    return status


def _compare_with(path: str, earlier: list[BenchResult], results: list[BenchResult],
                  gates: list[Gate], alpha: float, min_effect: float, out) -> int:
    """Each result against the same benchmark in ``earlier``: the same name — or the
    same statement (pyperf timeit names its benchmark "timeit") — and size."""
    def size(r: BenchResult) -> str:
        params = r.params if isinstance(r.params, dict) else {}
        return json.dumps(params.get("size"), default=str)

    by_key = {(e.name, size(e)): e for e in earlier}
    by_source = {(e.source, size(e)): e for e in earlier if e.source}
    rows, failed = [], False
    lines = []
    for r in results:
        old = by_key.get((r.name, size(r))) or by_source.get((r.source, size(r)))
        label = r.name if not r.params or r.params.get("size") is None else \
            f"{r.name} @ {r.params['size']}"
        if old is None:
            rows.append([label, "(not in the earlier run)"])
            continue
        diffs = r.differences(old)
        counted = ""
        if r.instructions is not None and old.instructions:
            counted = f"; instructions {r.instructions / old.instructions - 1:+.2%}"
        rows.append([label, r.compare(old, alpha, min_effect).describe() + counted
                     + (f"  (not alike: {'; '.join(diffs)})" if diffs else "")])
        for g in gates:
            outcome = g.check(r, old, alpha)
            lines.append(("FAILED " if outcome.failed else "") + outcome.message)
            failed |= outcome.failed
    print(f"\nAgainst {path} (ratio of medians, now / then):", file=out)
    print(render_table(["benchmark", "change"], rows), file=out)
    for line in lines:
        print(line, file=out)
    return 1 if failed else 0


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m hotpath.bench.cli ...``: the bench subcommand on its own."""
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv[:1] == ["history"]:
        from .history import history_main
        return history_main(argv[1:])
    args = build_parser("python -m hotpath.bench.cli").parse_args(argv)
    return run(args)


if __name__ == "__main__":
    sys.exit(main())
