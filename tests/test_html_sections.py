"""The HTML report's annotated source and memory sections: what the page is given.

Real profiles come from running the bundled examples under ``hotpath run --lines`` and
``hotpath run --memory`` (the installed package, in a subprocess); hand-built ones hold
hostile strings in source text, file names and function names, missing and odd files,
and oversized data. The page itself is exercised in tests/test_browser_report.py.
"""
from __future__ import annotations

import atexit
import functools
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
from html.parser import HTMLParser
from pathlib import Path

import pytest

from export_profiles import SAMPLE_FUNCS, build, sample_profile, wide_profile
from hotpath.model import Function, Profile
from hotpath.model.memory import stack_rows
from hotpath.report import html as report_html
from hotpath.report.html import report_data, to_html
from hotpath.report.source import SourceReader

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "examples"

PWN1 = "</script><script>document.body.dataset.pwned='1'</script>"
PWN2 = "<img src=x onerror=\"document.body.dataset.pwned='2'\">"
PWN3 = "<!--<script>"
PWNS = (PWN1, PWN2, PWN3)


# -- helpers --------------------------------------------------------------------------------

def page_data(page: str) -> dict:
    """The JSON the page embeds, as the page reads it."""
    m = re.search(r'<script type="application/json" id="hp-data">(.*?)</script>', page, re.S)
    assert m, "no data block"
    return json.loads(m.group(1))


class _Tags(HTMLParser):
    def __init__(self):
        super().__init__()
        self.tags: list[str] = []
        self.scripts = 0

    def handle_starttag(self, tag, attrs):
        self.tags.append(tag)
        self.scripts += tag == "script"


def _env() -> dict:
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "LD_PRELOAD")}
    env["NO_COLOR"] = "1"
    return env


_TMP = Path(tempfile.mkdtemp(prefix="hotpath-html-sections-"))
atexit.register(shutil.rmtree, _TMP, True)


@functools.lru_cache(maxsize=None)
def real_profile(kind: str) -> Path:
    """A profile file of a bundled example (made once per test session):
    ``lines`` — examples/lines_demo.py under ``--lines``; ``memory`` —
    examples/numpy_alloc.py under ``--memory``; ``both`` — the lines profile with the
    memory section of lines_demo.py run under ``--memory`` (one file, both sections)."""
    from hotpath import load, save
    if kind == "both":
        p = load(str(real_profile("lines")))
        p.extra["memory"] = load(str(_run("--memory", "lines_demo.py", "ldmem"))).extra["memory"]
        out = _TMP / "both.hprof"
        save(p, str(out))
        return out
    if kind == "lines":
        return _run("--lines", "lines_demo.py", "lines")
    if kind == "memory":
        pytest.importorskip("numpy")
        return _run("--memory", "numpy_alloc.py", "memory")
    raise ValueError(kind)


def _run(flag: str, example: str, name: str) -> Path:
    out = _TMP / f"{name}.hprof"
    r = subprocess.run([sys.executable, "-m", "hotpath", "run", flag, "-q", "-o", str(out),
                        f"examples/{example}"], cwd=ROOT, capture_output=True, text=True,
                       timeout=180, env=_env())
    assert r.returncode == 0, r.stderr[-3000:]
    return out


def load_real(kind: str) -> Profile:
    from hotpath import load
    return load(str(real_profile(kind)))


def block(data: dict, name: str) -> dict:
    return next(b for b in data["source"]["blocks"] if b["name"] == name)


def shown(b: dict) -> dict[int, str]:
    return dict(zip(b["no"], b["text"]))


# -- neither ----------------------------------------------------------------------------------

def test_profile_without_line_or_memory_data():
    data = page_data(to_html(sample_profile()))
    assert data["source"] is None and data["memory"] is None
    assert data == json.loads(json.dumps(report_data(sample_profile())))


