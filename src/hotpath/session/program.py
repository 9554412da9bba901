"""Running a program as ``python`` would, under a profiler.

``Program`` says what to run (a script path, ``-m module`` or ``-c code``) and its argv;
``run_program`` runs it with the same ``sys.argv``, ``__main__``, ``sys.path[0]``,
stdout, stderr and exit status as ``python`` itself, and guarantees ``on_finish`` is
called exactly once — when the program returns, raises, calls ``sys.exit``, gets
KeyboardInterrupt (SIGINT) or SIGTERM — before the process exits. The exit status is
then the program's own: exceptions print their traceback (without hotpath's frames)
through ``sys.excepthook`` and exit 1; SIGTERM is re-delivered after ``on_finish``.
"""
from __future__ import annotations

import _signal  # the signal module without its enum wrappers (issue 13, start-up)
import atexit
import os
import sys
import threading
import types
from array import array

TYPE_CHECKING = False
if TYPE_CHECKING:             # typing is not imported at run time (issue 13, start-up)
    from typing import Callable, TextIO

    from hotpath.model import Profile


class ProgramNotFound(Exception):
    """The script or module to run does not exist."""


class Program:
    """What to run: ``kind`` is "script", "module", "code" or "stdin"; ``target`` the
    path, module name or source text; ``args`` the program's own arguments."""

    __slots__ = ("kind", "target", "args")

    def __init__(self, kind: str, target: str, args: list[str] | None = None) -> None:
        self.kind = kind
        self.target = target
        self.args = [] if args is None else args

    def __eq__(self, other: object) -> bool:
        if type(other) is not Program:
            return NotImplemented
        return (self.kind, self.target, self.args) == (other.kind, other.target, other.args)

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return f"Program(kind={self.kind!r}, target={self.target!r}, args={self.args!r})"

    @property
    def display(self) -> str:
        if self.kind == "stdin":
            return " ".join(["-", *self.args])
        if self.kind == "module":
            return " ".join(["-m", self.target, *self.args])
        if self.kind == "code":
            return " ".join(["-c", repr(self.target), *self.args])
        return " ".join([self.target, *self.args])

    @property
    def stem(self) -> str:
        """A short name for default output files."""
        if self.kind == "script":
            return os.path.splitext(os.path.basename(self.target))[0] or "program"
        if self.kind == "module":
            return self.target.rsplit(".", 1)[-1]
        if self.kind == "stdin":
            return "stdin"
        return "hotpath-c"

    def check(self) -> None:
        """Raise ProgramNotFound with python's wording when there is nothing to run."""
        if self.kind == "script":
            if not os.path.exists(self.target):
                raise ProgramNotFound(
                    f"can't open file {os.path.abspath(self.target)!r}: "
                    f"[Errno 2] No such file or directory")
            if os.path.isdir(self.target):
                main = os.path.join(self.target, "__main__.py")
                if not os.path.exists(main):
                    raise ProgramNotFound(
                        f"can't find '__main__' module in {os.path.abspath(self.target)!r}")
        elif self.kind == "module":
            # sys.path[0] as python -m sets it, so a module in the working directory is found.
            import importlib.util
            saved = list(sys.path)
            sys.path.insert(0, os.getcwd())
            try:
                spec = importlib.util.find_spec(self.target)
            except (ImportError, ValueError) as e:
                raise ProgramNotFound(f"Error while finding module specification for "
                                      f"{self.target!r} ({type(e).__name__}: {e})") from None
            finally:
                sys.path[:] = saved
            if spec is None:
                raise ProgramNotFound(f"No module named {self.target}")


class StartFailed(Exception):
    """Raised by ``start()`` when profiling cannot begin: the program has not run yet,
    so nothing is finished or written, and the caller reports it as a user error."""


def _strip_own_frames(tb: types.TracebackType | None, marker: str) -> types.TracebackType | None:
    """Drop leading traceback entries from this module, so the program's traceback
    reads as under plain python."""
    while tb is not None and tb.tb_frame.f_code.co_filename == marker:
        tb = tb.tb_next
    return tb


