"""``hotpath attach PID``: profile a running Python process (CPython 3.14+, PEP 768).

    hotpath attach PID [--mode sample|functions|lines] [-f mod:func ...] [--duration S]
                       [--rate RATE] [--sample-clock wall|cpu] [-o OUT] [--limit N]

The work is hotpath.session.attach's; this is the command line and the table printed
after.
"""
from __future__ import annotations

import argparse
import sys

from .common import UserError


def register(sub: argparse._SubParsersAction) -> None:
    """Add the command to ``hotpath``'s parser."""
    p = sub.add_parser(
        "attach", help="profile a running Python process (CPython 3.14+)",
        description="Start profiling inside a running Python process (sys.remote_exec, "
                    "PEP 768: CPython 3.14+, same Python version, ptrace permission), for "
                    "--duration seconds or until Ctrl-C; then the target stops profiling, "
                    "removes every hook and writes the profile. The target keeps running, "
                    "unchanged, if anything fails.")
    p.add_argument("pid", type=int)
    p.add_argument("--mode", choices=["sample", "functions", "lines"], default="sample",
                   help="sample (default: every thread's stack, low overhead), functions "
                        "(every call), or lines (line timings of -f functions)")
    p.add_argument("-f", "--function", action="append", default=[], metavar="SPEC",
                   help="--mode lines: a function the target has loaded, mod:func or "
                        "mod:Class.method (repeatable)")
    p.add_argument("--duration", type=float, metavar="S",
                   help="seconds to profile (default: until Ctrl-C)")
    p.add_argument("--rate", default="1000", metavar="RATE",
                   help="--mode sample: samples per second (default 1000; 100, 10k)")
    p.add_argument("--sample-clock", choices=["wall", "cpu"], default="wall")
    p.add_argument("-o", "--output", metavar="PATH", help="profile file (default: attach-PID.hprof)")
    p.add_argument("--limit", type=int, default=20, metavar="N", help="rows in the table")
    p.add_argument("-q", "--quiet", action="store_true", help="print no table")
    p.set_defaults(func=run)


def run(opts: argparse.Namespace) -> int:
    from hotpath.session.attach import AttachError, attach, supported
    from hotpath.session.modes import written_hint
    why = supported()
    if why:
        raise UserError(why)
    if opts.duration is not None and opts.duration <= 0:
        raise UserError("hotpath attach: --duration must be more than 0")
    if opts.mode == "lines" and not opts.function:
        raise UserError("hotpath attach: --mode lines needs -f mod:func")
    if opts.function and opts.mode != "lines":
        raise UserError("hotpath attach: -f is for --mode lines")
    rate = 1000.0
    if opts.mode == "sample":
        from hotpath.capture.sampling import parse_rate
        try:
            rate = parse_rate(opts.rate)
        except ValueError as e:
            raise UserError(str(e)) from None
    out = opts.output or f"attach-{opts.pid}.hprof"
    from .common import check_writable
    check_writable(out)
    try:
        attach(opts.pid, out, opts.mode, opts.duration, opts.function, rate,
               opts.sample_clock, say=lambda s: sys.stderr.write(s + "\n"))
    except AttachError as e:
        raise UserError(str(e)) from None
    if not opts.quiet:
        from hotpath.fileformat import read
        profile = read(out)
        sys.stderr.write("\n")
        if opts.mode == "lines":
            from hotpath.report.lines import print_lines
            print_lines(profile, stream=sys.stderr)
        else:
            from hotpath.report.text import print_table
            print_table(profile, stream=sys.stderr, limit=opts.limit)
    sys.stderr.write(written_hint(out))
    return 0
