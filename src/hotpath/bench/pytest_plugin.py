"""pytest plugin: the ``hotpath_benchmark`` fixture (and ``benchmark`` when it is free).

Registered through the ``pytest11`` entry point ``hotpath``, so installing hotpath
enables it (``-p hotpath`` loads it explicitly, ``-p no:hotpath`` disables it).

Fixtures:

* ``hotpath_benchmark`` — always.
* ``benchmark`` — the same object, but only when pytest-benchmark is not active: when
  it is installed it owns ``benchmark`` (its hooks reject any other object under that
  name), and hotpath never shadows it. To use hotpath's ``benchmark`` with
  pytest-benchmark installed, disable that plugin: ``-p no:benchmark``. The ini option
  ``hotpath_benchmark_fixture`` says ``auto`` (default, as above), ``never`` (only
  ``hotpath_benchmark``) or ``always`` (error out when pytest-benchmark is active).

Markers: ``@pytest.mark.hotpath_benchmark(group=..., baseline=True, min_time=...,
max_time=..., min_rounds=..., warmup=..., timer=..., gc=..., subtract=..., memory=...)``;
pytest-benchmark's ``@pytest.mark.benchmark(group=..., min_rounds=..., max_time=...,
min_time=..., timer=..., disable_gc=..., warmup=...)`` is read too.

Options: ``--hotpath-save=FILE`` (JSON, a superset of pytest-benchmark's),
``--hotpath-autosave`` (into the history under ``.benchmarks/``, keyed by commit, machine
and Python: see :mod:`hotpath.bench.history`), ``--hotpath-compare=FILE`` (a file from
``--hotpath-save``, ``hotpath bench --save`` or pytest-benchmark; without FILE the
latest saved run of this machine and Python), ``--hotpath-compare-fail=median:5%`` (fail the session when a
benchmark got worse by more than that *and* significantly), ``--hotpath-disable``,
``--hotpath-skip``, ``--hotpath-only`` and the timing options below. ``--hotpath-timer``
chooses the clock (each table header names it). ``--hotpath-measure=instructions``
counts each benchmark's instructions per call beside its times (perf events in the test
process; where there are none, the benchmarking tests are run once more at the end
under valgrind's callgrind, which counts only the benchmarked calls).
``--hotpath-histogram=PREFIX`` draws each benchmark's rounds.

Under pytest-xdist (``-n N``) every worker measures its own tests and sends its results
to the controller, which prints one table and writes one file (and warns that the
workers share the cores: times are inflated and noisy, instruction counts are not).

While pytest-benchmark is not active, its own flags (``--benchmark-only``,
``--benchmark-save``, ``--benchmark-compare``, ...) work too, with its storage layout:
see :mod:`hotpath.bench.pb_flags`.
"""
from __future__ import annotations

import importlib.util
import json
import math
import os
from typing import Any

import pytest

from . import pb_flags
from .boxplot import write_histogram
from .compare import render_table
from .fixture import BenchmarkFixture
from .gate import Gate
from .jsonio import document, load_results
from .clock import label as clock_label
from .result import BenchResult, clock_of
from .runner import CLOCKS, Options
from .stats import ALPHA, MIN_EFFECT, choose_unit, format_time

_SESSION_KEY = pytest.StashKey["_BenchSession"]()
_PB_KEY = pytest.StashKey[pb_flags.PbFlags]()
_PYTEST_BENCHMARK = "benchmark"        # pytest-benchmark's plugin (entry point) name
_ALIAS_PLUGIN = "hotpath-benchmark-alias"
_FIXTURE_MODES = ("auto", "always", "never")

# Defaults as pytest-benchmark's where they mean the same (min_rounds, max_time).
_DEFAULTS = Options(min_time=Options.min_time, max_time=1.0, min_rounds=5)

_MARKER_KW = {"group", "baseline", "min_time", "max_time", "min_rounds", "warmup", "timer",
              "gc", "subtract", "memory"}
