"""What every command shares: the one-line user error and loading a profile file. The
argparse subclass that reports a bad option as such a line is ``cli.parser.Parser``, kept
apart so that `hotpath run`'s usual command lines load no argparse (cli/run.py)."""
from __future__ import annotations

import os

TYPE_CHECKING = False
if TYPE_CHECKING:
    from hotpath.model import Profile

__all__ = ["EXIT_USAGE", "UserError", "load_profile", "check_filter", "check_writable"]

EXIT_USAGE = 2


class UserError(Exception):
    """A problem with what the user asked for; printed as one line, exit status 2."""


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
