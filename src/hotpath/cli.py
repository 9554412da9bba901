"""The ``hotpath`` command (also ``python -m hotpath``).

    hotpath run [options] script.py [args] | -m module [args] | -c code [args]
    hotpath run --memory[=exact|sampled] [-f SPEC ...] script.py [args]   (memory profile)
    hotpath memit [-s SETUP] [-r N] [--sampled] STATEMENT ...
    hotpath report FILE [--sort KEY] [--limit N] [--filter REGEX] [--thread NAME]
    hotpath export FILE --format FORMAT -o OUT
    hotpath view FILE [-o OUT.html] [--no-browser]
    hotpath diff A B [--sort KEY] [--metric self|total] [--limit N] [-o OUT.html]
    hotpath bench ...                      (see hotpath bench --help)

Every user error (a missing script, a bad option, an unreadable profile) is one line on
stderr, ``hotpath: error: ...``, and exit status 2 — never a traceback from inside.
"""
from __future__ import annotations

import argparse
import os
import re
import shlex
import sys
import time
from typing import Sequence

from hotpath import __version__

EXIT_USAGE = 2


class UserError(Exception):
    """A problem with what the user asked for; printed as one line, exit status 2."""


class _Formatter(argparse.HelpFormatter):
    """Shows an option as ``action.invocation`` when set: ``--lines[=auto]``."""

    def _format_action_invocation(self, action: argparse.Action) -> str:
        return getattr(action, "invocation", None) or super()._format_action_invocation(action)


class _Parser(argparse.ArgumentParser):
    """argparse, with a bad option reported as one ``hotpath: error:`` line (no usage
    block); ``--help`` shows the usage."""

    def __init__(self, *args, **kw) -> None:
        kw.setdefault("formatter_class", _Formatter)
        super().__init__(*args, **kw)

    def error(self, message: str):        # type: ignore[override]
        raise UserError(f"{self.prog}: {message} (see {self.prog} --help)")


# -- hotpath run ---------------------------------------------------------------------

_RUN_USAGE = ("hotpath run [-o PATH] [--sort KEY] [--limit N] [--no-builtins] [-q] "
              "[--lines[=auto] | --memory[=exact|sampled]] "
              "[-f pkg.mod:func | -f file.py:Class.method ...] "
              "(script.py | - | -m module | -c code) [args ...]")


def _run_parser() -> argparse.ArgumentParser:
    p = _Parser(
        prog="hotpath run", usage=_RUN_USAGE,
        description="Run a Python program under the function profiler, print its hottest "
                    "functions to stderr and write a profile file. The program's own "
                    "stdout, stderr and exit status are unchanged. The profile is written "
                    "when the program returns, raises, exits, or gets Ctrl-C, SIGTERM or "
                    "SIGHUP; its atexit handlers are profiled. Not covered: os._exit(), "
                    "exec and SIGKILL end the process with no profile, and child processes "
                    "are not followed (a note says when the program started any).")
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
    p.add_argument("-q", "--quiet", action="store_true", help="write the profile, print no table")
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
    p.add_argument("-m", dest="module", metavar="MODULE", help="run a module, as python -m")
    p.add_argument("-c", dest="code", metavar="CODE", help="run code, as python -c")
    p.add_argument("script", nargs="?", help="the script to run (- reads it from stdin)")
    return p


def _split_run_argv(argv: list[str]) -> tuple[list[str], list[str]]:
    """Split ``hotpath run`` arguments into hotpath's own and the program's.

    hotpath's options come first; the program starts at the first positional argument
    (the script) or right after ``-m MODULE`` / ``-c CODE``. Everything after that belongs
    to the program, even if it looks like a hotpath option.
    """
    takes_value = {"-o", "--output", "--sort", "--limit", "--max-nodes", "-f", "--function",
                   "--memory-sample-bytes", "--lprof"}
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


