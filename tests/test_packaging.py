"""The package's metadata: one version, and a setuptools floor that builds what
pyproject.toml asks for."""
from __future__ import annotations

import importlib.metadata
import re
import tomllib
from pathlib import Path

import hotpath

PYPROJECT = Path(__file__).resolve().parents[1] / "pyproject.toml"


def _pyproject() -> dict:
    return tomllib.loads(PYPROJECT.read_text(encoding="utf-8"))


def test_the_version_is_written_once():
    project = _pyproject()["project"]
    assert "version" not in project and "version" in project["dynamic"]
    assert importlib.metadata.version("hotpath") == hotpath.__version__


def test_setuptools_floor_covers_the_spdx_license_string():
    # ``license = "MIT"`` (an SPDX expression) needs setuptools >= 77; an older one
    # fails the install ("project.license must be valid exactly by one definition").
    data = _pyproject()
    floor = next(r for r in data["build-system"]["requires"] if r.startswith("setuptools"))
    m = re.fullmatch(r"setuptools>=(\d+)(?:\.\d+)*", floor)
    assert m, floor
    if isinstance(data["project"].get("license"), str):
        assert int(m.group(1)) >= 77, floor
