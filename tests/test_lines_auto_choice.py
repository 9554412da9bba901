"""``hotpath run --lines=auto`` chooses what the program keeps running, the same each run.

The program imports a module that works hard while it is imported (compiling regular
expressions, writing and reading files through ``Path.open``, parsing JSON), then runs
one clearly hot function. Import-time work runs once and must not use up the choice:
the sampler used to pick ``re._parser`` / ``re._compiler`` functions and ``Path.open``,
a different set each run, often all ten slots. Checked through the CLI, five runs, by
reading the chosen functions from each written profile.
"""
from __future__ import annotations

from pathlib import Path

from hotpath import fileformat

HEAVY_IMPORT = """\
    import json
    import re
    import tempfile
    from pathlib import Path

    _DIR = Path(tempfile.mkdtemp())
    PATTERNS = [re.compile(rf"(?P<k{i}>[a-z]{{{i % 7 + 1}}})\\d+_{i}|x{i}y+|[{i % 10}-9]+q")
                for i in range(1200)]
    DATA = []
    for i in range(200):
        p = _DIR / f"f{i}.json"
        with p.open("w") as f:
            json.dump({"i": i, "v": list(range(50))}, f)
        with p.open() as f:
            DATA.append(json.load(f))
    """

PROGRAM = """\
    import heavy_import

    def hot(n):
        total = 0
        for i in range(n):
            total += (i * i) % 7
        return total

    def main():
        s = 0
        for _ in range(30):
            s += hot(30000)
        print(s, len(heavy_import.PATTERNS), len(heavy_import.DATA))

    main()
    """


def _chosen(runner, out: str) -> set[tuple[str, str]]:
    r = runner.hotpath("run", "--lines=auto", "-o", out, "prog.py")
    assert r.returncode == 0, r.stderr
    lines = fileformat.read(str(runner.cwd / out)).extra["lines"]
    return {(Path(f["filename"]).name, f["name"]) for f in lines["functions"] if f.get("auto")}


def test_auto_chooses_the_hot_function_not_import_work_and_the_same_each_run(runner):
    runner.write("heavy_import.py", HEAVY_IMPORT)
    runner.write("prog.py", PROGRAM)
    choices = [_chosen(runner, f"run{i}.hprof") for i in range(5)]
    # Every run picks the hot function and nothing of the import machinery. The choice is
    # a threshold on sampled shares, so on a machine slowed down enough (AddressSanitizer,
    # heavy load) the loop that drives it can cross the line in a run; the same set must
    # still come out in at least four runs of five.
    assert all(("prog.py", "hot") in c and all(f == "prog.py" for f, _ in c)
               for c in choices), choices
    most = max(choices.count(c) for c in choices)
    assert most >= 4 and {("prog.py", "hot")} in choices, choices
