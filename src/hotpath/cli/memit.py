"""``hotpath memit [-s SETUP] [-r N] [--sampled] [--no-native] STATEMENT ...``: peak
memory and increment of a statement, as %memit."""
from __future__ import annotations

import argparse
import os
import sys

from .common import UserError


def register(sub: argparse._SubParsersAction) -> None:
    """Add the command to ``hotpath``'s parser."""
    mm = sub.add_parser("memit", help="peak memory and increment of a statement, as %%memit")
    mm.add_argument("statement", nargs="*", help="statements to run (joined by newlines)")
    mm.add_argument("-s", "--setup", action="append", default=[], metavar="STMT",
                    help="run first, not measured (repeatable)")
    mm.add_argument("-r", "--repeat", type=int, default=1, metavar="N",
                    help="runs; the largest increment counts (default 1)")
    mm.add_argument("--sampled", action="store_true", help="sampled tracking (estimates)")
    mm.add_argument("--no-native", action="store_true",
                    help="Python's allocators only (no re-run under LD_PRELOAD)")
    mm.set_defaults(func=run)


def run(opts: argparse.Namespace) -> int:
    if opts.repeat < 1:
        raise UserError("--repeat must be at least 1")
    for what, source in (("setup", "\n".join(opts.setup)), ("statement", "\n".join(opts.statement))):
        try:
            compile(source, f"<memit-{what}>", "exec")
        except (SyntaxError, ValueError) as e:
            where = f" (line {e.lineno})" if getattr(e, "lineno", None) else ""
            msg = getattr(e, "msg", None) or str(e)
            raise UserError(f"memit: the {what} is not valid Python: {msg}{where}") from None
    again = [a for s in opts.setup for a in ("-s", s)] + ["-r", str(opts.repeat)]
    again += ["--sampled"] * opts.sampled + ["--", *opts.statement]
    from hotpath.capture.memory import memit
    from hotpath.session.memory import preloaded_setup
    preloaded_setup(not opts.no_native, ["memit", *again])
    stmt = "\n".join(opts.statement) or "pass"
    setup = "\n".join(opts.setup) or "pass"
    sys.path.insert(0, os.getcwd())
    ns: dict[str, object] = {"__name__": "__main__"}
    memit(stmt, setup=setup, repeat=opts.repeat, globals=ns,
          mode="sampled" if opts.sampled else "exact")
    return 0
