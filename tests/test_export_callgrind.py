"""callgrind export, read back by valgrind's callgrind_annotate."""
from __future__ import annotations

import io
import re
import shutil
import subprocess

import pytest

from export_profiles import EVIL_NAME, build, deep_profile, sample_profile
from hotpath.model import Function
from hotpath.report.callgrind import to_callgrind, write_callgrind

ANNOTATE = shutil.which("callgrind_annotate")
needs_annotate = pytest.mark.skipif(ANNOTATE is None, reason="callgrind_annotate not found")
_ROW = re.compile(r"^\s*([\d,]+)\s+\(\s*[\d.]+%\)\s+(.*?)\s*$")


def _annotate(path, *args) -> tuple[int, dict[str, int]]:
    """(PROGRAM TOTALS, {file:function: cost}) as callgrind_annotate prints them."""
    r = subprocess.run([ANNOTATE, "--threshold=100", "--auto=no", *args, str(path)],
                       capture_output=True, text=True, encoding="utf-8", timeout=120)
    assert r.returncode == 0, r.stderr
    total, rows = None, {}
    for line in r.stdout.splitlines():
        m = _ROW.match(line)
        if not m:
            continue
        value, what = int(m.group(1).replace(",", "")), m.group(2)
        if what == "PROGRAM TOTALS":
            total = value
        else:
            rows[what] = value
    assert total is not None, r.stdout
    return total, rows


def _text(profile) -> str:
    buf = io.StringIO()
    to_callgrind(profile, buf)
    return buf.getvalue()


@needs_annotate
def test_callgrind_annotate_totals_and_self_costs(tmp_path):
    prof = sample_profile()
    path = tmp_path / "callgrind.out.1"
    write_callgrind(prof, str(path))
    total, rows = _annotate(path)
    fstats = prof.function_stats()
    ns = prof.tick_seconds * 1e9
    assert total == round(sum(s.self_ticks for s in fstats.values()) * ns)
    assert f"summary: {total}" in path.read_text(encoding="utf-8")
    f = prof.functions
    assert rows["/home/u/proj/app.py:main"] == round(fstats[0].self_ticks * ns)
    assert rows["/home/u/proj/app.py:fib"] == round(fstats[1].self_ticks * ns)
    assert rows["<built-in>:<built-in method builtins.len>"] == round(fstats[2].self_ticks * ns)
    assert rows[f"{f[6].filename}:{EVIL_NAME}"] == round(fstats[6].self_ticks * ns)
    assert rows["/home/u/proj/app.py:Ünï.héllo_π"] == round(fstats[7].self_ticks * ns)
    # Same-named lambdas in one file stay apart.
    assert rows["/home/u/proj/app.py:main.<locals>.<lambda>:30"] == 5000
    assert rows["/home/u/proj/app.py:main.<locals>.<lambda>:31"] == 6000
    assert sum(rows.values()) == total


@needs_annotate
def test_callgrind_annotate_inclusive(tmp_path):
    prof = sample_profile()
    path = tmp_path / "callgrind.out.2"
    write_callgrind(prof, str(path))
    _, rows = _annotate(path, "--inclusive=yes")
    fstats = prof.function_stats()
    ns = prof.tick_seconds * 1e9
    # Non-recursive functions: inclusive cost is cProfile's cumulative time.
    assert rows["/home/u/proj/app.py:main"] == round(fstats[0].cum_ticks * ns)
    assert rows["/home/u/proj/app.py:worker"] == round(fstats[12].cum_ticks * ns)
    assert rows["<built-in>:<built-in method builtins.sorted>"] == round(fstats[3].cum_ticks * ns)


@needs_annotate
def test_totals_exact_with_odd_tick_length(tmp_path):
    prof = sample_profile()
    prof.tick_seconds = 3.7e-10           # e.g. a calibrated TSC
    path = tmp_path / "callgrind.out.3"
    write_callgrind(prof, str(path))
    total, rows = _annotate(path)
    exact = sum(s.self_ticks for s in prof.function_stats().values()) * 3.7e-10 * 1e9
    assert total == round(exact)
    assert sum(rows.values()) == total


def test_name_compression_and_structure():
    text = _text(sample_profile())
    assert text.startswith("# callgrind format\n")
    defined = re.findall(r"^(?:fn|cfn)=\((\d+)\) ", text, re.M)
    assert len(defined) == len(set(defined))          # each id defined once
    used = re.findall(r"^(?:fn|cfn)=\((\d+)\)", text, re.M)
    assert set(used) == set(defined)
    # Every calls= line is followed by a cost line and preceded by cfn=.
    lines = text.splitlines()
    for i, line in enumerate(lines):
        if line.startswith("calls="):
            assert lines[i - 1].startswith("cfn=")
            assert re.fullmatch(r"\d+ \d+", lines[i + 1])


def test_newlines_in_names_cannot_break_lines():
    funcs = [Function("a\nb.py", 1, "x\ny\r\nfn=(9) z")]
    text = _text(build(funcs, [(1, "T", [(0, 1, 5, [])])]))
    assert "fn=(1) x y  fn=(9) z" in text
    assert not re.search(r"^fn=\(9\)", text, re.M)


def test_deep_recursion_is_fine():
    text = _text(deep_profile(20_000))
    assert "calls=19999 1" in text


def test_empty_profile():
    text = _text(build([], []))
    assert "summary: 0" in text