def _wait_for_threads() -> None:
    """Join non-daemon threads, as the interpreter does at exit, so their work is
    profiled too."""
    me = threading.current_thread()
    for t in threading.enumerate():
        if t is not me and not t.daemon and t.is_alive():
            t.join()


def _enter_program(run: Callable[..., object], *args: object, **kw: object) -> None:
    """The one frame through which every run enters the program: ``run`` is ``exec``
    or a ``runpy`` function, called from here so that it is the first call recorded.
    ``keep_program_calls`` keeps what ran below this frame and nothing else."""
    run(*args, **kw)


def _register_source(code: types.CodeType, source: str, name: str) -> None:
    """Make ``source`` the lines tracebacks show for ``name``, as python -c does (3.13+)."""
    import linecache
    lines = [line + "\n" for line in source.splitlines()]
    linecache.cache[name] = (len(source), None, lines, name)
    if hasattr(linecache, "_register_code"):
        linecache._register_code(code, source, name)


def _prepare_program(program: Program) -> tuple[Callable[..., object], tuple, dict]:
    """Set up sys.argv/sys.path/__main__ like python; return the call that runs the
    program, as (callable, args, kwargs) for ``_enter_program``."""
    if program.kind == "module":
        import runpy
        sys.argv = [program.target, *program.args]   # runpy replaces argv[0] with the path
        sys.path.insert(0, os.getcwd())
        return runpy.run_module, (program.target,), {"run_name": "__main__", "alter_sys": True}
    if program.kind == "code":
        sys.argv = ["-c", *program.args]
        sys.path.insert(0, "")
        code = compile(program.target, "<string>", "exec")
        filename = None
        if sys.version_info >= (3, 13):      # python -c shows the source in tracebacks
            _register_source(code, program.target, "<string>")
    elif program.kind == "stdin":
        # python - : the script is stdin, read whole; __file__ is '<stdin>'.
        sys.argv = ["-", *program.args]
        sys.path.insert(0, "")
        source = sys.stdin.buffer.read()
        filename = "<stdin>"
        code = compile(source, filename, "exec")
    else:
        sys.argv = [program.target, *program.args]
        path = program.target
        if os.path.isdir(path) or path.endswith((".zip", ".pyz")):
            import runpy
            sys.path.insert(0, path)
            return runpy.run_path, (path,), {"run_name": "__main__"}
        sys.path.insert(0, os.path.dirname(os.path.abspath(path)))
        with open(path, "rb") as f:
            source = f.read()
        filename = os.path.abspath(path)   # python makes __main__.__file__ absolute too
        code = compile(source, filename, "exec")
    main = types.ModuleType("__main__")
    main.__dict__.update({
        "__file__": filename,
        "__builtins__": __builtins__,
        "__spec__": None,
        "__loader__": None,
        "__package__": None,
        "__cached__": None,
    })
    if filename is None:
        del main.__file__
    sys.modules["__main__"] = main
    return exec, (code, main.__dict__), {}


