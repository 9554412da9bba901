"""``hotpath run``: profile a program (functions; --lines; --memory).

    hotpath run [options] script.py [args] | -m module [args] | -c code [args]
    hotpath run --memory[=exact|sampled] [-f SPEC ...] script.py [args]   (memory profile)

The options choose a list of modes (``hotpath.session``); the session runs the program
under them and writes one profile file.
"""
from __future__ import annotations

import os

from .common import UserError, check_writable

TYPE_CHECKING = False
if TYPE_CHECKING:
    import argparse

_RUN_USAGE = ("hotpath run [-o PATH] [--sort KEY] [--limit N] [--no-builtins] [-q] "
              "[--lines[=auto] | --memory[=exact|sampled] | --sample[=RATE] [--sample-clock cpu]] "
              "[--no-follow] [-f pkg.mod:func | -f file.py:Class.method ...] [--focus PKG ...] "
              "(script.py | - | -m module | -c code) [args ...]")


def _run_parser() -> argparse.ArgumentParser:
    import argparse

    from .parser import Parser
    p = Parser(
        prog="hotpath run", usage=_RUN_USAGE,
        description="Run a Python program under the function profiler, print its hottest "
                    "functions to stderr and write a profile file. The program's own "
                    "stdout, stderr and exit status are unchanged. The profile is written "
                    "when the program returns, raises, exits, or gets Ctrl-C, SIGTERM or "
                    "SIGHUP; its atexit handlers are profiled. Child processes running "
                    "Python (multiprocessing, subprocess with sys.executable) are profiled "
                    "too and merged into the one file, with a per-process view. Not "
                    "covered: os._exit(), exec and SIGKILL end a process with no profile "
                    "(the report says which child's profile is missing); other programs "
                    "and other Python versions are not followed.")
    p.add_argument("-o", "--output", metavar="PATH",
                   help="profile file to write (default: <program>.hprof in the working directory)")
    p.add_argument("--sort", default="tottime", choices=["tottime", "cumtime", "calls", "name"],
                   help="column to sort the summary by (default: tottime)")
    p.add_argument("--limit", type=int, default=20, metavar="N",
                   help="rows in the summary (default: 20; 0 for all)")
    p.add_argument("--no-builtins", action="store_true",
                   help="do not record C functions (builtins, methods of C types)")
    p.add_argument("--max-nodes", type=int, default=1 << 20, metavar="N",
                   help="per-thread cap on distinct call paths (default: 1048576)")
    p.add_argument("--focus", action="append", default=[], metavar="PKG",
                   help="count package PKG as your code in the hot-path tree (repeatable)")
    p.add_argument("-q", "--quiet", action="store_true", help="write the profile, print no table")
    p.add_argument("--no-follow", action="store_true",
                   help="do not profile child processes (multiprocessing, subprocess)")
    p.add_argument("--lines", action="store_const", const="explicit",
                   help="line-profile functions decorated with @profile (a builtin, as with "
                        "kernprof) or named with -f; --lines=auto chooses the hot ones itself; "
                        "prints kernprof's table").invocation = "--lines[=auto]"
    p.add_argument("--_lines-auto", dest="lines", action="store_const", const="auto",
                   help=argparse.SUPPRESS)
    p.add_argument("-f", "--function", action="append", default=[], metavar="SPEC",
                   help="line-profile this function: pkg.mod:func or path/file.py:Class.method "
                        "(repeatable; implies --lines)")
    p.add_argument("--lprof", metavar="PATH",
                   help="with --lines or -f: also write line_profiler's .lprof file "
                        "(python -m line_profiler PATH reads it)")
    p.add_argument("--memory", action="store_const", const="exact",
                   help="memory profile instead of timings: bytes and blocks per line and "
                        "function, the peak, leak candidates, memory over time; "
                        "--memory=sampled samples about one block per "
                        "--memory-sample-bytes for long runs; @profile / -f functions get "
                        "memory_profiler's line-by-line table (docs/memory.md)"
                   ).invocation = "--memory[=exact|sampled]"
    p.add_argument("--_memory-mode", dest="memory", choices=["exact", "sampled"],
                   help=argparse.SUPPRESS)
    p.add_argument("--memory-sample-bytes", type=int, default=16384, metavar="N",
                   help="--memory=sampled: mean bytes between samples (default: 16384)")
    p.add_argument("--no-native", action="store_true",
                   help="--memory: track Python's allocators only, not C extensions' malloc "
                        "(which needs a re-run under LD_PRELOAD)")
    p.add_argument("--sample", action="store_const", const="1000",
                   help="sample every thread's stack instead of recording every call (low "
                        "overhead, estimated times): 1000 per second, or --sample=RATE "
                        "(100, 10k)").invocation = "--sample[=RATE]"
    p.add_argument("--_sample-rate", dest="sample", help=argparse.SUPPRESS)
    p.add_argument("--sample-clock", choices=["wall", "cpu"], default="wall",
                   help="--sample: wall time (default), or cpu: only threads on a CPU")
    p.add_argument("--memory-png", action="store_true",
                   help="--memory: also draw memory over time as a PNG with matplotlib "
                        "(the SVG is always written; importing matplotlib costs ~1 s)")
    p.add_argument("-m", dest="module", metavar="MODULE", help="run a module, as python -m")
    p.add_argument("-c", dest="code", metavar="CODE", help="run code, as python -c")
    p.add_argument("script", nargs="?", help="the script to run (- reads it from stdin)")
    return p