def test_page_holds_the_views_and_stays_one_file():
    page = to_html(sample_profile())
    for view in ("hp-view-profile", "hp-view-source", "hp-view-memory", "hp-tabs"):
        assert f'id="{view}"' in page
    # offline: nothing is fetched from anywhere
    assert not re.search(r'(?:src|href)\s*=\s*"(?:https?:)?//', page)
    assert "@import" not in page and "url(" not in page


# -- line data ------------------------------------------------------------------------------

def test_lines_from_a_real_run():
    prof = load_real("lines")
    data = page_data(to_html(prof))
    assert data["memory"] is None
    src = data["source"]
    assert src["unit"] == 1e-9 and src["mode"] == "explicit"
    names = [b["name"] for b in src["blocks"]]
    assert names == ["Simulator.evolve", "make_particles"]        # hottest first
    ev = block(data, "Simulator.evolve")
    assert ev["file"] == "examples/lines_demo.py" and ev["line"] == 29
    assert ev["missing"] is None
    # the function's whole block, as kernprof shows it, with the file's own text
    file_lines = (EXAMPLES / "lines_demo.py").read_text().splitlines()
    assert ev["no"] == list(range(29, 45))
    assert ev["text"] == file_lines[28:44]
    assert shown(ev)[36].strip() == "norm = math.sqrt(p.x ** 2 + p.y ** 2)"
    # the timings are the profile's, unchanged
    rows = next(f for f in prof.extra["lines"]["functions"] if f["name"] == "Simulator.evolve")
    assert ev["time"] == rows["lines"]
    assert ev["total"] == sum(r[2] for r in rows["lines"])
    assert ev["hits"] == sum(r[1] for r in rows["lines"])
    hits = {r[0]: r[1] for r in ev["time"]}
    assert hits[36] == hits[37] == 99_900 and hits[31] == 1
    # linked to the function table
    assert data["funcs"]["name"][ev["f"]] == "Simulator.evolve"
    assert data["files"][data["funcs"]["file"][ev["f"]]] == "examples/lines_demo.py"
    mp = block(data, "make_particles")
    assert mp["no"][0] == 47 and shown(mp)[47] == "@profile"
    assert mp["mem"] is None and mp["mp"] is None


def test_auto_mode_note_and_samples():
    prof = build(SAMPLE_FUNCS, [(1, "MainThread", [(0, 1, 5, [])])])
    prof.extra["lines"] = {"version": 1, "unit": 1e-9, "mode": "auto", "samples": 36,
                           "functions": [{"filename": "/home/u/proj/app.py", "lineno": 10, "name": "main",
                                          "lines": [[11, 3, 3000], [12, 1, 1000]],
                                          "auto": {"chosen_at": 0.03, "samples": 2,
                                                   "own_seconds": 0.016}}]}
    data = report_data(prof)
    b = data["source"]["blocks"][0]
    assert data["source"]["mode"] == "auto" and data["source"]["samples"] == 36
    assert b["note"].startswith("Chosen by --lines=auto: timed from 0.030 s")
    assert b["f"] == 0                                  # main, app.py:10
    # the file is gone: the numbers stay, the page says why
    assert b["missing"] == "source file not found"
    assert b["no"] == [10, 11, 12] and b["text"] == ["", "", ""]


def test_source_is_embedded_when_written_and_survives_the_file(tmp_path):
    script = tmp_path / "work.py"
    script.write_text("@profile\ndef f(n):\n    s = 0\n    for i in range(n):\n"
                      "        s += i\n    return s\n\nf(1000)\n")
    out = tmp_path / "work.hprof"
    r = subprocess.run([sys.executable, "-m", "hotpath", "run", "--lines", "-q", "-o", str(out),
                        "work.py"], cwd=tmp_path, capture_output=True, text=True, timeout=120,
                       env=_env())
    assert r.returncode == 0, r.stderr
    from hotpath import load
    prof = load(str(out))
    page = to_html(prof)
    script.write_text("# rewritten after the run\n")            # the page keeps its copy
    b = page_data(page)["source"]["blocks"][0]
    assert b["name"] == "f" and b["file"] == "work.py"
    assert shown(b)[5] == "        s += i"
    assert {r[0]: r[1] for r in b["time"]}[5] == 1000
    script.unlink()                                               # later export: no source
    b2 = report_data(prof)["source"]["blocks"][0]
    assert b2["missing"] == "source file not found" and b2["time"] == b["time"]


