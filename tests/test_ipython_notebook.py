"""examples/magics.ipynb executed headless in a real Jupyter kernel (ipykernel on this
interpreter, run by nbclient), its rendered outputs checked, then converted to HTML by
nbconvert as a user would share it."""
from __future__ import annotations

import json
import re
import sys
from pathlib import Path

import pytest

for _mod in ("IPython", "ipykernel", "nbclient", "nbformat"):
    pytest.importorskip(_mod, reason=f"{_mod} is not installed (requirements-dev.txt)")

import nbformat  # noqa: E402
from nbclient import NotebookClient  # noqa: E402

NOTEBOOK = Path(__file__).resolve().parent.parent / "examples" / "magics.ipynb"
KERNEL = "hotpath-test"


def fib_calls(n: int) -> int:
    return 1 if n < 2 else 1 + fib_calls(n - 1) + fib_calls(n - 2)


@pytest.fixture(scope="module")
def executed(tmp_path_factory):
    """The example notebook after a headless run, with a kernel spec of our own that
    starts ipykernel on this very interpreter (so the installed hotpath is the one under
    test) and Jupyter's and IPython's files kept in a temporary directory."""
    home = tmp_path_factory.mktemp("jupyter")
    spec = home / "data" / "kernels" / KERNEL
    spec.mkdir(parents=True)
    (spec / "kernel.json").write_text(json.dumps({
        "argv": [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"],
        "display_name": "hotpath test", "language": "python"}))
    mp = pytest.MonkeyPatch()
    mp.setenv("JUPYTER_PATH", str(home / "data"))
    mp.setenv("JUPYTER_DATA_DIR", str(home / "data"))
    mp.setenv("JUPYTER_RUNTIME_DIR", str(home / "runtime"))
    mp.setenv("JUPYTER_CONFIG_DIR", str(home / "config"))
    mp.setenv("IPYTHONDIR", str(home / "ipython"))
    mp.setenv("JUPYTER_PLATFORM_DIRS", "1")
    mp.delenv("PYTHONPATH", raising=False)
    try:
        nb = nbformat.read(str(NOTEBOOK), as_version=4)
        client = NotebookClient(nb, kernel_name=KERNEL, timeout=240, allow_errors=False,
                                resources={"metadata": {"path": str(home)}})
        client.execute()
    finally:
        mp.undo()
    return nb


def cell_with(nb, source_start: str):
    for c in nb.cells:
        if c.cell_type == "code" and c.source.startswith(source_start):
            return c
    raise AssertionError(f"no cell starting {source_start!r}")


def rich(cell, mime: str) -> str:
    return "\n".join(o["data"][mime] for o in cell.outputs
                     if o.output_type in ("display_data", "execute_result") and mime in o["data"])


def stdout(cell) -> str:
    return "".join(o["text"] for o in cell.outputs
                   if o.output_type == "stream" and o["name"] == "stdout")


def test_no_cell_failed(executed):
    for c in executed.cells:
        if c.cell_type == "code":
            assert not [o for o in c.outputs if o.output_type == "error"], c.source


def test_hprun_table_and_inline_flame_graph(executed):
    c = cell_with(executed, "%hprun table(200)")
    text = rich(c, "text/plain")
    # table(200) calls fib(i % 12) for i < 200: the calls fib makes, counted exactly
    calls = sum(fib_calls(i % 12) for i in range(200))
    assert re.search(rf"^\s+{calls}/200\s.*\bfib \(", text, re.M), text
    html = rich(c, "text/html")
    assert '<iframe class="hp-flame"' in html and 'sandbox="allow-scripts"' in html
    assert "srcdoc=" in html and "hp-data" in html     # the report page and its data


def test_hprun_cell_form(executed):
    c = cell_with(executed, "%%hprun -s cumtime -l 5")
    text = rich(c, "text/plain")
    assert "top 5 of" in text and "by cumtime" in text
    assert "<iframe" in rich(c, "text/html")


def test_lprun_table(executed):
    c = cell_with(executed, "%lprun -f table")
    text = rich(c, "text/plain")
    assert "Line #      Hits         Time  Per Hit   % Time  Line Contents" in text
    hits = {m.group(2).strip(): int(m.group(1)) for m in re.finditer(
        r"^\s*\d+\s+(\d+)\s+[\d.]+\s+[\d.]+\s+[\d.]+\s{6}(.*)$", text, re.M)}
    assert hits["out.append(str(fib(i % 12)))"] == 50
    assert hits["for i in range(rows):"] == 51
    html = rich(c, "text/html")
    assert '<table class="hp-t"' in html and "out.append(str(fib(i % 12)))" in html


def test_mprun_and_memit(executed):
    c = cell_with(executed, "%mprun -f build build(16)")
    text = rich(c, "text/plain")
    assert "Line #    Mem usage    Increment  Occurrences   Line Contents" in text
    row = next(ln for ln in text.splitlines() if "keep = bytearray" in ln)
    inc = float(re.match(r"\s*\d+\s+[\d.]+ MiB\s+([\d.]+) MiB", row).group(1))
    assert abs(inc - 16.0) <= 0.2
    assert '<table class="hp-t"' in rich(c, "text/html")

    c = cell_with(executed, "%memit x = bytearray(32")
    m = re.fullmatch(r"peak memory: ([\d.]+) MiB, increment: ([\d.]+) MiB\n", stdout(c))
    assert m and abs(float(m.group(2)) - 32.0) <= 0.2, stdout(c)
    c = cell_with(executed, "%%memit data = list(range(1000))")
    assert re.fullmatch(r"peak memory: [\d.]+ MiB, increment: [\d.]+ MiB\n", stdout(c))


def test_hbench_comparison(executed):
    c = cell_with(executed, "%hbench -r 10")
    text = rich(c, "text/plain")
    assert "Normalised to sorted(data)" in text
    assert "list(reversed(data))" in text
    html = rich(c, "text/html")
    assert "mean / baseline" in html and "1.00 (baseline)" in html


def test_nbconvert_html_keeps_the_outputs(executed, tmp_path):
    nbconvert = pytest.importorskip("nbconvert", reason="nbconvert is not installed")
    body, _ = nbconvert.HTMLExporter().from_notebook_node(executed)
    assert body.count('<iframe class="hp-flame"') == 2
    assert body.count('<table class="hp-t"') >= 3
