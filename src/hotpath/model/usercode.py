"""Which functions are the user's own code: the one decision every report shares.

A function is *the user's* when its file is neither the standard library's nor an
installed package's (``PathShortener.kind`` is ``"project"`` or ``"other"``) and is not
frozen (``<frozen importlib._bootstrap>``, ``<frozen runpy>``: the interpreter's own).
C functions (cProfile's ``~``) are never the user's. ``focus`` names packages the user
counts as theirs too (``--focus sympy``, ``--focus docutils.parsers``): a library file
whose module is one of them, or inside one, is then the user's.

The memory model (``MemoryView``) and the hot-path tree (``model.hottree``) both ask
``UserCode``; answers are cached per file name, so a profile pays once per file.

Also here, because the same readers need it: ``package`` (the top-level package a
library frame belongs to, for "12 frames hidden (sympy, importlib, <built-in>)") and
``is_import`` (the import machinery, ``importlib._bootstrap``, which reports can hide).
"""
from __future__ import annotations

from typing import Iterable

from .paths import PathShortener

__all__ = ["UserCode", "BUILTIN_PACKAGE"]

BUILTIN_PACKAGE = "<built-in>"     #: ``package`` of C functions


class UserCode:
    """Classifies source files: the user's or not, their package, import machinery.

    ``root`` is the profiled program's working directory (``profile.meta["cwd"]``);
    ``focus`` the packages to count as the user's.
    """

    def __init__(self, root: str | None = None, focus: Iterable[str] = (),
                 shorten: PathShortener | None = None) -> None:
        self.shorten = shorten or PathShortener(root)
        self.focus = tuple(dict.fromkeys(p.strip().strip(".") for p in focus if p.strip()))
        self._cache: dict[str, tuple[bool, str, bool]] = {}
        self.checks = 0              #: files classified (each once)

    def is_user(self, filename: str) -> bool:
        """Whether ``filename`` is the user's code (see the module docstring)."""
        return self._lookup(filename)[0]

    def package(self, filename: str) -> str:
        """The package a file belongs to: ``sympy`` for …/site-packages/sympy/core/x.py,
        ``json`` for the standard library's json/decoder.py, ``importlib`` for
        ``<frozen importlib._bootstrap>``, ``<built-in>`` for C functions; the short
        path for the user's files."""
        return self._lookup(filename)[1]

    def is_import(self, filename: str) -> bool:
        """Whether ``filename`` is the import machinery (``importlib._bootstrap`` and
        ``_bootstrap_external``, frozen or not)."""
        return self._lookup(filename)[2]

    def _lookup(self, filename: str) -> tuple[bool, str, bool]:
        hit = self._cache.get(filename)
        if hit is None:
            self.checks += 1
            hit = self._cache[filename] = self._classify(filename)
        return hit

    def _classify(self, filename: str) -> tuple[bool, str, bool]:
        importing = (filename.startswith("<frozen importlib._bootstrap")
                     or filename.replace("\\", "/").endswith(
                         ("importlib/_bootstrap.py", "importlib/_bootstrap_external.py")))
        if filename.startswith("<frozen"):
            module = filename[len("<frozen"):].strip(" >")
            return self._focused(module), module.split(".")[0] or "<frozen>", importing
        kind = self.shorten.kind(filename)
        if kind == "builtin":
            return False, BUILTIN_PACKAGE, False
        short = self.shorten(filename)
        if kind != "library":
            return True, short, importing
        module = _module_of(short)
        return self._focused(module), module.split(".")[0], importing

    def _focused(self, module: str) -> bool:
        return any(module == p or module.startswith(p + ".") for p in self.focus)


def _module_of(short: str) -> str:
    """``sympy/core/basic.py`` → ``sympy.core.basic``; ``six.py`` → ``six``;
    ``pkg/__init__.py`` → ``pkg``."""
    path = short.replace("\\", "/")
    for suffix in (".py", ".pyc", ".pyw"):
        if path.endswith(suffix):
            path = path[:-len(suffix)]
            break
    parts = [p for p in path.split("/") if p]
    if parts and parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts) or short
