"""``hotpath view`` and ``hotpath diff``: the report is written and opened (or its path
printed), the diff table says what got slower or faster, and nothing in a profile can
inject into the differential flame graph page or the terminal."""
from __future__ import annotations

import json
import re
from html.parser import HTMLParser

import pytest

from export_profiles import SAMPLE_FUNCS, build, sample_profile
from hotpath import cli, fileformat
from hotpath.model import Function
from hotpath.report.diff import diff_data, diff_functions, diff_tree, format_diff, to_html

# -- two versions of one program -------------------------------------------------------------
# A: main → fib (self 10 + 10 recursive), main → héllo_π → decode
# B: fib got slower (40 + 30), decode is gone, ping is new; B moved every line by 5, lives
#    in another checkout and uses a nanosecond timer (ticks ×1000).

def _moved(f: Function, root: str) -> Function:
    if f.is_builtin:
        return f
    return Function(f.filename.replace("/home/u/proj", root), f.lineno + 5, f.name, f.qualname)


def profile_a():
    tree = [(0, 1, 50, [(1, 1, 10, [(1, 2, 10, [])]), (7, 1, 3, [(8, 1, 20, [])])])]
    return build(SAMPLE_FUNCS, [(1, "MainThread", tree)], tick_seconds=1e-6,
                 meta={"command": "app.py", "cwd": "/home/u/proj"})


def profile_b():
    funcs = [_moved(f, "/srv/v2") for f in SAMPLE_FUNCS]
    k = 1000
    tree = [(0, 1, 50 * k, [(1, 1, 40 * k, [(1, 2, 30 * k, [])]), (7, 1, 3 * k, []),
                            (10, 2, 5 * k, [])])]
    return build(funcs, [(1, "MainThread", tree)], tick_seconds=1e-9,
                 meta={"command": "app.py", "cwd": "/srv/v2"})


def _rows(text: str) -> dict[str, list[str]]:
    """Table rows of ``format_diff`` output: label → [A, B, delta, ratio, calls]."""
    out = {}
    for line in text.splitlines()[4:]:
        m = re.match(r"\s*(\S+(?: \S+)?)\s+(\S+(?: \S+)?)\s+(\S+(?: \S+)?)\s+(\S+)\s+"
                     r"(.+?)  (\S.*)$", line)
        assert m, line
        out[m.group(6)] = [g.strip() for g in m.groups()[:5]]
    return out


def test_functions_match_across_moved_lines_and_checkouts():
    by_name = {d.key[1]: d for d in diff_functions(profile_a(), profile_b())}
    assert by_name["fib"].status == "both" and by_name["fib"].key == ("app.py", "fib", 0)
    assert by_name["fib"].label == "fib (app.py:25)"          # B's line
    assert by_name["JSONDecoder.decode"].status == "removed"
    assert by_name["ping"].status == "new"
    fib = by_name["fib"]
    assert fib.seconds("a") == pytest.approx(20e-6) and fib.seconds("b") == pytest.approx(70e-6)
    assert fib.seconds("a", "total") == pytest.approx(20e-6)
    assert fib.delta() == pytest.approx(50e-6) and fib.ratio() == pytest.approx(3.5)
    assert fib.calls("a") == fib.calls("b") == 3


def test_diff_table_contents():
    text = format_diff(profile_a(), profile_b(), names=("old.hprof", "new.hprof"))
    lines = text.splitlines()
    assert lines[0] == "hotpath diff: A = old.hprof, B = new.hprof"
    assert lines[1] == "total 93 µs → 128 µs (+35 µs, 1.38x); 1 new, 1 removed, 3 in both"
    assert lines[2] == "5 functions by delta, self time (tottime)"
    assert lines[3].split() == ["self", "A", "self", "B", "delta", "ratio", "calls", "function"]
    rows = _rows(text)
    assert rows["fib (app.py:25)"] == ["20 µs", "70 µs", "+50 µs", "3.50x", "3"]
    assert rows["JSONDecoder.decode (json/decoder.py:332)"] == ["20 µs", "-", "-20 µs", "removed", "1 → -"]
    assert rows["ping (app.py:55)"] == ["-", "5 µs", "+5 µs", "new", "- → 2"]
    assert rows["main (app.py:15)"] == ["50 µs", "50 µs", "0", "1.00x", "1"]
    # largest change first, either way; unchanged last
    assert list(rows)[:3] == ["fib (app.py:25)", "JSONDecoder.decode (json/decoder.py:332)",
                              "ping (app.py:55)"]


