"""Which source files are the user's: ``PathShortener`` classifies and shortens paths.

A file is ``"builtin"`` (C functions, cProfile's ``~``), ``"library"`` (the standard
library and installed packages, of this interpreter or another's), ``"project"`` (below
the profiled program's working directory) or ``"other"``. The memory model decides
"the user's code" with it, and every reporter shortens paths with it.
"""
from __future__ import annotations

import os
import re
import sysconfig

__all__ = ["PathShortener"]

# Another interpreter's standard library: …/lib/python3.11/…, C:\Python311\Lib\…
_STDLIB_RE = re.compile(r"[/\\](?:lib[/\\](?:python|pypy)\d+(?:\.\d+)?t?"
                        r"|python\d+[/\\]lib)[/\\]", re.I)
_PKG_RE = re.compile(r"[/\\](?:site|dist)-packages[/\\]")

class PathShortener:
    """Shorten source paths the way people read them; results are cached.

    ``root`` is the project directory (normally the profiled program's working
    directory, ``profile.meta["cwd"]``); files below it are shown relative to it.
    """

    def __init__(self, root: str | None = None) -> None:
        self.root = os.path.normpath(root) if root else None
        prefixes = set()
        for key in ("purelib", "platlib", "stdlib", "platstdlib"):
            p = sysconfig.get_paths().get(key)
            if p:
                prefixes.add(os.path.normpath(p))
        # Longest first, so site-packages wins over the stdlib directory holding it.
        self._prefixes = sorted(prefixes, key=len, reverse=True)
        self._cache: dict[str, tuple[str, str]] = {}

    def __call__(self, filename: str) -> str:
        """The short form of ``filename``."""
        return self._lookup(filename)[0]

    def kind(self, filename: str) -> str:
        """``"builtin"`` (C functions), ``"library"`` (standard library and installed
        packages), ``"project"`` (below ``root``) or ``"other"``."""
        return self._lookup(filename)[1]

    def _lookup(self, filename: str) -> tuple[str, str]:
        hit = self._cache.get(filename)
        if hit is None:
            hit = self._cache[filename] = self._shorten(filename)
        return hit

    def _shorten(self, filename: str) -> tuple[str, str]:
        if filename == "~":
            return filename, "builtin"
        if not filename or filename.startswith("<"):
            return filename, "other"
        m = None
        for m in _PKG_RE.finditer(filename):  # noqa: B007  (the last match is wanted)
            pass
        if m is not None:                       # the last site-packages wins (venvs)
            return filename[m.end():], "library"
        norm = os.path.normpath(filename)
        for prefix in self._prefixes:
            if norm.startswith(prefix + os.sep):
                return norm[len(prefix) + 1:], "library"
        if self.root and norm.startswith(self.root + os.sep):
            return norm[len(self.root) + 1:], "project"
        m = _STDLIB_RE.search(filename)
        if m is not None:
            return filename[m.end():], "library"
        if not os.path.isabs(filename):         # relative to the program's directory
            return filename, "project"
        return filename, "other"
