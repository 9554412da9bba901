"""Open a profile file of any kind hotpath reads: its own format, or a cProfile/pstats file.

The kind is told by content, not by the file's name: hotpath's files start with their
magic bytes, a pstats file is a marshal'd dictionary. Anything else, or a damaged file
of either kind, raises one ``hotpath.fileformat.FormatError`` saying what it is.
"""
from __future__ import annotations

import os
from typing import IO

from hotpath import fileformat
from hotpath.model import Profile

__all__ = ["load_profile"]


def load_profile(source: str | os.PathLike[str] | IO[bytes]) -> Profile:
    """Read a profile: a hotpath profile or a pstats file (whose call tree is approximated
    from its caller edges; see ``hotpath.pstats_import``), from a path or a binary file.

    Raises ``FormatError`` for a file that is neither, ``OSError`` if it cannot be read."""
    from hotpath import pstats_import
    if hasattr(source, "read"):                 # an open binary file: read it whole
        data = source.read()
        name = getattr(source, "name", "<file>")
        if pstats_import.is_pstats_data(data[:1]):
            return pstats_import.loads_pstats(data, name=str(name))
        return fileformat.loads(data)
    with open(source, "rb") as f:
        head = f.read(1)
    if pstats_import.is_pstats_data(head):
        return pstats_import.read_pstats(os.fspath(source))
    return fileformat.read(source)
