"""Collapsed stacks: well-formed lines that add up to the profile's total."""
from __future__ import annotations

import re
import shutil
import subprocess

import pytest

from export_profiles import EVIL_NAME, build, deep_profile, sample_profile
from hotpath.model import Function
from hotpath.report.collapsed import collapsed_lines, write_collapsed

LINE = re.compile(r"^(.+) (\d+)$")


def _total_self(prof) -> float:
    return sum(n.self_ticks for t in prof.threads for n in t.nodes) * prof.tick_seconds


@pytest.mark.parametrize("unit,scale", [("ns", 1e9), ("us", 1e6), ("ms", 1e3)])
def test_lines_sum_to_total(unit, scale):
    prof = sample_profile()
    lines = list(collapsed_lines(prof, unit=unit))
    values = []
    for line in lines:
        m = LINE.match(line)
        assert m, line
        values.append(int(m.group(2)))
    assert sum(values) == round(_total_self(prof) * scale)


def test_sum_exact_with_odd_tick_length():
    prof = sample_profile()
    prof.tick_seconds = 3.7e-10
    total = sum(int(LINE.match(x).group(2)) for x in collapsed_lines(prof))
    assert total == round(_total_self(prof) * 1e9)


def test_stacks_and_labels():
    lines = list(collapsed_lines(sample_profile()))
    stacks = {LINE.match(x).group(1): int(LINE.match(x).group(2)) for x in lines}
    assert stacks["MainThread;main (app.py:10)"] == 50_000
    assert stacks["MainThread;main (app.py:10);fib (app.py:20);fib (app.py:20);"
                  "fib (app.py:20);<built-in method builtins.len>"] == 1000
    # site-packages and the standard library are shortened
    assert "MainThread;_sum (numpy/core/_methods.py:47)" in stacks
    assert any(s.endswith(";JSONDecoder.decode (json/decoder.py:332)") for s in stacks)
    # `;` inside a file name never splits a frame; markup is left alone (plain text)
    evil = [s for s in stacks if EVIL_NAME in s]
    assert evil and all(s.split(";")[-1].startswith(EVIL_NAME) or
                        s.split(";")[-2].startswith(EVIL_NAME) for s in evil)
    assert stacks["worker-1 (tid 1002);worker (app.py:70)"] == 30_000


def test_single_thread_has_no_thread_frame_and_merges_same_labels():
    funcs = [Function("a.py", 1, "f"), Function("a.py", 1, "f"), Function("a.py", 5, "m")]
    prof = build(funcs, [(7, "T", [(2, 1, 1, [(0, 1, 2, []), (1, 1, 3, [])])])],
                 tick_seconds=1e-9)
    assert sorted(collapsed_lines(prof)) == ["m (a.py:5) 1", "m (a.py:5);f (a.py:1) 5"]


def test_newlines_never_split_a_line():
    prof = build([Function("x.py", 1, "a\nb;c")], [(1, "T", [(0, 1, 4, [])])],
                 tick_seconds=1e-9)
    assert list(collapsed_lines(prof)) == ["a b,c (x.py:1) 4"]


def test_deep_and_bad_unit(tmp_path):
    path = tmp_path / "deep.folded"
    write_collapsed(deep_profile(3000), str(path))
    lines = path.read_text().splitlines()
    assert len(lines) == 3000 and lines[-1].count(";") == 2999
    with pytest.raises(ValueError, match="unit"):
        list(collapsed_lines(sample_profile(), unit="fortnights"))


@pytest.mark.skipif(not (shutil.which("flamegraph.pl") or shutil.which("inferno-flamegraph")),
                    reason="neither flamegraph.pl nor inferno-flamegraph is installed")
def test_flamegraph_tool_reads_it(tmp_path):
    path = tmp_path / "p.folded"
    write_collapsed(sample_profile(), str(path))
    tool = shutil.which("flamegraph.pl") or shutil.which("inferno-flamegraph")
    r = subprocess.run([tool, str(path)], capture_output=True, timeout=60)
    assert r.returncode == 0, r.stderr
    assert b"<svg" in r.stdout and b"fib (app.py:20)" in r.stdout
