"""cProfile's module surface on hotpath's profiler: a one-word change from ``cProfile``.

    import hotpath.cprofile as cProfile          # Profile, run, runctx, main, label
    python -m hotpath.cprofile [-o output_file] [-s sort] (-m module | script) [args]

``run``, ``runctx`` and ``main`` are the running interpreter's own cProfile functions
(``profiling.tracing`` from 3.15 on) bound to a copy of that module's namespace in which
``Profile`` is ``hotpath.Profile``. So options, output, the pstats file ``-o`` writes, and
every version's details (``-m`` through ``runpy``, the script's ``__main__`` module, the
output path made absolute before the program can change directory, ``SystemExit`` of the
program swallowed, exit status 0) are cProfile's own, with no copy of its code.

One thing is added: where cProfile shows a traceback for a mistake on its own command
line (a script that cannot be opened or compiled, a module that does not exist, ``-m``
with no module), ``main`` prints one line and exits non-zero, as ``python`` itself does.
Exceptions raised by the profiled program are untouched.
"""
from __future__ import annotations

import importlib
import os
import sys
import types
from typing import Any, NoReturn

import cProfile as _cprofile_module

from hotpath import Profile

__all__ = ["run", "runctx", "Profile"]

# 3.15 keeps cProfile as a wrapper over profiling.tracing; its functions live there.
_origin = importlib.import_module(_cprofile_module.run.__module__)
_namespace: dict[str, Any] = dict(vars(_origin))
_namespace.update(Profile=Profile, __name__=__name__, __doc__=__doc__)


def _rebind(func: types.FunctionType) -> types.FunctionType:
    """``func``'s code with ``_namespace`` as its globals (so ``Profile`` is hotpath's)."""
    new = types.FunctionType(func.__code__, _namespace, func.__name__,
                             func.__defaults__, func.__closure__)
    new.__kwdefaults__ = func.__kwdefaults__
    new.__doc__ = func.__doc__
    new.__qualname__ = func.__qualname__
    return new


run = _rebind(_origin.run)
runctx = _rebind(_origin.runctx)
_cprofile_main = _rebind(_origin.main)
_namespace.update(run=run, runctx=runctx)
label = _origin.label


def main():
    """``python -m hotpath.cprofile``: cProfile's command line with hotpath's profiler.

    Returns what cProfile's ``main`` returns (its option parser)."""
    try:
        return _cprofile_main()
    except Exception as exc:
        _launch_error(exc)
        raise


def _launch_error(exc: BaseException) -> None:
    """Exit with one line if ``exc`` is a mistake on the command line rather than an
    exception of the profiled program; return otherwise."""
    frames = [tb.tb_frame.f_code for tb in _tracebacks(exc.__traceback__)]
    innermost = frames[-1] if frames else None
    prog = os.path.basename(sys.executable) + " -m hotpath.cprofile"
    if innermost is _cprofile_main.__code__:
        # Raised by main itself, before the program ran: opening or compiling the script.
        if isinstance(exc, OSError):
            _fail(f"{prog}: can't open file {exc.filename!r}: [Errno {exc.errno}] {exc.strerror}", 2)
        if isinstance(exc, SyntaxError):
            import traceback
            sys.stderr.writelines(traceback.format_exception_only(type(exc), exc))
            raise SystemExit(1)
    if not sys.argv:
        # main() set sys.argv to the positional arguments: none, so nothing ran; this is
        # cProfile's IndexError from printing its usage after "-m" with no module.
        _fail(f"{prog}: error: -m needs a module name\n"
              "usage: python -m hotpath.cprofile [-o output_file] [-s sort] "
              "(-m module | script) [args]", 2)
    # "-m module": main runs "run_module(modname, ...)" compiled from a string; runpy
    # found no such module (its message is python's own for "python -m nosuch").
    if (isinstance(exc, ImportError) and len(frames) >= 3
            and [c.co_name for c in frames[-3:]] == ["<module>", "run_module", "_get_module_details"]
            and frames[-3].co_filename == "<string>"
            and os.path.basename(frames[-1].co_filename) in ("runpy.py", "<frozen runpy>")):
        _fail(f"{prog}: {exc}", 1)


def _tracebacks(tb: types.TracebackType | None):
    while tb is not None:
        yield tb
        tb = tb.tb_next


def _fail(message: str, status: int) -> NoReturn:
    sys.stdout.flush()
    sys.stderr.write(message + "\n")
    raise SystemExit(status)


if __name__ == "__main__":
    main()
