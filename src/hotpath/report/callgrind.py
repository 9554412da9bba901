"""callgrind export, for KCachegrind / QCachegrind and ``callgrind_annotate``.

Layout written (format reference: valgrind's docs/callgrind-format)::

    # callgrind format
    version: 1
    creator: hotpath 0.1.0
    cmd: app.py
    positions: line
    event: ns : Time (ns)
    events: ns
    summary: 123456            total self cost of all functions

    fl=(1) /home/u/app.py      file of the following function ("(id) name" once,
    fn=(1) main                then "(id)" alone: callgrind's name compression)
    10 4200                    <def line> <self cost>
    cfi=(1)                    file of the callee
    cfn=(2) helper             callee
    calls=3 20                 <calls> <callee's def line>
    10 9000                    <line in caller> <inclusive cost of those calls>

Costs are integer nanoseconds. Self costs are rounded with a running sum, so they add
up to ``summary`` exactly; inclusive costs of calls follow cProfile's edge rules
(recursive re-entries of a caller→callee pair are not counted again). We do not know
call-site lines, so a call is placed on the caller's ``def`` line. C functions get the
file ``<built-in>``. All threads are merged. Functions sharing a file and a name (two
lambdas) get ``:line`` appended, since KCachegrind identifies functions by file + name.
"""
from __future__ import annotations

from typing import Iterable, TextIO

from ..model import Profile, ThreadProfile
from ..outfile import open_output
from .base import Rounder, exporter_name

__all__ = ["write_callgrind", "to_callgrind"]

BUILTIN_FILE = "<built-in>"


def _clean(text: str) -> str:
    return text.replace("\r", " ").replace("\n", " ")


class _Names:
    """callgrind name compression: ``(id) name`` the first time, ``(id)`` after.

    A reader binds an id to what it names when the id is first defined: a file id to
    the file, a function id to the function *in the file current at that point*
    (KCachegrind's loader does this). So function ids are keyed by (file, name): two
    ``<module>`` functions of two files are two ids, never one reused across files.
    """

    def __init__(self) -> None:
        self.ids: dict[object, int] = {}

    def __call__(self, name: str, key: object = None) -> str:
        """The compressed form of ``name``; ``key`` (default: the name) tells which
        names are the same thing."""
        key = name if key is None else key
        i = self.ids.get(key)
        if i is not None:
            return f"({i})"
        i = self.ids[key] = len(self.ids) + 1
        return f"({i}) {name}"


def write_callgrind(profile: Profile, path: str,
                    threads: Iterable[ThreadProfile] | None = None) -> None:
    """Write ``profile`` as a callgrind file at ``path``."""
    with open_output(path, "w", encoding="utf-8", newline="\n") as f:
        to_callgrind(profile, f, threads)


def to_callgrind(profile: Profile, out: TextIO,
                 threads: Iterable[ThreadProfile] | None = None) -> None:
    """Write the callgrind text of ``profile`` to the stream ``out``."""
    threads = list(profile.threads if threads is None else threads)
    funcs = profile.functions
    fstats, estats = profile.call_stats(threads)
    edges: dict[int, list] = {}
    for (caller, callee), s in sorted(estats.items()):
        edges.setdefault(caller, []).append((callee, s))

    files = {i: BUILTIN_FILE if funcs[i].is_builtin else _clean(funcs[i].filename)
             for i in fstats}
    names = _function_names(profile, fstats)
    ns = profile.tick_seconds * 1e9
    rounder = Rounder(ns)
    order = sorted(fstats)
    self_costs = {i: rounder.take(fstats[i].self_ticks) for i in order}

    w = out.write
    w("# callgrind format\nversion: 1\n")
    w(f"creator: {exporter_name()}\n")
    cmd = profile.meta.get("command")
    if cmd:
        w(f"cmd: {_clean(str(cmd))}\n")
    w("positions: line\nevent: ns : Time (ns)\nevents: ns\n")
    w(f"summary: {sum(self_costs.values())}\n")
    file_ids, fn_ids = _Names(), _Names()
    for i in order:
        line = funcs[i].lineno
        w(f"\nfl={file_ids(files[i])}\nfn={fn_ids(names[i], (files[i], names[i]))}\n"
          f"{line} {self_costs[i]}\n")
        for callee, s in edges.get(i, ()):
            cfn = fn_ids(names[callee], (files[callee], names[callee]))
            w(f"cfi={file_ids(files[callee])}\ncfn={cfn}\n"
              f"calls={s.calls} {funcs[callee].lineno}\n"
              f"{line} {round(s.cum_ticks * ns)}\n")


def _function_names(profile: Profile, used: Iterable[int]) -> dict[int, str]:
    """callgrind function names: the qualified name, made unique within its file."""
    funcs = profile.functions
    names = {i: _clean(funcs[i].display_name) for i in used}
    seen: dict[tuple[str, str], list[int]] = {}
    for i, name in names.items():
        seen.setdefault((funcs[i].filename, name), []).append(i)
    for (_, name), idx in seen.items():
        if len(idx) > 1:
            for i in idx:
                names[i] = f"{name}:{funcs[i].lineno}"
            if len({names[i] for i in idx}) < len(idx):   # same name, same line
                for k, i in enumerate(idx):
                    names[i] = f"{names[i]}#{k + 1}"
    return names
