"""line_profiler's ``.lprof`` files: write a profile's line timings, read and combine them.

An ``.lprof`` file is what ``kernprof -l`` and ``LineProfiler.dump_stats`` write: a pickle
of a ``LineStats`` with two attributes,

* ``timings`` — ``{(filename, first_lineno, func_name): [(lineno, nhits, total_time), ...]}``
  with ``total_time`` an integer in timer units, and
* ``unit`` — seconds per timer unit (hotpath's line times are nanoseconds: ``1e-9``).

``python -m line_profiler file.lprof`` prints it; given several files it adds them up
(line_profiler 5: hits and times of the same line are summed, times converted to the
coarsest unit first). :func:`combine` does the same in hotpath, so
``hotpath export --format lprof a.hprof b.hprof -o both.lprof`` writes one file that
reads exactly like ``python -m line_profiler a.lprof b.lprof``.

Pickles name a class. When line_profiler is importable the file holds its own
``LineStats`` (the class its profiler writes, with ``.print()``); otherwise a
``types.SimpleNamespace`` with the same two attributes, which every line_profiler reads
(``load_stats`` only uses ``.timings`` and ``.unit``). Either way no hotpath class is in
the file: reading it never needs hotpath. Reading ``.lprof`` files here uses a
restricted unpickler that builds nothing but plain data (no code from the file runs).
"""
from __future__ import annotations

import io
import os
import pickle
import types
from typing import Any, Iterable

from ..model import Profile
from ..outfile import open_output

__all__ = ["Timings", "line_timings", "stats_object", "write_lprof", "read_lprof", "combine",
           "write_combined"]

Key = tuple[str, int, str]
Timings = dict[Key, list[tuple[int, int, int]]]

NS = 1e-9


def line_timings(profile: Profile) -> tuple[Timings, float]:
    """The line timings of a profile (``profile.extra["lines"]``) and their unit."""
    from . import ExportError
    data = profile.extra.get("lines") or {}
    functions = data.get("functions") or []
    if not functions:
        raise ExportError("this profile holds no line timings (record them with "
                          "`hotpath run --lines` or `-f FUNC`)")
    timings: Timings = {}
    for f in functions:
        key = (str(f["filename"]), int(f["lineno"]), str(f["name"]))
        rows = timings.setdefault(key, [])
        rows.extend((int(ln), int(hits), int(t)) for ln, hits, t in f["lines"])
    return timings, float(data.get("unit", NS))


def stats_object(timings: Timings, unit: float) -> Any:
    """What ``LineProfiler.get_stats()`` returns: line_profiler's ``LineStats`` when it
    is importable, else a plain object with the same ``timings`` and ``unit``."""
    try:
        from line_profiler.line_profiler import LineStats
    except ImportError:
        try:
            from line_profiler._line_profiler import LineStats  # line_profiler < 5
        except ImportError:
            return types.SimpleNamespace(timings=timings, unit=unit)
    return LineStats(timings, unit)


def _dump(timings: Timings, unit: float, path: str) -> None:
    with open_output(path, "wb") as fh:
        pickle.dump(stats_object(timings, unit), fh, pickle.HIGHEST_PROTOCOL)


def write_lprof(profile: Profile, path: str) -> str | None:
    """Write the profile's line timings as a ``.lprof`` (the export registry's writer)."""
    timings, unit = line_timings(profile)
    _dump(timings, unit, path)
    return None


# ---------------------------------------------------------------- reading and adding


