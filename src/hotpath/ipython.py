"""IPython magics and rich display: ``%load_ext hotpath``.

    %load_ext hotpath
    %hprun [-s sort] [-l limit] [-T file] [-D file] [-q] [-r] statement     (%%hprun: a cell)
    %lprun -f func [-f func2] [-m module] [-D file] [-T file] [-r] [-s] [-u unit] statement
    %mprun -f func [-f func2] [-T file] [-r] statement                         (%%mprun)
    %memit [-r R] [-o] [-q] statement        %%memit [setup]  (the cell is measured)
    %hbench [-n N] [-r R] [-s setup] [-o] [-q] stmt [;; stmt2 ...]   (%%hbench [setup])

What each prints follows the peer a user already knows: ``%prun``'s options with
hotpath's table (and, in Jupyter, the interactive flame graph of the HTML report inline);
line_profiler's ``%lprun`` table; memory_profiler's ``%memit`` line and ``%mprun`` table,
measured exactly by hotpath's allocation tracker rather than by polling RSS; and for
``%hbench`` the statistics of ``hotpath.bench``, a superset of ``%timeit``. Several
statements separated by ``;;`` (in a line or across a cell; ``;;`` never occurs in valid
Python outside a string) are measured interleaved and compared with the first.

Each magic shows a result object: plain text in a terminal (``_repr_pretty_``), a table
or the flame graph in Jupyter (``_repr_html_``). With ``-o``/``-r`` the object is
returned instead of shown, so ``r = %hbench -o f()`` keeps it quietly and a bare
``%hbench -o f()`` shows it once as the cell's output; ``-q`` shows nothing.

The result objects need nothing from IPython; the magics import it when the extension
is loaded, so IPython stays an optional dependency (``hotpath[notebook]``).
"""
from __future__ import annotations

import dataclasses
import html
import io
import linecache
import sys
import threading
import tokenize
from typing import Any, Callable

import hotpath

__all__ = ["load_ipython_extension", "unload_ipython_extension", "ProfileView",
           "LineView", "MemLinesView", "MemitView", "BenchView", "CompareView",
           "split_statements"]

MiB = 1024.0 * 1024.0

# -- shared HTML pieces --------------------------------------------------------------------

# Inline style attributes only: they survive every notebook front end's sanitizer, and the
# pages' stylesheets stay package files (report/html/).
_T = "border-collapse:collapse;font:12px/1.35 ui-monospace,Menlo,Consolas,monospace"
_TH = "padding:2px 8px;border-bottom:1px solid #999;white-space:nowrap;text-align:"
_TD = "padding:1px 8px;white-space:pre;text-align:"
_HEAD = 'style="font:600 13px sans-serif;margin:6px 0 4px"'
_NOTE = 'style="font:12px sans-serif;color:#555;margin:2px 0 6px"'


def _esc(text: Any) -> str:
    return html.escape(str(text), quote=True)


def _heat(fraction: float, rgb: str = "230,90,40") -> str:
    """A row background whose strength says how much of the total the row holds."""
    a = max(0.0, min(1.0, fraction)) * 0.55
    return f' style="background:rgba({rgb},{a:.3f})"' if a >= 0.01 else ""


def _table(headers: list[str], rows: list[tuple[list[str], str]], src_col: int = -1) -> str:
    """An HTML table; ``rows`` are (cells, extra attributes of the <tr>). The column
    ``src_col`` (source text, names) is left-aligned, the numbers right-aligned."""
    def align(i: int) -> str:
        return "left" if src_col >= 0 and i == src_col else "right"
    out = [f'<table class="hp-t" style="{_T}"><thead><tr>']
    out += [f'<th style="{_TH}{align(i)}">{_esc(h)}</th>' for i, h in enumerate(headers)]
    out.append("</tr></thead><tbody>")
    for cells, attrs in rows:
        out.append(f"<tr{attrs}>" + "".join(f'<td style="{_TD}{align(i)}">{_esc(c)}</td>'
                                            for i, c in enumerate(cells)) + "</tr>")
    out.append("</tbody></table>")
    return "".join(out)