# -- memory data -----------------------------------------------------------------------------

def test_memory_from_a_real_run():
    prof = load_real("memory")
    mem_in = prof.extra["memory"]
    data = page_data(to_html(prof))
    m = data["memory"]
    assert m["mode"] == "exact" and m["native"] is True
    assert m["totals"]["peak_bytes"] == mem_in["totals"]["peak_bytes"]
    assert m["totals"]["alloc_bytes"] == mem_in["totals"]["alloc_bytes"]
    # the timeline: every sample (a short run), RSS and heap
    assert m["timeline"]["rss"] == mem_in["timeline"]["rss"]
    assert m["timeline"]["heap"] == mem_in["timeline"]["heap"]
    assert m["rssPeak"] == max(mem_in["timeline"]["rss"])
    # top lines: the big arrays, at the example's own lines (NumPy folded in)
    top = sorted(m["lines"], key=lambda r: -r["ab"])[:3]
    assert {(r["file"], r["line"]) for r in top} == {("examples/numpy_alloc.py", n) for n in (19, 24, 25)}
    assert all(r["ab"] >= 100 * 2**20 for r in top)     # (NumPy's data: native or PyMem_Raw)
    make = next(r for r in top if r["line"] == 19)
    assert make["name"] == "make_field" and make["src"].startswith("field = rng.standard_normal")
    # the leak: the cache in remember(), with its stack, innermost first
    leak = m["leaks"][0]
    assert leak["lb"] >= 6 * 150 * 150 * 8
    assert [(f["name"], f["line"]) for f in leak["frames"][:2]] == [("remember", 29), ("simulate", 39)]
    assert leak["frames"][0]["src"].startswith("_cache[step] = ")
    # blocks: the example's functions, with per-line memory; memory_profiler's table
    for name in ("make_field", "smooth", "remember", "simulate"):
        assert block(data, name)["file"] == "examples/numpy_alloc.py"
    mf = block(data, "make_field")
    assert mf["time"] is None and mf["no"] == [17, 18, 19, 20]
    per_line = {r[0]: r for r in mf["mem"]}
    assert per_line[19][1] >= 6 * 1500 * 1500 * 8            # six 18 MB arrays
    sim = block(data, "simulate")
    assert sim["mp"] and {r[0] for r in sim["mp"]} >= {37, 38, 39}
    # per line with what the line called: simulate's call of make_field holds its arrays
    sim_mem = {r[0]: r for r in sim["mem"]}
    assert sim_mem[37][1] >= per_line[19][1]
    # every link points at the block of the function it names
    blocks = data["source"]["blocks"]
    for r in m["lines"] + m["functions"] + [f for s in m["leaks"] for f in s["frames"]]:
        if r["b"] >= 0:
            assert blocks[r["b"]]["file"] == r["file"]
    assert all(f["b"] >= 0 for f in leak["frames"])
    # the sections are small whatever the number of stacks
    assert len(stack_rows(mem_in)) > 1000 and len(m["lines"]) <= 300 and len(m["functions"]) <= 100


def test_lines_and_memory_in_one_profile():
    data = page_data(to_html(load_real("both")))
    assert data["memory"] is not None
    ev = block(data, "Simulator.evolve")
    assert ev["time"] and ev["mem"]
    mem = {r[0]: r for r in ev["mem"]}
    # one list iterator per step; the float arithmetic reuses the float free list, so
    # (as memray records) it allocates nothing: the 99,900 blocks once shown there were
    # the 3.11 trace function's own work charged to the program
    if sys.version_info < (3, 14):           # 3.14+ recycles list iterators too
        assert mem[35][2] >= 990
    assert 36 not in mem or mem[36][2] < 100
    # the line-timed blocks come first, then the memory-only ones
    kinds = [b["time"] is not None for b in data["source"]["blocks"]]
    assert kinds[:2] == [True, True] and not any(kinds[2:])