class _PlainStats:
    """Stands in for line_profiler's LineStats (or any class) while reading."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        if len(args) == 2:
            self.timings, self.unit = args

    def __setstate__(self, state: Any) -> None:
        if isinstance(state, tuple) and len(state) == 2 and isinstance(state[1], dict):
            state = {**(state[0] or {}), **state[1]}      # (dict, slots)
        if isinstance(state, dict):
            self.__dict__.update(state)


_SAFE_BUILTINS = {"dict": dict, "list": list, "tuple": tuple, "set": set,
                  "frozenset": frozenset}


class _Unpickler(pickle.Unpickler):
    """Builds plain data; any class the file names becomes a :class:`_PlainStats`."""

    def find_class(self, module: str, name: str) -> Any:
        if module == "builtins" and name in _SAFE_BUILTINS:
            return _SAFE_BUILTINS[name]
        if module == "types" and name == "SimpleNamespace":
            return types.SimpleNamespace
        if module.startswith("line_profiler") and name == "LineStats":
            return _PlainStats
        raise pickle.UnpicklingError(f"not a line_profiler stats file (it names {module}.{name})")


def read_lprof(path: str) -> tuple[Timings, float]:
    """The ``timings`` and ``unit`` of an ``.lprof`` file. ValueError when it is not one."""
    with open(path, "rb") as fh:
        raw = fh.read()
    try:
        obj = _Unpickler(io.BytesIO(raw)).load()
        timings, unit = obj.timings, float(obj.unit)
    except (pickle.UnpicklingError, AttributeError, EOFError, TypeError, ValueError,
            IndexError, KeyError) as exc:
        raise ValueError(f"{path}: not a line_profiler .lprof file ({exc})") from None
    if not isinstance(timings, dict) or not unit > 0:
        raise ValueError(f"{path}: not a line_profiler .lprof file (no timings)")
    out: Timings = {}
    for key, rows in timings.items():
        out[(str(key[0]), int(key[1]), str(key[2]))] = [(int(a), int(b), int(c))
                                                        for a, b, c in rows]
    return out, unit


def combine(parts: Iterable[tuple[Timings, float]]) -> tuple[Timings, float]:
    """Add line timings up as line_profiler 5 does (``LineStats.__add__``): the unit of
    the sum is the coarsest, and the hits and times of each (function, line) add."""
    parts = list(parts)
    if not parts:
        raise ValueError("nothing to combine")
    unit = max(u for _, u in parts)
    sums: dict[Key, dict[int, list[float]]] = {}
    for timings, u in parts:
        scale = u / unit
        for key, rows in timings.items():
            lines = sums.setdefault(key, {})
            for lineno, hits, t in rows:
                acc = lines.setdefault(lineno, [0, 0.0])
                acc[0] += hits
                acc[1] += t * scale
    return ({key: [(ln, int(h), round(t)) for ln, (h, t) in sorted(lines.items())]
             for key, lines in sums.items()}, unit)


def load_any(path: str) -> tuple[Timings, float]:
    """Line timings from a hotpath profile file or an ``.lprof``. ValueError otherwise."""
    with open(path, "rb") as fh:
        head = fh.read(2)
    if head[:1] == b"\x80":                  # a pickle: line_profiler's file
        return read_lprof(path)
    from .. import fileformat
    from ..profile_files import load_profile      # hotpath's files and pstats files
    from . import ExportError
    try:
        profile = load_profile(path)
    except fileformat.FormatError as exc:
        raise ValueError(str(exc)) from None
    try:
        return line_timings(profile)
    except ExportError as exc:
        raise ValueError(f"{path}: {exc}") from None


def write_combined(paths: Iterable[str], out_path: str) -> tuple[Timings, float]:
    """``hotpath export --format lprof A B ... -o OUT``: the sum of the line timings of
    hotpath profiles and ``.lprof`` files, written as one ``.lprof``."""
    timings, unit = combine(load_any(p) for p in paths)
    _dump(timings, unit, out_path)
    return timings, unit


def write_run_lprof(profile: Profile, path: str) -> bool:
    """``hotpath run --lines --lprof PATH``: write it; on failure one error line and
    False (the run's table and profile file are still there)."""
    import sys
    try:
        write_lprof(profile, path)
    except OSError as exc:
        sys.stderr.write(f"hotpath: error: cannot write {path!r}: {exc.strerror or exc}\n")
        return False
    except ValueError as exc:
        sys.stderr.write(f"hotpath: error: {path}: {exc}\n")
        return False
    return True


def export_command(paths: list[str], out_path: str) -> str:
    """``hotpath export --format lprof FILE... -o OUT``; returns the line to print.
    Raises ValueError (a bad input) or OSError (cannot read or write)."""
    for p in paths:
        if not os.path.exists(p):
            raise ValueError(f"{p}: no such file")
    try:
        timings, _ = write_combined(paths, out_path)
    except OSError as exc:
        raise OSError(f"{exc.filename or out_path}: {exc.strerror or exc}") from None
    what = "the sum of " + ", ".join(paths) if len(paths) > 1 else paths[0]
    return (f"hotpath: wrote {out_path} (lprof: {len(timings)} functions, {what}; "
            f"python -m line_profiler {out_path})\n")
