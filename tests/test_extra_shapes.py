"""Checksum-valid profiles whose ``lines`` or ``memory`` section has the wrong shape:
the reader refuses them with one ``FormatError`` (one ``hotpath: error:`` line, exit 2),
and whatever it accepts, the reports show without an exception.

The variants are the fuzz target's (``fuzz/fuzz_reader.py``): every single-place change
of a valid section (each value replaced by other types and edge numbers, removed, lists
grown), re-encoded with correct checksums. They go through ``hotpath.cli.main`` — the
code the command runs — in-process for speed, and a few through the real command.
"""
from __future__ import annotations

import contextlib
import importlib.util
import io
import sys
from pathlib import Path

import pytest

from hotpath import cli, fileformat
from hotpath.extras import ShapeError, check_extra
from hotpath.model import Profile

REPO = Path(__file__).resolve().parent.parent


def _fuzz():
    # The script puts src/ first on sys.path (to fuzz the source tree); hotpath is
    # already imported here, and later tests' child processes must not see src/.
    saved = list(sys.path)
    spec = importlib.util.spec_from_file_location("fuzz_reader",
                                                  REPO / "fuzz" / "fuzz_reader.py")
    mod = importlib.util.module_from_spec(spec)
    try:
        spec.loader.exec_module(mod)
    finally:
        sys.path[:] = saved
    return mod


FUZZ = _fuzz()
VARIANTS = FUZZ.shape_seed_files()


def _cli(*args: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = cli.main(list(args))
    return code, out.getvalue(), err.getvalue()


def test_seed_sections_are_valid():
    check_extra("lines", FUZZ.LINES)
    check_extra("memory", FUZZ.MEMORY)
    for p in FUZZ.seed_profiles():
        assert fileformat.loads(fileformat.dumps(p)) == p


def test_every_wrong_shape_is_one_error_line_and_the_rest_render(tmp_path):
    path = tmp_path / "v.hprof"
    rejected = accepted = 0
    for what, data in VARIANTS:
        path.write_bytes(data)
        try:
            profile = fileformat.read(path)
        except fileformat.FormatError:
            profile = None
        try:
            code, out, err = _cli("report", str(path))
        except BaseException as e:                      # a traceback for the user
            raise AssertionError(f"variant {what}: report raised {e!r}") from e
        if profile is None:
            rejected += 1
            assert code == 2, what
            lines = err.splitlines()
            assert len(lines) == 1 and lines[0].startswith("hotpath: error: "), (what, err)
            assert "wrong shape" in lines[0], (what, err)
        else:
            accepted += 1
            assert code == 0 and not err, (what, err)
    assert rejected > 1000 and accepted > 100          # both kinds are exercised


def test_accepted_shapes_render_every_view(tmp_path):
    """What the reader lets through also renders as HTML and diffs against itself."""
    from hotpath.report.html import to_html
    seen = 0
    for what, data in VARIANTS[::7]:                    # a spread; HTML is slower
        try:
            profile = fileformat.loads(data)
        except fileformat.FormatError:
            continue
        seen += 1
        try:
            to_html(profile)
        except BaseException as e:
            raise AssertionError(f"variant {what}: to_html raised {e!r}") from e
    assert seen > 20


@pytest.mark.parametrize("what", ["memory['stacks'][0] += last item",
                                  "memory['frames'][0][0] = 2147483648",
                                  "lines['functions'][0]['lines'][0] = [0]",
                                  "memory['lines'][0]['lines'] = {'a': 1}"])
def test_real_command_says_one_line(runner, what):
    data = dict(VARIANTS)[what]
    (runner.cwd / "bad.hprof").write_bytes(data)
    for args in (["report", "bad.hprof"], ["view", "bad.hprof", "--no-browser"],
                 ["export", "bad.hprof", "-f", "html", "-o", "x.html"]):
        r = runner.hotpath(*args)
        assert r.returncode == 2, r.stderr
        assert r.stderr.count("\n") == 1 and "Traceback" not in r.stderr, r.stderr
        assert r.stderr.startswith("hotpath: error: bad.hprof: section EXTRA ")
        assert "wrong shape" in r.stderr


def test_writer_refuses_wrong_shapes():
    with pytest.raises(ShapeError, match=r"extra\['memory'\].*stacks\[0\]: must have 9"):
        fileformat.dumps(Profile(extra={"memory": {"stacks": [[[], 0, 0]]}}))
    with pytest.raises(ValueError, match=r"lines\.functions\[0\]: missing 'lines'"):
        fileformat.dumps(Profile(extra={"lines": {"functions": [
            {"filename": "a.py", "lineno": 1, "name": "f"}]}}))
    # other names stay free-form
    fileformat.dumps(Profile(extra={"samples": {"stacks": [[[], 0, 0]]}}))