def _memory_section(functions, frames, stacks, timeline=None, lines=None, **totals):
    t = {"alloc_count": 0, "alloc_bytes": 0, "free_count": 0, "free_bytes": 0,
         "live_count": 0, "live_bytes": 0, "peak_count": 0, "peak_bytes": 0,
         "peak_time": 0.0, "tracker_bytes": 0}
    t.update(totals)
    return {"version": 1, "mode": "exact", "sample_bytes": None, "native": False,
            "max_frames": 64, "forked": False, "functions": functions, "frames": frames,
            "stacks": stacks, "totals": t,
            "timeline": timeline or {"t": [0.0, 0.1], "rss": [1 << 20, 2 << 20], "heap": [0, 1 << 20]},
            **({"lines": lines} if lines is not None else {})}


def test_timeline_is_thinned_keeping_the_peaks():
    n = 10_000
    t = [i * 0.001 for i in range(n)]
    heap = [(i % 100) * 1000 for i in range(n)]
    heap[7777] = 99_999_999
    prof = Profile(meta={"command": "x.py"})
    prof.extra["memory"] = _memory_section([], [], [], {"t": t, "rss": [5] * n, "heap": heap})
    tl = report_data(prof)["memory"]["timeline"]
    assert len(tl["t"]) <= report_html.TIMELINE_POINTS
    assert max(tl["heap"]) == 99_999_999 and tl["t"] == sorted(tl["t"])
    assert tl["t"][0] == 0.0 and tl["t"][-1] == pytest.approx(t[-1])


def test_malformed_memory_section_costs_only_itself():
    prof = sample_profile()
    prof.extra["memory"] = {"stacks": [["not", "a", "stack"]]}
    data = report_data(prof)
    assert "error" in data["memory"]
    assert len(data["threads"]) == 2                   # the rest of the report is there


# -- source files ----------------------------------------------------------------------------

def test_source_reader(tmp_path):
    (tmp_path / "latin.py").write_bytes("# -*- coding: latin-1 -*-\ns = 'caf\xe9'\n".encode("latin-1"))
    (tmp_path / "bin.py").write_bytes(b"\x00\x01\x02")
    (tmp_path / "crlf.py").write_bytes(b"\xef\xbb\xbfdef f():\r\n    return 1\r\n\r\nx = 2\r\n")
    r = SourceReader(str(tmp_path))
    assert r.lines("latin.py")[1] == "s = 'café'"                # relative to the root
    assert r.lines("bin.py") is None and r.reason("bin.py") == "not a text file"
    assert r.lines(str(tmp_path / "crlf.py")) == ["def f():", "    return 1", "", "x = 2"]
    assert r.block_end(str(tmp_path / "crlf.py"), 1) == 2
    assert r.lines("<string>") is None and "not from a file" in r.reason("<string>")
    assert r.lines(str(tmp_path / "gone.py")) is None
    assert r.reason(str(tmp_path / "gone.py")) == "source file not found"
    assert r.line("latin.py", 2) == "s = 'café'" and r.line("latin.py", 99) == ""


def test_long_blocks_keep_the_lines_with_data_and_context(tmp_path):
    path = tmp_path / "big.py"
    path.write_text("".join(f"x{i} = {i}\n" for i in range(1, 1001)))
    ex = SourceReader().excerpt(str(path), 1, [500, 900], whole_file=True)
    assert ex.numbers == [1] + list(range(497, 504)) + list(range(897, 904))
    assert ex.text[ex.numbers.index(500)] == "x500 = 500"
    small = SourceReader().excerpt(str(path), 1, [5, 30], whole_file=True, max_lines=2000)
    assert small.numbers == list(range(1, 1001))


# -- hostile strings -------------------------------------------------------------------------

