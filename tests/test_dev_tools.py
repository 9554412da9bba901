"""The newcomer's path: naming an interpreter for make, however it is installed."""
from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
FIND = ROOT / "tools" / "find-python.sh"


def find(name: str) -> subprocess.CompletedProcess:
    return subprocess.run(["bash", str(FIND), name], capture_output=True, text=True)


def version_of(exe: str) -> str:
    return subprocess.run([exe, "-c", "import sys; print('%d.%d' % sys.version_info[:2])"],
                          capture_output=True, text=True, check=True).stdout.strip()


def test_a_version_is_found_by_name_or_number():
    mine = "%d.%d" % sys.version_info[:2]
    for name in (f"python{mine}", mine, sys.executable):
        r = find(name)
        assert r.returncode == 0, name
        assert version_of(r.stdout.strip()) == mine


def test_an_unknown_interpreter_is_one_clear_line_from_make():
    assert find("python3.99").returncode == 1 and find("python3.99").stdout == ""
    if shutil.which("make") is None:
        pytest.skip("make is not installed")
    r = subprocess.run(["make", "--no-print-directory", "-C", str(ROOT), "test",
                        "PYTHON=python3.99", "-o", "browser"],
                       capture_output=True, text=True)
    assert r.returncode != 0
    assert "no working interpreter 'python3.99'" in r.stdout + r.stderr
    assert not (ROOT / ".venv-none").exists() and not (ROOT / ".venv-").exists()