@pytest.mark.parametrize("sort,first", [
    ("delta", "fib"), ("slower", "fib"), ("faster", "JSONDecoder.decode"),
    ("ratio", "ping"), ("a", "main"), ("b", "fib"), ("name", "JSONDecoder.decode"),
])
def test_diff_sort_keys(sort, first):
    rows = _rows(format_diff(profile_a(), profile_b(), sort=sort))
    assert next(iter(rows)).startswith(first + " ")


def test_diff_metric_filter_limit():
    rows = _rows(format_diff(profile_a(), profile_b(), metric="total"))
    assert rows["main (app.py:15)"][:4] == ["93 µs", "128 µs", "+35 µs", "1.38x"]
    assert rows["Ünï.héllo_π (app.py:45)"][:4] == ["23 µs", "3 µs", "-20 µs", "0.13x"]
    text = format_diff(profile_a(), profile_b(), name_filter="^(fib|ping)")
    assert "functions matching '^(fib|ping)': 2 of 5" in text and len(_rows(text)) == 2
    text = format_diff(profile_a(), profile_b(), limit=2)
    assert "top 2 of 5 functions by delta" in text and len(_rows(text)) == 2
    with pytest.raises(ValueError, match="unknown sort key"):
        format_diff(profile_a(), profile_b(), sort="nope")
    with pytest.raises(ValueError, match="unknown metric"):
        format_diff(profile_a(), profile_b(), metric="nope")


def test_diff_colour_only_when_asked():
    plain = format_diff(profile_a(), profile_b())
    assert "\x1b" not in plain
    coloured = format_diff(profile_a(), profile_b(), colour=True)
    assert "\x1b[31m" in coloured and "\x1b[32m" in coloured     # slower red, faster green


def test_identity_and_builtin_addresses():
    a = build([Function("~", 0, "<function Random.seed at 0x7f12>"),
               Function("/p/m.py", 3, "<lambda>", "f.<locals>.<lambda>"),
               Function("/p/m.py", 9, "<lambda>", "f.<locals>.<lambda>")],
              [(1, "MainThread", [(0, 1, 5, []), (1, 1, 1, []), (2, 1, 2, [])])],
              meta={"cwd": "/p"})
    b = build([Function("~", 0, "<function Random.seed at 0x7fff>"),
               Function("/q/m.py", 4, "<lambda>", "f.<locals>.<lambda>"),
               Function("/q/m.py", 12, "<lambda>", "f.<locals>.<lambda>")],
              [(1, "MainThread", [(0, 1, 5, []), (1, 1, 1, []), (2, 1, 9, [])])],
              meta={"cwd": "/q"})
    rows = {d.label: d for d in diff_functions(a, b)}
    assert set(rows) == {"<function Random.seed>", "f.<locals>.<lambda> (m.py:4)",
                         "f.<locals>.<lambda> (m.py:12)"}
    assert all(d.status == "both" for d in rows.values())
    assert rows["f.<locals>.<lambda> (m.py:12)"].delta() == pytest.approx(7e-6)
    # identical profiles: nothing changed
    text = format_diff(a, a)
    assert "0 new, 0 removed, 3 in both" in text and "+" not in text.split("\n", 4)[4]


def test_diff_tree_merges_paths():
    t = diff_tree(profile_a(), profile_b())
    names = [t.functions[f].key[1] if f >= 0 else "root" for f in t.func]
    assert names == ["root", "main", "fib", "fib", "Ünï.héllo_π", "JSONDecoder.decode", "ping"]
    assert t.parent == [-1, 0, 1, 2, 1, 4, 1]
    assert t.a_total[:3] == [93, 93, 20] and t.b_total[:3] == [128_000, 128_000, 70_000]
    assert (t.a_calls[5], t.b_calls[5]) == (1, 0) and (t.a_calls[6], t.b_calls[6]) == (0, 2)
    data = diff_data(profile_a(), profile_b())
    assert data["tree"]["bt"] == t.b_total and data["funcs"]["st"].count(1) == 1
    assert data["a"]["s"][[d.key[1] for d in t.functions].index("fib")] == pytest.approx(20e-6)


# -- escaping ---------------------------------------------------------------------------------

PWN1 = "</script><script>document.body.dataset.pwned='1'</script>"
PWN2 = "<img src=x onerror=\"document.body.dataset.pwned='2'\">"


def evil_pair():
    a = sample_profile()
    b = sample_profile()
    b.functions[0] = Function("/home/u/proj/app.py", 10, PWN1, PWN1)
    b.functions[6] = Function(f"/p/{PWN2}<!--.py", 1, PWN2 + "\x1b]0;owned\x07", PWN2 + "\x1b[2J")
    b.meta["command"] = f"app.py </title>{PWN1}"
    return a, b


