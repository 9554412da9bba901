"""Following child processes: every Python child of the program is profiled in the
run's modes, and the parent merges them into its one profile file.

How a child is found:

* **spawned interpreters** (``subprocess`` running ``sys.executable``, ``multiprocessing``
  spawn and forkserver): the parent (``Follow.start``) sets ``HOTPATH_FOLLOW`` (JSON: the
  run directory, the modes' specs, the Python version) and puts ``hotpath/_boot`` first
  on ``PYTHONPATH``; that directory's ``sitecustomize`` calls ``start_child`` at start-up.
  Both variables stay in ``os.environ`` so that grandchildren are followed too (a
  program that passes its own ``env=`` without them runs that child unprofiled); the
  directory is taken off the child's ``sys.path``, and the ``sitecustomize`` it hides
  still runs.
* **forks** (``os.fork``, ``multiprocessing`` fork, forkserver's children): an
  ``os.register_at_fork`` hook drops what the child inherited and starts recording
  afresh in it (line-profiled code objects are carried over).

How a child's profile is written, once, by whichever comes first: ``atexit`` (a normal
end, ``sys.exit``); the end of ``multiprocessing``'s ``BaseProcess._bootstrap`` (its
children leave by ``os._exit``, which runs no atexit); SIGTERM, when the program left it
at its default (``Pool.terminate()`` and ``with Pool()`` end workers by it): the profile
is written, then the process ends by the signal as it would have. A child that is
SIGKILLed, crashes, calls ``os._exit`` itself or ``exec``s another program writes no
profile: the marker it wrote at start-up tells the parent about it, and the report says
which child is missing and why.

Every process writes ``<key>.json`` (pid, parent pid, argv, start) when it starts and
``<key>.hprof`` when it ends into the run directory; ``Follow.collect`` merges them into
the parent's profile (``hotpath.model.processes``) and removes the directory.
Interpreters of another Python version are not followed (their ``sitecustomize`` sees
the version and does nothing), nor are ``multiprocessing``'s helper processes (the
resource tracker, the forkserver itself; the forkserver's children are).
"""
from __future__ import annotations

import atexit
import json
import os
import sys
import time

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

    from hotpath.model import Profile

    from .modes import Mode

__all__ = ["ENV", "Follow", "start_child", "mode_from_spec", "start_modes", "end_modes",
           "hoist_own_frames"]

ENV = "HOTPATH_FOLLOW"
_HOTPATH_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))   # .../hotpath
BOOT_DIR = os.path.join(_HOTPATH_DIR, "_boot")

#: The run this process follows children for (the parent's config, or the one it was
#: started with); None: not following.
_config: dict[str, Any] | None = None
#: The recording of this process when it is a followed child (None in the parent).
_current: Recorder | None = None
#: The modes recording in this process now (the session's, or a recorder's): a fork
#: child drops them and carries their line-profiled code over to its own.
_live: list[Mode] = []


def mode_from_spec(spec: dict[str, Any]) -> Mode:
    """The mode ``Mode.spec()`` described (ValueError for an unknown kind)."""
    kind = spec.get("kind")
    if kind == "functions":
        from .functions import FunctionsMode
        return FunctionsMode(builtins=bool(spec.get("builtins", True)),
                             max_nodes=int(spec.get("max_nodes", 1 << 20)))
    if kind == "lines":
        from .lines import LinesMode
        return LinesMode(spec.get("mode") or "explicit", spec.get("specs") or ())
    if kind == "memory":
        from .memory import MemoryMode
        return MemoryMode(spec.get("mode") or "exact", spec.get("specs") or (),
                          sample_bytes=int(spec.get("sample_bytes", 16384)),
                          native=bool(spec.get("native", False)),
                          interval=float(spec.get("interval", 0.01)))
    raise ValueError(f"unknown mode {kind!r}")


def start_modes(specs: list[dict[str, Any]], inherited: list[Mode] | None = None
                ) -> list[Mode]:
    """Build, install and start in this process the modes ``specs`` describe (a followed
    child, a Dask worker); ``inherited``: the modes of this process before a fork, whose
    line-profiled code the new ones profile too. On failure the modes built so far are
    abandoned and the exception propagates."""
    modes: list[Mode] = []
    try:
        for spec in specs:
            m = mode_from_spec(spec)
            m.install()
            modes.append(m)
        for old, new in zip(inherited or [], modes):
            _carry_lines(old, new)
        for m in modes:
            m.start()
    except Exception:
        for m in modes:
            try:
                m.abandon()
            except Exception:
                pass
        raise
    return modes


