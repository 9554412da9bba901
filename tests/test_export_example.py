"""Every export format made from the bundled example through the CLI, and read back by
its real consumer where one runs here."""
from __future__ import annotations

import json
import pstats
import shutil
import subprocess
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

import hotpath

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE = ROOT / "examples" / "particles.py"
SCHEMA = Path(__file__).parent / "data" / "speedscope-file-format-schema.json"


@pytest.fixture(scope="module")
def example_profile(tmp_path_factory):
    from conftest import Runner
    runner = Runner(tmp_path_factory.mktemp("example"))
    r = runner.hotpath("run", "-q", "-o", "ex.hprof", str(EXAMPLE), "20", "100")
    assert r.returncode == 0, r.stderr
    return runner


def export(runner, fmt: str, name: str) -> Path:
    r = runner.hotpath("export", "ex.hprof", "--format", fmt, "-o", name)
    assert r.returncode == 0, r.stderr
    return runner.cwd / name


def test_pstats(example_profile):
    stats = pstats.Stats(str(export(example_profile, "pstats", "ex.prof")))
    assert any(k[2] == "evolve" for k in stats.stats)
    r = example_profile.python("-m", "pstats", "ex.prof")
    assert r.returncode == 0


@pytest.mark.skipif(shutil.which("callgrind_annotate") is None, reason="no callgrind_annotate")
def test_callgrind_read_by_callgrind_annotate(example_profile):
    path = export(example_profile, "callgrind", "callgrind.out.ex")
    r = subprocess.run(["callgrind_annotate", "--auto=no", str(path)], capture_output=True,
                       text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    assert "PROGRAM TOTALS" in r.stdout and "evolve" in r.stdout
    data = hotpath.load(str(example_profile.cwd / "ex.hprof"))
    total_ns = round(data.total_ticks() * data.tick_seconds * 1e9)
    line = next(l for l in r.stdout.splitlines() if "PROGRAM TOTALS" in l)
    reported = int(line.split()[0].replace(",", ""))
    assert abs(reported - total_ns) <= max(1, total_ns // 1000)


def test_speedscope_valid_against_schema(example_profile):
    jsonschema = pytest.importorskip("jsonschema")
    doc = json.loads(export(example_profile, "speedscope", "ex.speedscope.json").read_text())
    jsonschema.validate(doc, json.loads(SCHEMA.read_text()))
    assert any("evolve" in f["name"] for f in doc["shared"]["frames"])


def test_collapsed_stacks(example_profile):
    text = export(example_profile, "collapsed", "ex.folded").read_text()
    lines = [l.rsplit(" ", 1) for l in text.splitlines() if l]
    assert lines and all(int(v) >= 0 for _, v in lines)
    assert any("evolve" in stack for stack, _ in lines)


FLAMEGRAPH = shutil.which("flamegraph.pl") or shutil.which("inferno-flamegraph")


@pytest.mark.skipif(FLAMEGRAPH is None, reason="flamegraph.pl / inferno are not packaged here")
def test_collapsed_read_by_flamegraph(example_profile):
    text = export(example_profile, "collapsed", "ex2.folded").read_text()
    svg = subprocess.run([FLAMEGRAPH], input=text, capture_output=True, text=True, timeout=60)
    assert svg.returncode == 0 and "<svg" in svg.stdout


def test_svg_and_html(example_profile):
    root = ET.parse(export(example_profile, "svg", "ex.svg")).getroot()
    assert root.tag.endswith("svg")
    html = export(example_profile, "html", "ex.html").read_text()
    assert html.startswith("<!DOCTYPE html>") and "evolve" in html
