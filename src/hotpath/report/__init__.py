"""Reporters and exporters: everything that turns a ``Profile`` into something to read.

Each format is a small module that reads only the model (``hotpath.model``) and shares
the helpers in ``base``. ``FORMATS`` maps a format name to ``writer(profile, path)``;
``export(profile, fmt, path)`` is the one entry point the CLI needs. Modules are
imported when their format is used, so importing this package stays cheap.

``lprof`` (line_profiler's file) is made of line timings (``hotpath run --lines``) and
refuses a profile without them. Every other format but ``html`` is made of function
timings (the calling-context trees): a memory profile (``hotpath run --memory``), which
has none, is refused with ``ExportError`` rather than written as an empty file.
"""
from __future__ import annotations

import importlib
from typing import Callable

from ..model import Profile

__all__ = ["FORMATS", "export", "Writer", "EXTENSIONS", "ExportError", "has_timings"]

#: ``writer(profile, out_path)``; may return a note for the user (e.g. what was folded)
Writer = Callable[[Profile, str], "str | None"]


class ExportError(ValueError):
    """This profile cannot be written in this format (the format does not apply to the
    profile's mode, or the output would be unreasonably large). Raised before writing."""


# name → (module, function, usual file suffix, what it is made of: "functions" (function
# timings), "lines" (line timings; the writer refuses a profile without them) or "any")
_WRITERS: dict[str, tuple[str, str, str, str]] = {
    "pstats": ("pstats", "write_pstats", ".prof", "functions"),
    "callgrind": ("callgrind", "write_callgrind", ".callgrind", "functions"),
    "speedscope": ("speedscope", "write_speedscope", ".speedscope.json", "functions"),
    "collapsed": ("collapsed", "write_collapsed", ".folded", "functions"),
    "svg": ("flamesvg", "write_svg", ".svg", "functions"),
    "html": ("html", "write_html", ".html", "any"),
    "lprof": ("lprof", "write_lprof", ".lprof", "lines"),
}

#: format name → the usual file name suffix (``callgrind`` tools also look for the
#: ``callgrind.out.*`` prefix).
EXTENSIONS: dict[str, str] = {name: ext for name, (_, _, ext, _) in _WRITERS.items()}


def has_timings(profile: Profile) -> bool:
    """Whether ``profile`` holds function timings: a thread with a frame below its root."""
    return any(len(t.nodes) > 1 for t in profile.threads)


def _lazy(module: str, func: str) -> Writer:
    def write(profile: Profile, out_path: str) -> str | None:
        mod = importlib.import_module(f"{__name__}.{module}")
        return getattr(mod, func)(profile, out_path)
    write.__name__ = func
    write.__qualname__ = func
    write.__doc__ = f"Write ``profile`` to ``out_path`` ({module} format)."
    return write


#: format name → ``writer(profile, out_path)``
FORMATS: dict[str, Writer] = {name: _lazy(mod, fn)
                              for name, (mod, fn, _, _) in _WRITERS.items()}


def export(profile: Profile, fmt: str, out_path: str) -> str | None:
    """Write ``profile`` to ``out_path`` in format ``fmt`` (a key of ``FORMATS``).

    Returns a note for the user, or None. Raises ``ExportError`` (nothing written) when
    the format does not apply to the profile, e.g. pstats of a memory profile.
    """
    try:
        writer = FORMATS[fmt]
    except KeyError:
        raise ValueError(f"unknown export format {fmt!r}; choose one of: "
                         f"{', '.join(sorted(FORMATS))}") from None
    if _WRITERS[fmt][3] == "functions" and not has_timings(profile) and "memory" in profile.extra:
        others = ", ".join(f for f, row in _WRITERS.items() if row[3] == "any")
        raise ExportError(f"this is a memory profile: it holds no function timings, "
                          f"which the {fmt} format is made of; `hotpath report` shows it, "
                          f"and so does --format {others}")
    return writer(profile, out_path)