def end_modes(modes: list[Mode]) -> Profile:
    """Stop ``modes`` (those of ``start_modes``) and put what they recorded into one new
    profile, without hotpath's own frames. Meta of the process is the caller's."""
    # Stop first, allocating nothing before (a memory mode would count it).
    i = len(modes)
    while i:
        i -= 1
        modes[i].stop()
    from hotpath.model import Profile
    profile = Profile()
    for m in reversed(modes):
        m.finish(profile)
    hoist_own_frames(profile)
    return profile


# -- the parent ---------------------------------------------------------------------------

class Follow:
    """The parent's side: ``start()`` before the program's first line (the environment
    its children inherit), ``collect(profile)`` after it has ended (merge, clean up)."""

    def __init__(self, modes: list[Mode]) -> None:
        self.modes = modes
        self.specs = [s for s in (m.spec() for m in modes) if s]
        self.dir: str | None = None
        self._saved: dict[str, str | None] = {}

    def start(self) -> None:
        global _config
        self.dir = _run_dir()
        root = os.path.dirname(_HOTPATH_DIR)
        config = {"dir": self.dir, "modes": self.specs, "root": root,
                  "python": list(sys.version_info[:2]),
                  "implementation": sys.implementation.name}
        for name in (ENV, "PYTHONPATH"):
            self._saved[name] = os.environ.get(name)
        os.environ[ENV] = json.dumps(config, separators=(",", ":"))
        old = os.environ.get("PYTHONPATH")
        os.environ["PYTHONPATH"] = BOOT_DIR + (os.pathsep + old if old else "")
        _config = config
        _live[:] = self.modes
        _register_fork_hook()

    def restore_env(self) -> None:
        """Give the environment back as it was (the program has ended)."""
        global _config
        _config = None
        _live[:] = []
        for name, value in self._saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
        self._saved = {}

    def collect(self, profile: Profile, start_time: float) -> None:
        """Merge every child's profile into ``profile`` (a process entry each; missing
        ones with their reason), then remove the run directory."""
        self.restore_env()
        if self.dir is None:
            return
        try:
            merge_run_dir(profile, self.dir, start_time)
        finally:
            _remove_dir(self.dir)
            self.dir = None


def _run_dir() -> str:
    """A new private directory for the run's children (``tempfile.mkdtemp``'s rule for
    where, without importing tempfile and its dependencies before the program runs)."""
    bases = [os.environ.get(k) for k in ("TMPDIR", "TEMP", "TMP")] + ["/tmp", os.getcwd()]
    for base in filter(None, bases):
        for n in range(100):
            path = os.path.join(base, f"hotpath-run-{os.getpid()}-{time.monotonic_ns() + n}")
            try:
                os.mkdir(path, 0o700)
                return path
            except FileExistsError:
                continue
            except OSError:
                break
    raise OSError("no writable temporary directory for the children's profiles")


def merge_run_dir(profile: Profile, directory: str, start_time: float) -> int:
    """Merge the children recorded in ``directory`` into ``profile``; their number."""
    from hotpath import fileformat
    from hotpath.model.processes import ProcessInfo, add_process
    try:
        names = os.listdir(directory)
    except OSError:
        return 0
    records = []
    for name in names:
        if not name.endswith(".json"):
            continue
        try:
            with open(os.path.join(directory, name), encoding="utf-8") as f:
                rec = json.load(f)
        except (OSError, ValueError):
            continue
        rec["key"] = name[:-5]
        records.append(rec)
    if not records:
        return 0
    records.sort(key=lambda r: (r.get("start", 0), r.get("pid", 0)))
    profile.meta.setdefault("pid", os.getpid())
    profile.meta.setdefault("ppid", os.getppid())
    by_pid: dict[int, list[dict]] = {}
    for r in records:
        by_pid.setdefault(r.get("pid", 0), []).append(r)
    count = 0
    for r in records:
        path = os.path.join(directory, r["key"] + ".hprof")
        info = ProcessInfo(int(r.get("pid", 0)), int(r.get("ppid", 0)),
                           [str(a) for a in r.get("argv", [])], str(r.get("label", "")),
                           float(r.get("start", 0.0)))
        child = None
        if os.path.exists(path):
            try:
                child = fileformat.read(path)
            except (OSError, fileformat.FormatError) as e:
                info.status, info.reason = "missing", f"its profile could not be read ({e})"
        else:
            later = [o for o in by_pid[info.pid] if o.get("start", 0) > info.start]
            if later and r.get("forked"):
                continue                 # the fork exec'd a program: that one is its record
            info.status = "missing"
            info.reason = r.get("failed") or _why_missing(info.pid)
        if child is not None:
            info.end = child.meta.get("end_time")
            info.label = str(child.meta.get("label") or info.label)
            if child.meta.get("ended_by"):
                info.reason = f"ended by {child.meta['ended_by']} (profile written first)"
        add_process(profile, child, info)
        count += 1
    return count