# pytest-benchmark's marker keywords; those without meaning here are accepted and ignored.
_PB_MARKER_KW = {"group", "min_rounds", "max_time", "min_time", "timer", "disable_gc",
                 "warmup", "warmup_iterations", "calibration_precision", "cprofile",
                 "precision", "confidence"}


def _pytest_benchmark_inactive(pluginmanager: pytest.PytestPluginManager) -> bool:
    """True when pytest-benchmark will not own its options: blocked (``-p
    no:benchmark``) or not installed."""
    if pluginmanager.has_plugin(_PYTEST_BENCHMARK):
        return False
    return (pluginmanager.is_blocked(_PYTEST_BENCHMARK)
            or importlib.util.find_spec("pytest_benchmark") is None)


def pytest_addoption(parser: pytest.Parser, pluginmanager: pytest.PytestPluginManager) -> None:
    g = parser.getgroup("hotpath", "hotpath benchmarks")
    g.addoption("--hotpath-save", metavar="FILE",
                help="write every benchmark to FILE as JSON (pytest-benchmark's layout, "
                     "with raw samples)")
    g.addoption("--hotpath-compare", metavar="FILE", nargs="?", const="",
                help="compare every benchmark with the same one in FILE (written by "
                     "--hotpath-save, hotpath bench --save, or pytest-benchmark); without "
                     "FILE, the latest run saved by --hotpath-autosave on this machine")
    g.addoption("--hotpath-autosave", action="store_true",
                help="save the run into the history: .benchmarks/hotpath/<machine>/"
                     "<python>/<time>_<commit>[_dirty].json (see hotpath bench history)")
    g.addoption("--hotpath-measure", choices=["time", "instructions"], default="time",
                help="instructions: also count each benchmark's instructions per call "
                     "(exact and immune to load: perf events, else valgrind)")
    g.addoption("--hotpath-histogram", metavar="PREFIX",
                help="draw each benchmark's rounds: PREFIX-<test>.svg (and .png with "
                     "matplotlib)")
    g.addoption("--hotpath-compare-fail", metavar="EXPR", action="append", default=[],
                help="with --hotpath-compare: fail when STAT got worse by more than the "
                     "limit and the Mann-Whitney U test says it is real, e.g. median:5%%, "
                     "mean:0.001 (seconds). May repeat.")
    g.addoption("--hotpath-alpha", type=float, default=ALPHA, metavar="P",
                help="significance level for comparisons and gates (default: %(default)s)")
    g.addoption("--hotpath-min-time", type=float, default=_DEFAULTS.min_time, metavar="SECONDS",
                help="shortest round; sets the loop count (default: %(default)s)")
    g.addoption("--hotpath-max-time", type=float, default=None, metavar="SECONDS",
                help="time budget for the rounds of each benchmark (default: bench-budget "
                     f"of [tool.hotpath] in pyproject.toml, else {_DEFAULTS.max_time})")
    g.addoption("--hotpath-min-rounds", type=int, default=_DEFAULTS.min_rounds, metavar="N",
                help="fewest rounds (default: %(default)s)")
    g.addoption("--hotpath-warmup", type=int, default=_DEFAULTS.warmup, metavar="N",
                help="rounds thrown away first (default: %(default)s)")
    g.addoption("--hotpath-timer", choices=["auto", *sorted(CLOCKS)], default=None,
                help="clock: auto (the thread's CPU time when the code runs on the test's "
                     "thread without waiting, else the wall clock), perf (the wall clock, "
                     "as pytest-benchmark), process or thread CPU time (default: bench-clock "
                     "of [tool.hotpath] in pyproject.toml, else auto)")
    if _pytest_benchmark_inactive(pluginmanager):
        # pytest-benchmark's own flags, for its users, while hotpath provides `benchmark`.
        pb_flags.add_options(parser.getgroup("benchmark", "benchmark (hotpath, as "
                                             "pytest-benchmark)"))
    g.addoption("--hotpath-gc", action="store_true",
                help="keep the garbage collector on while timing")
    g.addoption("--hotpath-gross", action="store_true",
                help="do not subtract the loop's own cost")
    g.addoption("--hotpath-memory", action="store_true",
                help="also record the peak memory of one call of each benchmark")
    g.addoption("--hotpath-disable", action="store_true",
                help="run benchmarked functions once, without timing (a quick correctness run)")
    g.addoption("--hotpath-skip", action="store_true", help="skip tests that benchmark")
    g.addoption("--hotpath-only", action="store_true", help="skip tests that do not benchmark")
    parser.addini("hotpath_benchmark_fixture",
                  "which plugin provides the `benchmark` fixture: auto (hotpath unless "
                  "pytest-benchmark is active), always (hotpath; error if pytest-benchmark "
                  "is active) or never (only `hotpath_benchmark`)", default="auto")


