"""kernprof's table: the same text as line_profiler's for the same timings (golden)."""
from __future__ import annotations

import io

import pytest

from hotpath.model import Profile
from hotpath.report.lines import has_lines, print_lines, show_text

line_profiler = pytest.importorskip("line_profiler")


def sample(n):
    total = 0
    for i in range(n):
        total += i * i
    if total > 10:
        total = -total
    return total


FIRST = sample.__code__.co_firstlineno
KEY = (sample.__code__.co_filename, FIRST, "sample")
# fixed timings in nanoseconds: deterministic, includes a huge value (column widening)
TIMINGS = {KEY: [(FIRST + 1, 1, 250), (FIRST + 2, 1001, 180_000), (FIRST + 3, 1000, 12_345_678_901),
                 (FIRST + 4, 1, 40), (FIRST + 6, 1, 35)]}
EMPTY_KEY = (__file__, 1, "never_run")


def _theirs(stats, **kw):
    out = io.StringIO()
    line_profiler.line_profiler.show_text(stats, 1e-9, stream=out, config=False, **kw)
    return out.getvalue()


def _ours(stats, **kw):
    out = io.StringIO()
    show_text(stats, 1e-9, stream=out, **kw)
    return out.getvalue()


@pytest.mark.parametrize("kw", [
    {},
    {"output_unit": 1e-6},
    {"output_unit": 1e-3},
    {"output_unit": 1e-6, "summarize": True},
    {"output_unit": 1e-6, "details": False, "summarize": True},
    {"output_unit": 1e-6, "stripzeros": True},
])
def test_same_text_as_line_profiler(kw):
    stats = dict(TIMINGS)
    if kw.get("stripzeros"):
        stats[(KEY[0], FIRST, "again")] = []
    assert _ours(stats, **kw) == _theirs(stats, **kw)


def test_golden_layout():
    text = _ours({KEY: [(FIRST + 1, 1, 2000), (FIRST + 2, 3, 3000), (FIRST + 3, 2, 5000)]},
                 output_unit=1e-6)
    lines = text.splitlines()
    assert lines[:2] == ["Timer unit: 1e-06 s", ""]
    assert lines[2] == "Total time: 1e-05 s"
    assert lines[4] == f"Function: sample at line {FIRST}"
    assert lines[6] == "Line #      Hits         Time  Per Hit   % Time  Line Contents"
    assert lines[7] == "=" * len(lines[6])
    assert lines[8] == f"{FIRST:>6}                                           def sample(n):"
    assert lines[9] == f"{FIRST + 1:>6}         1          2.0      2.0     20.0      total = 0"
    assert lines[10] == (f"{FIRST + 2:>6}         3          3.0      1.0     30.0      "
                         "for i in range(n):")


def test_profile_extra_lines_and_auto_notes():
    data = {"version": 1, "unit": 1e-9, "mode": "auto", "clock": "tsc", "samples": 40,
            "functions": [{"filename": KEY[0], "lineno": FIRST, "name": "sample",
                           "lines": [[FIRST + 1, 1, 500]],
                           "auto": {"chosen_at": 0.25, "samples": 3, "own_seconds": 0.02}}]}
    prof = Profile(extra={"lines": data})
    assert has_lines(prof) and not has_lines(Profile())
    out = io.StringIO()
    print_lines(prof, stream=out)
    text = out.getvalue()
    assert "hotpath --lines=auto chose 1 function(s)" in text
    assert "0.250 s" in text and "sample (" in text
    assert "Chosen by --lines=auto: timed from 0.250 s into the run" in text
    assert "Timer unit: 1e-06 s" in text
