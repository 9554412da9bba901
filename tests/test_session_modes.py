"""The session runs every mode through one interface (hotpath.session.modes.Mode).

A mode of the test's own, listed after the functions mode, sees the calls in the
documented order (install, start in order; stop in reverse order before any finish;
finish; after_write; show of the last mode only) and what it adds to the profile lands
in the file next to the function timings; a mode that cannot start fails the run before
the program's first line, with the modes already started undone.
"""
from __future__ import annotations

import json

DRIVER = r'''
import json, sys
from hotpath.model import Profile
from hotpath.session.functions import FunctionsMode
from hotpath.session.modes import Mode, Session
from hotpath.session.program import Program, StartFailed

calls = []

class Recorder(Mode):
    name = "recorder"
    def __init__(self, tag, fail=False):
        self.tag, self.fail = tag, fail
    def install(self): calls.append(("install", self.tag))
    def start(self):
        calls.append(("start", self.tag))
        if self.fail:
            raise RuntimeError("the hook is taken")
    def stop(self): calls.append(("stop", self.tag))
    def finish(self, profile):
        calls.append(("finish", self.tag, len(profile.functions) > 0))
        profile.extra.setdefault("recorder", []).append(self.tag)
    def after_write(self, profile, path):
        calls.append(("after_write", self.tag))
        return f" [{self.tag}]"
    def show(self, profile, stream):
        calls.append(("show", self.tag))
        stream.write(f"table of {self.tag}\n")
    def abandon(self): calls.append(("abandon", self.tag))

fail = sys.argv[1] == "fail"
modes = [FunctionsMode(), Recorder("a"), Recorder("b", fail=fail)]
s = Session(Program("script", "prog.py"), modes, "out.hprof")
s.install()
try:
    status = s.run()
except StartFailed as e:
    status = f"start failed: {e}"
sys.__stdout__.write(json.dumps({"calls": calls, "status": status}) + "\n")
'''


def test_modes_compose_through_the_interface(runner):
    runner.write("prog.py", "def work():\n    return sum(range(100))\nwork()\nprint('ran')\n")
    runner.write("driver.py", DRIVER)
    r = runner.python("driver.py", "ok")
    assert r.returncode == 0, r.stderr
    out = r.stdout.splitlines()
    assert out[0] == "ran"
    got = json.loads(out[-1])
    assert got["status"] == 0
    assert [tuple(c) for c in got["calls"]] == [
        ("install", "a"), ("install", "b"), ("start", "a"), ("start", "b"),
        ("stop", "b"), ("stop", "a"),
        # finish in reverse order too: the functions mode (first) fills the tree last
        ("finish", "b", False), ("finish", "a", False),
        ("after_write", "a"), ("after_write", "b"), ("show", "b")]
    assert "table of b\n" in r.stderr and "table of a" not in r.stderr
    assert "(hotpath report out.hprof) [a] [b]" in r.stderr
    from hotpath import fileformat
    prof = fileformat.read(str(runner.cwd / "out.hprof"))
    assert prof.extra["recorder"] == ["b", "a"]
    assert prof.meta["mode"] == "recorder"
    assert any(f.name == "work" for f in prof.functions)     # the functions mode's part


def test_a_mode_that_cannot_start_undoes_the_others(runner):
    runner.write("prog.py", "print('ran')\n")
    runner.write("driver.py", DRIVER)
    r = runner.python("driver.py", "fail")
    assert r.returncode == 0, r.stderr
    got = json.loads(r.stdout.splitlines()[-1])
    assert "ran" not in r.stdout
    assert got["status"] == "start failed: the hook is taken"
    assert [tuple(c) for c in got["calls"]] == [
        ("install", "a"), ("install", "b"), ("start", "a"), ("start", "b"), ("abandon", "a")]
    assert not (runner.cwd / "out.hprof").exists()