def keep_program_calls(profile: Profile) -> None:
    """Drop from ``profile`` every call that is not the program's own, in place.

    Recording starts before the program's first line and stops after its end (and after
    its other threads have ended), so the thread that ran the program also recorded
    hotpath's start-up tail and its teardown: waiting for threads, restoring signal
    handlers, the ``finish`` callbacks, the call that stopped the profiler. What the
    program ran is exactly the subtree below ``_enter_program``; its children (``exec``,
    or ``runpy``'s function for ``-m`` and directories, as under ``python -m cProfile``)
    become the top-level frames of that thread. Functions no node uses any more leave
    the function table. Other threads are the program's alone and stay as they are.
    """
    from hotpath.model import ROOT
    code = _enter_program.__code__
    marker = {i for i, f in enumerate(profile.functions)
              if (f.filename, f.lineno, f.name) == (code.co_filename, code.co_firstlineno,
                                                      code.co_name)}
    if not marker:
        return
    for t in profile.threads:
        func, parent = t.func, t.parent
        entries = {i for i in t.top_level() if func[i] in marker}
        if not entries:
            continue
        # kept nodes' old indices, and their new parents (parents first, so a kept node's
        # parent is already mapped); works on the columns, not a Python object per node
        where = [-1] * len(parent)         # old index -> new, -1 where dropped
        keep = [0]
        new_parent = [-1]
        for i, up in enumerate(parent):
            if up in entries:
                up = 0                      # the program's first call: a top-level frame
            elif up < 1 or (up := where[up]) < 0:
                continue                    # the root, other top-level frames, their callees
            where[i] = len(keep)
            keep.append(i)
            new_parent.append(up)
        t.func, t.calls, t.self_ticks, t.total_ticks = (
            _take(col, keep) for col in (func, t.calls, t.self_ticks, t.total_ticks))
        t.parent = _take(new_parent, range(len(new_parent)))
    used = sorted(set().union(*(t.func for t in profile.threads)) - {ROOT})
    renumber = {old: new for new, old in enumerate(used)}
    renumber[ROOT] = ROOT
    profile.functions = [profile.functions[i] for i in used]
    for t in profile.threads:
        t.func = _take(t.func, range(len(t.func)), renumber.__getitem__)


def _take(col, indices, convert=None):
    """``col``'s values at ``indices`` (through ``convert``), as an array like ``col``'s."""
    values = map(col.__getitem__, indices)
    if convert is not None:
        values = map(convert, values)
    return array(col.typecode if isinstance(col, array) else "q", values)


# -- hotpath's own output ---------------------------------------------------------------

_err: TextIO | None = None


def _capture_stderr() -> None:
    """Keep a private duplicate of fd 2, taken before the program runs: hotpath's table
    goes there even if the program closes or replaces ``sys.stderr`` or fd 2."""
    global _err
    if _err is not None:
        return
    try:
        fd = os.dup(2)
    except OSError:
        return
    encoding = getattr(sys.__stderr__, "encoding", None) or "utf-8"
    _err = open(fd, "w", encoding=encoding, errors="backslashreplace", closefd=True)


def hotpath_stderr() -> TextIO:
    """The stream for hotpath's own messages and tables during and after a run."""
    return _err or sys.__stderr__ or sys.stderr


def _flush_program_streams() -> None:
    """Flush the program's stdout/stderr (whatever they are now) before hotpath writes,
    so its output keeps its place; a closed or broken stream is the program's business."""
    for stream in (sys.stdout, sys.stderr):
        try:
            if stream is not None:
                stream.flush()
        except Exception:
            pass


def say(text: str) -> None:
    """Write one of hotpath's messages; never raises (hotpath's output must not change
    the program's exit status)."""
    err = hotpath_stderr()
    try:
        err.write(text)
        err.flush()
    except Exception:
        pass


# -- forked children --------------------------------------------------------------------

class _Active:
    """The run in progress, as the fork hooks see it: ``handlers`` maps a signal to
    (our handler, the one it replaced)."""

    def __init__(self, pid: int, in_child: Callable[[], None] | None = None) -> None:
        self.pid = pid
        self.handlers: dict[int, tuple[object, object]] = {}
        self.in_child = in_child
        self.forks = 0


_active: _Active | None = None


_blocked = threading.local()     # signals blocked around one fork by the forking thread


def _before_fork() -> None:
    """Block hotpath's signals across the fork: a SIGTERM sent to the child before its
    handlers are given back stays pending, and is delivered (and kills it) at unblock,
    instead of reaching the inherited Python-level handler and being dropped."""
    _blocked.signals = set()
    run = _active
    if run is None or not run.handlers or not hasattr(_signal, "pthread_sigmask"):
        return
    try:
        old = _signal.pthread_sigmask(_signal.SIG_BLOCK, set(run.handlers))
    except (OSError, ValueError):
        return
    _blocked.signals = set(run.handlers) - set(old)


