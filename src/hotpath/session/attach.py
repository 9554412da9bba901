"""``hotpath attach PID``: profile a running Python process (CPython 3.14+, PEP 768).

Two sides, one request:

* the attaching side (``attach``) writes a small script and a JSON request into a
  private temporary folder and hands the script to ``sys.remote_exec(pid, script)``; the
  target runs it in its main thread at its next safe point. It then waits for the
  target's answer files beside the output path: ``OUT.started``, then ``OUT`` (the
  profile) or ``OUT.error`` (one line). Ctrl-C (or the end of ``--duration``, counted by
  the target) creates ``OUT.stop``.
* the target side (``agent``, run by that script) starts the capture in the main thread,
  starts one daemon thread (``hotpath-attach``) that waits for the duration or the stop
  file, then stops the capture, removes every hook it set (the sampler thread, the
  profiler or line tracer) and writes the profile atomically
  (``OUT.tmp`` renamed). Anything that fails is caught and written to ``OUT.error``; the
  target's own code never sees an exception from hotpath.

The script imports the attaching side's hotpath (its folder is put on ``sys.path`` only
when the target cannot import hotpath itself, and taken off again), so the target needs
the same Python version (the C core is built for it).
"""
from __future__ import annotations

import json
import os
import sys
import time

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

__all__ = ["agent", "AttachError", "attach", "MODES", "supported"]

MODES = ("sample", "functions", "lines")

_SCRIPT = '''\
def _hotpath_attach(request_path, hotpath_dir):
    import json, sys
    with open(request_path) as f:
        request = json.load(f)
    added = False
    try:
        try:
            import hotpath.session.attach as agent
        except ImportError:
            sys.path.append(hotpath_dir)
            added = True
            import hotpath.session.attach as agent
        agent.agent(request)
    except BaseException as e:
        try:
            with open(request["out"] + ".error", "w") as f:
                f.write(f"{type(e).__name__}: {e}\\n")
        except BaseException:
            pass
    finally:
        if added and hotpath_dir in sys.path:
            sys.path.remove(hotpath_dir)
try:
    _hotpath_attach(%(request)r, %(hotpath_dir)r)
finally:
    del _hotpath_attach
'''


class AttachError(Exception):
    """Attaching failed; the message is one line for the user."""


def supported() -> str | None:
    """None when this Python can attach; else why not (one line)."""
    if sys.version_info < (3, 14) or not hasattr(sys, "remote_exec"):
        v = ".".join(map(str, sys.version_info[:3]))
        return (f"hotpath attach needs CPython 3.14 or newer (sys.remote_exec, PEP 768); "
                f"this is Python {v}")
    return None


# -- the target's side ---------------------------------------------------------------------

def _resolve(spec: str) -> Any:
    """A function of a module the target has loaded, from ``mod:Class.func`` (or
    ``path/file.py:func``, matched against the loaded modules' files)."""
    target, _, qual = spec.rpartition(":")
    mod = sys.modules.get(target)
    if mod is None and target.endswith(".py"):
        want = os.path.abspath(target)
        mod = next((m for m in list(sys.modules.values())
                    if getattr(m, "__file__", None)
                    and os.path.abspath(m.__file__) == want), None)
    if mod is None:
        raise ValueError(f"-f {spec}: the target has no module {target!r} loaded")
    obj: Any = mod
    for part in qual.split("."):
        obj = getattr(obj, part, None)
        if obj is None:
            raise ValueError(f"-f {spec}: {target} has no {qual}")
    return obj


class _Capture:
    """One mode's capture inside the target: start, stop, profile."""

    def __init__(self, request: dict) -> None:
        self.mode = request["mode"]
        self.request = request
        if self.mode == "sample":
            from hotpath.capture.sampling import Sampler
            self.c: Any = Sampler(request.get("rate") or 1000, request.get("clock") or "wall")
        elif self.mode == "functions":
            from hotpath.capture.functions import Profile
            self.c = Profile()
        else:
            from hotpath.capture.lines import LineProfiler
            self.c = LineProfiler()
            specs = request.get("functions") or []
            if not specs:
                raise ValueError("--mode lines needs -f mod:func")
            for spec in specs:
                self.c.add_function(_resolve(spec))

    def start(self) -> None:
        if self.mode == "sample":
            self.c.start()
        else:
            self.c.enable()

    def stop(self) -> None:
        if self.mode == "sample":
            self.c.stop()
        else:
            self.c.disable()

    def profile(self, skip_thread: int) -> Any:
        from hotpath.model import Profile
        if self.mode == "lines":
            p = Profile()
            p.extra["lines"] = self.c.line_data("explicit")
            return p
        if self.mode == "sample":
            return self.c.snapshot(exclude_threads=(skip_thread,))
        p = self.c.snapshot()
        p.threads = [t for t in p.threads if t.thread_id != skip_thread]
        return p


