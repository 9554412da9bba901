"""``hotpath export FILE --format FORMAT -o OUT``: another tool's format."""
from __future__ import annotations

import argparse
import sys

from .common import UserError, load_profile


def register(sub: argparse._SubParsersAction) -> None:
    """Add the command to ``hotpath``'s parser."""
    from hotpath import report
    ep = sub.add_parser("export", help="convert a profile file to another tool's format",
                        description="Convert a profile file to another tool's format: "
                                    f"{', '.join(sorted(report.FORMATS))}.")
    ep.add_argument("file", nargs="+", help="a profile file (several, and .lprof files, "
                                             "with --format lprof: their sum)")
    ep.add_argument("--format", "-f", required=True, metavar="FORMAT",
                    help=f"one of: {', '.join(sorted(report.FORMATS))}")
    ep.add_argument("-o", "--output", required=True, metavar="OUT")
    ep.set_defaults(func=run)


def run(opts: argparse.Namespace) -> int:
    from hotpath import report
    if opts.format == "lprof":              # one file, or the sum of several
        from hotpath.report.lprof import export_command
        from hotpath.progress import progress
        try:
            with progress("exporting lprof"):
                text = export_command(opts.file, opts.output)
            sys.stderr.write(text)
        except (OSError, ValueError) as e:
            raise UserError(str(e)) from None
        return 0
    if len(opts.file) > 1:
        raise UserError("only --format lprof combines several profiles")
    opts.file = opts.file[0]
    if opts.format not in report.FORMATS:
        raise UserError(f"unknown format {opts.format!r}; choose from {', '.join(sorted(report.FORMATS))}")
    from hotpath.progress import note as step, progress
    with progress(f"exporting {opts.format}"):
        step("reading the profile")
        data = load_profile(opts.file)
        step(f"writing {opts.output}")
        try:
            note = report.export(data, opts.format, opts.output)
        except report.ExportError as e:
            raise UserError(f"{opts.file}: {e}") from None
        except OSError as e:
            raise UserError(f"cannot write {opts.output!r}: {e.strerror or e}") from None
    if note:
        sys.stderr.write(f"hotpath: note: {note}\n")
    sys.stderr.write(f"hotpath: wrote {opts.output} ({opts.format})\n")
    return 0