def _unblock() -> None:
    added = getattr(_blocked, "signals", None)
    _blocked.signals = set()
    if added:
        _signal.pthread_sigmask(_signal.SIG_UNBLOCK, added)


def _after_fork_in_child() -> None:
    """A forked child is the program's alone: give back the signal handlers hotpath
    replaced, stop recording, and never write or print anything."""
    global _active, _err
    run = _active
    if run is None:
        _unblock()
        return
    _active = None
    for signum, (ours, theirs) in run.handlers.items():
        try:
            if _signal.getsignal(signum) is ours:
                _signal.signal(signum, theirs)   # type: ignore[arg-type]
        except (ValueError, OSError, TypeError):
            pass
    _err = None          # the parent's duplicate of fd 2 (non-inheritable across exec)
    _unblock()           # a SIGTERM that came meanwhile ends the child now, as it would have
    if run.in_child is not None:
        try:
            run.in_child()
        except Exception:
            pass


def _after_fork_in_parent() -> None:
    _unblock()
    if _active is not None:
        _active.forks += 1


if hasattr(os, "register_at_fork"):
    os.register_at_fork(before=_before_fork, after_in_child=_after_fork_in_child,
                        after_in_parent=_after_fork_in_parent)


def children_note(forks: int, cpu_before: float) -> str | None:
    """One line saying the program ran child processes that were not profiled, or None.
    Forks are counted by the fork hook; other children (subprocess) show as CPU time of
    waited-for children in ``os.times()``."""
    try:
        t = os.times()
        cpu = t.children_user + t.children_system - cpu_before
    except OSError:
        cpu = 0.0
    if not forks and cpu <= 0:
        return None
    what = f"{forks} fork{'s' if forks != 1 else ''}, " if forks else ""
    return (f"hotpath: note: the program started child processes ({what}{cpu:.2f} s CPU "
            f"in children); their time is not in this profile (children are not followed)\n")


def _children_cpu() -> float:
    try:
        t = os.times()
        return t.children_user + t.children_system
    except OSError:
        return 0.0


# -- running ------------------------------------------------------------------------------

#: Signals that end a process by default and that hotpath intercepts to write the profile
#: first; the signal is then re-delivered, so the process ends as it would have.
_ENDING_SIGNALS = tuple(getattr(_signal, n) for n in ("SIGTERM", "SIGHUP") if hasattr(_signal, n))


class _DeferredSigint:
    """While active (main thread only), Ctrl-C does not interrupt: it is only counted.
    The profile file is written inside one of these, so a second Ctrl-C never loses it."""

    def __init__(self) -> None:
        self.hits = 0
        self._previous: object = None

    def __enter__(self) -> "_DeferredSigint":
        if threading.current_thread() is threading.main_thread():
            def count(signum, frame):
                self.hits += 1
            try:
                self._previous = _signal.signal(_signal.SIGINT, count)
            except (ValueError, OSError):
                self._previous = None
        return self

    def __exit__(self, *exc: object) -> None:
        if self._previous is not None:
            _signal.signal(_signal.SIGINT, self._previous)   # type: ignore[arg-type]


def _atexit_now(run: _Active) -> bool:
    """Whether to run the program's atexit handlers now, inside the recorded region
    (python would run them at exit, after hotpath had stopped recording; they still run
    once). The caller calls ``_enter_program(atexit._run_exitfuncs)`` itself, so that
    the handlers are top-level frames that ``keep_program_calls`` keeps."""
    return os.getpid() == run.pid and atexit._ncallbacks() > 0