def _source_block(filename: str, first: int) -> list[str]:
    """The source of the block that starts at line ``first`` (as the peers show it)."""
    import inspect
    lines = linecache.getlines(filename)[first - 1:]
    if not lines:
        return []
    try:
        return inspect.getblock(lines)
    except Exception:
        return lines


class _View:
    """A result with a text face (terminal) and an HTML face (Jupyter)."""

    def text(self) -> str:
        raise NotImplementedError

    def html(self) -> str:
        return f"<pre>{_esc(self.text())}</pre>"

    def __str__(self) -> str:
        return self.text()

    # The text is the repr too, so that plain-text displays (IPython with %pprint off,
    # the notebook's text/plain) show the table rather than an object address.
    __repr__ = __str__

    def _repr_pretty_(self, p: Any, cycle: bool) -> None:
        p.text(self.text().rstrip("\n"))

    def _repr_html_(self) -> str:
        return self.html()


# -- function profiles ----------------------------------------------------------------------

class ProfileView(_View):
    """What ``%hprun`` shows: the hot-function table and, in Jupyter, the HTML report
    (flame graph, table, source) inline. ``profile`` is the ``hotpath.model.Profile``,
    ``profiler`` the ``hotpath.Profile`` that recorded it (``pstats.Stats(profiler)``
    reads it)."""

    def __init__(self, profile: Any, profiler: Any = None, sort: str = "tottime",
                 limit: int | None = 20, name_filter: str | None = None,
                 height: int = 620) -> None:
        self.profile = profile
        self.profiler = profiler
        self.sort = sort
        self.limit = limit
        self.name_filter = name_filter
        self.height = height

    def text(self) -> str:
        from hotpath.report.text import format_table
        return format_table(self.profile, sort=self.sort, limit=self.limit,
                            name_filter=self.name_filter)

    def page(self) -> str:
        """The self-contained HTML report of the profile (one document)."""
        from hotpath.report.html import to_html
        return to_html(self.profile)

    def html(self) -> str:
        # The report page is a whole document with its own script and strict CSP: it goes
        # in an iframe (srcdoc, sandboxed to scripts only), so nothing leaks either way.
        frame = (f'<iframe class="hp-flame" sandbox="allow-scripts" srcdoc="{_esc(self.page())}" '
                 f'style="width:100%;height:{int(self.height)}px;border:1px solid #ccc;'
                 f'border-radius:4px"></iframe>')
        return ('<div class="hp-profile">' + frame +
                f"<details><summary>table</summary><pre>{_esc(self.text())}</pre></details></div>")



def _only_new_threads(profile: Any, before: set[int]) -> Any:
    """The profile without the threads that were already running elsewhere (a kernel's
    heartbeat, IOPub and history threads): the statement's own thread and any thread it
    started stay, as ``%prun`` shows the statement's work only."""
    keep = [t for t in profile.threads if t.thread_id not in before]
    return dataclasses.replace(profile, threads=keep or profile.threads[:1])


# -- line timings ----------------------------------------------------------------------------

