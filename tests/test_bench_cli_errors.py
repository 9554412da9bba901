"""`hotpath bench` refuses bad options in one line, before measuring anything."""
from __future__ import annotations

import pytest


@pytest.mark.parametrize("args, says", [
    (["-n", "0"], "-n/--number must be at least 1, not 0"),
    (["-n", "-5"], "-n/--number must be at least 1, not -5"),
    (["-r", "0"], "-r/--repeat must be at least 1, not 0"),
    (["--min-rounds", "0"], "--min-rounds must be at least 1"),
    (["--max-time", "0"], "--max-time must be a positive number of seconds"),
    (["--save", "/proc/hotpath-cannot-be-here.json"], "cannot write"),
    (["--plot", "/nonexistent-dir/p.svg", "--sizes", "1,2"], "cannot write"),
])
def test_bad_option_is_one_line_before_measuring(runner, args, says):
    r = runner.hotpath("bench", *args, "x = 1")
    assert r.returncode == 2, r.stderr
    assert r.stderr.count("\n") == 1 and r.stderr.startswith("hotpath bench: error: "), r.stderr
    assert says in r.stderr
    assert r.stdout == ""          # nothing was measured