class _BenchSession:
    def __init__(self, config: pytest.Config, settings: dict | None = None):
        self.config = config
        #: [tool.hotpath] of the nearest pyproject.toml (bench-clock, bench-budget)
        self.settings = settings or {}
        self.results: list[BenchResult] = []
        self.alpha = config.getoption("hotpath_alpha")
        self.gates = [Gate.parse(e) for e in config.getoption("hotpath_compare_fail")]
        self.compare_path = config.getoption("hotpath_compare")
        self.measure = config.getoption("hotpath_measure")
        self.workers = 0                  # xdist workers whose results arrived here
        self.save_path = config.getoption("hotpath_save")
        self.gate_lines: list[str] = []
        self.compare_rows: list[list[str]] = []
        self.failed = False
        self.timer_name = "auto"
        self.earlier: list[BenchResult] | None = None
        self.count_nodeids: list[str] = []   # tests to count again under valgrind
        self.count_note: str | None = None
        self.autosaved: str | None = None

    def timer(self) -> str:
        """--hotpath-timer, else pytest-benchmark's --benchmark-timer (when hotpath
        added it: pytest-benchmark is not active), else auto."""
        c = self.config
        asked = c.getoption("hotpath_timer")
        if asked:
            return asked
        pb_timer = c.getoption("benchmark_timer", None)
        if pb_timer and not c.pluginmanager.has_plugin(_PYTEST_BENCHMARK):
            clock = clock_of({"timer": pb_timer})
            if clock is None:
                raise pytest.UsageError(
                    f"--benchmark-timer={pb_timer}: hotpath's benchmark fixture reads "
                    "time.perf_counter, time.process_time or time.thread_time")
            return clock
        return self.settings.get("bench-clock", "auto")

    def options(self, overrides: dict) -> Options:
        c = self.config
        max_time = c.getoption("hotpath_max_time")
        if max_time is None:
            max_time = self.settings.get("bench-budget", _DEFAULTS.max_time)
        o = dict(min_time=c.getoption("hotpath_min_time"), max_time=max_time,
                 min_rounds=c.getoption("hotpath_min_rounds"), warmup=c.getoption("hotpath_warmup"),
                 timer=self.timer_name, gc=c.getoption("hotpath_gc"),
                 subtract=not c.getoption("hotpath_gross"), memory=c.getoption("hotpath_memory"),
                 measure=self.measure)
        o.update(overrides)
        return Options(**o)


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "hotpath_benchmark(group=None, baseline=False, **options): settings for "
        "the hotpath benchmark fixture of this test")
    if hasattr(config.option, "benchmark_storage") and not config.pluginmanager.has_plugin(
            _PYTEST_BENCHMARK):
        config.stash[_PB_KEY] = pb_flags.PbFlags.apply(config)
    mode = (config.getini("hotpath_benchmark_fixture") or "auto").strip().lower()
    if mode not in _FIXTURE_MODES:
        raise pytest.UsageError(f"hotpath_benchmark_fixture must be one of {_FIXTURE_MODES}, "
                                f"not {mode!r}")
    from hotpath import config as hp_config
    try:
        settings = hp_config.load(str(config.invocation_params.dir))
    except hp_config.ConfigError as exc:
        raise pytest.UsageError(str(exc)) from None
    try:
        config.stash[_SESSION_KEY] = _BenchSession(config, settings)
    except ValueError as exc:
        raise pytest.UsageError(f"--hotpath-compare-fail: {exc}") from None
    if config.getoption("hotpath_compare_fail") and config.getoption("hotpath_compare") is None:
        raise pytest.UsageError("--hotpath-compare-fail needs --hotpath-compare=FILE")
    session = config.stash[_SESSION_KEY]
    if session.measure == "instructions":
        from .counts import CountsUnavailable, backend
        try:
            backend()
        except CountsUnavailable as exc:
            raise pytest.UsageError(f"--hotpath-measure=instructions: {exc}") from None
    if session.compare_path == "":
        from .history import latest, run_dir
        found = latest()
        if found is None:
            raise pytest.UsageError(f"--hotpath-compare: no saved run in {run_dir()} (save "
                                    "one with --hotpath-autosave)")
        session.compare_path = str(found)
    if session.compare_path and not _is_xdist_worker(config):
        # Read (and check) the earlier run before any test runs — and before
        # --hotpath-save may overwrite the same file.
        try:
            session.earlier = load_results(session.compare_path)
        except (OSError, ValueError) as exc:
            raise pytest.UsageError(f"--hotpath-compare: {exc}") from None
    pb_active = config.pluginmanager.has_plugin(_PYTEST_BENCHMARK)
    if mode == "always" and pb_active:
        raise pytest.UsageError(
            "hotpath_benchmark_fixture = always, but pytest-benchmark is active and owns the "
            "`benchmark` fixture; disable it with `-p no:benchmark`, or use `hotpath_benchmark`")
    if mode != "never" and not pb_active:
        from . import _benchmark_alias
        if not config.pluginmanager.is_registered(_benchmark_alias):
            config.pluginmanager.register(_benchmark_alias, _ALIAS_PLUGIN)
        config.addinivalue_line(
            "markers", "benchmark(**options): pytest-benchmark style settings, read by "
            "hotpath's benchmark fixture")
    session.timer_name = session.timer()