class LineView(_View):
    """What ``%lprun`` shows: line_profiler's table (``stats`` is a ``LineStats``)."""

    def __init__(self, stats: Any, output_unit: float | None = None,
                 stripzeros: bool = False) -> None:
        self.stats = stats
        self.output_unit = output_unit
        self.stripzeros = stripzeros

    def text(self) -> str:
        buf = io.StringIO()
        self.stats.print(stream=buf, output_unit=self.output_unit, stripzeros=self.stripzeros)
        return buf.getvalue()

    def html(self) -> str:
        from hotpath.report.base import format_seconds
        unit = self.stats.unit
        out_unit = self.output_unit if self.output_unit is not None else unit
        scale = unit / out_unit
        parts = [f'<div {_NOTE}>Timer unit: {out_unit:g} s</div>']
        for (filename, first, name), rows in self.stats.timings.items():
            hits_total = sum(r[1] for r in rows)
            total = sum(r[2] for r in rows)
            if self.stripzeros and hits_total == 0:
                continue
            parts.append(f'<div {_HEAD}>{_esc(name)} — {_esc(filename)}:{first} '
                         f'— total {_esc(format_seconds(total * unit))}</div>')
            by_line = {ln: (h, t) for ln, h, t in rows}
            src = _source_block(filename, first)
            last = max([first + len(src) - 1, *by_line]) if by_line else first + len(src) - 1
            body = []
            for ln in range(first, last + 1):
                text = src[ln - first].rstrip("\r\n") if 0 <= ln - first < len(src) else ""
                if ln in by_line:
                    h, t = by_line[ln]
                    frac = t / total if total else 0.0
                    body.append(([str(ln), str(h), f"{t * scale:.1f}",
                                  f"{t * scale / h:.1f}" if h else "", f"{100 * frac:.1f}", text],
                                 _heat(frac)))
                else:
                    body.append(([str(ln), "", "", "", "", text], ""))
            parts.append(_table(["Line #", "Hits", "Time", "Per Hit", "% Time",
                                 "Line Contents"], body, src_col=5))
        return "".join(parts)



# -- memory ------------------------------------------------------------------------------------

class MemLinesView(_View):
    """What ``%mprun`` shows: memory_profiler's table per function. ``functions`` are the
    line records of ``MemLineProfiler.line_data()``: {filename, lineno, name, lines:
    [[line, mem_bytes, increment_bytes, occurrences]]}; memory is the bytes the tracker
    saw live (exact), not RSS."""

    def __init__(self, functions: list[dict[str, Any]], missing: list[str] | None = None) -> None:
        self.functions = functions
        self.missing = missing or []

    def text(self) -> str:
        from hotpath.report.memory import show_mem_lines
        buf = io.StringIO()
        for f in self.functions:
            show_mem_lines(f, stream=buf)
        for name in self.missing:
            buf.write(f"{name}: was not called\n")
        return buf.getvalue()

    def html(self) -> str:
        parts = []
        for f in self.functions:
            first = int(f["lineno"])
            rows = {int(r[0]): r for r in f["lines"]}
            src = _source_block(f["filename"], first)
            last = max([first + len(src) - 1, *rows]) if rows else first + len(src) - 1
            biggest = max((abs(r[2]) for r in rows.values()), default=0) or 1
            parts.append(f'<div {_HEAD}>{_esc(f["name"])} — {_esc(f["filename"])}:'
                         f'{first}</div>')
            body = []
            for ln in range(first, last + 1):
                text = src[ln - first].rstrip("\r\n") if 0 <= ln - first < len(src) else ""
                r = rows.get(ln)
                if r:
                    body.append(([str(ln), f"{r[1] / MiB:.1f} MiB", f"{r[2] / MiB:.1f} MiB",
                                  str(int(r[3])), text],
                                 _heat(abs(r[2]) / biggest, "60,110,220")))
                else:
                    body.append(([str(ln), "", "", "", text], ""))
            parts.append(_table(["Line #", "Mem usage", "Increment", "Occurrences",
                                 "Line Contents"], body, src_col=4))
        for name in self.missing:
            parts.append(f'<div {_NOTE}>{_esc(name)}: was not called</div>')
        return "".join(parts)



class _Forward(_View):
    """A view over a result object whose attributes it passes through (``r.median``)."""

    result: Any

    def __getattr__(self, name: str) -> Any:
        if name == "result":
            raise AttributeError(name)
        return getattr(self.result, name)


class MemitView(_Forward):
    """``%memit -o``'s result: the ``hotpath.memit`` result (peak, increment, baseline in
    bytes), shown as memory_profiler's line."""

    def __init__(self, result: Any) -> None:
        self.result = result

    def text(self) -> str:
        return str(self.result)

    def html(self) -> str:
        r = self.result
        return (_table(["peak memory", "increment", "repeat", "tracked"],
                                [([f"{r.peak / MiB:.2f} MiB", f"{r.increment / MiB:.2f} MiB",
                                   str(r.repeat), r.mode], "")]))



