"""HTML report: self-contained, injection-proof, and working in a real browser.

The browser tests load the report in headless Chromium (skipped when it is not
installed) with a small test script appended that drives the page the way a person
would — dispatching clicks, mouse moves and typing — and writes what it saw into
``<body data-result>``, which ``--dump-dom`` hands back.
"""
from __future__ import annotations

import base64
import html
import json
import re
import shutil
import os
import subprocess
import sys
from array import array
from html.parser import HTMLParser

import pytest

from export_profiles import EVIL_NAME, SAMPLE_FUNCS, build, sample_profile, wide_profile
from hotpath.model import Function
from hotpath.report import export
from hotpath.report.html import json_for_script, report_data, to_html

PWN1 = "</script><script>document.body.dataset.pwned='1'</script>"
PWN2 = "<img src=x onerror=\"document.body.dataset.pwned='2'\">"
PWN3 = "<!--<script>"


def evil_profile():
    """The sample profile plus functions, paths and metadata written to break out."""
    funcs = list(SAMPLE_FUNCS) + [Function(f"/p/{PWN3}.py", 3, PWN1, PWN1),
                                  Function(f"/p/{PWN2}.py", 4, PWN2, PWN2)]
    n = len(SAMPLE_FUNCS)
    tree = [(0, 1, 5, [(n, 2, 4, [(n + 1, 1, 3, [])]), (6, 1, 2, [])])]
    return build(funcs, [(1, "MainThread", tree), (2, PWN2, [(n + 1, 1, 7, [])])],
                 meta={"command": f"app.py </title>{PWN1}", "python": PWN2})


class _Scripts(HTMLParser):
    def __init__(self):
        super().__init__()
        self.scripts: list[dict] = []
        self.tags: list[str] = []

    def handle_starttag(self, tag, attrs):
        self.tags.append(tag)
        if tag == "script":
            self.scripts.append(dict(attrs))


def test_json_for_script_escapes():
    text = json_for_script({"a": "</script><!--\u2028&\ud800é"})
    assert "<" not in text and ">" not in text and "&" not in text
    assert text.isascii()
    assert json.loads(text) == {"a": "</script><!--\u2028&\ud800é"}


def test_nothing_injects_into_the_page():
    page = to_html(evil_profile())
    p = _Scripts()
    p.feed(page)
    assert len(p.scripts) == 2                      # the data block and the code
    assert p.scripts[0] == {"type": "application/json", "id": "hp-data"}
    assert "img" not in p.tags
    for bad in (PWN1, PWN2, PWN3, "</title><"):
        assert bad not in page
    # the data block reads back to exactly the data
    m = re.search(r'<script type="application/json" id="hp-data">(.*?)</script>', page, re.S)
    data = json.loads(m.group(1))
    assert data == json.loads(json.dumps(report_data(evil_profile())))
    assert PWN1 in data["funcs"]["name"] and data["threads"][1]["name"].startswith(PWN2)


def test_report_data_matches_model():
    prof = sample_profile()
    data = report_data(prof)
    t0 = data["threads"][0]
    fs = prof.function_stats([prof.threads[0]])
    got = dict(zip(t0["fs"]["f"], zip(t0["fs"]["n"], t0["fs"]["p"], t0["fs"]["s"], t0["fs"]["c"])))
    assert got == {f: (s.calls, s.primitive_calls, s.self_ticks, s.cum_ticks) for f, s in fs.items()}
    assert data["files"][data["funcs"]["file"][8]] == "json/decoder.py"
    assert data["funcs"]["kind"][2] == 2 and data["funcs"]["kind"][0] == 0
    assert unpack(t0["nodes"]["t"])[0] == 139
    t = prof.threads[0]
    assert [unpack(t0["nodes"][k]) for k in "fpns"] == [
        list(t.func), list(t.parent), list(t.calls), list(t.self_ticks)]


def unpack(col):
    """A packed column of the page's data (html.packed_column) as a list, as the JS
    decodes it."""
    if isinstance(col, list):
        return col
    code = {"u8": "B", "i8": "b", "u16": "H", "i16": "h", "u32": "I", "i32": "i",
            "f64": "d"}[col["type"]]
    a = array(code, base64.b64decode(col["$b64"]))
    if sys.byteorder == "big":
        a.byteswap()
    return [int(v) for v in a]


@pytest.mark.parametrize("values", [[0, 1, 255], [-1, 0, 127], [0, 65535], [-32768, 5],
                                    [0, 2 ** 32 - 1], [-2 ** 31, 7], [0, 2 ** 40, -3],
                                    [2 ** 53], [-1], []])
def test_packed_columns_hold_every_value_exactly(values):
    from hotpath.report.html import packed_column
    col = packed_column(array("q", values))
    assert unpack(col) == values
    if values and max(map(abs, values)) < 256:
        assert col["type"] in ("u8", "i8")               # the narrowest type
    assert packed_column([2 ** 60, 0]) == [2 ** 60, 0]   # beyond f64's exact ints: a list