def _cmd_run(argv: list[str]) -> int:
    from hotpath.runner import (Program, ProgramNotFound, StartFailed, keep_program_calls,
                                run_program)

    own, program_args = _split_run_argv(argv)
    for a in own:
        if a.startswith("--lines=") and a != "--lines=auto":
            raise UserError(f"hotpath run: --lines takes only =auto, not {a[8:]!r}")
        if a.startswith("--memory=") and a[9:] not in ("exact", "sampled"):
            raise UserError(f"hotpath run: --memory={a[9:]}: choose exact or sampled")
    own = ["--_lines-auto" if a == "--lines=auto" else a for a in own]
    own = [f"--_memory-mode={a[9:]}" if a.startswith("--memory=") else a for a in own]
    parser = _run_parser()
    opts = parser.parse_args(own)
    chosen = [x for x in (opts.module, opts.code, opts.script) if x is not None]
    if len(chosen) != 1:
        parser.error("give exactly one of: a script, -m module, -c code")
    if opts.limit < 0:
        parser.error("--limit must be 0 or more")
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
    out_path = opts.output or f"{program.stem}.hprof"
    check_writable(out_path)
    if opts.lprof:
        if not (opts.lines or opts.function) or opts.memory:
            parser.error("--lprof writes line timings: use it with --lines or -f")
        check_writable(opts.lprof)

    if opts.memory:
        if opts.lines:
            parser.error("--memory and --lines do not combine (both use the trace hook); "
                         "with --memory, @profile and -f choose functions for the "
                         "memory line-by-line table")
        from hotpath.memprof import cli_run
        try:
            return cli_run(program, opts, argv, out_path)
        except ValueError as e:
            raise UserError(str(e)) from None

    from hotpath.profiler import Profile
    try:
        prof = Profile(builtins=not opts.no_builtins, max_nodes=opts.max_nodes)
    except ValueError as e:
        raise UserError(str(e)) from None
    cwd = os.getcwd()
    started = {"wall": 0.0}
    lines = None
    if opts.lines or opts.function:
        from hotpath.lineprof import RunLines
        try:
            lines = RunLines(opts.lines or "explicit", opts.function)
            lines.install()
        except ValueError as e:
            raise UserError(str(e)) from None

    def start() -> None:
        started["wall"] = time.time()
        started["pid"] = os.getpid()
        try:
            prof.enable()
        except RuntimeError as e:        # another profiler holds the slot
            raise StartFailed(str(e)) from None
        if lines is not None:
            try:
                lines.start()
            except RuntimeError as e:    # another tracer holds the trace hook (3.11)
                prof.disable()
                raise StartFailed(str(e)) from None

    saved: dict[str, object] = {}

    def save() -> None:
        line_data = lines.finish() if lines is not None else None
        try:
            prof.disable()
        except Exception as e:     # a capture error: still write what was recorded
            sys.stderr.write(f"hotpath: warning: {e}\n")
        data = prof.snapshot(meta={
            "command": program.display,
            "argv": [program.target, *program.args],
            "kind": program.kind,
            "cwd": cwd,
            "mode": "lines" if line_data is not None else "function",
            "start_time": started["wall"],
            "duration": time.time() - started["wall"] if started["wall"] else 0.0,
            "hotpath_version": __version__,
        })
        keep_program_calls(data)       # not hotpath's start-up tail and teardown
        if line_data is not None:
            data.extra["lines"] = line_data
        saved["data"] = data
        saved["written"] = _write_profile(data, cwd, out_path)
        if opts.lprof and line_data is not None:
            from hotpath.report.lprof import write_run_lprof
            saved["lprof"] = write_run_lprof(data, os.path.join(cwd, opts.lprof))

    def show() -> None:
        data = saved["data"]
        sys.stderr.write("\n")
        if data.extra.get("lines") is not None:
            from hotpath.report.lines import print_lines
            print_lines(data, stream=sys.stderr)
        else:
            from hotpath.report.text import print_table
            print_table(data, stream=sys.stderr, sort=opts.sort, limit=opts.limit)
        if saved["written"]:
            sys.stderr.write(written_hint(out_path))
        if saved.get("lprof"):
            q = shlex.quote(opts.lprof)
            sys.stderr.write(f"hotpath: line timings written to {q} (python -m line_profiler {q})\n")

    def in_child() -> None:
        # A forked child records nothing: it costs the child no time, as without hotpath.
        if lines is not None:
            lines.abandon()
        try:
            prof.disable()
        except Exception:
            pass

    try:
        return run_program(program, start, save, None if opts.quiet else show, in_child)
    except StartFailed as e:
        raise UserError(str(e)) from None