# -- benchmarks ------------------------------------------------------------------------------

def _stats_row(r: Any, unit: str) -> list[str]:
    from hotpath.bench.stats import format_time
    s = r.stats
    return [r.name, f"{s.rounds} × {r.loops:,}", format_time(s.min, unit),
            format_time(s.median, unit), f"{format_time(s.mean, unit)} ± "
            f"{format_time(s.stddev, unit)}", format_time(s.max, unit)]


_BENCH_HEAD = ["statement", "rounds × loops", "min", "median", "mean ± sd", "max"]


class BenchView(_Forward):
    """``%hbench``'s result for one statement: a ``hotpath.bench.BenchResult``."""

    def __init__(self, result: Any) -> None:
        self.result = result

    def text(self) -> str:
        return self.result.summary()

    def html(self) -> str:
        from hotpath.bench.stats import choose_unit
        r = self.result
        rows = [(_stats_row(r, choose_unit([r.stats.median])), "")]
        notes = "".join(f'<div {_NOTE}>{_esc(line.strip())}</div>'
                        for line in r.summary().splitlines()[2:])
        return _table(_BENCH_HEAD, rows, src_col=0) + notes



class CompareView(_Forward):
    """``%hbench``'s result for several statements: a ``hotpath.bench.CompareResult``
    (the first statement is the baseline)."""

    def __init__(self, result: Any) -> None:
        self.result = result

    def text(self) -> str:
        return self.result.report()

    def html(self) -> str:
        from hotpath.bench.stats import choose_unit
        c = self.result
        results = [c.result(impl) for impl in c.implementations]
        unit = choose_unit([r.stats.median for r in results])
        rows = []
        for impl, r in zip(c.implementations, results):
            if impl == c.baseline:
                rel, verdict = "1.00 (baseline)", ""
            else:
                rel = f"{c.normalized(impl):.2f}"
                verdict = c.comparison(impl).describe()
            rows.append((_stats_row(r, unit) + [rel, verdict], ""))
        notes = [c.clock_line()] + [f"WARNING: {impl}: {w}" for impl, r in
                                    zip(c.implementations, results) for w in r.warnings()]
        return (_table(_BENCH_HEAD + ["mean / baseline", "against baseline"], rows,
                                src_col=0)
                + "".join(f'<div {_NOTE}>{_esc(n)}</div>' for n in notes if n))



def split_statements(source: str) -> list[str]:
    """``source`` cut at each ``;;`` outside strings and comments (a double semicolon is
    never valid Python, so the separator cannot be confused with code). Blank pieces
    are dropped."""
    cuts: list[tuple[int, int]] = []
    offsets = [0]
    for line in source.splitlines(keepends=True):
        offsets.append(offsets[-1] + len(line))
    try:
        prev = None
        for tok in tokenize.generate_tokens(io.StringIO(source).readline):
            if (tok.type == tokenize.OP and tok.string == ";" and prev is not None
                    and prev.type == tokenize.OP and prev.string == ";" and prev.end == tok.start):
                start = offsets[prev.start[0] - 1] + prev.start[1]
                cuts.append((start, start + 2))
            prev = tok
    except (tokenize.TokenError, SyntaxError, IndentationError):
        if ";;" in source:   # untokenizable (IPython syntax, a piece's own error): plain cut
            pieces = source.split(";;")
            return [p for p in pieces if p.strip()]
    pieces, at = [], 0
    for a, b in cuts:
        pieces.append(source[at:a])
        at = b
    pieces.append(source[at:])
    return [p for p in pieces if p.strip()]


def _unquote(text: str) -> str:
    """A value given to an option with quotes kept (posix=False parsing) without them."""
    text = text.strip()
    if len(text) >= 2 and text[0] == text[-1] and text[0] in "'\"" and text[0] not in text[1:-1]:
        return text[1:-1]
    return text