def _remove_dir(path: str) -> None:
    """Remove the run directory (flat: markers and profiles)."""
    try:
        for name in os.listdir(path):
            try:
                os.unlink(os.path.join(path, name))
            except OSError:
                pass
        os.rmdir(path)
    except OSError:
        pass


def _why_missing(pid: int) -> str:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return ("it ended without writing its profile: killed by a signal (SIGKILL), "
                "crashed, or left by os._exit")
    except OSError:
        pass
    return "it was still running when the program ended"


# -- a followed child ---------------------------------------------------------------------

def _label(argv: list[str]) -> str:
    """A short description of a child for the process tree."""
    if "--multiprocessing-fork" in argv:
        return "multiprocessing (spawn)"
    return ""


def _dask_worker_label() -> str:
    """"dask worker NAME (ADDRESS)" in a process that ran one Dask worker (a
    ``LocalCluster``'s nanny starts each in a process of its own); "" otherwise."""
    mod = sys.modules.get("distributed.worker")
    if mod is None:
        return ""
    try:
        workers = list(mod.Worker._instances)
        if len(workers) != 1:
            return ""
        w = workers[0]
        return f"dask worker {w.name} ({w.address_safe})"
    except Exception:
        return ""


def start_child(config: dict[str, Any]) -> None:
    """From ``sitecustomize``: record this interpreter as a child of the run."""
    global _config
    argv = list(getattr(sys, "orig_argv", None) or sys.argv)
    text = " ".join(argv)
    if "multiprocessing.resource_tracker" in text:
        return                          # a helper that outlives the program: not followed
    _config = config
    _register_fork_hook()
    if "multiprocessing.forkserver" in text:
        return                          # the forkserver itself is not recorded; its children are
    rec = Recorder(config, os.getppid(), argv, _label(argv))
    rec.begin([])


