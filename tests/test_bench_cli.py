"""``hotpath bench`` (hotpath.bench.cli): options, output shape, files and exit codes.

Every run fixes -n and -r so it is short; nothing asserts on the times themselves.
"""
import argparse
import json
import os
import subprocess
import sys

import pytest

import hotpath
from hotpath.bench import cli

FAST = ["-n", "50", "-r", "5", "--warmup", "0"]


def run(capsys, *argv):
    code = cli.main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_single_statement_timeit_options(capsys):
    code, out, err = run(capsys, "-s", "x = list(range(100))", "-s", "y = 1", *FAST,
                         "sorted(x)")
    assert code == 0, err
    lines = out.splitlines()
    assert lines[0] == "sorted(x): 5 rounds x 50 loops"
    assert lines[1].startswith("  min ") and "median" in lines[1] and "IQR" in lines[1]
    assert "loop's own cost" in out and "gc off" in out


@pytest.mark.parametrize("unit, label", [("nsec", " ns"), ("usec", " us"), ("msec", " ms"),
                                         ("sec", " s")])
def test_unit_option(capsys, unit, label):
    code, out, _ = run(capsys, *FAST, "-u", unit, "pass")
    assert code == 0
    assert "median 0" in out or label in out.splitlines()[1]
    assert label in out.splitlines()[1]


def test_process_timer_gross_gc_and_verbose(capsys):
    code, out, _ = run(capsys, *FAST, "-p", "--gross", "--gc", "-v", "x = 1")
    assert code == 0
    assert "timer process" in out and "gross times" in out and "gc on" in out
    assert "raw net samples:" in out


def test_several_statements_are_compared(capsys):
    code, out, _ = run(capsys, *FAST, "-s", "x = list(range(50))", "sorted(x)", "x.sort()",
                       "--baseline", "2")
    assert code == 0
    assert out.count(" rounds x 50 loops") == 2
    assert "Normalised to x.sort()" in out
    assert "x.sort() (baseline)" in out
    assert "Against x.sort()" in out and "p=" in out


def test_sizes_and_plot(tmp_path, capsys):
    svg = tmp_path / "plot.svg"
    code, out, _ = run(capsys, *FAST, "-s", "x = list(range(n))", "--sizes", "10,100",
                       "sum(x)", "max(x)", "--plot", str(svg))
    assert code == 0
    assert "n=10" in out and "n=100" in out
    assert svg.read_text().startswith("<svg")
    assert f"plot: {svg}" in out


def test_json_output_and_save_then_compare(tmp_path, capsys):
    code, out, _ = run(capsys, *FAST, "--json", "x = 1")
    assert code == 0
    doc = json.loads(out)
    assert doc["benchmarks"][0]["name"] == "x = 1"
    assert len(doc["benchmarks"][0]["stats"]["data"]) == 5

    saved = tmp_path / "base.json"
    code, out, _ = run(capsys, *FAST, "--save", str(saved), "a = 1", "b = 2")
    assert code == 0 and saved.exists() and f"saved: {saved}" in out
    code, out, _ = run(capsys, *FAST, "--compare", str(saved), "a = 1", "c = 3")
    assert code == 0
    assert f"Against {saved}" in out and "(not in the earlier run)" in out


def test_compare_fail_gate_sets_exit_status(tmp_path, capsys):
    # A saved run whose samples are far below anything real: the gate must fail.
    fake = hotpath.bench("sum(range(200))", number=10, repeat=6, warmup=0)
    fake.samples = [1e-15 * (1 + i) for i in range(6)]
    path = tmp_path / "fast.json"
    fake.save(str(path))
    args = ["-n", "10", "-r", "6", "--warmup", "0", "--compare", str(path),
            "--compare-fail", "median:5%"]
    code, out, _ = run(capsys, *args, "sum(range(300))")
    assert code == 0 and "(not in the earlier run)" in out
    code, out, _ = run(capsys, *args, "sum(range(200))", "pass")
    assert code == 1
    assert "FAILED sum(range(200)): median" in out
    # A generous absolute limit passes.
    code, out, _ = run(capsys, *args[:-1], "median:1s", "sum(range(200))")
    assert code == 0 and "FAILED" not in out


def test_usage_errors(capsys):
    assert run(capsys, "--compare-fail", "median:5%", "pass")[0] == 2
    assert run(capsys, "--compare", "x.json", "--compare-fail", "speed", "pass")[0] == 2
    assert run(capsys, "--baseline", "3", "pass")[0] == 2
    assert run(capsys, "--sizes", "1,2", "--size-name", "1bad", "pass")[0] == 2
    code, _, err = run(capsys, *FAST, "x +=")
    assert code == 2 and "SyntaxError" in err
    with pytest.raises(SystemExit):
        cli.main([])


def test_statement_error_is_reported(capsys):
    code, _, err = run(capsys, *FAST, "1 / 0")
    assert code == 1 and "ZeroDivisionError" in err


def test_register_adds_bench_subcommand(capsys):
    parser = argparse.ArgumentParser(prog="hotpath")
    sub = parser.add_subparsers(dest="command")
    cli.register(sub)
    args = parser.parse_args(["bench", *FAST, "pass"])
    assert args.command == "bench" and args.statements == ["pass"]
    assert args.func(args) == 0
    assert "pass: 5 rounds x 50 loops" in capsys.readouterr().out


def test_module_runs_standalone():
    env = dict(os.environ)
    src = os.path.dirname(os.path.dirname(hotpath.__file__))
    env["PYTHONPATH"] = src + os.pathsep + env.get("PYTHONPATH", "")
    proc = subprocess.run([sys.executable, "-m", "hotpath.bench.cli", *FAST, "pass"],
                          capture_output=True, text=True, env=env, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.startswith("pass: 5 rounds x 50 loops")