def _is_xdist_worker(config: pytest.Config) -> bool:
    return hasattr(config, "workerinput")


def _uses_fixture(item: pytest.Item, config: pytest.Config) -> bool:
    names = getattr(item, "fixturenames", ())
    if "hotpath_benchmark" in names:
        return True
    return "benchmark" in names and config.pluginmanager.has_plugin(_ALIAS_PLUGIN)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    skip, only = config.getoption("hotpath_skip"), config.getoption("hotpath_only")
    if skip and only:
        raise pytest.UsageError("--hotpath-skip and --hotpath-only cannot be combined")
    if not (skip or only):
        return
    for item in items:
        uses = _uses_fixture(item, config)
        if skip and uses:
            item.add_marker(pytest.mark.skip(reason="benchmark skipped (--hotpath-skip)"))
        elif only and not uses:
            item.add_marker(pytest.mark.skip(reason="not a benchmark (--hotpath-only)"))


def _marker_settings(node: pytest.Item) -> tuple[dict, str | None, bool]:
    """Options, group and baseline from the test's markers (hotpath's wins)."""
    overrides: dict[str, Any] = {}
    group, baseline = None, False
    pb = node.get_closest_marker("benchmark")
    if pb is not None:
        unknown = set(pb.kwargs) - _PB_MARKER_KW
        if unknown or pb.args:
            raise ValueError(f"benchmark marker: unsupported arguments {sorted(unknown) or pb.args}")
        kw = pb.kwargs
        group = kw.get("group")
        for k in ("min_rounds", "max_time", "min_time", "timer"):
            if k in kw:
                overrides[k] = kw[k]
        if "disable_gc" in kw:
            overrides["gc"] = not kw["disable_gc"]
        if "warmup" in kw and not kw["warmup"]:
            overrides["warmup"] = 0
    hp = node.get_closest_marker("hotpath_benchmark")
    if hp is not None:
        unknown = set(hp.kwargs) - _MARKER_KW
        if unknown or hp.args:
            raise ValueError(f"hotpath_benchmark marker: unsupported arguments "
                             f"{sorted(unknown) or hp.args}; known: {sorted(_MARKER_KW)}")
        kw = dict(hp.kwargs)
        group = kw.pop("group", group)
        baseline = bool(kw.pop("baseline", False))
        overrides.update(kw)
    return overrides, group, baseline


