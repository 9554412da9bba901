"""Shared helpers: running the hotpath CLI and plain python as subprocesses."""
from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

# The suite may be started with SIGINT or SIGHUP ignored (a job started in the background,
# nohup); an ignored signal is inherited across exec, so the programs the tests start
# would not get Ctrl-C or a hang-up as they do on a terminal (a plain `python prog.py`
# that sends itself SIGHUP would live on). A handler of our own is not inherited.
if signal.getsignal(signal.SIGINT) is signal.SIG_IGN:
    signal.signal(signal.SIGINT, signal.default_int_handler)
if signal.getsignal(signal.SIGHUP) is signal.SIG_IGN:
    signal.signal(signal.SIGHUP, signal.SIG_DFL)


@contextlib.contextmanager
def only_this_thread():
    """Keep other Python threads of this process off the GIL meanwhile (a long switch
    interval): profilers and the memory tracker see every thread, and under pytest-xdist
    the worker has a thread of its own that runs Python now and then. Use it around
    pure-Python code whose recording a test counts exactly."""
    interval = sys.getswitchinterval()
    sys.setswitchinterval(100.0)
    try:
        yield
    finally:
        sys.setswitchinterval(interval)


def call_counts(profile, names, threads=None):
    """Calls of the Python functions named ``names`` in ``profile`` (in ``threads``, or
    all): name -> count, 0 for a name not recorded."""
    stats = profile.function_stats(threads)
    out = dict.fromkeys(names, 0)
    for i, s in stats.items():
        f = profile.functions[i]
        if f.name in out and not f.is_builtin:
            out[f.name] += s.calls
    return out


class Runner:
    """Runs ``python`` and ``python -m hotpath`` on the same program in a tmp dir."""

    def __init__(self, cwd: Path):
        self.cwd = cwd

    def write(self, name: str, source: str) -> Path:
        path = self.cwd / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(source))
        return path

    def python(self, *args: str, timeout: float = 120) -> subprocess.CompletedProcess:
        return subprocess.run([sys.executable, *args], cwd=self.cwd, capture_output=True,
                              text=True, timeout=timeout, env=self.env())

    def hotpath(self, *args: str, timeout: float = 120) -> subprocess.CompletedProcess:
        return self.python("-m", "hotpath", *args, timeout=timeout)

    @staticmethod
    def env() -> dict[str, str]:
        env = dict(os.environ)
        env.pop("PYTHONPATH", None)
        env["NO_COLOR"] = "1"
        return env


@pytest.fixture
def runner(tmp_path: Path) -> Runner:
    return Runner(tmp_path)


class FakeTimer:
    """A deterministic timer: every call advances by one unit."""

    def __init__(self, step: int | float = 1):
        self.t = 0
        self.step = step

    def __call__(self):
        self.t += self.step
        return self.t


@pytest.fixture(autouse=True)
def _pytester_runs_as_if_not_under_xdist(request, monkeypatch):
    """The suite runs under pytest-xdist; a pytest run that a test starts (pytester) must
    not inherit the worker's variables, or plugins that turn themselves off under xdist
    (pytest-benchmark) do so inside it."""
    if "pytester" in request.fixturenames:
        for name in ("PYTEST_XDIST_WORKER", "PYTEST_XDIST_WORKER_COUNT", "PYTEST_XDIST_TESTRUNUID"):
            monkeypatch.delenv(name, raising=False)