def written_hint(out_path: str, extra: str = "") -> str:
    """The last line of a run: where the profile is, as a command that can be pasted."""
    q = shlex.quote(out_path)
    return f"hotpath: profile written to {q} (hotpath report {q}){extra}\n"


def _write_profile(data, cwd: str, out_path: str) -> bool:
    """Write the profile; on failure one error line (the table is still shown)."""
    from hotpath import fileformat
    try:
        fileformat.write(data, os.path.join(cwd, out_path))
    except OSError as e:
        sys.stderr.write(f"hotpath: error: cannot write {out_path!r}: {e.strerror or e}\n")
        return False
    except (ValueError, TypeError) as e:   # metadata the format cannot hold: a bug
        sys.stderr.write(f"hotpath: internal error: profile not written: {e}\n")
        return False
    return True


def check_writable(out_path: str) -> None:
    """Fail before the program runs when the profile could not be written afterwards
    (see hotpath.outfile.writable_problem)."""
    from hotpath.outfile import writable_problem
    problem = writable_problem(out_path)
    if problem:
        raise UserError(problem)


# -- hotpath report / export ---------------------------------------------------------

def _load(path: str):
    from hotpath import fileformat
    if not os.path.exists(path):
        raise UserError(f"{path}: no such file")
    try:
        return fileformat.read(path)
    except fileformat.FormatError as e:
        raise UserError(str(e)) from None
    except OSError as e:
        raise UserError(f"{path}: {e.strerror or e}") from None


def _check_filter(pattern: str | None) -> None:
    if pattern:
        try:
            re.compile(pattern)
        except re.error as e:
            raise UserError(f"bad --filter {pattern!r}: {e}") from None


def _cmd_report(opts: argparse.Namespace) -> int:
    from hotpath.report.text import print_table
    _check_filter(opts.filter)
    data = _load(opts.file)
    threads = None
    if opts.thread:
        threads = [t for t in data.threads if t.name == opts.thread or str(t.thread_id) == opts.thread]
        if not threads:
            names = ", ".join(t.name for t in data.threads) or "none"
            raise UserError(f"no thread {opts.thread!r} in {opts.file} (threads: {names})")
    from hotpath.report.memory import has_memory, print_memory
    if data.threads or not has_memory(data):
        print_table(data, stream=sys.stdout, sort=opts.sort, limit=opts.limit,
                    name_filter=opts.filter, threads=threads)
    from hotpath.report.lines import has_lines, print_lines
    if has_lines(data):
        sys.stdout.write("\n")
        print_lines(data, stream=sys.stdout)
    if has_memory(data):
        if data.threads or has_lines(data):
            sys.stdout.write("\n")
        print_memory(data, stream=sys.stdout, limit=opts.limit)
    return 0


def _cmd_export(opts: argparse.Namespace) -> int:
    from hotpath import report
    if opts.format == "lprof":              # one file, or the sum of several
        from hotpath.report.lprof import export_command
        try:
            sys.stderr.write(export_command(opts.file, opts.output))
        except (OSError, ValueError) as e:
            raise UserError(str(e)) from None
        return 0
    if len(opts.file) > 1:
        raise UserError("only --format lprof combines several profiles")
    opts.file = opts.file[0]
    data = _load(opts.file)
    if opts.format not in report.FORMATS:
        raise UserError(f"unknown format {opts.format!r}; choose from {', '.join(sorted(report.FORMATS))}")
    try:
        note = report.export(data, opts.format, opts.output)
    except report.ExportError as e:
        raise UserError(f"{opts.file}: {e}") from None
    except OSError as e:
        raise UserError(f"cannot write {opts.output!r}: {e.strerror or e}") from None
    if note:
        sys.stderr.write(f"hotpath: note: {note}\n")
    sys.stderr.write(f"hotpath: wrote {opts.output} ({opts.format})\n")
    return 0