class Recorder:
    """The recording of one followed child process."""

    def __init__(self, config: dict[str, Any], ppid: int, argv: list[str], label: str = "",
                 forked: bool = False) -> None:
        self.config = config
        self.pid = os.getpid()
        self.ppid = ppid
        self.argv = argv
        self.label = label
        self.forked = forked
        self.start = time.time()
        self.key = f"{self.pid}-{time.monotonic_ns()}"
        self.modes: list[Mode] = []
        self.done = False
        self.ready = False
        self.writing = False
        self.written = False            # finish() is over (the profile written or not)
        self.pending_signal = 0
        import _thread
        self.once = _thread.allocate_lock()     # held by the one finish() that writes

    def _marker(self, **more: Any) -> None:
        rec = {"pid": self.pid, "ppid": self.ppid, "argv": self.argv, "label": self.label,
               "start": self.start, "forked": self.forked, **more}
        path = os.path.join(self.config["dir"], self.key + ".json")
        # Written whole or not at all: the process may end by SIGTERM (whose handler
        # writes the profile) while it rewrites its marker, and a truncated marker
        # would drop the process, profile and all, from the merge.
        tmp = path + f".{time.monotonic_ns()}.tmp"
        try:
            with open(tmp, "w", encoding="utf-8") as f:
                json.dump(rec, f)
            os.replace(tmp, path)
        except BaseException:
            try:
                os.unlink(tmp)
            except OSError:
                pass
            raise

    def begin(self, inherited: list[Mode]) -> None:
        """Write the start marker, start the modes (``inherited``: the modes this process
        had before a fork, dropped already), arrange for the profile to be written."""
        global _current
        _on_sigterm(self)               # first: a pool may end a worker that is starting
        try:
            self._marker()
        except OSError:
            self.done = True
            return                      # the run directory is gone: the parent has ended
        _current = self
        err = _mute()
        try:
            self.modes = start_modes(self.config.get("modes", []), inherited)
        except Exception as e:
            self.done = True
            try:
                self._marker(failed=f"it could not be profiled: {type(e).__name__}: {e}")
            except OSError:
                pass
            return
        finally:
            _unmute(err)
        _live[:] = self.modes
        atexit.register(self.finish)
        self.ready = True
        if self.pending_signal:         # SIGTERM came while starting: end by it now
            _end_by(self, self.pending_signal)

    def abandon(self) -> None:
        """In a fork child of this process: drop this recording (nothing written)."""
        self.done = True
        for m in reversed(self.modes):
            try:
                m.abandon()
            except Exception:
                pass
        try:
            atexit.unregister(self.finish)
        except Exception:
            pass

    def finish(self, ended_by: str = "") -> None:
        """Stop recording and write this process's profile (once; never raises)."""
        if self.done or os.getpid() != self.pid or not self.once.acquire(False):
            return
        # From here until ``written`` the SIGTERM handler only notes the signal (the lock
        # is held): acting on it would find finish() taken and end the process before
        # this call has written anything.
        self.writing = True
        self.done = True
        try:
            self._write(ended_by)
        finally:
            self.written = True
            self.writing = False
        if self.pending_signal and not ended_by:    # a SIGTERM came while writing
            _die_by(self.pending_signal)

    def _write(self, ended_by: str) -> None:
        mp = sys.modules.get("multiprocessing.process")
        if mp is not None and self.label.startswith("multiprocessing"):
            try:
                self.label = f"multiprocessing: {mp.current_process().name}"
            except Exception:
                pass
        self.label = _dask_worker_label() or self.label
        err = _mute()
        try:
            profile = end_modes(self.modes)
            from hotpath import fileformat
            profile.meta.update({
                "pid": self.pid, "ppid": self.ppid, "argv": self.argv, "label": self.label,
                "start_time": self.start, "end_time": time.time(),
                "ended_by": ended_by, "mode": self.modes[-1].name if self.modes else "",
                "warnings": err.getvalue() if err is not None else ""})
            fileformat.write(profile, os.path.join(self.config["dir"], self.key + ".hprof"))
        except Exception as e:
            try:
                self._marker(failed=f"its profile could not be written: "
                                    f"{type(e).__name__}: {e}")
            except OSError:
                pass
        finally:
            _unmute(err)


class _Muted:
    """Where a child's hotpath messages go (kept in its profile, not on its stderr)."""

    def __init__(self) -> None:
        import io
        self.buffer = io.StringIO()
        self.saved = sys.stderr

    def getvalue(self) -> str:
        return self.buffer.getvalue()


def _mute() -> _Muted | None:
    try:
        m = _Muted()
    except Exception:
        return None
    sys.stderr = m.buffer
    return m


def _unmute(m: _Muted | None) -> None:
    if m is not None and sys.stderr is m.buffer:
        sys.stderr = m.saved


def _carry_lines(old: Mode, new: Mode) -> None:
    """Line-profiled code objects of ``old`` (registered before a fork) are profiled
    by ``new`` too."""
    for attr in ("lp", "lines"):
        a, b = getattr(old, attr, None), getattr(new, attr, None)
        if a is None or b is None:
            continue
        for code in list(getattr(a, "_codes", ())):
            try:
                b.add_code(code)
            except Exception:
                pass


# -- SIGTERM, fork, multiprocessing ---------------------------------------------------------

def _on_sigterm(rec: Recorder) -> None:
    """Write the profile on SIGTERM, then end by it, when the program left it at its
    default (only the main thread can set a handler). While the recording is starting
    the signal is held until it has started."""
    import signal
    try:
        if signal.getsignal(signal.SIGTERM) is not signal.SIG_DFL:
            return

        def handler(signum: int, frame: Any) -> None:
            if (rec.writing or (not rec.ready and not rec.done)
                    or (rec.once.locked() and not rec.written)):
                rec.pending_signal = signum       # acted on when that is over
                return
            _end_by(rec, signum)
        signal.signal(signal.SIGTERM, handler)
    except (ValueError, OSError, AttributeError):
        return
    _guard_sigterm(rec)


