"""The progress line (hotpath.progress): on stderr when it is a terminal and the work
takes more than a second, never otherwise, never on stdout. Terminals are real ptys."""
from __future__ import annotations

import os
import pty
import select
import subprocess
import sys
import time

import pytest

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="ptys: Linux")


def _run(args: list[str], cwd, tty: bool, env: dict | None = None,
         timeout: float = 120) -> tuple[int, str, str]:
    """Run ``python *args`` with stderr on a new pty (``tty``) or a pipe; (status, stdout,
    what stderr received)."""
    full = dict(os.environ, NO_COLOR="1", **(env or {}))
    full.pop("PYTHONPATH", None)
    if not tty:
        r = subprocess.run([sys.executable, *args], cwd=cwd, capture_output=True, text=True,
                           timeout=timeout, env=full)
        return r.returncode, r.stdout, r.stderr
    try:
        master, slave = pty.openpty()
    except OSError as e:                # a chroot without devpts, a container without ptys
        pytest.skip(f"no pseudo-terminal here ({e})")
    try:
        p = subprocess.Popen([sys.executable, *args], cwd=cwd, stdout=subprocess.PIPE,
                             stderr=slave, stdin=subprocess.DEVNULL, env=full)
        os.close(slave)
        slave = -1
        got = bytearray()
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            ready, _, _ = select.select([master], [], [], 0.1)
            if ready:
                try:
                    chunk = os.read(master, 4096)
                except OSError:          # EIO: the child closed its end
                    break
                if not chunk:
                    break
                got += chunk
            elif p.poll() is not None:
                break
        out = p.stdout.read().decode()
        p.wait(timeout=10)
        return p.returncode, out, got.decode(errors="replace")
    finally:
        os.close(master)
        if slave >= 0:
            os.close(slave)


def _work(seconds: float) -> list[str]:
    return ["-c", "import time\nfrom hotpath.progress import progress, note\n"
                  "with progress('crunching'):\n"
                  "    note('step one')\n"
                  f"    time.sleep({seconds})\n"
                  "print('program output')\n"]


def test_a_long_task_shows_a_line_on_a_terminal_then_erases_it(tmp_path):
    code, out, err = _run(_work(1.8), tmp_path, tty=True)
    assert code == 0 and out == "program output\n"
    assert "hotpath: crunching: step one (1 s)" in err
    assert err.startswith("\rhotpath: crunching") and err.endswith("\r\x1b[K")
    assert "program output" not in err


def test_a_short_task_shows_nothing(tmp_path):
    code, out, err = _run(_work(0.3), tmp_path, tty=True)
    assert code == 0 and out == "program output\n" and err == ""


def test_nothing_when_stderr_is_not_a_terminal(tmp_path):
    code, out, err = _run(_work(1.8), tmp_path, tty=False)
    assert code == 0 and out == "program output\n" and err == ""


def test_turned_off_by_the_environment(tmp_path):
    code, _, err = _run(_work(1.8), tmp_path, tty=True, env={"HOTPATH_PROGRESS": "0"})
    assert code == 0 and err == ""


# The commands use it (HOTPATH_PROGRESS_AFTER=0: shown at once, so a short job shows it).

def _profile(runner) -> None:
    runner.write("prog.py", "def f(n):\n    return sum(range(n))\nfor _ in range(50):\n    f(10000)\n")
    r = runner.hotpath("run", "-q", "-o", "a.hprof", "prog.py")
    assert r.returncode == 0, r.stderr


@pytest.mark.parametrize("tty", [True, False])
def test_view_export_diff_and_bench_show_it_on_a_terminal_only(runner, tty):
    _profile(runner)
    now = {"HOTPATH_PROGRESS_AFTER": "0"}
    cases = [
        (["view", "--no-browser", "-o", "a.html", "a.hprof"], "writing the HTML report"),
        (["export", "-f", "speedscope", "-o", "a.json", "a.hprof"], "exporting speedscope"),
        (["diff", "a.hprof", "a.hprof"], "comparing the profiles"),
        (["bench", "--max-time", "1.0", "sum(range(100))"], "benchmarking: sum(range(100)): round"),
    ]
    for args, line in cases:
        code, out, err = _run(["-m", "hotpath", *args], runner.cwd, tty=tty, env=now)
        assert code == 0, err
        assert ("\rhotpath: " + line in err) is tty, (args, err)
        assert "\rhotpath:" not in out and "\x1b[K" not in out