#: What _run_parser's options store when not given (the fast path's defaults).
_DEFAULTS = {"output": None, "sort": "tottime", "limit": 20, "no_builtins": False,
             "max_nodes": 1 << 20, "quiet": False, "lines": None, "function": None,
             "lprof": None, "memory": None, "memory_sample_bytes": 16384,
             "no_native": False, "memory_png": False, "sample": None, "sample_clock": "wall",
             "no_follow": False, "module": None, "code": None, "script": None, "focus": None}
_FLAGS = {"--no-builtins": ("no_builtins", True), "-q": ("quiet", True),
          "--quiet": ("quiet", True), "--lines": ("lines", "explicit"),
          "--_lines-auto": ("lines", "auto"), "--memory": ("memory", "exact"),
          "--no-native": ("no_native", True), "--memory-png": ("memory_png", True),
          "--sample": ("sample", "1000"), "--no-follow": ("no_follow", True)}
_VALUED = {"-o": "output", "--output": "output", "--sort": "sort", "--limit": "limit",
           "--max-nodes": "max_nodes", "-f": "function", "--function": "function",
           "--lprof": "lprof", "--memory-sample-bytes": "memory_sample_bytes",
           "--_memory-mode": "memory", "--_sample-rate": "sample",
           "--sample-clock": "sample_clock", "-m": "module", "-c": "code", "--focus": "focus"}
_INTS = {"limit", "max_nodes", "memory_sample_bytes"}
_CHOICES = {"sort": ("tottime", "cumtime", "calls", "name"), "memory": ("exact", "sampled"),
            "sample_clock": ("wall", "cpu")}


class _Options:
    """The parsed options, as argparse's Namespace holds them."""

    def __init__(self, values: dict) -> None:
        self.__dict__.update(values)


def _parse_plain(own: list[str]) -> _Options | None:
    """The usual ``hotpath run`` command lines, parsed without argparse (importing it and
    building the parser cost a short run more than the rest of the command line does):
    exact option names, values as separate words or ``--long=value``, at most one
    script. None for anything else (--help, an abbreviation, a bad or missing value, a
    value that starts with "-"): argparse parses those, with its messages. Gives what
    argparse would (tests/test_startup.py compares them)."""
    values = dict(_DEFAULTS)
    functions: list[str] = []
    focus: list[str] = []
    i = 0
    while i < len(own):
        a = own[i]
        if a in _FLAGS:
            dest, const = _FLAGS[a]
            values[dest] = const
            i += 1
            continue
        if a.startswith("--") and "=" in a:
            a, value = a.split("=", 1)
            step = 1
        elif i + 1 < len(own):
            value = own[i + 1]
            step = 2
        else:
            value, step = "", 0
        if a in _VALUED:
            if not step or not value or value.startswith("-"):
                return None
            dest = _VALUED[a]
            if dest in _INTS:
                try:
                    value = int(value)          # as argparse's type=int
                except ValueError:
                    return None
            if value not in _CHOICES.get(dest, (value,)):
                return None
            if dest == "function":
                functions.append(value)
            elif dest == "focus":
                focus.append(value)
            else:
                values[dest] = value
            i += step
            continue
        if a.startswith("-") and a != "-":
            return None
        if values["script"] is not None or i != len(own) - 1:
            return None                     # argparse reports extra arguments
        values["script"] = a
        i += 1
    values["function"] = functions
    values["focus"] = focus
    return _Options(values)


def _split_run_argv(argv: list[str]) -> tuple[list[str], list[str]]:
    """Split ``hotpath run`` arguments into hotpath's own and the program's.

    hotpath's options come first; the program starts at the first positional argument
    (the script) or right after ``-m MODULE`` / ``-c CODE``. Everything after that belongs
    to the program, even if it looks like a hotpath option.
    """
    takes_value = {"-o", "--output", "--sort", "--limit", "--max-nodes", "-f", "--function",
                   "--memory-sample-bytes", "--lprof", "--sample-clock", "--focus"}
    i = 0
    while i < len(argv):
        a = argv[i]
        if a == "--":
            return argv[:i] + argv[i + 1:i + 2], argv[i + 2:]
        if a in ("-m", "-c"):
            return argv[:i + 2], argv[i + 2:]
        if a.startswith(("-m", "-c")) and not a.startswith("--") and len(a) > 2:
            return argv[:i] + [a[:2], a[2:]], argv[i + 1:]
        if a in takes_value:
            i += 2
            continue
        if a.startswith("-") and a != "-":
            i += 1
            continue
        return argv[:i + 1], argv[i + 1:]
    return argv, []


