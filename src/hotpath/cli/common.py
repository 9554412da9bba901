"""What every command shares: the one-line user error, the argparse subclass that
reports a bad option as such a line, and loading a profile file."""
from __future__ import annotations

import argparse
import os
import sys

TYPE_CHECKING = False
if TYPE_CHECKING:
    from hotpath.model import Profile

__all__ = ["EXIT_USAGE", "UserError", "Parser", "load_profile", "check_filter",
           "check_writable"]

EXIT_USAGE = 2


class UserError(Exception):
    """A problem with what the user asked for; printed as one line, exit status 2."""


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


def load_profile(path: str) -> Profile:
    """Read a profile file; UserError for a missing or unreadable one."""
    from hotpath import fileformat
    from hotpath.profile_files import load_profile as read_any  # hotpath's files and pstats files
    if not os.path.exists(path):
        raise UserError(f"{path}: no such file")
    try:
        return read_any(path)
    except fileformat.FormatError as e:
        raise UserError(str(e)) from None
    except OSError as e:
        raise UserError(f"{path}: {e.strerror or e}") from None


def check_filter(pattern: str | None) -> None:
    if pattern:
        import re
        try:
            re.compile(pattern)
        except re.error as e:
            raise UserError(f"bad --filter {pattern!r}: {e}") from None


def check_writable(out_path: str) -> None:
    """Fail before the program runs when the profile could not be written afterwards
    (see hotpath.outfile.writable_problem)."""
    from hotpath.outfile import writable_problem
    problem = writable_problem(out_path)
    if problem:
        raise UserError(problem)
