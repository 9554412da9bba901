"""Collapsed stacks: well-formed lines that add up to the profile's total."""
from __future__ import annotations

import re
import shutil
import subprocess

import pytest

from export_profiles import EVIL_NAME, build, deep_profile, sample_profile
from hotpath.fileformat import read
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


def _stacks(lines):
    return {LINE.match(x).group(1): int(LINE.match(x).group(2)) for x in lines}


def test_stacks_and_labels():
    unfolded = _stacks(collapsed_lines(sample_profile(), fold_recursion=False))
    assert unfolded["MainThread;main (app.py:10);fib (app.py:20);fib (app.py:20);"
                    "fib (app.py:20);<built-in method builtins.len>"] == 1000
    stacks = _stacks(collapsed_lines(sample_profile()))
    assert stacks["MainThread;main (app.py:10)"] == 50_000
    # direct recursion folded by default: fib;fib;fib is one fib frame, times summed
    assert not any("fib (app.py:20);fib (app.py:20)" in s for s in stacks)
    folded = "MainThread;main (app.py:10);fib (app.py:20);<built-in method builtins.len>"
    assert stacks[folded] == sum(v for s, v in unfolded.items()
                                 if s.startswith("MainThread;main (app.py:10);fib")
                                 and s.endswith(";<built-in method builtins.len>"))
    assert sum(stacks.values()) == sum(unfolded.values())
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
    write_collapsed(deep_profile(3000), str(path), fold_recursion=False)
    lines = path.read_text().splitlines()
    assert len(lines) == 3000 and lines[-1].count(";") == 2999
    write_collapsed(deep_profile(3000), str(path))       # folded: one frame, one line
    assert path.read_text() == f"down (/src/deep.py:1) {3000 * 1000}\n"
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


# -- through the command, on real deep recursion ------------------------------------------

DEEP = """
import sys
sys.setrecursionlimit({limit})

def down(n):
    if n == 0:
        return sum(range(2000))
    x = sum(range(50))         # self time at every level, as a real recursion has
    return down(n - 1) + x

def ping(n):
    return pong(n - 1) + sum(range(50)) if n else 0

def pong(n):
    return ping(n - 1) + sum(range(50)) if n else 0

{call}
"""


def _check_lines(text: str) -> list[tuple[str, int]]:
    """flamegraph.pl's input grammar: ``frame;frame;... count`` per line, no empty
    frame; returns (stack, count) pairs."""
    out = []
    for line in text.splitlines():
        m = LINE.match(line)
        assert m, line[:200]
        assert all(frame.strip() for frame in m.group(1).split(";")), line[:200]
        out.append((m.group(1), int(m.group(2))))
    return out


def test_cli_deep_recursion_is_folded_and_bounded(runner):
    runner.write("deep.py", DEEP.format(limit=10_000, call="down(4000)"))
    r = runner.hotpath("run", "-q", "--no-builtins", "deep.py")
    assert r.returncode == 0, r.stderr
    hprof = runner.cwd / "deep.hprof"
    prof = read(hprof)
    assert max(depth for t in prof.threads for _, depth in t.walk()) > 4000
    r = runner.hotpath("export", "deep.hprof", "--format", "collapsed", "-o", "deep.folded")
    assert r.returncode == 0, r.stderr
    assert "hotpath: note: direct recursion folded" in r.stderr
    out = runner.cwd / "deep.folded"
    # was 160 MB for a 26 KB profile: quadratic in depth
    assert out.stat().st_size < 50 * hprof.stat().st_size
    stacks = _check_lines(out.read_text(encoding="utf-8"))
    assert sum(v for _, v in stacks) == round(_total_self(prof) * 1e9)
    assert len({s for s, _ in stacks}) == len(stacks)          # one line per stack
    assert any(s.endswith("down (deep.py:5)") for s, _ in stacks)
    assert not any("down (deep.py:5);down (deep.py:5)" in s for s, _ in stacks)


def test_cli_deep_mutual_recursion_is_refused_before_writing(runner):
    # ping;pong;ping;... does not fold: 50,000 frames would make ~25 GB of lines.
    runner.write("deep.py", DEEP.format(limit=60_000, call="ping(50_000)"))
    r = runner.hotpath("run", "-q", "--no-builtins", "deep.py", timeout=300)
    assert r.returncode == 0, r.stderr
    r = runner.hotpath("export", "deep.hprof", "--format", "collapsed", "-o", "deep.folded")
    assert r.returncode == 2
    lines = r.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("hotpath: error: deep.hprof: "), r.stderr
    assert re.search(r"would take [\d.]+ GiB .*over the 1\.0 GiB limit", lines[0])
    assert not (runner.cwd / "deep.folded").exists()
    # the formats that store each frame once still work
    r = runner.hotpath("export", "deep.hprof", "--format", "speedscope", "-o", "deep.json")
    assert r.returncode == 0, r.stderr


def test_undecodable_file_names_and_exact_size(tmp_path):
    """Lone surrogates (undecodable bytes of file names) are written, not a traceback,
    and the size computed before writing is the size written."""
    from hotpath.model import Node, Profile, ThreadProfile
    from hotpath.report.collapsed import collapsed_size
    prof = Profile([Function("/src/\udcff.py", 1, "f"), Function("/src/\ud800.py", 1, "g")],
                   [ThreadProfile(1, "MainThread", [Node(-1, -1), Node(0, 0, 1, 5, 10),
                                                    Node(1, 1, 1, 5, 5)])], 1e-9)
    path = tmp_path / "s.folded"
    write_collapsed(prof, str(path))
    data = path.read_bytes()
    assert data == (b"f (/src/\xff.py:1) 5\n"
                    b"f (/src/\xff.py:1);g (/src/\xef\xbf\xbd.py:1) 5\n")
    assert collapsed_size(prof) == len(data)
    sample = sample_profile()
    write_collapsed(sample, str(path))
    assert collapsed_size(sample) == path.stat().st_size
