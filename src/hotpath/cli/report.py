"""``hotpath report FILE``: the tables of a profile file on stdout."""
from __future__ import annotations

import argparse
import sys

from .common import UserError, check_filter, load_profile


def register(sub: argparse._SubParsersAction) -> None:
    """Add the command to ``hotpath``'s parser."""
    rp = sub.add_parser("report", help="print the hot-function table of a profile file",
                        description="Print the tables of a profile file to stdout: hot "
                                    "functions, and line timings or memory when it has them.")
    rp.add_argument("file")
    rp.add_argument("--sort", default="tottime", choices=["tottime", "cumtime", "calls", "name"])
    rp.add_argument("--limit", type=int, default=30, help="rows (0 for all)")
    rp.add_argument("--filter", metavar="REGEX", help="only functions whose label matches")
    rp.add_argument("--thread", metavar="NAME", help="only this thread (name or id)")
    rp.add_argument("--focus", action="append", default=[], metavar="PKG",
                    help="count package PKG as your code in the hot-path tree (repeatable)")
    rp.add_argument("--process", metavar="PID", type=int,
                    help="only this process of a whole-program profile (its pid)")
    rp.set_defaults(func=run)


def run(opts: argparse.Namespace) -> int:
    from hotpath.report.text import print_hot_tree, print_table
    check_filter(opts.filter)
    from hotpath.progress import progress
    with progress("reading the profile"):       # the tables print after the line is gone
        data = load_profile(opts.file)
    threads = None
    if opts.process is not None:
        from hotpath.model.processes import processes, threads_of
        if opts.process not in {p.pid for p in processes(data)}:
            pids = ", ".join(str(p.pid) for p in processes(data))
            raise UserError(f"no process {opts.process} in {opts.file} (processes: {pids})")
        threads = threads_of(data, opts.process)
    if opts.thread:
        threads = [t for t in (data.threads if threads is None else threads)
                   if t.name == opts.thread or str(t.thread_id) == opts.thread]
        if not threads:
            names = ", ".join(t.name for t in data.threads) or "none"
            raise UserError(f"no thread {opts.thread!r} in {opts.file} (threads: {names})")
    from hotpath.model.memory import has_memory
    from hotpath.report.memory import print_memory
    if data.threads or not has_memory(data):
        print_table(data, stream=sys.stdout, sort=opts.sort, limit=opts.limit,
                    name_filter=opts.filter, threads=threads)
        if "processes" in data.extra:
            from hotpath.report.processes import print_processes
            print_processes(data, sys.stdout)
        if not opts.filter:
            print_hot_tree(data, stream=sys.stdout, threads=threads, focus=opts.focus)
    from hotpath.model.lines import has_lines
    from hotpath.report.lines import print_lines
    if has_lines(data):
        sys.stdout.write("\n")
        print_lines(data, stream=sys.stdout)
    if has_memory(data):
        if data.threads or has_lines(data):
            sys.stdout.write("\n")
        print_memory(data, stream=sys.stdout, limit=opts.limit)
    return 0