def _guard_sigterm(rec: Recorder) -> None:
    """The handler above runs in the main thread between bytecodes: a SIGTERM that comes
    just before the main thread blocks in C code that does not look at signals again
    (``multiprocessing``'s semaphores: a pool worker waiting for a task while the pool is
    terminated) would never run it, and the process would never end. So the signal also
    wakes a thread of hotpath's (a raw ``_thread``, not in ``threading.enumerate()``)
    through ``signal.set_wakeup_fd``; if the handler has not started writing shortly
    after, that thread writes the profile and ends the process by the signal itself.
    A program that sets its own wakeup fd (asyncio) replaces this guard."""
    import _thread
    import signal
    try:
        r, w = os.pipe()
        os.set_blocking(w, False)
        os.set_inheritable(r, False)
        os.set_inheritable(w, False)
        if signal.set_wakeup_fd(w, warn_on_full_buffer=False) != -1:
            signal.set_wakeup_fd(-1)    # the program's own: leave it
            os.close(r)
            os.close(w)
            return
    except (ValueError, OSError, AttributeError):
        return

    def guard() -> None:
        while True:
            try:
                data = os.read(r, 64)
            except OSError:
                return
            if not data:
                return
            if signal.SIGTERM not in data:
                continue
            # A recording still starting acts on the signal itself once started (the
            # handler held it): writing now would write what it has not yet recorded.
            # (Bounded: a start that never ends must not keep the process alive.)
            deadline = time.monotonic() + 5.0
            while not (rec.ready or rec.done) and time.monotonic() < deadline:
                time.sleep(0.01)
            time.sleep(0.25)            # the main thread's handler usually runs first
            if rec.done or os.getpid() != rec.pid:
                return
            rec.finish("SIGTERM")
            _die_by(signal.SIGTERM)
            return
    _thread.start_new_thread(guard, ())


def _end_by(rec: Recorder, signum: int) -> None:
    """Write the profile, then end the process by ``signum`` as it would have ended."""
    import signal
    rec.finish("SIGTERM" if signum == signal.SIGTERM else f"signal {signum}")
    _die_by(signum)


def _die_by(signum: int) -> None:
    """End the process by ``signum`` at its default action."""
    import signal
    import threading
    if threading.current_thread() is threading.main_thread():
        signal.signal(signum, signal.SIG_DFL)
    else:                               # signal.signal() is for the main thread only
        import ctypes
        ctypes.CDLL(None).signal(signum, 0)          # SIG_DFL
    os.kill(os.getpid(), signum)


def _patch_bootstrap() -> None:
    """Have ``multiprocessing``'s process bootstrap write the profile when the process
    function has returned (its children then leave by ``os._exit``, without atexit)."""
    mp = sys.modules.get("multiprocessing.process")
    if mp is None:
        return
    cls = mp.BaseProcess
    orig = cls.__dict__.get("_bootstrap")
    if orig is None or getattr(orig, "_hotpath_wraps", None) is not None:
        return

    def _bootstrap(self: Any, *args: Any, **kw: Any) -> Any:
        rec = _current
        if rec is not None and rec.pid == os.getpid():
            rec.label = f"multiprocessing: {self.name}"
            try:
                rec._marker()           # named now, in case it never ends normally
            except OSError:
                pass
        try:
            return orig(self, *args, **kw)
        finally:
            rec = _current
            if rec is not None:
                rec.finish()
    _bootstrap._hotpath_wraps = orig          # type: ignore[attr-defined]
    _bootstrap.__doc__ = orig.__doc__
    cls._bootstrap = _bootstrap


#: Threads (by ident) that blocked SIGTERM for a fork of theirs, to unblock it after.
_held_for_fork: set[int] = set()


def _before_fork() -> None:
    """Hold SIGTERM in the forking thread across the fork: a child that is sent it before
    its handler is set (a pool terminated while a worker is starting) would otherwise
    die at the default action before writing even its marker, and be absent from the
    report. The child gets the held signal once its handler is set."""
    if _config is None:
        return
    try:
        import _thread
        import signal
        old = signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGTERM})
        if signal.SIGTERM not in old:
            _held_for_fork.add(_thread.get_ident())
    except (AttributeError, ValueError, OSError):
        pass


def _release_sigterm() -> None:
    """Unblock SIGTERM if ``_before_fork`` blocked it in this thread."""
    try:
        import _thread
        import signal
        ident = _thread.get_ident()
        if ident in _held_for_fork:
            _held_for_fork.discard(ident)
            signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGTERM})
    except (AttributeError, ValueError, OSError):
        pass


def _after_fork_in_child() -> None:
    """A fork of a followed process: record the child afresh."""
    try:
        _record_fork_child()
    finally:
        _release_sigterm()


