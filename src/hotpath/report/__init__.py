"""Reporters and exporters: everything that turns a ``Profile`` into something to read.

Each format is a small module that reads only the model (``hotpath.model``) and shares
the helpers in ``base``. ``FORMATS`` maps a format name to ``writer(profile, path)``;
``export(profile, fmt, path)`` is the one entry point the CLI needs. Modules are
imported when their format is used, so importing this package stays cheap.
"""
from __future__ import annotations

import importlib
from typing import Callable

from ..model import Profile

__all__ = ["FORMATS", "export", "Writer", "EXTENSIONS"]

Writer = Callable[[Profile, str], None]

# name → (module, function, usual file suffix)
_WRITERS: dict[str, tuple[str, str, str]] = {
    "pstats": ("pstats", "write_pstats", ".prof"),
    "callgrind": ("callgrind", "write_callgrind", ".callgrind"),
    "speedscope": ("speedscope", "write_speedscope", ".speedscope.json"),
    "collapsed": ("collapsed", "write_collapsed", ".folded"),
    "svg": ("flamesvg", "write_svg", ".svg"),
    "html": ("html", "write_html", ".html"),
}

#: format name → the usual file name suffix (``callgrind`` tools also look for the
#: ``callgrind.out.*`` prefix).
EXTENSIONS: dict[str, str] = {name: ext for name, (_, _, ext) in _WRITERS.items()}


def _lazy(module: str, func: str) -> Writer:
    def write(profile: Profile, out_path: str) -> None:
        mod = importlib.import_module(f"{__name__}.{module}")
        getattr(mod, func)(profile, out_path)
    write.__name__ = func
    write.__qualname__ = func
    write.__doc__ = f"Write ``profile`` to ``out_path`` ({module} format)."
    return write


#: format name → ``writer(profile, out_path)``
FORMATS: dict[str, Writer] = {name: _lazy(mod, fn) for name, (mod, fn, _) in _WRITERS.items()}


def export(profile: Profile, fmt: str, out_path: str) -> None:
    """Write ``profile`` to ``out_path`` in format ``fmt`` (a key of ``FORMATS``)."""
    try:
        writer = FORMATS[fmt]
    except KeyError:
        raise ValueError(f"unknown export format {fmt!r}; choose one of: "
                         f"{', '.join(sorted(FORMATS))}") from None
    writer(profile, out_path)