@pytest.fixture
def hotpath_benchmark(request: pytest.FixtureRequest):
    """Benchmark fixture: ``hotpath_benchmark(fn, *args, **kwargs)`` times ``fn`` with
    calibrated loops (loop cost subtracted, gc off) and returns its result; see
    :class:`hotpath.bench.fixture.BenchmarkFixture` for ``pedantic``, ``case``,
    ``extra_info``, ``group`` and ``baseline``."""
    session: _BenchSession = request.config.stash[_SESSION_KEY]
    node = request.node
    overrides, group, baseline = _marker_settings(node)
    callspec = getattr(node, "callspec", None)
    fixture = BenchmarkFixture(
        node.name, node.nodeid, session.options(overrides), group=group, baseline=baseline,
        params=_jsonable(dict(callspec.params)) if callspec else None,
        param=callspec.id if callspec else None,
        disabled=request.config.getoption("hotpath_disable"))
    yield fixture
    finished = fixture.finalize()
    session.results.extend(finished)
    if fixture.counts_pending:
        session.count_nodeids.append(node.nodeid)


def _jsonable(params: dict) -> dict:
    out = {}
    for k, v in params.items():
        try:
            json.dumps(v)
            out[k] = v
        except (TypeError, ValueError):
            out[k] = repr(v)
    return out


# --------------------------------------------------------------- end of session


def _key(r: BenchResult) -> str:
    return r.fullname or r.name


@pytest.hookimpl(optionalhook=True)
def pytest_testnodedown(node: Any, error: Any) -> None:
    """xdist controller: a worker finished; take the results it measured."""
    bs: _BenchSession | None = node.config.stash.get(_SESSION_KEY, None)
    out = getattr(node, "workeroutput", None) or {}
    payload = out.get("hotpath_results")
    if bs is None or not payload:
        return
    entries = json.loads(payload)
    bs.results.extend(BenchResult.from_dict(e) for e in entries)
    bs.workers += 1
    if out.get("hotpath_count_note"):
        bs.count_note = out["hotpath_count_note"]


def _count_under_valgrind(session: pytest.Session, bs: _BenchSession) -> None:
    """Run the benchmarking tests once more under callgrind, counting only, and attach
    each benchmark's counts to its result (by full name)."""
    from .counts import count_tests_in_valgrind
    try:
        pm = session.config.pluginmanager
        extra = [] if pm.has_plugin(_PYTEST_BENCHMARK) else ["-p", "no:benchmark"]
        counted = count_tests_in_valgrind(bs.count_nodeids, str(session.config.rootpath),
                                          extra)
    except Exception as exc:               # reported, never a traceback at the end
        bs.count_note = f"instruction counts failed: {exc}"
        return
    for r in bs.results:
        c = counted.get(_key(r))
        if c is not None:
            r.counts = c


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    bs: _BenchSession | None = session.config.stash.get(_SESSION_KEY, None)
    if bs is None:
        return
    from .counts import COUNTS_ONLY_ENV, write_counts_only
    if os.environ.get(COUNTS_ONLY_ENV):     # the valgrind re-run: hand the counts back
        write_counts_only({_key(r): r.counts for r in bs.results if r.counts})
        return
    if bs.count_nodeids:
        _count_under_valgrind(session, bs)
    if _is_xdist_worker(session.config):
        # The controller saves, compares and reports: send it everything measured here.
        out = session.config.workeroutput
        out["hotpath_results"] = json.dumps([r.to_dict() for r in bs.results])
        if bs.count_note:
            out["hotpath_count_note"] = bs.count_note
        return
    if not bs.results:
        return
    if session.config.getoption("hotpath_autosave"):
        from .history import autosave
        bs.autosaved = str(autosave(document([r.to_dict() for r in bs.results], kind="pytest")))
    pb = session.config.stash.get(_PB_KEY, None)
    pb_writes = pb is not None and bool(pb.json_path or pb.save_name)
    if bs.save_path or pb_writes:
        doc = document([r.to_dict() for r in bs.results], kind="pytest")
    if bs.save_path:
        with open(bs.save_path, "w", encoding="utf-8") as fh:
            json.dump(doc, fh, indent=2)
            fh.write("\n")
    if pb_writes:
        pb.write(doc)
    if bs.earlier is not None:
        earlier = {_key(r): r for r in bs.earlier}
        by_name = {r.name: r for r in bs.earlier}
        for r in bs.results:
            old = earlier.get(_key(r)) or by_name.get(r.name)
            if old is None:
                bs.compare_rows.append([r.name, "(not in the earlier run)"])
                continue
            diffs = r.differences(old)
            counted = ""
            if r.instructions is not None and old.instructions:
                counted = f"; instructions {r.instructions / old.instructions - 1:+.2%}"
            bs.compare_rows.append([r.name, r.compare(old, bs.alpha, MIN_EFFECT).describe()
                                    + counted
                                    + (f"  (not alike: {'; '.join(diffs)})" if diffs else "")])
            for gate in bs.gates:
                outcome = gate.check(r, old, bs.alpha)
                bs.gate_lines.append(("FAILED " if outcome.failed else "") + outcome.message)
                bs.failed |= outcome.failed
        if bs.failed and session.exitstatus == pytest.ExitCode.OK:
            session.exitstatus = pytest.ExitCode.TESTS_FAILED


