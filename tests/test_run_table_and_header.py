"""What ``hotpath run`` says about a profile: the function count and the report header.

* "top 20 of N functions": N is the number of rows the full table has. Code objects that
  are one function to the reader (every dataclass ``__init__`` compiled from
  ``<string>:2``, every namedtuple ``__new__``) are one row, as pstats shows them.
* The HTML report of a ``--lines`` run says "mode: lines", not "mode: function".
"""
from __future__ import annotations

import json
import re

import pstats

PROGRAM = """\
    import collections
    from dataclasses import dataclass

    def work(n):
        total = 0
        for i in range(n):
            total += i % 7
        return total

    points = [collections.namedtuple(f"P{i}", "x y")(i, i) for i in range(6)]

    @dataclass
    class A:
        x: int

    @dataclass
    class B:
        y: int

    @dataclass
    class C:
        z: int

    A(1), B(2), C(3)
    print(work(20000))
"""

_HEAD = re.compile(r"^top (\d+) of (\d+) functions by ", re.M)
_ROW = re.compile(r"^\s*[\d/]+\s+\S+\s+\S+\s+\S+\s+\S+  (.+)$")


def _table_rows(text: str) -> list[str]:
    lines = text.splitlines()
    start = next(i for i, line in enumerate(lines) if line.lstrip().startswith("ncalls"))
    rows = []
    for line in lines[start + 1:]:
        m = _ROW.match(line)
        if not m:
            break
        rows.append(m.group(1))
    return rows


def test_function_count_is_the_number_of_rows(runner):
    runner.write("prog.py", PROGRAM)
    r = runner.hotpath("run", "--limit", "5", "-o", "out.hprof", "prog.py")
    assert r.returncode == 0, r.stderr
    m = _HEAD.search(r.stderr)
    assert m, r.stderr
    shown, total = int(m.group(1)), int(m.group(2))
    assert shown == 5 == len(_table_rows(r.stderr))

    r = runner.hotpath("report", "out.hprof", "--limit", "0")
    assert r.returncode == 0, r.stderr
    rows = _table_rows(r.stdout)
    assert len(rows) == total
    assert len(set(rows)) == len(rows), sorted(x for x in rows if rows.count(x) > 1)
    init = [x for x in rows if x.startswith("__create_fn__.<locals>.__init__ ")]
    assert len(init) == 1, init          # three dataclasses, one function to the reader

    r = runner.hotpath("export", "out.hprof", "--format", "pstats", "-o", "out.prof")
    assert r.returncode == 0, r.stderr
    assert total == len(pstats.Stats(str(runner.cwd / "out.prof")).stats)  # type: ignore


def _summary(runner, profile: str) -> list[str]:
    html = runner.cwd / (profile + ".html")
    r = runner.hotpath("view", profile, "--no-browser", "-o", str(html))
    assert r.returncode == 0, r.stderr
    m = re.search(r'<script type="application/json" id="hp-data">(.*?)</script>',
                  html.read_text(encoding="utf-8"), re.S)
    assert m
    return json.loads(m.group(1))["summary"]


def test_report_header_names_the_mode(runner):
    runner.write("prog.py", PROGRAM)
    r = runner.hotpath("run", "-q", "--lines", "-f", "prog.py:work", "-o", "lines.hprof",
                       "prog.py")
    assert r.returncode == 0, r.stderr
    assert "mode: lines" in _summary(runner, "lines.hprof")

    r = runner.hotpath("run", "-q", "--lines=auto", "-o", "auto.hprof", "prog.py")
    assert r.returncode == 0, r.stderr
    assert "mode: lines" in _summary(runner, "auto.hprof")

    r = runner.hotpath("run", "-q", "-o", "func.hprof", "prog.py")
    assert r.returncode == 0, r.stderr
    assert "mode: function" in _summary(runner, "func.hprof")