def test_export_registry(tmp_path):
    from hotpath.report import FORMATS
    assert {"pstats", "callgrind", "speedscope", "collapsed", "svg", "html"} <= set(FORMATS)
    for fmt in FORMATS:
        out = tmp_path / f"out.{fmt}"
        if fmt == "lprof":          # made of line timings, which this profile has none of
            from hotpath.report import ExportError
            with pytest.raises(ExportError, match="no line timings"):
                export(sample_profile(), fmt, str(out))
            assert not out.exists()
            continue
        export(sample_profile(), fmt, str(out))
        assert out.stat().st_size > 0
    with pytest.raises(ValueError, match=r"unknown export format 'nope'.*callgrind"):
        export(sample_profile(), "nope", str(tmp_path / "x"))


def test_a_memory_profile_is_refused_by_function_formats_naming_the_ones_that_show_it(tmp_path):
    from hotpath.model import Profile
    from hotpath.report import ExportError
    memory_only = Profile()
    memory_only.extra["memory"] = {}
    with pytest.raises(ExportError) as e:
        export(memory_only, "pstats", str(tmp_path / "m.prof"))
    # html shows a memory profile; lprof (line timings) does not, so it is not offered
    assert str(e.value).endswith("and so does --format html"), str(e.value)
    assert not (tmp_path / "m.prof").exists()


# -- in the browser ------------------------------------------------------------------------

def _browser_env() -> dict:
    """The environment for the browser: without the sanitizer preload of `make asan`,
    which would be inherited by (and break) Chromium."""
    env = dict(os.environ)
    for var in ("LD_PRELOAD", "ASAN_OPTIONS"):
        env.pop(var, None)
    return env


CHROMIUM = next((shutil.which(n) for n in ("chromium", "chromium-browser", "google-chrome")
                 if shutil.which(n)), None)
needs_browser = pytest.mark.skipif(CHROMIUM is None, reason="no headless Chromium here")

# Drives the page like a person; every step records what the page shows.
DRIVER = r"""
<script>
setTimeout(async function () {
  const R = {}, H = window.hotpath, S = H.state, sleep = (ms) => new Promise(r => setTimeout(r, ms));
  try {
    H.showView("profile");               // the page opens on its hot path; this drives the flame graph
    const canvas = document.getElementById("hp-flame"), rect = () => canvas.getBoundingClientRect();
    const px = canvas.getContext("2d").getImageData(0, 0, canvas.width, canvas.height).data;
    let painted = 0; for (let i = 0; i < px.length; i += 4) if (px[i] < 250 || px[i+1] < 250 || px[i+2] < 250) painted++;
    R.painted = painted; R.frames = S.visible; R.scripts = document.scripts.length;
    R.pwned = document.body.dataset.pwned || null;
    // where is a frame of `name` on the canvas?
    const T = () => S.tree, L = () => S.layout;
    const spot = (name) => {
      for (let i = 1; i < T().size; i++) {
        if (T().f[i] >= 0 && H.data.funcs.name[T().f[i]] === name && L()) {
          const x = (T().x[i] - L().x0) * L().scale + 2, row = L().baseRow + T().d[i] - T().d[S.zoom];
          return [i, rect().left + x, rect().top + row * 18 + 9];
        }
      }
      return null;
    };
    const mouse = (type, x, y) => canvas.dispatchEvent(new MouseEvent(type, {clientX: x, clientY: y, bubbles: true}));
    // hover
    let [i, x, y] = spot("main");
    mouse("mousemove", x, y);
    const tip = document.getElementById("hp-tip");
    R.tip = tip.hidden ? null : tip.textContent;
    // click to zoom
    [i, x, y] = spot("fib");
    mouse("click", x, y);
    R.zoomedOn = S.zoom === i ? H.data.funcs.name[T().f[S.zoom]] : null;
    R.crumbs = document.getElementById("hp-crumbs").textContent;
    R.zoomFrames = S.visible;
    R.detail = document.querySelector("#hp-detail h2") && document.querySelector("#hp-detail h2").textContent;
    R.callers = [...document.querySelectorAll("#hp-detail tbody tr td:first-child a")].map(a => a.textContent);
    document.getElementById("hp-reset").click();
    R.reset = S.zoom;
    // search, as typed
    const box = document.getElementById("hp-search");
    box.value = "decode"; box.dispatchEvent(new Event("input", {bubbles: true}));
    await sleep(400);
    R.matched = Number(document.body.dataset.matched);
    R.searchRows = [...document.querySelectorAll("#hp-table tbody tr td:first-child")].map(td => td.textContent);
    box.value = ""; box.dispatchEvent(new Event("input", {bubbles: true}));
    await sleep(400);
    // sort by clicking headers
    const th = (label) => [...document.querySelectorAll("#hp-table th")].find(t => t.textContent === label);
    const first = () => document.querySelector("#hp-table tbody tr td").textContent;
    R.defaultFirst = first();
    th("Self").click(); R.selfDesc = first();
    th("Self").click(); R.selfAsc = first();
    th("Function").click(); R.nameAsc = first();
    R.names = [...document.querySelectorAll("#hp-table tbody tr td:first-child")].map(td => td.textContent);
    // thread selector
    const sel = document.getElementById("hp-thread");
    R.threads = [...sel.options].map(o => o.textContent);
    sel.value = "1"; sel.dispatchEvent(new Event("change"));
    R.workerTotal = S.tree.t[0];
  } catch (e) { R.error = String(e.stack || e); }
  document.body.dataset.result = JSON.stringify(R);
}, 50);
</script>
"""


