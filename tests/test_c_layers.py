"""The C sources' layers (tools/check-c-layers.py): common/ below func/, line/ and mem/,
which never include each other, and no include circle anywhere."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TOOL = ROOT / "tools" / "check-c-layers.py"


def run(src: Path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, str(TOOL), str(src)], capture_output=True,
                          text=True)


def tree(tmp_path: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        p = tmp_path / "hotpath" / name
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_text(text)
    return tmp_path


BASE = {
    "_core/common/compat.h": "",
    "_core/common/sampler.h": '#include "compat.h"\n',
    "_core/common/sampler.c": '#include "sampler.h"\n',
    "_core/line/lineprof.h": '#include "common/compat.h"\n#include "linesampler.h"\n',
    "_core/line/lineprof.c": '#include "lineprof.h"\n',
    "_core/line/linesampler.h": '#include "common/sampler.h"\n',
    "_core/line/linesampler.c": '#include "linesampler.h"\n',
    "_core/mem/memhooks.c": '#include "common/compat.h"\n#include "_preload/preload.h"\n',
    "_preload/preload.h": "",
    "_timing/timing.c": '#include "common/compat.h"\n',
}


def test_the_project_sources_pass():
    r = run(ROOT / "src")
    assert r.returncode == 0, r.stdout + r.stderr
    assert "no include circle" in r.stdout


def test_a_layered_tree_passes(tmp_path):
    r = run(tree(tmp_path, BASE))
    assert r.returncode == 0, r.stdout


def test_the_old_sampler_circle_fails(tmp_path):
    # linesampler.c calling back into lineprof.c: the circle the sampler split removed
    files = dict(BASE)
    files["_core/line/linesampler.c"] = '#include "lineprof.h"\n'
    r = run(tree(tmp_path, files))
    assert r.returncode == 1
    assert "include circle: hotpath/_core/line/lineprof -> hotpath/_core/line/linesampler" \
        " -> hotpath/_core/line/lineprof" in r.stdout


def test_common_including_a_subsystem_fails(tmp_path):
    files = dict(BASE)
    files["_core/common/sampler.c"] = '#include "sampler.h"\n#include "line/lineprof.h"\n'
    r = run(tree(tmp_path, files))
    assert r.returncode == 1
    assert ('hotpath/_core/common/sampler.c: #include "line/lineprof.h": common/ may not '
            "include line/") in r.stdout


def test_subsystems_including_each_other_fail(tmp_path):
    files = dict(BASE)
    files["_core/mem/memhooks.c"] = '#include "line/lineprof.h"\n'
    r = run(tree(tmp_path, files))
    assert r.returncode == 1
    assert "mem/ may not include line/" in r.stdout


def test_a_missing_header_fails(tmp_path):
    files = dict(BASE)
    files["_core/line/lineprof.c"] = '#include "nowhere.h"\n'
    r = run(tree(tmp_path, files))
    assert r.returncode == 1
    assert 'lineprof.c: #include "nowhere.h" names no file' in r.stdout


def test_not_a_source_tree_is_one_clear_error(tmp_path):
    r = run(tmp_path)
    assert r.returncode == 2
    assert "is not a folder" in r.stderr and "Traceback" not in r.stderr