def hostile_profile(tmp_path: Path) -> tuple[Profile, Path]:
    """A profile with line and memory data about a real file whose name, function name and
    source text are all written to break out of the page."""
    # the path holds PWN2 and "</script>..." literally (its slashes make directories)
    src = Path(f"{tmp_path}/{PWN2}/{PWN1}.py")
    src.parent.mkdir(parents=True)
    src.write_text(
        f'def {"evil"}():\n'
        f'    s = "{PWN1}"\n'
        f"    t = '{PWN2}'\n"
        f'    """{PWN3} -->\n'
        f'    </textarea></style></title>{PWN1}"""\n'
        f'    return s + t  # {PWN2}\n', encoding="utf-8")
    filename = str(src)
    name = f"{PWN1}{PWN2}"
    funcs = list(SAMPLE_FUNCS) + [Function(filename, 1, "evil", name)]
    n = len(SAMPLE_FUNCS)
    prof = build(funcs, [(1, PWN2, [(0, 1, 5, [(n, 2, 4, [])])])],
                 meta={"command": f"{PWN1}.py", "cwd": str(tmp_path)})
    prof.extra["lines"] = {"version": 1, "unit": 1e-9, "mode": "explicit", "samples": 0,
                           "functions": [{"filename": filename, "lineno": 1, "name": name,
                                          "lines": [[2, 1, 100], [3, 1, 200], [6, 1, 50]],
                                          "auto": None}]}
    prof.extra["memory"] = _memory_section(
        [[filename, name, 1], [f"/lib/{PWN3}/{PWN2}.py", PWN1, 7]],
        [[0, 2], [0, 6], [1, 8]],
        [[[0], 0, 0, 2, 4096, 0, 0, 2, 4096], [[2, 1], 1, 0, 1, 8192, 0, 0, 1, 8192]],
        lines=[{"filename": filename, "lineno": 1, "name": name,
                "lines": [[2, 4096, 4096, 1], [6, 12288, 8192, 1]]}],
        alloc_bytes=12288, alloc_count=3, live_bytes=12288, live_count=3, peak_bytes=12288)
    return prof, src


def test_nothing_in_line_or_memory_data_injects(tmp_path):
    prof, src = hostile_profile(tmp_path)
    page = to_html(prof)
    for bad in PWNS + ("</textarea>", "</title><"):
        assert bad not in page
    assert page.count("</style>") == page.count("</title>") == 1          # the page's own
    tags = _Tags()
    tags.feed(page)
    assert tags.scripts == 2 and "img" not in tags.tags and "textarea" not in tags.tags
    data = page_data(page)
    assert data == json.loads(json.dumps(report_data(prof)))
    b = data["source"]["blocks"][0]
    assert b["path"] == str(src) and PWN1 in b["file"] and b["name"] == f"{PWN1}{PWN2}"
    assert b["text"] == src.read_text(encoding="utf-8").splitlines()      # verbatim
    assert b["time"] and b["mem"] and b["mp"]
    m = data["memory"]
    assert {r["name"] for r in m["lines"]} == {f"{PWN1}{PWN2}", PWN1}
    assert any(r["src"] == f's = "{PWN1}"' for r in m["lines"])
    assert {r[0] for r in b["mem"]} == {2, 6}                  # line 6 called into the library
    assert any(f["name"] == PWN1 and PWN2 in f["file"] for s in m["leaks"] for f in s["frames"])


def test_wide_profile_with_line_data_stays_compact():
    prof = wide_profile(50_000)
    f = prof.functions[123]
    prof.extra["lines"] = {"version": 1, "unit": 1e-9, "mode": "explicit", "samples": 0,
                           "functions": [{"filename": f.filename, "lineno": f.lineno,
                                          "name": f.display_name, "lines": [[f.lineno + 1, 1, 5]],
                                          "auto": None}]}
    data = report_data(prof)
    assert len(data["source"]["blocks"]) == 1 and data["source"]["blocks"][0]["f"] == 123