EVIL_DRIVER = r"""
<script>
setTimeout(function () {
  const H = window.hotpath, R = {};
  H.select(H.data.funcs.name.indexOf(H.data.funcs.name.find(n => n.startsWith("<\/script>"))), true);
  H.focusFunction(H.data.funcs.name.findIndex(n => n.startsWith("<img")));
  R.cells = [...document.querySelectorAll("td, h1, h2, option, #hp-crumbs a, #hp-match")].map(e => e.textContent);
  R.images = document.images.length;
  R.scripts = document.scripts.length;
  R.pwned = document.body.dataset.pwned || null;
  document.body.dataset.result = JSON.stringify(R);
}, 50);
</script>
"""


def _run_in_browser(page: str, tmp_path, driver: str = DRIVER) -> dict:
    path = tmp_path / "report.html"
    path.write_text(page.replace("</body>", driver + "</body>"), encoding="utf-8")
    r = subprocess.run([CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu",
                        "--window-size=1400,900", "--virtual-time-budget=10000",
                        "--dump-dom", path.as_uri()],
                       capture_output=True, text=True, timeout=180, env=_browser_env())
    m = re.search(r'<body[^>]*\sdata-result="([^"]*)"', r.stdout)
    assert m, f"no result from the page\n{r.stdout[-2000:]}\n{r.stderr[-2000:]}"
    body = re.search(r"<body[^>]*>", r.stdout).group(0)
    assert "data-error" not in body, html.unescape(body)
    return json.loads(html.unescape(m.group(1)))


@needs_browser
def test_report_in_chromium(tmp_path):
    R = _run_in_browser(to_html(sample_profile()), tmp_path)
    assert "error" not in R, R["error"]
    assert R["painted"] > 1000 and R["frames"] >= 20
    assert R["tip"].startswith("main") and "Calls: 1" in R["tip"] and "Self: 50.0 µs" in R["tip"]
    assert R["zoomedOn"] == "fib" and "fib" in R["crumbs"]
    assert R["zoomFrames"] < R["frames"]
    assert R["detail"] == "fib" and set(R["callers"]) >= {"main", "fib", "worker"}
    assert R["reset"] == 0
    assert R["matched"] == 20 and R["searchRows"] == ["JSONDecoder.decode"]
    assert R["defaultFirst"] == "main"                     # by total time
    assert R["selfDesc"] == "main" and R["selfAsc"] == "<built-in method builtins.len>"
    assert R["names"] == sorted(R["names"])
    assert R["threads"][0] == "All threads (2)" and len(R["threads"]) == 3
    assert R["workerTotal"] == 45


@needs_browser
def test_injection_attempts_stay_text_in_chromium(tmp_path):
    R = _run_in_browser(to_html(evil_profile()), tmp_path, EVIL_DRIVER)
    assert R["pwned"] is None and R["images"] == 0
    assert R["scripts"] == 3                               # data, code, the test driver
    cells = R["cells"]
    assert PWN1 in cells and PWN2 in cells                 # shown as text, verbatim
    assert f"app.py </title>{PWN1}" in cells              # the title
    assert any(c.startswith(PWN2) for c in cells)          # thread name in the selector


@needs_browser
def test_fifty_thousand_functions_in_chromium(tmp_path):
    page = to_html(wide_profile(50_000))
    path = tmp_path / "wide.html"
    path.write_text(page.replace("</body>", """<script>
      const H = window.hotpath, c = document.getElementById("hp-flame"), r = c.getBoundingClientRect();
      c.dispatchEvent(new MouseEvent("mousemove", {clientX: r.left + 300, clientY: r.top + 2 * 18 + 9}));
      const tip = document.getElementById("hp-tip").textContent;
      H.setSearch("f4999"); H.sortBy("name");
      document.body.dataset.result = JSON.stringify({rows: document.body.dataset.rows, tip,
          first: document.querySelector("#hp-table tbody td").textContent});
    </script></body>"""), encoding="utf-8")
    r = subprocess.run([CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu",
                        "--virtual-time-budget=10000", "--dump-dom", path.as_uri()],
                       capture_output=True, text=True, timeout=300, env=_browser_env())
    m = re.search(r'data-result="([^"]*)"', r.stdout)
    assert m, r.stderr[-2000:]
    got = json.loads(html.unescape(m.group(1)))
    assert got["rows"] == "11" and got["first"] == "f4999"
    # 6,250 sibling chains are each too narrow: drawn as one block with a tooltip
    assert got["tip"].startswith("6,250 frames too narrow to show")
    assert EVIL_NAME not in page
