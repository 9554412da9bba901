"""What ``-o`` points at keeps its kind: a symlink stays a link (its target gets the data),
a FIFO and a device are written through, never replaced by a regular file; a regular file
is replaced atomically. Checked through the ``hotpath`` command."""
from __future__ import annotations

import os
import stat
import threading

import pytest

from hotpath import fileformat
from hotpath.outfile import open_output

PROGRAM = "def work():\n    return sum(i * i for i in range(20000))\nwork()\n"


def _one_error_line(stderr: str) -> str:
    lines = [ln for ln in stderr.splitlines() if ln.strip()]
    assert "Traceback" not in stderr, stderr
    errors = [ln for ln in lines if ln.startswith("hotpath: error: ")]
    assert len(errors) == 1, stderr
    return errors[0]


def test_run_output_to_symlink_writes_its_target(runner):
    runner.write("prog.py", PROGRAM)
    os.mkdir(runner.cwd / "store")
    link = runner.cwd / "latest.hprof"
    os.symlink(os.path.join("store", "run1.hprof"), link)       # dangling, relative
    r = runner.hotpath("run", "-q", "-o", "latest.hprof", "prog.py")
    assert r.returncode == 0, r.stderr
    assert link.is_symlink() and os.readlink(link) == os.path.join("store", "run1.hprof")
    target = runner.cwd / "store" / "run1.hprof"
    assert stat.S_ISREG(target.lstat().st_mode)
    assert any(f.name == "work" for f in fileformat.read(target).functions)
    first = target.read_bytes()
    r = runner.hotpath("run", "-q", "-o", "latest.hprof", "prog.py")   # replace target
    assert r.returncode == 0, r.stderr
    assert link.is_symlink() and target.read_bytes() != first
    assert sorted(os.listdir(runner.cwd / "store")) == ["run1.hprof"]  # no temp files


def test_export_to_symlink_writes_its_target(runner):
    runner.write("prog.py", PROGRAM)
    assert runner.hotpath("run", "-q", "prog.py").returncode == 0
    (runner.cwd / "out.prof").write_bytes(b"old")
    os.symlink("out.prof", runner.cwd / "link.prof")
    r = runner.hotpath("export", "prog.hprof", "-f", "pstats", "-o", "link.prof")
    assert r.returncode == 0, r.stderr
    assert (runner.cwd / "link.prof").is_symlink()
    import pstats
    assert any(k[2] == "work" for k in pstats.Stats(str(runner.cwd / "out.prof")).stats)


def test_run_output_to_fifo_is_written_through(runner):
    runner.write("prog.py", PROGRAM)
    fifo = runner.cwd / "pipe"
    os.mkfifo(fifo)
    got: list[bytes] = []

    def reader() -> None:
        with open(fifo, "rb") as f:
            got.append(f.read())
    t = threading.Thread(target=reader, daemon=True)
    t.start()
    r = runner.hotpath("run", "-q", "-o", "pipe", "prog.py", timeout=60)
    t.join(30)
    assert r.returncode == 0, r.stderr
    assert stat.S_ISFIFO(fifo.lstat().st_mode)              # still a FIFO
    profile = fileformat.loads(got[0])                        # the reader got the profile
    assert any(f.name == "work" for f in profile.functions)
    assert sorted(os.listdir(runner.cwd)) == ["pipe", "prog.py"]


needs_root = pytest.mark.skipif(os.geteuid() != 0, reason="mknod needs root")


@needs_root
def test_run_output_to_char_device_keeps_the_device(runner):
    runner.write("prog.py", PROGRAM)
    dev = runner.cwd / "null"
    os.mknod(dev, 0o666 | stat.S_IFCHR, os.makedev(1, 3))   # a private /dev/null
    r = runner.hotpath("run", "-o", "null", "prog.py")
    assert r.returncode == 0, r.stderr
    st = dev.lstat()
    assert stat.S_ISCHR(st.st_mode) and st.st_rdev == os.makedev(1, 3)
    assert "profile written to null" in r.stderr
    r = runner.hotpath("export", "null", "-f", "pstats", "-o", "x")   # not readable back
    assert r.returncode == 2
    assert sorted(os.listdir(runner.cwd)) == ["null", "prog.py"]


@needs_root
def test_output_to_full_device_is_one_error_line(runner):
    runner.write("prog.py", PROGRAM)
    assert runner.hotpath("run", "-q", "prog.py").returncode == 0
    dev = runner.cwd / "full"
    os.mknod(dev, 0o666 | stat.S_IFCHR, os.makedev(1, 7))   # a private /dev/full
    for fmt in ("pstats", "html", "collapsed"):
        r = runner.hotpath("export", "prog.hprof", "-f", fmt, "-o", "full")
        assert r.returncode == 2, r.stderr
        assert "No space left on device" in _one_error_line(r.stderr)
        assert stat.S_ISCHR(dev.lstat().st_mode)
    # the run itself: the program's own exit status, one error line, no "written"
    r = runner.hotpath("run", "-o", "full", "prog.py")
    assert "No space left on device" in _one_error_line(r.stderr)
    assert "profile written" not in r.stderr
    assert stat.S_ISCHR(dev.lstat().st_mode) and dev.lstat().st_rdev == os.makedev(1, 7)
    assert sorted(os.listdir(runner.cwd)) == ["full", "prog.hprof", "prog.py"]


def test_regular_file_replaced_atomically_and_keeps_its_mode(tmp_path):
    target = tmp_path / "out.txt"
    target.write_text("old")
    os.chmod(target, 0o640)
    with pytest.raises(RuntimeError):
        with open_output(target, "w", encoding="utf-8") as f:
            f.write("half")
            raise RuntimeError("killed midway")
    assert target.read_text() == "old"                       # untouched on failure
    with open_output(target, "w", encoding="utf-8") as f:
        f.write("new")
    assert target.read_text() == "new"
    assert stat.S_IMODE(target.stat().st_mode) == 0o640
    assert os.listdir(tmp_path) == ["out.txt"]
    with pytest.raises(IsADirectoryError):
        with open_output(tmp_path, "wb"):
            pass