def agent(request: dict) -> None:
    """Run in the target's main thread by the injected script: start, and leave a thread
    that stops and writes (see the module docstring). Raises only before anything is
    started (the script writes the error file)."""
    import threading

    from hotpath import __version__, fileformat
    out = request["out"]
    cap = _Capture(request)
    start_time = time.time()
    cap.start()

    def finish() -> None:
        try:
            duration = request.get("duration")
            deadline = time.monotonic() + duration if duration else None
            while not os.path.exists(out + ".stop"):
                if deadline is not None and time.monotonic() >= deadline:
                    break
                time.sleep(0.05)
        finally:
            try:
                cap.stop()
                p = cap.profile(threading.get_ident())
                p.meta.update({
                    "command": f"attach {os.getpid()}: {' '.join(sys.argv)}",
                    "argv": list(sys.argv), "kind": "attach", "cwd": os.getcwd(),
                    "mode": {"sample": "sample", "functions": "function"}.get(
                        cap.mode, "lines"),
                    "start_time": start_time, "duration": time.time() - start_time,
                    "hotpath_version": __version__})
                fileformat.write(p, out + ".tmp")
                os.replace(out + ".tmp", out)
            except BaseException as e:
                with open(out + ".error", "w") as f:
                    f.write(f"{type(e).__name__}: {e}\n")

    t = threading.Thread(target=finish, name="hotpath-attach", daemon=True)
    try:
        t.start()
    except BaseException:
        cap.stop()
        raise
    with open(out + ".started", "w") as f:
        f.write(str(os.getpid()))


# -- the attaching side --------------------------------------------------------------------

def attach(pid: int, out: str, mode: str = "sample", duration: float | None = None,
           functions: list[str] | None = None, rate: float = 1000.0, clock: str = "wall",
           start_timeout: float = 30.0, say: Any = None) -> None:
    """Profile process ``pid`` and write its profile to ``out``. AttachError (one line)
    when it cannot; the target keeps running either way."""
    import shutil
    import tempfile
    why = supported()
    if why:
        raise AttachError(why)
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        raise AttachError(f"no process {pid}") from None
    except PermissionError:
        pass                                   # remote_exec says what it needs
    out = os.path.abspath(out)
    for suffix in ("", ".started", ".stop", ".error", ".tmp"):
        try:
            os.unlink(out + suffix)
        except FileNotFoundError:
            pass
    folder = tempfile.mkdtemp(prefix="hotpath-attach-")
    done = False
    try:
        os.chmod(folder, 0o755)                # a target of another user reads it
        request = {"mode": mode, "out": out, "duration": duration, "rate": rate,
                   "clock": clock, "functions": functions or []}
        req_path = os.path.join(folder, "request.json")
        with open(req_path, "w") as f:
            json.dump(request, f)
        script = os.path.join(folder, "attach.py")
        here = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
        with open(script, "w") as f:
            f.write(_SCRIPT % {"request": req_path, "hotpath_dir": here})
        for p in (req_path, script):
            os.chmod(p, 0o644)
        try:
            sys.remote_exec(pid, script)       # type: ignore[attr-defined]
        except (OSError, RuntimeError, ValueError) as e:
            raise AttachError(f"cannot attach to process {pid}: {e}") from None
        _wait(pid, out, duration, start_timeout, say)
        done = True
    finally:
        shutil.rmtree(folder, ignore_errors=True)
        if done:
            for suffix in (".started", ".stop"):
                try:
                    os.unlink(out + suffix)
                except FileNotFoundError:
                    pass
        else:                  # a script that runs late stops at once and leaves no hook
            try:
                with open(out + ".stop", "w"):
                    pass
            except OSError:
                pass


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _wait(pid: int, out: str, duration: float | None, start_timeout: float,
          say: Any) -> None:
    """Wait for the target's answer; Ctrl-C (or SIGTERM) asks it to stop and write."""
    import signal

    def interrupt(signum: int, frame: Any) -> None:
        raise KeyboardInterrupt
    for sig in (signal.SIGINT, signal.SIGTERM):   # also when started with SIGINT ignored
        try:
            signal.signal(sig, interrupt)
        except (ValueError, OSError):              # not the main thread
            pass
    t0 = time.monotonic()
    started = False
    stop_sent_at: float | None = None
    while True:
        try:
            if os.path.exists(out + ".error"):
                with open(out + ".error") as f:
                    msg = f.read().strip()
                os.unlink(out + ".error")
                raise AttachError(f"in process {pid}: {msg}")
            if os.path.exists(out):
                return
            if not started and os.path.exists(out + ".started"):
                started = True
                if say:
                    say(f"hotpath: profiling process {pid}"
                        + (f" for {duration:g} s" if duration else " (Ctrl-C to stop)"))
            if not _alive(pid):
                raise AttachError(f"process {pid} ended before its profile was written")
            now = time.monotonic()
            if not started and now - t0 > start_timeout:
                raise AttachError(
                    f"process {pid} did not run the attach script within {start_timeout:g} s "
                    "(it runs when the target's main thread next runs Python code)")
            if stop_sent_at is not None and now - stop_sent_at > 30:
                raise AttachError(f"process {pid} did not write its profile")
            time.sleep(0.05)
        except KeyboardInterrupt:
            if stop_sent_at is None:
                with open(out + ".stop", "w"):
                    pass
                stop_sent_at = time.monotonic()
                if not started:            # the script may still run: it stops at once
                    started = True
