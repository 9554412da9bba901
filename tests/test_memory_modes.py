"""Memory profiles where function timings are expected: exports made of function timings
refuse them in one line, diff refuses mixing kinds, and two memory profiles diff for real
(bytes and blocks per line, live at exit, the peak). Through the ``hotpath`` command."""
from __future__ import annotations

import re

import pytest

PROGRAM = """\
import sys

def build(n):
    keep = [str(i) * 4 for i in range(n)]          # line 4: the allocation that grows
    return keep

held = build(int(sys.argv[1]))
"""


@pytest.fixture
def profiles(runner):
    runner.write("prog.py", PROGRAM)
    for name, n in (("small", "20000"), ("large", "60000")):
        r = runner.hotpath("run", "-q", "--memory", "--no-native", "-o", f"{name}.hprof",
                           "prog.py", n)
        assert r.returncode == 0, r.stderr
    r = runner.hotpath("run", "-q", "-o", "func.hprof", "prog.py", "1000")
    assert r.returncode == 0, r.stderr
    return runner


def _one_error(r) -> str:
    assert r.returncode == 2, (r.stdout, r.stderr)
    lines = r.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("hotpath: error: "), r.stderr
    return lines[0]


@pytest.mark.parametrize("fmt", ["pstats", "callgrind", "speedscope", "collapsed", "svg"])
def test_export_of_memory_profile_is_refused(profiles, fmt):
    line = _one_error(profiles.hotpath("export", "small.hprof", "-f", fmt, "-o", "out"))
    assert "small.hprof: this is a memory profile" in line and fmt in line
    assert not (profiles.cwd / "out").exists()


def test_export_html_of_memory_profile_still_works(profiles):
    r = profiles.hotpath("export", "small.hprof", "-f", "html", "-o", "m.html")
    assert r.returncode == 0, r.stderr
    assert (profiles.cwd / "m.html").stat().st_size > 1000


def test_diff_of_different_kinds_is_refused(profiles):
    for a, b, ka, kb in (("func.hprof", "small.hprof", "function", "memory"),
                         ("small.hprof", "func.hprof", "memory", "function")):
        line = _one_error(profiles.hotpath("diff", a, b))
        assert f"{a} is a {ka} profile and {b} a {kb} profile" in line


def test_diff_of_memory_profiles_compares_lines(profiles):
    r = profiles.hotpath("diff", "small.hprof", "large.hprof", "--limit", "5")
    assert r.returncode == 0, r.stderr
    out = r.stdout
    assert out.startswith("hotpath diff (memory): A = small.hprof, B = large.hprof")
    assert "0 functions" not in out and "removed" not in out.splitlines()[0]
    for label in ("allocated", "live at exit", "peak"):
        assert re.search(rf"^{label} +\S+ \S+ +\S+ \S+ +\+", out, re.M), out
    # the line that grew comes first, with a positive change, about 3x the blocks
    # (3.11 puts it in build.<locals>.<listcomp>, 3.12+ inlines the comprehension)
    rows = [ln for ln in out.splitlines() if re.search(r"\S+:\d+ \(", ln)]
    assert rows and "prog.py:4 (build" in rows[0], out
    m = re.search(r"([\d,]+) → ([\d,]+)", rows[0])
    a, b = (int(x.replace(",", "")) for x in m.groups())
    assert 2.5 < b / a < 3.5, rows[0]
    assert re.search(r" \+[\d.]+ [KM]iB ", rows[0]), rows[0]


def test_memory_diff_of_a_profile_with_itself_changes_nothing(profiles):
    r = profiles.hotpath("diff", "small.hprof", "small.hprof", "--limit", "0")
    assert r.returncode == 0, r.stderr
    body = r.stdout.splitlines()
    for line in body[2:5]:
        assert re.search(r" 0 +[\d,]+ → [\d,]+$", line), line
    rows = [ln for ln in body if re.search(r"\S+:\d+", ln) and "→" in ln]
    assert rows and all(" 0 " in ln for ln in rows)


def test_memory_diff_flame_graph_is_refused(profiles):
    line = _one_error(profiles.hotpath("diff", "small.hprof", "large.hprof", "-o", "d.html"))
    assert "differential flame graph" in line
    assert not (profiles.cwd / "d.html").exists()