def run_program(program: Program, start: Callable[[], None], save: Callable[[], None],
                show: Callable[[], None] | None = None,
                in_child: Callable[[], None] | None = None,
                note_children: bool = True) -> int:
    """Run ``program``; call ``start()`` just before its first line, and once after it
    ends, however it ends: ``save()`` (stop recording, write the file), then ``show()``
    (print the table). Returns the exit status (or re-raises SystemExit /
    KeyboardInterrupt, as python would end on them). A profile recorded between the two
    holds hotpath's own calls too: ``keep_program_calls`` removes them.

    The program's atexit handlers run inside the recorded region. SIGTERM and SIGHUP (if
    the program's environment left them at their default) save and show, then end the
    process by the same signal. A second Ctrl-C while saving is held back until the
    file is written, and then skips the table. In a forked child ``in_child()`` runs
    right after the fork, hotpath's signal handlers are gone, and nothing is saved or
    shown. hotpath's output goes to a duplicate of fd 2 taken before the program ran.
    """
    global _active
    _capture_stderr()
    run = _Active(pid=os.getpid(), in_child=in_child)
    cpu_before = _children_cpu()
    finished = False

    def finish(announce: bool = False) -> None:
        nonlocal finished
        if finished or os.getpid() != run.pid:
            return
        finished = True
        _flush_program_streams()
        if announce:
            say("\nhotpath: writing profile…\n")
        # hotpath's messages (sys.stderr.write anywhere below) go to hotpath's stream.
        program_stderr, sys.stderr = sys.stderr, hotpath_stderr()
        try:
            with _DeferredSigint() as again:
                save()
            if show is None:
                return
            if again.hits:
                say("hotpath: interrupted again: table skipped (the profile is written)\n")
                return
            note = children_note(run.forks, cpu_before) if note_children else None
            try:
                show()
            except KeyboardInterrupt:
                say("\nhotpath: interrupted: table skipped (the profile is written)\n")
            except (OSError, ValueError):
                pass                 # hotpath's stderr is gone: the file is what counts
            if note:
                say(note)
        finally:
            try:
                sys.stderr.flush()
            except Exception:
                pass
            sys.stderr = program_stderr

    def on_ending_signal(signum, frame):
        # As without hotpath the program sees no exception and runs no finally blocks:
        # save and show from here, then end by the same signal.
        finish()
        _flush_program_streams()
        _signal.signal(signum, _signal.SIG_DFL)
        os.kill(os.getpid(), signum)

    if threading.current_thread() is threading.main_thread():
        for signum in _ENDING_SIGNALS:
            if _signal.getsignal(signum) is _signal.SIG_DFL:   # not if ignored (nohup)
                run.handlers[signum] = (on_ending_signal, _signal.signal(signum, on_ending_signal))
    _active = run
    try:
        try:
            try:
                call, args, kw = _prepare_program(program)
                start()
                _enter_program(call, *args, **kw)
                _wait_for_threads()
            finally:
                # The program may have replaced our handlers; only undo our own.
                for signum, (ours, theirs) in run.handlers.items():
                    if _signal.getsignal(signum) is ours:
                        _signal.signal(signum, theirs)   # type: ignore[arg-type]
        except StartFailed:
            raise
        except SystemExit as e:
            if _atexit_now(run) and (e.code is None or isinstance(e.code, int)):
                _enter_program(atexit._run_exitfuncs)
            finish()
            raise
        except KeyboardInterrupt as e:
            # python prints the traceback, runs atexit, then ends itself with SIGINT (130).
            finish(announce=True)
            tb = _strip_own_frames(e.__traceback__, __file__)
            sys.excepthook(type(e), e.with_traceback(tb), tb)
            atexit._run_exitfuncs()
            _flush_program_streams()
            _signal.signal(_signal.SIGINT, _signal.SIG_DFL)
            os.kill(os.getpid(), _signal.SIGINT)
            return 130  # not reached
        except BaseException as e:
            # python prints the traceback, then runs atexit: so do we, atexit recorded.
            tb = _strip_own_frames(e.__traceback__, __file__)
            sys.excepthook(type(e), e.with_traceback(tb), tb)
            if _atexit_now(run):
                _enter_program(atexit._run_exitfuncs)
            finish()
            return 1
        if _atexit_now(run):
            _enter_program(atexit._run_exitfuncs)
        finish()
        return 0
    finally:
        if _active is run:
            _active = None
