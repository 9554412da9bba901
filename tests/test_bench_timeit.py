"""``hotpath bench --gross`` is timeit's figure; net = gross - the measured loop cost.

Issue 10, item 7: ``--gross`` used to report the statement *plus a function call* per
iteration (32 ns for ``d.get('k')`` where timeit says 13.5 ns), because hotpath called
the compiled statement as a function where timeit inlines it in its ``for`` loop.
"""
import json
import subprocess
import sys
import textwrap

HOTPATH = [sys.executable, "-m", "hotpath"]
STMT, SETUP = "d.get('k')", "d = {'k': 1}"

# timeit and the hotpath command in one process, on the same clock (the thread's CPU
# time, which the machine's other load does not stretch); timeit before and after.
SIDE_BY_SIDE = textwrap.dedent("""
    import contextlib, io, json, sys, time, timeit
    from hotpath.cli import main

    stmt, setup = sys.argv[1], sys.argv[2]

    def timeit_figures(number=200_000):
        t = timeit.Timer(stmt, setup, timer=time.thread_time)
        return [x / number for x in t.repeat(repeat=7, number=number)]

    before = timeit_figures()
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        code = main(["bench", "--gross", "--timer", "thread", "--json", "--max-time", "0.2",
                     "-s", setup, stmt])
    after = timeit_figures()
    print(json.dumps({"code": code, "hotpath": json.loads(out.getvalue()),
                      "timeit": before + after}))
""")


def _iqr(values):
    v = sorted(values)
    n = len(v)
    return v[(3 * n) // 4] - v[n // 4]


def _median(values):
    v = sorted(values)
    return v[len(v) // 2]


def test_gross_is_timeits_figure():
    proc = subprocess.run([sys.executable, "-c", SIDE_BY_SIDE, STMT, SETUP],
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    got = json.loads(proc.stdout)
    assert got["code"] == 0
    (b,) = got["hotpath"]["benchmarks"]
    gross, ti = b["hotpath"]["gross"], got["timeit"]
    assert b["stats"]["data"] == gross and b["hotpath"]["overhead"] == 0   # nothing subtracted
    # Each tool's best figure (the least disturbed by the machine's other work; the
    # medians drift apart under heavy load on a 2-core machine) agree within 60%: before
    # the fix hotpath's figure was 2-2.4x timeit's (1.5x was seen once under CI's load).
    h, t = min(gross), min(ti)
    assert 0.6 * t <= h <= 1.6 * t, (h, t, _median(gross), _median(ti), _iqr(gross), _iqr(ti))


def test_net_is_gross_minus_the_measured_loop_cost():
    proc = subprocess.run([*HOTPATH, "bench", "--json", "-n", "20000", "-r", "7", "-s", SETUP,
                           STMT], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    (b,) = json.loads(proc.stdout)["benchmarks"]
    net, gross, loop = b["stats"]["data"], b["hotpath"]["gross"], b["hotpath"]["overhead"]
    assert loop > 0
    assert len(net) == len(gross) == 7
    for n, g in zip(net, gross):
        assert g >= n and abs((g - n) - loop) <= 1e-9 * loop


def test_verbose_prints_the_gross_line_and_gross_flag_says_so():
    proc = subprocess.run([*HOTPATH, "bench", "--gross", "-v", "-n", "1000", "-r", "3", "-s",
                           SETUP, STMT], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert "gross times (loop's own cost included, as timeit)" in proc.stdout
    assert "  gross: min " in proc.stdout