def main(argv: list[str]) -> int:
    """``hotpath run ...`` (its own parsing: the program's arguments are not ours)."""
    from hotpath.session.program import Program, ProgramNotFound, StartFailed

    own, program_args = _split_run_argv(argv)
    for a in own:
        if a.startswith("--lines=") and a != "--lines=auto":
            raise UserError(f"hotpath run: --lines takes only =auto, not {a[8:]!r}")
        if a.startswith("--memory=") and a[9:] not in ("exact", "sampled"):
            raise UserError(f"hotpath run: --memory={a[9:]}: choose exact or sampled")
    own = ["--_lines-auto" if a == "--lines=auto" else a for a in own]
    own = [f"--_memory-mode={a[9:]}" if a.startswith("--memory=") else a for a in own]
    own = [f"--_sample-rate={a[9:]}" if a.startswith("--sample=") else a for a in own]
    opts = _parse_plain(own) or _run_parser().parse_args(own)
    from hotpath import config                  # [tool.hotpath] defaults; flags win
    settings = config.load()
    config.apply_to_options(opts, own, settings)
    chosen = [x for x in (opts.module, opts.code, opts.script) if x is not None]
    if len(chosen) != 1:
        _usage_error("give exactly one of: a script, -m module, -c code")
    if opts.limit < 0:
        _usage_error("--limit must be 0 or more")
    if opts.module is not None:
        program = Program("module", opts.module, program_args)
    elif opts.code is not None:
        program = Program("code", opts.code, program_args)
    elif opts.script == "-":
        program = Program("stdin", "-", program_args)
    else:
        program = Program("script", opts.script, program_args)
    try:
        program.check()
    except ProgramNotFound as e:
        raise UserError(str(e)) from None
    out_path = opts.output or os.path.join(settings.get("output-dir", ""), f"{program.stem}.hprof")
    if not opts.output and settings.get("output-dir"):
        os.makedirs(settings["output-dir"], exist_ok=True)
    check_writable(out_path)
    if opts.lprof:
        if not (opts.lines or opts.function) or opts.memory:
            _usage_error("--lprof writes line timings: use it with --lines or -f")
        check_writable(opts.lprof)

    if opts.memory and opts.lines:
        _usage_error("--memory and --lines do not combine (both use the trace hook); "
                     "with --memory, @profile and -f choose functions for the "
                     "memory line-by-line table")
    if opts.sample and (opts.memory or opts.lines or opts.function):
        _usage_error("--sample does not combine with --memory, --lines or -f "
                     "(--lines=auto samples by itself)")
    from hotpath.session.modes import Session
    try:
        modes = _modes(opts, argv)
        follow = None
        if not opts.no_follow:
            from hotpath.session.children import Follow
            follow = Follow(modes)
        session = Session(program, modes, out_path, quiet=opts.quiet, follow=follow)
        session.install()
    except ValueError as e:
        raise UserError(str(e)) from None
    try:
        return session.run()
    except StartFailed as e:
        raise UserError(str(e)) from None


def _usage_error(message: str) -> None:
    """A bad combination of options: one line, as the parser reports a bad option."""
    raise UserError(f"hotpath run: {message} (see hotpath run --help)")


def _modes(opts: argparse.Namespace, argv: list[str]) -> list:
    """The modes of the run the options ask for (ValueError for a bad value)."""
    if opts.memory:
        from hotpath.session.memory import MemoryMode, preloaded_setup
        preloaded_setup(not opts.no_native, ["run", *argv])
        return [MemoryMode(opts.memory, opts.function, sample_bytes=opts.memory_sample_bytes,
                           native=not opts.no_native, limit=opts.limit, png=opts.memory_png)]
    if opts.sample:
        from hotpath.session.sampling import SampleMode
        return [SampleMode(opts.sample, opts.sample_clock, max_nodes=opts.max_nodes,
                           sort=opts.sort, limit=opts.limit)]
    from hotpath.session.functions import FunctionsMode
    modes = [FunctionsMode(builtins=not opts.no_builtins, max_nodes=opts.max_nodes,
                           sort=opts.sort, limit=opts.limit, focus=tuple(opts.focus or ()))]
    if opts.lines or opts.function:
        from hotpath.session.lines import LinesMode
        modes.append(LinesMode(opts.lines or "explicit", opts.function, lprof=opts.lprof))
    return modes
