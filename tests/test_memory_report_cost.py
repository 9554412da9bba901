"""Building the memory report costs in proportion to distinct functions and stacks, not to
frames visited (issue 10, item 4): the user's-code decision is made once per function."""
from __future__ import annotations

import io

from hotpath import fileformat
from hotpath.report import base
from hotpath.model.memory import MemoryView
from hotpath.report.memory import print_memory

PROG = """\
def leaf(n):
    a = [n] * 50
    b = {n: a}
    return len(b[n])
def mid(n):
    x = [leaf(n)]
    if n % 3:
        return leaf(n + 1) + x[0]
    return x[0]
def top(n):
    if n % 2:
        return mid(n)
    return mid(n + 1) + leaf(n)
for i in range(3000):
    top(i)
"""


def test_user_code_decided_once_per_function(runner, monkeypatch):
    runner.write("prog.py", PROG)
    res = runner.hotpath("run", "--memory", "-q", "-o", "prog.hprof", "prog.py")
    assert res.returncode == 0, res.stderr
    prof = fileformat.read(str(runner.cwd / "prog.hprof"))
    calls = []
    kind = base.PathShortener.kind
    monkeypatch.setattr(base.PathShortener, "kind",
                        lambda self, filename: calls.append(filename) or kind(self, filename))
    v = MemoryView.of(prof)
    n_funcs = len(v.functions)
    assert len(v.frames) > n_funcs                       # functions with several lines
    rows = v.by_line(user=True)
    v.by_function(inclusive=True)
    # decided once per function, and classified once per file (model.usercode)
    assert v.user_checks <= n_funcs and len(calls) == len(set(calls)) <= v.user_checks
    # every stack's user frame is in prog.py, whatever library frames are inside it
    assert all(r.key[0].endswith("prog.py") or r.key[0] == "<no Python frame>"
               or r.alloc_count < 50 for r in rows)
    calls.clear()
    print_memory(prof, stream=io.StringIO())             # a fresh view: once per function again
    assert len(calls) <= n_funcs