class _Tags(HTMLParser):
    def __init__(self):
        super().__init__()
        self.tags: list[str] = []
        self.scripts: list[dict] = []

    def handle_starttag(self, tag, attrs):
        self.tags.append(tag)
        if tag == "script":
            self.scripts.append(dict(attrs))


def test_diff_page_escapes_everything():
    a, b = evil_pair()
    page = to_html(a, b, names=(f"a{PWN2}.hprof", "b.hprof"))
    p = _Tags()
    p.feed(page)
    assert len(p.scripts) == 2 and p.scripts[0] == {"type": "application/json", "id": "hp-data"}
    assert "img" not in p.tags
    for bad in (PWN1, PWN2, "<!--.py", "</title><"):
        assert bad not in page
    m = re.search(r'<script type="application/json" id="hp-data">(.*?)</script>', page, re.S)
    data = json.loads(m.group(1))
    assert PWN1 in data["funcs"]["name"] and data["names"][0] == f"a{PWN2}.hprof"
    assert data["commands"][1] == f"app.py </title>{PWN1}"
    assert "default-src 'none'" in page                     # nothing external, ever


def test_diff_table_has_no_control_characters():
    a, b = evil_pair()
    text = format_diff(a, b, limit=0)
    assert "\x1b" not in text and "\x07" not in text
    assert PWN1 in text                                      # shown, verbatim, as text


# -- the CLI ----------------------------------------------------------------------------------

@pytest.fixture
def profiles(tmp_path):
    pa, pb = tmp_path / "a.hprof", tmp_path / "b.hprof"
    fileformat.write(profile_a(), str(pa))
    fileformat.write(profile_b(), str(pb))
    return pa, pb


def test_cli_diff(profiles, tmp_path, capsys):
    pa, pb = profiles
    out = tmp_path / "d.html"
    assert cli.main(["diff", str(pa), str(pb), "--limit", "2", "-o", str(out)]) == 0
    got = capsys.readouterr()
    assert got.out.startswith(f"hotpath diff: A = {pa}, B = {pb}\n")
    assert "top 2 of 5 functions by delta" in got.out and "fib (app.py:25)" in got.out
    assert got.err == f"hotpath: wrote {out} (differential flame graph)\n"
    assert 'id="hp-data"' in out.read_text(encoding="utf-8")
    assert cli.main(["diff", str(pa), str(pb), "--sort", "b"]) == 0
    assert next(iter(_rows(capsys.readouterr().out))).startswith("fib ")
    assert cli.main(["diff", str(pa), str(pb), "--sort", "b", "--metric", "total"]) == 0
    assert next(iter(_rows(capsys.readouterr().out))).startswith("main ")


@pytest.mark.parametrize("args,message", [
    (["diff", "{a}", "{missing}"], r"hotpath: error: .*missing\.hprof: no such file"),
    (["diff", "{bad}", "{b}"], r"hotpath: error: .*bad\.hprof: "),
    (["diff", "{a}", "{b}", "--filter", "("], r"hotpath: error: bad --filter '\(': "),
    (["diff", "{a}", "{b}", "--limit", "-1"], r"hotpath: error: --limit must be 0 or more"),
    (["diff", "{a}", "{b}", "-o", "{tmp}/no/such/dir/d.html"], r"hotpath: error: cannot write "),
    (["view", "{missing}"], r"hotpath: error: .*missing\.hprof: no such file"),
    (["view", "{bad}"], r"hotpath: error: .*bad\.hprof: "),
    (["view", "{a}", "-o", "{a}"], r"hotpath: error: refusing to overwrite the profile"),
    (["view", "{a}", "-o", "{tmp}/no/such/dir/r.html"], r"hotpath: error: cannot write "),
])
def test_cli_errors_are_one_line(profiles, tmp_path, capsys, args, message):
    pa, pb = profiles
    bad = tmp_path / "bad.hprof"
    bad.write_bytes(b"not a profile at all, just some bytes\n" * 3)
    subst = {"a": pa, "b": pb, "bad": bad, "missing": tmp_path / "missing.hprof", "tmp": tmp_path}
    assert cli.main([a.format(**subst) for a in args]) == 2
    got = capsys.readouterr()
    assert got.out == ""
    assert got.err.count("\n") == 1 and re.match(message, got.err), got.err