def _record_fork_child() -> None:
    if _config is None:
        return
    parent = _current
    inherited = list(_live)
    if parent is not None:
        parent.abandon()           # the session's own modes are dropped by session.program
    _patch_bootstrap()
    argv = list(getattr(sys, "orig_argv", None) or sys.argv)
    label = ""
    mp = sys.modules.get("multiprocessing.process")
    if mp is not None:
        try:
            label = f"multiprocessing: {mp.current_process().name}"
        except Exception:
            label = ""
    rec = Recorder(_config, parent.pid if parent is not None else os.getppid(), argv,
                   label, forked=True)
    rec.begin(inherited)


_hook_registered = False


def _register_fork_hook() -> None:
    global _hook_registered
    if not _hook_registered and hasattr(os, "register_at_fork"):
        os.register_at_fork(before=_before_fork, after_in_parent=_release_sigterm,
                            after_in_child=_after_fork_in_child)
        _hook_registered = True


# -- hotpath's own frames in a child's profile ----------------------------------------------

def hoist_own_frames(profile: Profile) -> None:
    """Take hotpath's own frames out of a child's call trees, in place: a frame of
    hotpath's (the start-up hook, the bootstrap wrapper, the code that writes the profile)
    is replaced by the program's calls below it, and C functions it called itself are
    dropped. Paths that become equal are merged; unused functions leave the table."""
    from array import array

    from hotpath.model import ROOT
    own_prefix = _HOTPATH_DIR + os.sep
    _hoist_memory(profile, own_prefix)
    fs = profile.functions
    own = [f.filename.startswith(own_prefix) for f in fs]
    if not any(own):
        return
    builtin = [f.is_builtin for f in fs]
    for t in profile.threads:
        func, parent, calls, selft, total = t.columns()
        n = len(func)
        where = [0] * n            # old index -> new index (of the node it merged into)
        state = [0] * n            # 0 kept, 1 hoisted (own frame), 2 dropped
        nf, np_, nc, ns, nt = [ROOT], [-1], [0], [0], [0]
        slot: dict[tuple[int, int], int] = {}
        for i in range(1, n):
            p = parent[i]
            f = func[i]
            if state[p] == 2 or (state[p] == 1 and builtin[f]):
                state[i] = 2
                continue
            if own[f]:
                state[i] = 1
                where[i] = where[p]
                continue
            key = (where[p], f)
            j = slot.get(key)
            if j is None:
                j = slot[key] = len(nf)
                nf.append(f)
                np_.append(where[p])
                nc.append(0)
                ns.append(0)
                nt.append(0)
            nc[j] += calls[i]
            ns[j] += selft[i]
            nt[j] += total[i]
            where[i] = j
        t.func, t.parent = array("i", nf), array("i", np_)
        t.calls, t.self_ticks, t.total_ticks = array("q", nc), array("q", ns), array("q", nt)
    profile.threads = [t for t in profile.threads if len(t.func) > 1]   # hotpath's own
    used = sorted({f for t in profile.threads for f in t.func} - {ROOT})
    renumber = {old: new for new, old in enumerate(used)}
    renumber[ROOT] = ROOT
    profile.functions = [fs[i] for i in used]
    for t in profile.threads:
        t.func = array("i", map(renumber.__getitem__, t.func))


def _hoist_memory(profile: Profile, own_prefix: str) -> None:
    """The same for the stacks of the memory section: hotpath's frames inside a stack
    (the fork hook's bootstrap wrapper, between the parent's frames and the child's) are
    taken out; stacks that become equal are added up."""
    from hotpath.model.memory import stack_rows, with_stack_rows
    mem = profile.extra.get("memory")
    if not isinstance(mem, dict) or not mem.get("stacks"):
        return
    own_func = {i for i, f in enumerate(mem.get("functions", []))
                if str(f[0]).startswith(own_prefix)}
    if not own_func:
        return
    own_frame = {i for i, f in enumerate(mem.get("frames", [])) if int(f[0]) in own_func}
    if not own_frame:
        return
    merged: dict[tuple, list] = {}
    for st in stack_rows(mem):
        frames = [w for w in st[0] if w not in own_frame]
        key = (tuple(frames), st[1], st[2])
        have = merged.get(key)
        if have is None:
            merged[key] = [frames, *st[1:]]
        else:
            for k in range(3, 9):
                have[k] += st[k]
    with_stack_rows(mem, list(merged.values()))