def _group_clock(results: list[BenchResult]) -> str:
    """What the group's header says about the clock."""
    clocks = {r.clock for r in results}
    if len(clocks) == 1:
        return "clock: " + results[0].clock_description()
    return ("clocks differ: " + ", ".join(sorted(clock_label(c) for c in clocks))
            + " (choose one with --hotpath-timer)")


def _group_table(results: list[BenchResult], alpha: float,
                 pb: pb_flags.PbFlags | None = None) -> str:
    """One row per benchmark; a benchmark is compared with another only when both
    were read on the same clock (a Clock column appears when they were not).
    pytest-benchmark's --benchmark-sort and --benchmark-columns, when given, choose the
    order and the columns."""
    base = next((r for r in results if r.baseline), None)
    mixed = len({r.clock for r in results}) > 1
    unit = choose_unit([r.stats.median for r in results if r.stats.median > 0])
    f = lambda x: format_time(x, unit)  # noqa: E731
    fastest = min(results, key=lambda r: r.stats.median)
    counted = any(r.instructions is not None for r in results)
    order = pb_flags.sort_key(pb.sort) if pb and pb.sort else (lambda r: r.stats.median)
    if pb is not None and pb.columns:
        return render_table(
            ["Name"] + [pb_flags.COLUMN_TITLES[c] for c in pb.columns],
            [[r.name] + [pb_flags.column_cell(r, c, f) for c in pb.columns]
             for r in sorted(results, key=order)])
    rows = []
    for r in sorted(results, key=order):
        s = r.stats
        other = base if base is not None else fastest
        if r is base:
            vs = "baseline"
        elif r.clock != other.clock:
            vs = "(another clock)"
        elif base is not None:
            vs = r.compare(base, alpha, MIN_EFFECT).describe()
        else:
            ratio = s.median / fastest.stats.median if fastest.stats.median > 0 else math.nan
            vs = f"{ratio:.2f}x"
        row = [r.name, f(s.min), f(s.median), f"{f(s.mean)} ± {f(s.stddev)}", f(s.iqr),
               f"{s.low_outliers};{s.high_outliers}", str(s.rounds), f"{r.loops:,}", vs]
        if mixed:
            row.insert(-1, clock_label(r.clock))
        if counted:
            row.insert(-1, "-" if r.instructions is None else f"{r.instructions:,.1f}")
        rows.append(row)
    head = ["Name", "Min", "Median", "Mean ± sd", "IQR", "Outliers", "Rounds", "Iterations",
            "vs baseline" if base is not None else "vs fastest"]
    if mixed:
        head.insert(-1, "Clock")
    if counted:
        head.insert(-1, "Instructions")
    return render_table(head, rows)


