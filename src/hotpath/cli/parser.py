"""The argparse subclass every command's parser is: a bad option is one
``hotpath: error:`` line (a UserError), and the help formatter shows
``action.invocation`` when an option sets it."""
from __future__ import annotations

import argparse
import os
import sys

from .common import UserError

__all__ = ["Parser"]


class _Formatter(argparse.HelpFormatter):
    """Shows an option as ``action.invocation`` when set: ``--lines[=auto]``.

    argparse makes a formatter for every ``add_argument``; its own asks
    ``shutil.get_terminal_size`` for the width, and importing shutil (with bz2, lzma,
    fnmatch) costs ``hotpath run`` more than parsing does. The width here is the same,
    found without shutil (issue 13, start-up)."""

    def __init__(self, prog: str, indent_increment: int = 2, max_help_position: int = 24,
                 width: int | None = None) -> None:
        if width is None:
            width = _terminal_columns() - 2
        super().__init__(prog, indent_increment, max_help_position, width)

    def _format_action_invocation(self, action: argparse.Action) -> str:
        return getattr(action, "invocation", None) or super()._format_action_invocation(action)


def _terminal_columns() -> int:
    """What ``shutil.get_terminal_size().columns`` says: $COLUMNS, else stdout's
    terminal, else 80."""
    try:
        columns = int(os.environ["COLUMNS"])
    except (KeyError, ValueError):
        columns = 0
    if columns <= 0:
        try:
            columns = os.get_terminal_size(sys.__stdout__.fileno()).columns  # type: ignore[union-attr]
        except (AttributeError, ValueError, OSError):
            columns = 0
    return columns or 80


class Parser(argparse.ArgumentParser):
    """argparse, with a bad option reported as one ``hotpath: error:`` line (no usage
    block); ``--help`` shows the usage."""

    def __init__(self, *args, **kw) -> None:
        kw.setdefault("formatter_class", _Formatter)
        super().__init__(*args, **kw)

    def error(self, message: str):        # type: ignore[override]
        raise UserError(f"{self.prog}: {message} (see {self.prog} --help)")
