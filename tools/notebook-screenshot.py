"""Make docs/notebook-magic.png, the README's picture of the notebook magics.

Runs examples/magics.ipynb headless (nbclient, ipykernel on this interpreter), keeps the
cells up to the first %lprun, renders them with nbconvert's HTML exporter (without
its CDN scripts, which none of the outputs needs) and photographs the page with headless
Chromium (Debian's ``chromium``; ``make browser``).

    .venv-3.12/bin/python tools/notebook-screenshot.py [out.png]
"""
from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def main(argv: list[str]) -> int:
    out = Path(argv[0] if argv else ROOT / "docs" / "notebook-magic.png").resolve()
    try:
        import nbformat
        from nbclient import NotebookClient
        from nbconvert import HTMLExporter
    except ImportError as exc:
        print(f"notebook-screenshot: {exc.name} is missing (pip install -r requirements-dev.txt)",
              file=sys.stderr)
        return 2
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    if not chromium:
        print("notebook-screenshot: no chromium on PATH (make browser)", file=sys.stderr)
        return 2
    with tempfile.TemporaryDirectory() as tmp:
        home = Path(tmp)
        spec = home / "kernels" / "hotpath-shot"
        spec.mkdir(parents=True)
        (spec / "kernel.json").write_text(json.dumps({
            "argv": [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"],
            "display_name": "Python 3", "language": "python"}))
        os.environ.update(JUPYTER_PATH=str(home), JUPYTER_RUNTIME_DIR=str(home / "rt"),
                          IPYTHONDIR=str(home / "ipy"), JUPYTER_PLATFORM_DIRS="1")
        nb = nbformat.read(str(ROOT / "examples" / "magics.ipynb"), as_version=4)
        last = next(i for i, c in enumerate(nb.cells) if c.source.startswith("%lprun"))
        nb.cells = [c for c in nb.cells[:last + 1] if c.cell_type == "code"]
        NotebookClient(nb, kernel_name="hotpath-shot", timeout=240).execute()
        body, _ = HTMLExporter(template_name="lab").from_notebook_node(nb)
        # The exported page loads require.js and MathJax from a CDN; none of the outputs
        # needs them, and offline they would hold the page (and the iframes) back.
        body = re.sub(r'<script src="https?://[^"]*">\s*</script>', "", body)
        page = home / "page.html"
        page.write_text(body, encoding="utf-8")
        out.parent.mkdir(parents=True, exist_ok=True)
        subprocess.run([chromium, "--headless", "--no-sandbox", "--disable-gpu",
                        "--hide-scrollbars", "--window-size=1100,1230",
                        "--virtual-time-budget=15000", "--run-all-compositor-stages-before-draw",
                        f"--screenshot={out}", page.as_uri()],
                       check=True, capture_output=True, timeout=120)
    print(out)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
