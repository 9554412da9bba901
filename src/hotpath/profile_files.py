"""Open a profile file of any kind hotpath reads: its own format, or a cProfile/pstats file.

The kind is told by content, not by the file's name: hotpath's files start with their
magic bytes, a pstats file is a marshal'd dictionary. Anything else, or a damaged file
of either kind, raises one ``hotpath.fileformat.FormatError`` saying what it is.
"""
from __future__ import annotations

import os

from hotpath import fileformat
from hotpath.model import Profile

__all__ = ["load_profile"]


def load_profile(path: str | os.PathLike[str]) -> Profile:
    """Read the profile at ``path``: a hotpath profile, or a pstats file (whose call tree
    is approximated from its caller edges; see ``hotpath.pstats_import``).

    Raises ``FormatError`` for a file that is neither, ``OSError`` if it cannot be read."""
    from hotpath import pstats_import
    with open(path, "rb") as f:
        head = f.read(1)
    if pstats_import.is_pstats_data(head):
        return pstats_import.read_pstats(os.fspath(path))
    return fileformat.read(path)