def pytest_terminal_summary(terminalreporter: Any) -> None:
    bs: _BenchSession | None = terminalreporter.config.stash.get(_SESSION_KEY, None)
    if bs is None or not bs.results:
        return
    from .counts import COUNTS_ONLY_ENV
    if os.environ.get(COUNTS_ONLY_ENV):      # the re-run under callgrind reports nothing
        return
    tr = terminalreporter
    pb = tr.config.stash.get(_PB_KEY, None)
    groups: dict[str | None, list[BenchResult]] = {}
    for r in bs.results:
        key = pb_flags.group_key(r, pb.group_by) if pb and pb.group_by else r.group
        groups.setdefault(key, []).append(r)
    if pb is not None and pb.group_by:           # pytest-benchmark's order of groups
        groups = dict(sorted(groups.items(), key=lambda kv: kv[0] or ""))
    for group, results in groups.items():
        title = "hotpath benchmarks" + (f": group {group!r}" if group else "")
        tr.write_sep("-", f"{title} — {_group_clock(results)}")
        tr.write_line(_group_table(results, bs.alpha, pb))
        if pb is not None and pb.histogram:
            path = write_histogram(pb.histogram, group, results)
            tr.write_line(f"Generated histogram: {path}")
    tr.write_line("Times per call on the clock named above (--hotpath-timer: auto, perf = "
                  "the wall clock as pytest-benchmark, process, thread); loop's own cost "
                  "subtracted unless --hotpath-gross; outliers low;high beyond 1.5 IQR.")
    if any(r.counts for r in bs.results):
        backends = sorted({r.counts.get("backend", "?") for r in bs.results if r.counts})
        tr.write_line("Instructions: per call, the loop's own count subtracted, counted by "
                      + ", ".join(backends) + " (exact: unmoved by the machine's load).")
    if bs.count_note:
        tr.write_line(f"WARNING: hotpath: {bs.count_note}", yellow=True)
    if bs.workers > 1:
        tr.write_line(f"WARNING: hotpath: {bs.workers} pytest-xdist workers measured at the "
                      "same time and share the machine's cores: times are inflated and noisy. "
                      + ("Instruction counts are not affected." if bs.measure == "instructions"
                         else "Compare with --hotpath-measure=instructions, which is immune, "
                         "or run benchmarks with -n 0."), yellow=True)
    hist = tr.config.getoption("hotpath_histogram")
    if hist:
        from .plot import write_histograms
        tr.write_line("hotpath: histograms: " + ", ".join(write_histograms(hist, bs.results)))
    if bs.autosaved:
        tr.write_line(f"hotpath: saved {len(bs.results)} benchmarks to {bs.autosaved}")
    warned = [(r, w) for r in bs.results for w in r.warnings()]
    for r, w in warned:
        tr.write_line(f"WARNING: {r.name}: {w}", yellow=True)
    if bs.save_path:
        tr.write_line(f"hotpath: saved {len(bs.results)} benchmarks to {bs.save_path}")
    for line in (pb.saved if pb is not None else []):
        tr.write_line(f"hotpath: {line}")
    if pb is not None and pb.compare_note:
        tr.write_line(f"WARNING: {pb.compare_note}", yellow=True)
    if bs.compare_rows:
        tr.write_sep("-", f"hotpath: compared with {bs.compare_path}")
        tr.write_line(render_table(["Name", "now / then (medians)"], bs.compare_rows))
        for line in bs.gate_lines:
            tr.write_line(line, red=line.startswith("FAILED"))
        if bs.failed:
            flag = ("--benchmark-compare-fail" if pb is not None and pb.compare_fail
                    else "--hotpath-compare-fail")
            tr.write_line(f"hotpath: performance regression ({flag}): "
                          + "; ".join(line[len("FAILED "):] for line in bs.gate_lines
                                      if line.startswith("FAILED ")), red=True, bold=True)
