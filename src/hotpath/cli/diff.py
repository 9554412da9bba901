"""``hotpath diff A B``: what got slower or faster between two profiles."""
from __future__ import annotations

import argparse
import sys

from .common import UserError, check_filter, load_profile


def register(sub: argparse._SubParsersAction) -> None:
    """Add the command to ``hotpath``'s parser."""
    from hotpath.report.diff import METRICS, SORT_KEYS
    dp = sub.add_parser("diff", help="what got slower or faster between two profiles")
    dp.add_argument("a", metavar="A", help="the profile before (baseline)")
    dp.add_argument("b", metavar="B", help="the profile after")
    dp.add_argument("--sort", default="delta", choices=list(SORT_KEYS),
                    help="row order (default: delta, the largest change either way)")
    dp.add_argument("--metric", default="self", choices=list(METRICS),
                    help="time to compare: self (tottime) or total (cumtime); default self")
    dp.add_argument("--limit", type=int, default=30, metavar="N", help="rows (default 30; 0 for all)")
    dp.add_argument("--filter", metavar="REGEX", help="only functions whose label matches")
    dp.add_argument("-o", "--output", metavar="OUT.html",
                    help="also write a differential flame graph (HTML) here")
    dp.set_defaults(func=run)


def run(opts: argparse.Namespace) -> int:
    from hotpath.progress import note, progress
    from hotpath.report import diff
    if opts.limit < 0:
        raise UserError("--limit must be 0 or more")
    check_filter(opts.filter)
    try:
        with progress("comparing the profiles"):   # gone before the table prints
            note(f"reading {opts.a}")
            a = load_profile(opts.a)
            note(f"reading {opts.b}")
            b = load_profile(opts.b)
            diff.check_comparable(a, b, names=(opts.a, opts.b))
            if opts.output:            # first, so that a bad path fails before any output
                note(f"writing {opts.output}")
                try:
                    diff.write_diff_html(a, b, opts.output, names=(opts.a, opts.b))
                except OSError as e:
                    raise UserError(f"cannot write {opts.output!r}: {e.strerror or e}") from None
        diff.print_diff(a, b, stream=sys.stdout, sort=opts.sort, metric=opts.metric,
                        limit=opts.limit, name_filter=opts.filter, names=(opts.a, opts.b))
    except diff.DiffError as e:    # different kinds, or a view that does not apply
        raise UserError(str(e)) from None
    if opts.output:
        sys.stdout.flush()
        sys.stderr.write(f"hotpath: wrote {opts.output} (differential flame graph)\n")
    return 0
