"""The callgrind export read the way KCachegrind reads it.

KCachegrind's loader binds a compressed id to what it names when the id is first
defined — ``fn=(7) work`` names ``work`` *in the file current at that line* — and every
later ``fn=(7)`` / ``cfn=(7)`` means that same function, whatever file is current then.
An exporter that keys its function ids by name alone therefore merges every ``<module>``
(or every ``work``) of every file into the first one. ``read_callgrind`` below follows
the format spec (valgrind docs/callgrind-format) with those binding rules, and the
tests run ``hotpath run`` + ``hotpath export`` on a program with same-named functions
in several files, then compare what the reader sees against the pstats export.
"""
from __future__ import annotations

import marshal
import re
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

_ID = re.compile(r"^\((\d+)\)\s?(.*)$")


@dataclass
class CgFunction:
    file: str
    name: str
    line: int = 0                 #: position of its first cost line
    self_cost: int = 0
    calls_in: int = 0             #: sum of calls= lines that target it
    callers: set = field(default_factory=set)


class _Compressed:
    """One compression table (files, or functions): ``(id) name`` defines, ``(id)`` refers."""

    def __init__(self) -> None:
        self.by_id: dict[str, object] = {}

    def resolve(self, text: str, make):
        m = _ID.match(text)
        if not m:                               # an uncompressed name
            return make(text)
        ident, name = m.group(1), m.group(2)
        if name:                                # a definition binds the id, once
            self.by_id[ident] = make(name)
        return self.by_id[ident]                # a reference: KeyError if undefined


def read_callgrind(text: str) -> dict[tuple[str, str], CgFunction]:
    """Functions keyed by (file, name), as KCachegrind would build them."""
    files, fns = _Compressed(), _Compressed()
    functions: dict[tuple[str, str], CgFunction] = {}

    def function(name: str, file: str) -> CgFunction:
        f = functions.get((file, name))
        if f is None:
            f = functions[(file, name)] = CgFunction(file, name)
        return f

    fl = None           # file of the current function (fl=)
    cfile = None        # file of the next call's target (cfi=/cfl=), reset by fn=
    current: CgFunction | None = None
    target: CgFunction | None = None
    pending_calls: int | None = None
    last_pos = 0
    for raw in text.splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        key, eq, value = line.partition("=")
        if eq and key in ("fl", "fi", "fe", "fn", "cfl", "cfi", "cfn", "calls", "ob", "cob"):
            if key == "fl":
                fl = files.resolve(value, str)
            elif key in ("fi", "fe"):
                files.resolve(value, str)       # inlined code: cost file only
            elif key == "fn":
                current = fns.resolve(value, lambda n: function(n, fl))
                cfile = None
            elif key in ("cfl", "cfi"):
                cfile = files.resolve(value, str)
            elif key == "cfn":
                target = fns.resolve(value, lambda n: function(n, cfile or fl))
            elif key == "calls":
                pending_calls = int(value.split()[0])
            continue
        if ":" in line.split()[0]:              # header lines (events:, summary:, ...)
            continue
        parts = line.split()
        pos = parts[0]
        if pos.startswith(("+", "-")):
            last_pos += int(pos)
        elif pos != "*":
            last_pos = int(pos)
        cost = int(parts[1]) if len(parts) > 1 else 0
        assert current is not None, f"cost line before any fn=: {raw!r}"
        if pending_calls is not None:           # the inclusive cost of a call
            assert target is not None, f"calls= without cfn=: {raw!r}"
            target.calls_in += pending_calls
            target.callers.add((current.file, current.name))
            pending_calls = None
        else:
            if current.self_cost == 0 and current.line == 0:
                current.line = last_pos
            current.self_cost += cost
    return functions


_PROGRAM = {
    "main.py": """\
        import helper_a
        import helper_b

        def work(n):
            return sum(i * i for i in range(n))

        for _ in range(2):
            work(1000)
        for _ in range(3):
            helper_a.work(2000)
        for _ in range(5):
            helper_b.work(3000)
    """,
    "helper_a.py": """\
        TABLE = [i * 3 for i in range(20000)]

        def work(n):
            return sum(TABLE[:n])
    """,
    "helper_b.py": """\
        TABLE = {i: str(i) for i in range(20000)}

        def work(n):
            return len([TABLE[i] for i in range(n)])
    """,
}


def _profile_and_export(runner) -> tuple[str, dict]:
    for name, source in _PROGRAM.items():
        runner.write(name, source)
    r = runner.hotpath("run", "-q", "-o", "prog.hprof", "main.py")
    assert r.returncode == 0, r.stderr
    for fmt, out in (("callgrind", "callgrind.out.1"), ("pstats", "prog.prof")):
        r = runner.hotpath("export", "prog.hprof", "--format", fmt, "-o", out)
        assert r.returncode == 0, r.stderr
    text = (runner.cwd / "callgrind.out.1").read_text(encoding="utf-8")
    stats = marshal.loads((runner.cwd / "prog.prof").read_bytes())
    return text, stats


def test_same_named_functions_of_different_files_stay_apart(runner):
    text, _ = _profile_and_export(runner)
    funcs = read_callgrind(text)
    by_file = {Path(f.file).name: f for f in funcs.values() if f.name == "work"}
    assert set(by_file) == {"main.py", "helper_a.py", "helper_b.py"}, sorted(funcs)
    assert by_file["main.py"].calls_in == 2
    assert by_file["helper_a.py"].calls_in == 3
    assert by_file["helper_b.py"].calls_in == 5
    modules = [Path(f.file).name for f in funcs.values() if f.name == "<module>"]
    for name in _PROGRAM:
        assert modules.count(name) == 1, modules
    # each imported module's body runs once, called from main.py's <module>
    for name in ("helper_a.py", "helper_b.py"):
        mod = next(f for f in funcs.values()
                   if f.name == "<module>" and Path(f.file).name == name)
        assert mod.calls_in == 1, (name, mod)


def test_reader_agrees_with_pstats_export_function_by_function(runner):
    """Self cost and calls of every Python function, per (file, first line), are the
    same in the callgrind file (read with KCachegrind's id binding) and in pstats."""
    text, stats = _profile_and_export(runner)
    funcs = read_callgrind(text)
    cg_self: dict[tuple[str, int], int] = defaultdict(int)
    cg_calls: dict[tuple[str, int], int] = defaultdict(int)
    for f in funcs.values():
        if f.file != "<built-in>":
            cg_self[(f.file, f.line)] += f.self_cost
            cg_calls[(f.file, f.line)] += f.calls_in
    ps_self: dict[tuple[str, int], float] = defaultdict(float)
    ps_calls: dict[tuple[str, int], int] = defaultdict(int)
    for (file, line, _name), (_cc, _nc, tt, _ct, callers) in stats.items():
        if file != "~":
            ps_self[(file, line)] += tt * 1e9
            ps_calls[(file, line)] += sum(c[0] for c in callers.values())
    assert set(cg_self) == set(ps_self)
    for key in ps_self:
        assert cg_calls[key] == ps_calls[key], key
        # integer nanoseconds, rounded with a running sum: within 1 ns per merged row
        assert abs(cg_self[key] - ps_self[key]) <= 2, (key, cg_self[key], ps_self[key])
