"""Several implementations x problem sizes, measured interleaved, compared honestly.

``hotpath.compare({"native": solve, "wrapper": wrapped}, sizes=[101, 1001, 20001],
setup=make_grid)`` measures every implementation at every size. For each size, the
implementations' rounds are interleaved (round r of each before round r + 1 of any), so
a change in the machine's speed during the run — thermal, another process — affects
all of them alike instead of favouring whichever ran first.

The :class:`CompareResult` prints three tables:

* **mean ± sd** of each cell (implementation x size);
* **normalised**: each cell's mean divided by the baseline's mean at the same size;
* **significance**: for each implementation against the baseline, at each size, the
  ratio of medians and the two-sided Mann–Whitney U p-value, with the verdict
  "faster" / "slower" / "same" (see :mod:`hotpath.bench.stats`);

and plots normalised runtime against size (:meth:`CompareResult.plot`).
"""
from __future__ import annotations

import json
import math
import sys
from dataclasses import dataclass, field
from typing import Any, Callable, Mapping, Sequence, TextIO

from .plot import have_matplotlib, png_plot, svg_figure, svg_plot
from .result import BenchResult, clock_of
from .runner import Options, Timed, _as_args, _finish, choose_clock, prepare, run_rounds
from .stats import (_UNIT_LABEL, ALPHA, MIN_EFFECT, UNITS, Comparison, choose_unit,
                    format_time)

__all__ = ["compare", "compare_timed", "CompareResult", "render_table"]


