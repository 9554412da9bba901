"""The ``hotpath`` command (also ``python -m hotpath``): the command table and ``main``.

    hotpath run [options] script.py [args] | -m module [args] | -c code [args]
    hotpath run --memory[=exact|sampled] [-f SPEC ...] script.py [args]   (memory profile)
    hotpath memit [-s SETUP] [-r N] [--sampled] STATEMENT ...
    hotpath report FILE [--sort KEY] [--limit N] [--filter REGEX] [--thread NAME]
    hotpath export FILE --format FORMAT -o OUT
    hotpath view FILE [-o OUT.html] [--no-browser]
    hotpath diff A B [--sort KEY] [--metric self|total] [--limit N] [-o OUT.html]
    hotpath attach PID [--mode sample|functions|lines] [--duration S] [-o OUT]  (3.14+)
    hotpath bench ...                      (see hotpath bench --help)

One module per command (``register(sub)`` adds its parser, ``run(opts)`` runs it);
``run`` parses its own arguments, since the program's come after them. argparse stops
here: below this package, options are plain values.

Every user error (a missing script, a bad option, an unreadable profile) is one line on
stderr, ``hotpath: error: ...``, and exit status 2 — never a traceback from inside.
"""
from __future__ import annotations

import sys

from hotpath import __version__

from .common import EXIT_USAGE, UserError

TYPE_CHECKING = False
if TYPE_CHECKING:
    import argparse
    from typing import Sequence

__all__ = ["main", "COMMANDS", "UserError"]

#: command → module (in this package, or a full name) with ``register(sub)``; ``run`` is
#: dispatched before parsing (see ``main``). The order is the order of ``--help``.
COMMANDS: dict[str, str] = {
    "report": ".report",
    "export": ".export",
    "view": ".view",
    "diff": ".diff",
    "memit": ".memit",
    "attach": ".attach",
    "bench": "hotpath.bench.cli",
}


def _main_parser() -> argparse.ArgumentParser:
    import importlib

    from .parser import Parser
    p = Parser(prog="hotpath", description="A performance toolkit for Python.")
    p.add_argument("--version", action="version", version=f"hotpath {__version__}")
    sub = p.add_subparsers(dest="command", metavar="COMMAND")
    sub.add_parser("run", help="profile a program (hotpath run --help)", add_help=False)
    for name, module in COMMANDS.items():
        try:
            mod = importlib.import_module(module, __name__)
        except ImportError:
            if name != "bench":       # bench needs nothing more; the others are ours
                raise
            continue
        mod.register(sub)
    return p


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    from hotpath.config import ConfigError
    try:
        if argv and argv[0] == "run":
            from .run import main as run_main
            return run_main(argv[1:])
        if argv[:2] == ["bench", "history"]:        # a sub-command of bench
            from hotpath.bench.history import history_main
            return history_main(argv[2:])
        parser = _main_parser()
        from hotpath import config             # [tool.hotpath] defaults; flags win
        config.apply_to_parser(parser, config.load())
        opts = parser.parse_args(argv)
        if not getattr(opts, "func", None):
            parser.print_help(sys.stderr)
            return EXIT_USAGE
        return int(opts.func(opts) or 0)
    except (UserError, ConfigError) as e:
        sys.stderr.write(f"hotpath: error: {e}\n")
        return EXIT_USAGE


if __name__ == "__main__":
    sys.exit(main())