def test_cli_diff_real_profiles(runner):
    """Two checkouts of one program, each profiled in its own directory."""
    from conftest import Runner
    v1, v2 = Runner(runner.cwd / "v1"), Runner(runner.cwd / "v2")
    v1.write("prog.py", """
        def slow(n):
            return sum(i * i for i in range(n))
        def gone():
            return sorted(range(1000))
        slow(20000); gone()
    """)
    v2.write("prog.py", """
        def slow(n):
            return sum([i * i for i in range(n)])
        def added():
            return list(range(1000))
        slow(20000); added()
    """)
    assert v1.hotpath("run", "-q", "-o", "../a.hprof", "prog.py").returncode == 0
    assert v2.hotpath("run", "-q", "-o", "../b.hprof", "prog.py").returncode == 0
    r = runner.hotpath("diff", "a.hprof", "b.hprof", "--limit", "0", "-o", "d.html")
    assert r.returncode == 0, r.stderr
    rows = _rows(r.stdout)
    assert rows["gone (prog.py:4)"][3] == "removed"
    assert rows["added (prog.py:4)"][3] == "new"
    assert rows["slow (prog.py:2)"][3].endswith("x")        # in both: a ratio
    assert rows["<built-in method builtins.sorted>"][3] == "removed"
    assert (runner.cwd / "d.html").stat().st_size > 10_000


# -- hotpath view -------------------------------------------------------------------------------

class FakeBrowser:
    def __init__(self, result=True):
        self.result = result
        self.opened: list[tuple[str, int]] = []

    def __call__(self, url, new=0, autoraise=True):
        self.opened.append((url, new))
        if isinstance(self.result, Exception):
            raise self.result
        return self.result


@pytest.fixture
def browser(monkeypatch):
    import webbrowser
    fake = FakeBrowser()
    monkeypatch.setattr(webbrowser, "open", fake)
    monkeypatch.delenv("BROWSER", raising=False)
    monkeypatch.delenv("WAYLAND_DISPLAY", raising=False)
    monkeypatch.setenv("DISPLAY", ":0")
    return fake


def test_view_no_browser_prints_the_path(profiles, browser, capsys):
    pa, _ = profiles
    assert cli.main(["view", str(pa), "--no-browser"]) == 0
    out = pa.with_suffix(".html")
    assert capsys.readouterr().out == f"hotpath: report written to {out}\n"
    assert browser.opened == []
    page = out.read_text(encoding="utf-8")
    assert page.startswith("<!DOCTYPE html>") and 'id="hp-flame"' in page and "main" in page


def test_view_opens_the_browser(profiles, browser, tmp_path, capsys):
    pa, _ = profiles
    out = tmp_path / "sub dir" / "r.html"
    out.parent.mkdir()
    assert cli.main(["view", str(pa), "-o", str(out)]) == 0
    got = capsys.readouterr()
    assert got.out == "" and got.err == f"hotpath: opened {out} in a browser\n"
    assert browser.opened == [(out.as_uri(), 2)]
    assert out.exists() and "%20" in browser.opened[0][0]


@pytest.mark.parametrize("result", [False, RuntimeError("could not locate runnable browser")])
def test_view_falls_back_to_the_path(profiles, browser, capsys, result):
    pa, _ = profiles
    browser.result = result
    assert cli.main(["view", str(pa)]) == 0
    assert capsys.readouterr().out == f"hotpath: report written to {pa.with_suffix('.html')}\n"
    assert len(browser.opened) == 1


def test_view_without_a_display_does_not_start_a_console_browser(profiles, browser, monkeypatch,
                                                                  capsys):
    monkeypatch.delenv("DISPLAY")
    monkeypatch.setattr(cli.sys, "platform", "linux")
    pa, _ = profiles
    assert cli.main(["view", str(pa)]) == 0
    assert browser.opened == [] and "report written to" in capsys.readouterr().out
    monkeypatch.setenv("BROWSER", "firefox")                # the user's explicit choice
    assert cli.main(["view", str(pa)]) == 0
    assert len(browser.opened) == 1


def test_view_from_the_command_line(runner):
    runner.write("prog.py", "def f():\n    return sum(range(1000))\nf()\n")
    assert runner.hotpath("run", "-q", "-o", "p.hprof", "prog.py").returncode == 0
    r = runner.hotpath("view", "p.hprof", "--no-browser")
    assert r.returncode == 0, r.stderr
    assert r.stdout == f"hotpath: report written to {runner.cwd / 'p.html'}\n"
    assert (runner.cwd / "p.html").exists()


def test_empty_and_truncated_profiles():
    from hotpath.model import Profile
    empty = Profile(meta={"command": "nothing.py"})
    text = format_diff(empty, profile_b())
    assert "total 0 → 128 µs (+128 µs); 4 new, 0 removed, 0 in both" in text
    assert "0 new, 0 removed, 0 in both" in format_diff(empty, empty)
    page = to_html(empty, empty)
    assert '"f":[-1]' in page
    b = profile_b()
    b.threads[0].truncated = True
    assert "note: B: the call tree reached its size cap" in format_diff(profile_a(), b)
    assert diff_data(profile_a(), b)["truncated"] == [False, True]