def render_table(headers: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    """A plain-text table: first column left-aligned, the others right-aligned."""
    widths = [max(len(str(r[i])) for r in [headers, *rows]) for i in range(len(headers))]

    def line(cells: Sequence[str]) -> str:
        out = [str(cells[0]).ljust(widths[0])]
        out += [str(c).rjust(w) for c, w in zip(cells[1:], widths[1:])]
        return "  ".join(out).rstrip()

    rule = "  ".join("-" * w for w in widths)
    return "\n".join([line(headers), rule, *(line(r) for r in rows)])


def _in_unit(seconds: float, unit: str) -> str:
    """``seconds`` in ``unit`` with three significant digits, also below 1 (0.0412 ms)."""
    value = seconds / UNITS[unit]
    if not math.isfinite(value) or abs(value) >= 1 or value == 0:
        return format_time(seconds, unit)
    return f"{value:.3g} {_UNIT_LABEL[unit]}"


def _size_label(size: Any) -> str:
    return "-" if size is None else str(size)


@dataclass
class CompareResult:
    """Results of :func:`compare`: one BenchResult per (implementation, size)."""

    implementations: list[str]
    sizes: list[Any]
    baseline: str
    results: dict[tuple[str, Any], BenchResult]
    alpha: float = ALPHA
    min_effect: float = MIN_EFFECT
    size_name: str = "size"
    extra: dict = field(default_factory=dict)

    def result(self, impl: str, size: Any = None) -> BenchResult:
        if size is None and len(self.sizes) == 1:
            size = self.sizes[0]
        return self.results[(impl, size)]

    def comparison(self, impl: str, size: Any = None) -> Comparison:
        """``impl`` against the baseline at ``size``."""
        if size is None and len(self.sizes) == 1:
            size = self.sizes[0]
        return self.results[(impl, size)].compare(self.results[(self.baseline, size)],
                                                  self.alpha, self.min_effect)

    def normalized(self, impl: str, size: Any = None) -> float:
        """Mean of ``impl`` over the mean of the baseline, at ``size``."""
        if size is None and len(self.sizes) == 1:
            size = self.sizes[0]
        base = self.results[(self.baseline, size)].mean
        mine = self.results[(impl, size)].mean
        return mine / base if base > 0 else math.nan

    # ------------------------------------------------------------------ tables

    def _headers(self) -> list[str]:
        if self.sizes == [None]:
            return ["implementation", "time"]
        return ["implementation"] + [f"{self.size_name}={_size_label(s)}" for s in self.sizes]

    def table_absolute(self, unit: str | None = None) -> str:
        """Mean ± sd per call of each cell, in one unit for the whole table (``unit``, or
        ``plot_unit()``)."""
        rows = [[impl] for impl in self.implementations]
        u = unit or self.plot_unit()
        for s in self.sizes:
            col = [self.results[(impl, s)] for impl in self.implementations]
            for row, r in zip(rows, col):
                row.append(f"{_in_unit(r.mean, u)} ± {_in_unit(r.stddev, u)}")
        return render_table(self._headers(), rows)

    def table_normalized(self) -> str:
        """Means divided by the baseline's mean at the same size; ``*`` marks a
        difference the significance test calls real."""
        rows = []
        for impl in self.implementations:
            row = [impl + (" (baseline)" if impl == self.baseline else "")]
            for s in self.sizes:
                if impl == self.baseline:
                    row.append("1.00")
                    continue
                mark = "*" if self.comparison(impl, s).significant else " "
                row.append(f"{self.normalized(impl, s):.2f}{mark}")
            rows.append(row)
        return render_table(self._headers(), rows)

    def table_significance(self) -> str:
        """Per implementation and size: ratio of medians to the baseline, p-value, verdict."""
        rows = []
        for impl in self.implementations:
            if impl == self.baseline:
                continue
            rows.append([impl] + [self.comparison(impl, s).describe() for s in self.sizes])
        return render_table(self._headers(), rows)

    def report(self, unit: str | None = None, warnings: bool = True) -> str:
        """The three tables, then the warnings of every cell (unless ``warnings=False``)."""
        first = next(iter(self.results.values()))
        note = (f"{first.stats.rounds} rounds per cell, interleaved; "
                + ("loop's own cost subtracted" if first.options.get("subtract", True)
                   else "gross times") + "; " + ("gc off" if first.options.get("disable_gc", True)
                                                else "gc on"))
        parts = [f"Time per call (mean ± sd; {note})", self.clock_line(),
                 self.table_absolute(unit), "",
                 f"Normalised to {self.baseline} (mean / baseline mean; * = significant, "
                 f"Mann-Whitney U p < {self.alpha:g} and >= {self.min_effect:.0%} apart)",
                 self.table_normalized()]
        if len(self.implementations) > 1:
            parts += ["", f"Against {self.baseline} (ratio of medians, two-sided "
                      "Mann-Whitney U)", self.table_significance()]
        warned = [(k, w) for k, r in self.results.items() for w in r.warnings()] if warnings else []
        if warned:
            parts.append("")
            for (impl, s), w in warned:
                where = impl if s is None else f"{impl} @ {self.size_name}={s}"
                parts.append(f"WARNING: {where}: {w}")
        return "\n".join(parts)

    def clocks(self) -> set:
        """The clocks the cells were read on (one, unless loaded from a foreign file)."""
        return {clock_of(r.options) for r in self.results.values()}

    def clock_line(self) -> str:
        """``Clock: thread CPU time (timer auto: <why>), for every cell``."""
        if len(self.clocks()) == 1:
            first = next(iter(self.results.values()))
            return f"Clock: {first.clock_description()}, for every cell"
        return ("Clock: NOT THE SAME FOR EVERY CELL (" + ", ".join(sorted(map(str, self.clocks())))
                + "): the ratios below compare different clocks")

    def __str__(self) -> str:
        return self.report()

    def _repr_pretty_(self, p: Any, cycle: bool) -> None:   # IPython
        p.text(self.report())

    # ------------------------------------------------------------------- plot

    def _xs(self) -> list[float]:
        numeric = all(isinstance(s, (int, float)) and not isinstance(s, bool)
                      for s in self.sizes)
        return [float(s) if numeric else float(i) for i, s in enumerate(self.sizes)]

    def plot_series(self, absolute: bool = False, unit: str | None = None
                    ) -> dict[str, list[tuple[float, ...]]]:
        """Per implementation: (x, median, q1, q3) per size — the median and its
        interquartile range (the error bar), divided by the baseline's median at the same
        size, or with ``absolute`` in ``unit`` (default: ``plot_unit()``)."""
        scale = 1.0 / UNITS[unit or self.plot_unit()]
        out = {}
        for impl in self.implementations:
            pts = []
            for x, s in zip(self._xs(), self.sizes):
                st = self.results[(impl, s)].stats
                div = (scale if absolute else
                       (1.0 / self.results[(self.baseline, s)].stats.median
                        if self.results[(self.baseline, s)].stats.median > 0 else math.nan))
                pts.append((x, st.median * div, st.q1 * div, st.q3 * div))
            out[impl] = pts
        return out

    def plot_unit(self) -> str:
        """The one time unit of the absolute chart and of ``table_absolute``: the one
        that shows the middle mean (the median of all cells' means) as at least 1, so
        neither end of a wide table turns into long digits."""
        means = sorted(r.mean for r in self.results.values() if r.mean > 0)
        return choose_unit(means[len(means) // 2:len(means) // 2 + 1])

    def plot(self, path: str = "compare.svg", title: str | None = None) -> list[str]:
        """Plot runtime against size: the time per call (median, bars: interquartile
        range) and the same normalised to the baseline's median, one chart above the
        other; a y axis spanning more than 10x is logarithmic. Writes ``path`` as SVG
        (always, by hand) — or as PNG with matplotlib when ``path`` ends in ``.png``;
        when it ends in ``.svg`` and matplotlib is installed, a ``.png`` is written next
        to it too. Returns the paths written."""
        numeric = all(isinstance(s, (int, float)) and not isinstance(s, bool)
                      for s in self.sizes)
        labels = None if numeric else [_size_label(s) for s in self.sizes]
        unit = self.plot_unit()
        charts = [
            (self.plot_series(absolute=True, unit=unit),
             dict(title=title or "Time per call (median; bars: interquartile range)",
                  xlabel=self.size_name, ylabel=f"time per call ({_UNIT_LABEL[unit]})",
                  xticklabels=labels, reference=None)),
            (self.plot_series(),
             dict(title=f"Normalised to {self.baseline} (median / median of {self.baseline})",
                  xlabel=self.size_name, ylabel=f"time / time of {self.baseline}",
                  xticklabels=labels)),
        ]
        written = []
        if path.endswith(".png"):
            png_plot(charts, path)
            return [path]
        with open(path, "w", encoding="utf-8") as fh:
            fh.write(svg_figure([svg_plot(ser, **kw, standalone=False) for ser, kw in charts]))
        written.append(path)
        if path.endswith(".svg") and have_matplotlib():
            png = path[:-4] + ".png"
            png_plot(charts, png)
            written.append(png)
        return written

    # ------------------------------------------------------------------- JSON

    def to_document(self, include_data: bool = True) -> dict:
        from .document import document
        benches = []
        for impl in self.implementations:
            for s in self.sizes:
                benches.append(self.results[(impl, s)].to_dict(include_data))
        return document(benches, kind="compare",
                        compare={"implementations": self.implementations,
                                 "sizes": self.sizes, "baseline": self.baseline,
                                 "alpha": self.alpha, "min_effect": self.min_effect,
                                 "size_name": self.size_name, "clock": self._clock_doc()})

    def _clock_doc(self) -> dict | None:
        """The comparison's one clock, as saved: {"clock", "timer", "reason"}."""
        if len(self.clocks()) != 1:
            return None
        o = next(iter(self.results.values())).options
        return {"clock": clock_of(o), "timer": o.get("timer"), "reason": o.get("clock_reason")}

    def to_json(self, include_data: bool = True, indent: int | None = 2) -> str:
        return json.dumps(self.to_document(include_data), indent=indent)

    def save(self, path: str) -> None:
        """Write the results to ``path``; ``hotpath.bench.load(path)`` reads them back."""
        with open(path, "w", encoding="utf-8") as fh:
            fh.write(self.to_json())
            fh.write("\n")

    @classmethod
    def from_document(cls, doc: dict, where: str = "compare file") -> "CompareResult":
        """Read a document written by :meth:`to_document` (its benchmark entries
        already checked); ValueError when the comparison does not hold together."""
        meta = doc["hotpath"].get("compare")
        if not isinstance(meta, dict):
            raise ValueError(f"{where}: no 'hotpath.compare' object")
        impls, sizes, baseline = (meta.get("implementations"), meta.get("sizes"),
                                  meta.get("baseline"))
        scalar = (str, int, float, bool, type(None))
        if (not isinstance(impls, list) or not impls
                or not all(isinstance(i, str) for i in impls)
                or not isinstance(sizes, list) or not sizes
                or not all(isinstance(x, scalar) for x in sizes)
                or baseline not in impls):
            raise ValueError(f"{where}: 'hotpath.compare' needs implementations (strings), "
                             "sizes (numbers or strings) and a baseline among them")
        results = {}
        for d in doc["benchmarks"]:
            r = BenchResult.from_dict(d)
            params = r.params or {}
            results[(params.get("implementation"), params.get("size"))] = r
        missing = [(i, s) for i in impls for s in sizes if (i, s) not in results]
        if missing:
            raise ValueError(f"{where}: no benchmark for {missing[0][0]!r} at size "
                             f"{missing[0][1]!r}")
        alpha, effect = meta.get("alpha", ALPHA), meta.get("min_effect", MIN_EFFECT)
        name = meta.get("size_name", "size")
        return cls(list(impls), list(sizes), baseline, results,
                   alpha if isinstance(alpha, float) else ALPHA,
                   effect if isinstance(effect, float) else MIN_EFFECT,
                   name if isinstance(name, str) else "size")

    def against(self, earlier: "CompareResult") -> str:
        """A table comparing each cell with the same cell of an earlier (loaded) run."""
        rows = []
        for impl in self.implementations:
            row = [impl]
            for s in self.sizes:
                old = earlier.results.get((impl, s))
                row.append(self.results[(impl, s)].compare(old, self.alpha, self.min_effect)
                           .describe() if old else "(not in earlier run)")
            rows.append(row)
        return render_table(self._headers(), rows)


def compare_timed(cells: Mapping[tuple[str, Any], Timed], implementations: Sequence[str],
                  sizes: Sequence[Any], baseline: str | None = None, *,
                  alpha: float = ALPHA, min_effect: float = MIN_EFFECT,
                  size_name: str = "size") -> CompareResult:
    """Measure prepared targets (one per implementation x size), interleaving the
    implementations at each size. The CLI and :func:`compare` share this."""
    implementations = list(implementations)
    baseline = baseline or implementations[0]
    if baseline not in implementations:
        raise ValueError(f"baseline {baseline!r} is not one of {implementations}")
    results: dict[tuple[str, Any], BenchResult] = {}
    # Every cell is calibrated (and probed) first, so that one clock is chosen for the
    # whole comparison, every size included; then each size's rounds run interleaved.
    targets = {s: [cells[(impl, s)] for impl in implementations] for s in sizes}
    raws = {s: prepare(targets[s]) for s in sizes}
    choice = choose_clock([t for s in sizes for t in targets[s]])
    for s in sizes:
        run_rounds(targets[s], raws[s], choice)
        for impl, t, raw in zip(implementations, targets[s], raws[s]):
            params = {"implementation": impl, "size": s}
            r = _finish(t, raw, group=f"{size_name}={_size_label(s)}", params=params)
            r.param = f"{impl}-{_size_label(s)}"
            r.baseline = impl == baseline
            results[(impl, s)] = r
    return CompareResult(implementations, list(sizes), baseline, results, alpha,
                         min_effect, size_name)


def compare(implementations: Mapping[str, Callable] | Sequence[Callable],
            sizes: Sequence[Any] | None = None, setup: Callable[..., Any] | None = None,
            *, baseline: str | None = None, min_time: float = Options.min_time,
            max_time: float = Options.max_time, min_rounds: int = Options.min_rounds,
            number: int | None = None, repeat: int | None = None,
            warmup: int = Options.warmup, timer: Any = "auto", gc: bool = False,
            subtract: bool = True, memory: bool = False, alpha: float = ALPHA,
            min_effect: float = MIN_EFFECT, size_name: str = "size",
            report: bool = True, plot: str | None = None,
            file: TextIO | None = None) -> CompareResult:
    """Benchmark several implementations at several problem sizes, interleaved.

    ``implementations``: ``{name: callable}`` (or a list of callables, named after
    themselves). The first one is the baseline unless ``baseline`` names another.

    Arguments: with ``setup``, each implementation at each size is called with what
    ``setup(size)`` returns (``setup()`` without sizes); a tuple is spread into
    positional arguments, anything else is one argument. ``setup`` runs once per
    implementation and size, untimed, so an implementation that mutates its input
    does not affect the others. Without ``setup``, each is called with ``size``
    itself (or with no argument when there are no sizes).

    ``max_time`` is the time budget per size (shared by the implementations);
    the other timing options are those of :func:`hotpath.bench`.

    Prints the tables (unless ``report=False``), writes the plot when ``plot`` is a
    path, and returns the :class:`CompareResult`.
    """
    if not isinstance(implementations, Mapping):
        impls = {}
        for fn in implementations:
            name = getattr(fn, "__name__", None) or repr(fn)
            if name in impls:
                raise ValueError(f"two implementations are named {name!r}; pass a dict")
            impls[name] = fn
        implementations = impls
    if not implementations:
        raise ValueError("nothing to compare")
    opts = Options(min_time=min_time, max_time=max_time, min_rounds=min_rounds,
                   number=number, repeat=repeat, warmup=warmup, timer=timer, gc=gc,
                   subtract=subtract, memory=memory)
    size_list = list(sizes) if sizes is not None else [None]
    cells = {}
    for s in size_list:
        for name, fn in implementations.items():
            if setup is not None:
                args = _as_args(setup(s) if sizes is not None else setup())
            else:
                args = (s,) if sizes is not None else ()
            cells[(name, s)] = Timed(fn, args, options=opts, name=name)
    result = compare_timed(cells, list(implementations), size_list, baseline, alpha=alpha,
                           min_effect=min_effect, size_name=size_name)
    if report:
        print(result.report(), file=file or sys.stdout)
    if plot:
        written = result.plot(plot)
        if report:
            print("plot: " + ", ".join(written), file=file or sys.stdout)
    return result
