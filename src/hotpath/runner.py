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

import importlib.util
import os
import runpy
import signal
import sys
import threading
import types
from dataclasses import dataclass, field
from typing import Callable

from hotpath.model import ROOT, Node, Profile


class ProgramNotFound(Exception):
    """The script or module to run does not exist."""


@dataclass
class Program:
    kind: str                      #: "script", "module" or "code"
    target: str                    #: path, module name or source text
    args: list[str] = field(default_factory=list)

    @property
    def display(self) -> str:
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


class _Terminated(BaseException):
    """Raised in the main thread by the SIGTERM handler, to unwind into on_finish."""


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


def _prepare_program(program: Program) -> tuple[Callable[..., object], tuple, dict]:
    """Set up sys.argv/sys.path/__main__ like python; return the call that runs the
    program, as (callable, args, kwargs) for ``_enter_program``."""
    if program.kind == "module":
        sys.argv = [program.target, *program.args]   # runpy replaces argv[0] with the path
        sys.path.insert(0, os.getcwd())
        return runpy.run_module, (program.target,), {"run_name": "__main__", "alter_sys": True}
    if program.kind == "code":
        sys.argv = ["-c", *program.args]
        sys.path.insert(0, "")
        code = compile(program.target, "<string>", "exec")
        filename = None
    else:
        sys.argv = [program.target, *program.args]
        path = program.target
        if os.path.isdir(path) or path.endswith((".zip", ".pyz")):
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
    code = _enter_program.__code__
    marker = {i for i, f in enumerate(profile.functions)
              if (f.filename, f.lineno, f.name) == (code.co_filename, code.co_firstlineno,
                                                      code.co_name)}
    if not marker:
        return
    for t in profile.threads:
        entries = {i for i, n in enumerate(t.nodes) if n.parent == 0 and n.func in marker}
        if not entries:
            continue
        where: dict[int, int] = {}         # kept node's old index -> new (parents first)
        nodes = [t.nodes[0]]
        for i, n in enumerate(t.nodes):
            if n.parent in entries:
                parent = 0                  # the program's first call: a top-level frame
            elif n.parent in where:
                parent = where[n.parent]
            else:
                continue                    # the root, other top-level frames, their callees
            where[i] = len(nodes)
            nodes.append(Node(n.func, parent, n.calls, n.self_ticks, n.total_ticks))
        t.nodes = nodes
    used = sorted({n.func for t in profile.threads for n in t.nodes if n.func != ROOT})
    renumber = {old: new for new, old in enumerate(used)}
    profile.functions = [profile.functions[i] for i in used]
    for t in profile.threads:
        for n in t.nodes:
            if n.func != ROOT:
                n.func = renumber[n.func]


def run_program(program: Program, start: Callable[[], None], on_finish: Callable[[], None]) -> int:
    """Run ``program``; call ``start()`` just before its first line and ``on_finish()``
    once after it ends, however it ends. Returns the exit status (or re-raises
    SystemExit / KeyboardInterrupt, as python would end on them). A profile recorded
    between the two holds hotpath's own calls too: ``keep_program_calls`` removes them."""
    finished = False

    def finish() -> None:
        nonlocal finished
        if not finished:
            finished = True
            on_finish()

    def on_sigterm(signum, frame):
        raise _Terminated()

    previous = None
    if threading.current_thread() is threading.main_thread():
        previous = signal.signal(signal.SIGTERM, on_sigterm)
    try:
        try:
            run, args, kw = _prepare_program(program)
            start()
            _enter_program(run, *args, **kw)
            _wait_for_threads()
        finally:
            # The program may have replaced our SIGTERM handler; only undo our own.
            if previous is not None and signal.getsignal(signal.SIGTERM) is on_sigterm:
                signal.signal(signal.SIGTERM, previous)
    except StartFailed:
        raise
    except _Terminated:
        finish()
        sys.stdout.flush()
        sys.stderr.flush()
        signal.signal(signal.SIGTERM, signal.SIG_DFL)
        os.kill(os.getpid(), signal.SIGTERM)
        return 143  # not reached: the signal ends the process as it would have
    except SystemExit:
        finish()
        raise
    except KeyboardInterrupt as e:
        # python prints the traceback, then ends itself with SIGINT (exit status 130).
        finish()
        tb = _strip_own_frames(e.__traceback__, __file__)
        sys.excepthook(type(e), e.with_traceback(tb), tb)
        sys.stdout.flush()
        sys.stderr.flush()
        signal.signal(signal.SIGINT, signal.SIG_DFL)
        os.kill(os.getpid(), signal.SIGINT)
        return 130  # not reached
    except BaseException as e:
        finish()
        tb = _strip_own_frames(e.__traceback__, __file__)
        sys.excepthook(type(e), e.with_traceback(tb), tb)
        return 1
    finish()
    return 0