# -- the magics ------------------------------------------------------------------------------------

def _make_magics() -> type:
    from IPython.core.error import UsageError
    from IPython.core.magic import (Magics, line_cell_magic, magics_class, needs_local_scope,
                                    no_var_expand)
    from IPython.display import display

    @magics_class
    class HotpathMagics(Magics):
        """hotpath's profiling and benchmarking magics (``%load_ext hotpath``)."""

        # -- helpers --------------------------------------------------------------

        def _code(self, line_stmt: str, cell: str | None) -> str:
            src = line_stmt if cell is None else cell
            src = self.shell.transform_cell(src) if cell is not None else src
            if not src.strip():
                raise UsageError("nothing to run: give a statement (or a cell)")
            return src

        def _namespaces(self, local_ns: dict | None) -> tuple[dict, dict]:
            glob = self.shell.user_ns
            return glob, (local_ns if local_ns is not None else glob)

        def _one_namespace(self, local_ns: dict | None) -> dict:
            """One namespace for code run as a function body (timeit's and memit's
            templates): the user's, or inside a function a copy with its locals."""
            glob = self.shell.user_ns
            if local_ns is None or local_ns is glob:
                return glob
            return {**glob, **local_ns}

        def _eval_targets(self, names: list[str], glob: dict, loc: dict, flag: str) -> list[Any]:
            out = []
            for name in names:
                try:
                    out.append(eval(_unquote(name), glob, loc))
                except Exception as exc:
                    raise UsageError(f"{flag} {name}: could not find it: "
                                     f"{type(exc).__name__}: {exc}") from None
            return out

        @staticmethod
        def _write_text(path: str, text: str, what: str) -> None:
            path = _unquote(path)
            try:
                with open(path, "w", encoding="utf-8") as f:
                    f.write(text)
            except OSError as exc:
                raise UsageError(f"cannot write {path}: {exc.strerror or exc}") from None
            print(f"\n*** {what} saved to text file {path!r}.")

        @staticmethod
        def _show(view: _View, quiet: bool, returned: bool) -> _View | None:
            if returned:
                return view
            if not quiet:
                display(view)
            return None

        def _run(self, code: str, glob: dict, loc: dict, start: Callable[[], None],
                 stop: Callable[[], None]) -> None:
            """Run the user's code between start and stop. An exception from the code
            propagates (IPython shows it); SystemExit and KeyboardInterrupt are reported
            and the results so far are shown, as the peers do."""
            try:      # IPython's own file name for it, so sources show in reports
                filename = self.shell.compile.cache(code, self.shell.execution_count)
            except Exception:
                filename = "<hotpath-magic>"
            compiled = compile(code, filename, "exec")
            start()
            try:
                exec(compiled, glob, loc)
            except SystemExit:
                print("*** SystemExit exception caught in code being profiled.")
            except KeyboardInterrupt:
                print("*** KeyboardInterrupt exception caught in code being profiled.")
            finally:
                stop()

        # -- %hprun ------------------------------------------------------------------

        @no_var_expand
        @line_cell_magic
        @needs_local_scope
        def hprun(self, line: str, cell: str | None = None, local_ns: dict | None = None):
            """Profile the functions a statement (or the cell) calls: hotpath's table,
            and in Jupyter the interactive flame graph inline.

            %hprun [-s sort] [-l limit] [-T file] [-D file] [-q] [-r] statement

            -s key   sort by tottime (default), cumtime, calls or name (pstats' aliases:
                     time, cumulative, ncalls...)
            -l N     show N rows (default 20); -l text keeps functions matching a regex
            -T file  also write the table to a text file
            -D file  save the profile: pstats' format when the name ends in .prof or
                     .pstats (pstats, snakeviz), hotpath's otherwise (hotpath view)
            -q       show nothing    -r  return the result (a ProfileView)
            """
            opts, stmt = self.parse_options(line, "D:l:rs:T:q", list_all=True, posix=False)
            from hotpath.report.text import SORT_KEYS
            sort = opts.get("s", ["tottime"])[-1]
            if sort not in SORT_KEYS:
                raise UsageError(f"-s {sort}: unknown sort key; choose from tottime, "
                                 "cumtime, calls, name")
            limit: int | None = 20
            name_filter = None
            for value in opts.get("l", []):
                try:
                    limit = int(value)
                except ValueError:
                    name_filter = _unquote(value)
            code = self._code(stmt, cell)
            glob, loc = self._namespaces(local_ns)
            prof = hotpath.Profile()
            before = {t.ident for t in threading.enumerate()} - {threading.get_ident()}

            def start() -> None:
                try:
                    prof.enable()
                except RuntimeError as exc:     # ProfilerActiveError
                    raise UsageError(f"cannot profile: {exc}") from None
            self._run(code, glob, loc, start, prof.disable)
            title = " ".join(code.split())
            profile = _only_new_threads(prof.snapshot({"command": title[:80] + (
                "..." if len(title) > 80 else "")}), before)
            view = ProfileView(profile, prof, sort=sort, limit=limit, name_filter=name_filter)
            for path in opts.get("D", []):
                path = _unquote(path)
                try:
                    if path.endswith((".prof", ".pstats")):
                        from hotpath.report.pstats import write_pstats
                        write_pstats(profile, path)
                    else:
                        hotpath.save(profile, path)
                except OSError as exc:
                    raise UsageError(f"cannot write {path}: {exc.strerror or exc}") from None
                print(f"\n*** Profile stats marshalled to file {path!r}.")
            for path in opts.get("T", []):
                self._write_text(path, view.text(), "Profile printout")
            return self._show(view, "q" in opts, "r" in opts)

        # -- %lprun ------------------------------------------------------------------

        @no_var_expand
        @line_cell_magic
        @needs_local_scope
        def lprun(self, line: str, cell: str | None = None, local_ns: dict | None = None):
            """Time chosen functions line by line while a statement (or the cell) runs;
            line_profiler's syntax and table.

            %lprun -f func [-f func2] [-m module] [-D file] [-T file] [-r] [-s] [-u unit] statement

            -f func  an expression giving a function or method to time (repeatable)
            -m mod   time every function and class of a module (repeatable)
            -D file  dump the LineStats (pickle, as line_profiler)
            -T file  also write the table to a text file
            -r       return the LineProfiler    -s  leave out functions with no hits
            -u unit  the table's time unit in seconds (default 1e-6)
            """
            opts, stmt = self.parse_options(line, "rsf:m:D:T:u:", list_all=True, posix=False)
            glob, loc = self._namespaces(local_ns)
            funcs = self._eval_targets(opts.get("f", []), glob, loc, "-f")
            lp = hotpath.LineProfiler()
            for f in funcs:
                if lp.add_function(f) <= 0:
                    try:
                        lp.add_class(f) if isinstance(f, type) else None
                    except Exception:
                        pass
            for name in opts.get("m", []):
                name = _unquote(name)
                try:
                    __import__(name)
                    lp.add_module(sys.modules[name])
                except Exception as exc:
                    raise UsageError(f"-m {name}: could not import it: "
                                     f"{type(exc).__name__}: {exc}") from None
            if not funcs and not opts.get("m"):
                raise UsageError("choose what to time: -f func (or -m module)")
            unit = 1e-6
            if opts.get("u"):
                try:
                    unit = float(opts["u"][-1])
                except ValueError:
                    raise UsageError(f"-u {opts['u'][-1]}: the unit is a number of seconds, "
                                     "e.g. 1e-3") from None
                if unit <= 0:
                    raise UsageError("-u: the unit must be positive")
            code = self._code(stmt, cell)
            self._run(code, glob, loc, lp.enable_by_count, lp.disable_by_count)
            stats = lp.get_stats()
            view = LineView(stats, output_unit=unit, stripzeros="s" in opts)
            for path in opts.get("D", []):
                path = _unquote(path)
                try:
                    stats.to_file(path)
                except OSError as exc:
                    raise UsageError(f"cannot write {path}: {exc.strerror or exc}") from None
                print(f"\n*** Profile stats pickled to file {path!r}.")
            for path in opts.get("T", []):
                self._write_text(path, view.text(), "Profile printout")
            display(view)
            return lp if "r" in opts else None

        # -- %mprun ------------------------------------------------------------------

        @no_var_expand
        @line_cell_magic
        @needs_local_scope
        def mprun(self, line: str, cell: str | None = None, local_ns: dict | None = None):
            """Memory line by line of chosen functions while a statement (or the cell)
            runs; memory_profiler's syntax and table, measured by hotpath's allocation
            tracker (the bytes Python and C extensions hold, exactly; not RSS).

            %mprun -f func [-f func2] [-T file] [-r] statement

            -f func  an expression giving a function to follow (repeatable)
            -T file  also write the table to a text file
            -r       return the result (a MemLinesView)
            -c       accepted for memory_profiler's sake: child processes are not tracked
            """
            opts, stmt = self.parse_options(line, "rf:T:c", list_all=True, posix=False)
            glob, loc = self._namespaces(local_ns)
            funcs = self._eval_targets(opts.get("f", []), glob, loc, "-f")
            if not funcs:
                raise UsageError("choose what to follow: -f func")
            if "c" in opts:
                print("hotpath: -c: child processes are not tracked; this process only",
                      file=sys.stderr)
            mp = hotpath.MemoryProfiler("exact", interval=0)
            lines = hotpath.MemLineProfiler(mp)
            names = []
            for f in funcs:
                if lines.add_function(f) <= 0:
                    raise UsageError(f"-f: {f!r} has no Python code to follow")
                names.append(getattr(f, "__qualname__", repr(f)))
            code = self._code(stmt, cell)

            def start() -> None:
                try:
                    mp.start()
                except RuntimeError as exc:
                    raise UsageError(f"cannot track memory: {exc}") from None
                lines.enable()

            def stop() -> None:
                lines.disable()
                mp.stop()
            self._run(code, glob, loc, start, stop)
            data = lines.line_data()
            ran = {d["name"] for d in data}
            view = MemLinesView(data, [n for n in names if n not in ran])
            for path in opts.get("T", []):
                self._write_text(path, view.text(), "Profile printout")
            return self._show(view, False, "r" in opts)

        # -- %memit ------------------------------------------------------------------

        @no_var_expand
        @line_cell_magic
        @needs_local_scope
        def memit(self, line: str, cell: str | None = None, local_ns: dict | None = None):
            """Peak memory and increment of a statement, as memory_profiler's %memit
            prints them (``peak memory: X MiB, increment: Y MiB``), measured exactly by
            hotpath's allocation tracker. In %%memit the line is setup code (run, not
            measured) and the cell is measured.

            %memit [-r R] [-o] [-q] statement

            -r R   run it R times, report the largest increment (default 1)
            -o     return the result (a MemitView: .peak, .increment in bytes)
            -q     print nothing
            -c     accepted for memory_profiler's sake: child processes are not tracked
            """
            opts, stmt = self.parse_options(line, "r:oqct:i", posix=False, strict=False)
            repeat = 1
            if "r" in opts:
                try:
                    repeat = int(opts["r"])
                except ValueError:
                    raise UsageError(f"-r {opts['r']}: give a whole number of runs") from None
                if repeat < 1:
                    raise UsageError("-r: at least one run")
            setup = "pass"
            if cell is not None:
                setup = self.shell.transform_cell(stmt) if stmt.strip() else "pass"
                stmt = self.shell.transform_cell(cell)
            if not stmt.strip():
                raise UsageError("nothing to measure: give a statement (or a cell)")
            glob = self._one_namespace(local_ns)
            try:
                res = hotpath.memit(stmt, setup=setup, repeat=repeat, globals=glob, quiet=True)
            except RuntimeError as exc:
                raise UsageError(f"cannot track memory: {exc}") from None
            view = MemitView(res)
            if "q" not in opts:
                print(view.text())
            return view if "o" in opts else None

        # -- %hbench -----------------------------------------------------------------

        @no_var_expand
        @line_cell_magic
        @needs_local_scope
        def hbench(self, line: str, cell: str | None = None, local_ns: dict | None = None):
            """Benchmark a statement, as %timeit does, with hotpath.bench's statistics;
            several statements separated by ``;;`` are measured interleaved and compared
            with the first (mean / baseline and a Mann-Whitney test).

            %hbench [-n N] [-r R] [-s setup] [-t|-c] [-g] [-o] [-q] stmt [;; stmt2 ...]
            %%hbench [options] [setup]      (the cell: the statement(s), ;; between them)

            -n N      loops per round (default: rounds of at least 2 ms)
            -r R      rounds (default: as many as fit in about a second, at least 10)
            -s setup  run once first, untimed (repeatable; quote it when it has spaces)
            -t / -c   wall clock / process CPU time (default: chosen per run)
            -g        keep the garbage collector on while timing
            -o        return the result (BenchView or CompareView)    -q  show nothing
            """
            opts, stmt = self.parse_options(line, "n:r:s:tcgoq", list_all=True, posix=False,
                                            strict=False)
            kw: dict[str, Any] = {}
            for flag, key in (("n", "number"), ("r", "repeat")):
                if opts.get(flag):
                    try:
                        kw[key] = int(opts[flag][-1])
                    except ValueError:
                        raise UsageError(f"-{flag} {opts[flag][-1]}: give a whole number") from None
                    if kw[key] < 1:
                        raise UsageError(f"-{flag}: at least 1")
            if "t" in opts and "c" in opts:
                raise UsageError("-t and -c: choose one clock")
            timer = "perf" if "t" in opts else "process" if "c" in opts else "auto"
            setups = [_unquote(s) for s in opts.get("s", [])]
            if cell is not None:
                if stmt.strip():
                    setups.append(stmt)
                body = cell
            else:
                body = stmt
            statements = [self.shell.transform_cell(s).strip("\n")
                          for s in split_statements(body)]
            if not statements:
                raise UsageError("nothing to time: give a statement (or a cell)")
            setup = "\n".join(self.shell.transform_cell(s) for s in setups) or "pass"
            glob = self._one_namespace(local_ns)
            from hotpath.bench.compare import compare_timed
            from hotpath.bench.runner import Options, Timed, measure
            options = Options(number=kw.get("number"), repeat=kw.get("repeat"), timer=timer,
                              gc="g" in opts)
            names = _names(statements)
            try:
                targets = [Timed(s, setup=setup, globals=glob, options=options, name=n)
                           for s, n in zip(statements, names)]
            except SyntaxError as exc:
                raise UsageError(f"syntax error: {exc.msg} in {exc.text!r}") from None
            view: _View
            if len(targets) == 1:
                view = BenchView(measure(targets[0]))
            else:
                view = CompareView(compare_timed({(n, None): t for n, t in zip(names, targets)},
                                                 names, [None]))
            return self._show(view, "q" in opts, "o" in opts)

    return HotpathMagics


def _names(statements: list[str]) -> list[str]:
    """Short unique names for the statements (their first line, numbered on a clash)."""
    names: list[str] = []
    for i, s in enumerate(statements):
        first = s.strip().splitlines()[0] if s.strip() else "pass"
        name = first if len(first) <= 60 else first[:57] + "..."
        if "\n" in s.strip():
            name += " ..."
        if name in names:
            name = f"{name} [{i + 1}]"
        names.append(name)
    return names


def load_ipython_extension(ip: Any) -> None:
    """``%load_ext hotpath``: register %hprun, %lprun, %mprun, %memit, %hbench."""
    ip.register_magics(_make_magics())


def unload_ipython_extension(ip: Any) -> None:
    """``%unload_ext hotpath``: nothing to undo beyond what IPython does."""