def _browser_available() -> bool:
    """Whether ``webbrowser`` can show a page to a person here: a browser the user chose
    ($BROWSER), or a desktop session (not a console browser on a bare terminal)."""
    if os.environ.get("BROWSER"):
        return True
    if sys.platform in ("darwin", "win32"):
        return True
    return bool(os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY"))


def _cmd_view(opts: argparse.Namespace) -> int:
    from hotpath import report
    data = _load(opts.file)
    out = opts.output or os.path.splitext(opts.file)[0] + ".html"
    if os.path.realpath(out) == os.path.realpath(opts.file):   # a link to the profile too
        raise UserError(f"refusing to overwrite the profile {opts.file!r}; choose -o OUT.html")
    try:
        report.export(data, "html", out)
    except OSError as e:
        raise UserError(f"cannot write {out!r}: {e.strerror or e}") from None
    path = os.path.abspath(out)
    if not opts.no_browser and _browser_available():
        import pathlib
        import webbrowser
        try:
            opened = webbrowser.open(pathlib.Path(path).as_uri(), new=2)
        except Exception:          # webbrowser.Error, or a browser that failed to start
            opened = False
        if opened:
            sys.stderr.write(f"hotpath: opened {path} in a browser\n")
            return 0
    sys.stdout.write(f"hotpath: report written to {path}\n")
    return 0


def _cmd_diff(opts: argparse.Namespace) -> int:
    from hotpath.report import diff
    a, b = _load(opts.a), _load(opts.b)
    if opts.limit < 0:
        raise UserError("--limit must be 0 or more")
    _check_filter(opts.filter)
    try:
        diff.check_comparable(a, b, names=(opts.a, opts.b))
        if opts.output:            # first, so that a bad path fails before any output
            try:
                diff.write_diff_html(a, b, opts.output, names=(opts.a, opts.b))
            except OSError as e:
                raise UserError(f"cannot write {opts.output!r}: {e.strerror or e}") from None
        diff.print_diff(a, b, stream=sys.stdout, sort=opts.sort, metric=opts.metric,
                        limit=opts.limit, name_filter=opts.filter, names=(opts.a, opts.b))
    except diff.DiffError as e:    # different kinds, or a view that does not apply
        raise UserError(str(e)) from None
    if opts.output:
        sys.stdout.flush()
        sys.stderr.write(f"hotpath: wrote {opts.output} (differential flame graph)\n")
    return 0


def _cmd_memit(opts: argparse.Namespace) -> int:
    from hotpath.memprof import cli_memit
    if opts.repeat < 1:
        raise UserError("--repeat must be at least 1")
    for what, source in (("setup", "\n".join(opts.setup)), ("statement", "\n".join(opts.statement))):
        try:
            compile(source, f"<memit-{what}>", "exec")
        except (SyntaxError, ValueError) as e:
            where = f" (line {e.lineno})" if getattr(e, "lineno", None) else ""
            msg = getattr(e, "msg", None) or str(e)
            raise UserError(f"memit: the {what} is not valid Python: {msg}{where}") from None
    again = [a for s in opts.setup for a in ("-s", s)] + ["-r", str(opts.repeat)]
    again += ["--sampled"] * opts.sampled + ["--", *opts.statement]
    return cli_memit(opts, again)


def _main_parser() -> argparse.ArgumentParser:
    p = _Parser(prog="hotpath", description="A performance toolkit for Python.")
    p.add_argument("--version", action="version", version=f"hotpath {__version__}")
    sub = p.add_subparsers(dest="command", metavar="COMMAND")
    sub.add_parser("run", help="profile a program (hotpath run --help)", add_help=False)

    rp = sub.add_parser("report", help="print the hot-function table of a profile file",
                        description="Print the tables of a profile file to stdout: hot "
                                    "functions, and line timings or memory when it has them.")
    rp.add_argument("file")
    rp.add_argument("--sort", default="tottime", choices=["tottime", "cumtime", "calls", "name"])
    rp.add_argument("--limit", type=int, default=30, help="rows (0 for all)")
    rp.add_argument("--filter", metavar="REGEX", help="only functions whose label matches")
    rp.add_argument("--thread", metavar="NAME", help="only this thread (name or id)")
    rp.set_defaults(func=_cmd_report)

    from hotpath import report
    ep = sub.add_parser("export", help="convert a profile file to another tool's format",
                        description="Convert a profile file to another tool's format: "
                                    f"{', '.join(sorted(report.FORMATS))}.")
    ep.add_argument("file", nargs="+", help="a profile file (several, and .lprof files, "
                                             "with --format lprof: their sum)")
    ep.add_argument("--format", "-f", required=True, metavar="FORMAT",
                    help=f"one of: {', '.join(sorted(report.FORMATS))}")
    ep.add_argument("-o", "--output", required=True, metavar="OUT")
    ep.set_defaults(func=_cmd_export)

    vp = sub.add_parser("view", help="write the HTML report of a profile and open it in a browser",
                        description="Write the self-contained HTML report of a profile "
                                    "file and open it in a browser (or print its path).")
    vp.add_argument("file")
    vp.add_argument("-o", "--output", metavar="OUT.html",
                    help="where to write the report (default: FILE with .html)")
    vp.add_argument("--no-browser", action="store_true",
                    help="only write the report and print its path")
    vp.set_defaults(func=_cmd_view)

    from hotpath.report.diff import METRICS, SORT_KEYS
    dp = sub.add_parser("diff", help="what got slower or faster between two profiles")
    dp.add_argument("a", metavar="A", help="the profile before (baseline)")
    dp.add_argument("b", metavar="B", help="the profile after")
    dp.add_argument("--sort", default="delta", choices=list(SORT_KEYS),
                    help="row order (default: delta, the largest change either way)")
    dp.add_argument("--metric", default="self", choices=list(METRICS),
                    help="time to compare: self (tottime) or total (cumtime); default self")
    dp.add_argument("--limit", type=int, default=30, metavar="N", help="rows (default 30; 0 for all)")
    dp.add_argument("--filter", metavar="REGEX", help="only functions whose label matches")
    dp.add_argument("-o", "--output", metavar="OUT.html",
                    help="also write a differential flame graph (HTML) here")
    dp.set_defaults(func=_cmd_diff)

    mm = sub.add_parser("memit", help="peak memory and increment of a statement, as %%memit")
    mm.add_argument("statement", nargs="*", help="statements to run (joined by newlines)")
    mm.add_argument("-s", "--setup", action="append", default=[], metavar="STMT",
                    help="run first, not measured (repeatable)")
    mm.add_argument("-r", "--repeat", type=int, default=1, metavar="N",
                    help="runs; the largest increment counts (default 1)")
    mm.add_argument("--sampled", action="store_true", help="sampled tracking (estimates)")
    mm.add_argument("--no-native", action="store_true",
                    help="Python's allocators only (no re-run under LD_PRELOAD)")
    mm.set_defaults(func=_cmd_memit)

    try:
        from hotpath.bench import cli as bench_cli
    except ImportError:
        bench_cli = None
    if bench_cli is not None:
        bench_cli.register(sub)
    return p


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    try:
        if argv and argv[0] == "run":
            return _cmd_run(argv[1:])
        parser = _main_parser()
        opts = parser.parse_args(argv)
        if not getattr(opts, "func", None):
            parser.print_help(sys.stderr)
            return EXIT_USAGE
        return int(opts.func(opts) or 0)
    except UserError as e:
        sys.stderr.write(f"hotpath: error: {e}\n")
        return EXIT_USAGE


if __name__ == "__main__":
    sys.exit(main())
