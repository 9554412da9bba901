"""Defaults from ``pyproject.toml``: the ``[tool.hotpath]`` table of the nearest
``pyproject.toml`` at or above the working directory.

    [tool.hotpath]
    output-dir = "profiles"      # where `hotpath run` writes NAME.hprof (default: here)
    sort = "cumtime"             # the tables' order: tottime, cumtime, calls, name
    limit = 40                   # rows of the tables (0: all)
    focus = ["mypkg"]            # packages that count as your code (--focus)
    bench-clock = "process"      # benchmarks' clock: auto, perf, process, thread
    bench-budget = 0.5           # seconds of rounds per benchmark (--max-time)

Underscores may stand for the dashes (``output_dir``). They are defaults: a flag given on
the command line wins (``hotpath run``, ``report``, ``view``, ``diff``, ``bench``; the
pytest plugin's ``--hotpath-timer``/``--hotpath-max-time``). An unknown key, a value of
the wrong type or an unreadable file is a ``ConfigError``: one ``hotpath: error:`` line and
exit status 2. Only the nearest ``pyproject.toml`` counts (as ruff and black do), even
without a ``[tool.hotpath]`` table.

Cost: looking for the file is a few ``stat`` calls; ``tomllib`` (which imports ``re``
and ``typing``) is loaded only when the file names ``tool.hotpath``, so ``hotpath run``
starts as fast as before in a project that does not use this.
"""
from __future__ import annotations

import os

__all__ = ["ConfigError", "KEYS", "load", "find_pyproject", "apply_to_parser",
           "apply_to_options"]

TYPE_CHECKING = False
if TYPE_CHECKING:
    import argparse
    from typing import Any


class ConfigError(ValueError):
    """A bad ``[tool.hotpath]`` table (its message names the file and the key)."""


_SORTS = ("tottime", "cumtime", "calls", "name")
_CLOCKS = ("auto", "perf", "process", "thread")

#: key → (what it must be, check(value) → normalised value or raise TypeError)
KEYS: dict[str, str] = {
    "output-dir": "a directory name (string)",
    "sort": "one of " + ", ".join(_SORTS),
    "limit": "an integer, 0 or more",
    "focus": "a list of package names (strings)",
    "bench-clock": "one of " + ", ".join(_CLOCKS),
    "bench-budget": "a number of seconds, more than 0",
}


def _check(key: str, value: Any) -> Any:
    ok: bool
    if key == "output-dir":
        ok = isinstance(value, str) and value != ""
    elif key == "sort":
        ok = value in _SORTS
    elif key == "limit":
        ok = type(value) is int and value >= 0
    elif key == "focus":
        ok = isinstance(value, list) and all(isinstance(v, str) and v for v in value)
    elif key == "bench-clock":
        ok = value in _CLOCKS
    else:                                      # bench-budget
        ok = type(value) in (int, float) and value > 0
        value = float(value) if ok else value
    if not ok:
        raise TypeError
    return value


def find_pyproject(start: str | None = None) -> str | None:
    """The nearest ``pyproject.toml`` at or above ``start`` (default: the working
    directory), or None."""
    d = os.path.abspath(start or os.getcwd())
    while True:
        path = os.path.join(d, "pyproject.toml")
        if os.path.isfile(path):
            return path
        up = os.path.dirname(d)
        if up == d:
            return None
        d = up


_cache: dict[str, dict[str, Any]] = {}


def load(start: str | None = None) -> dict[str, Any]:
    """The ``[tool.hotpath]`` settings (keys with dashes), {} without any; ConfigError
    for a bad table. Read once per file per process."""
    path = find_pyproject(start)
    if path is None:
        return {}
    if path in _cache:
        return _cache[path]
    try:
        with open(path, "rb") as f:
            raw = f.read()
    except OSError as e:
        raise ConfigError(f"{path}: cannot read it: {e.strerror or e}") from None
    if b"tool.hotpath" not in raw and b"tool.\"hotpath\"" not in raw:
        _cache[path] = {}
        return {}
    import tomllib
    try:
        doc = tomllib.loads(raw.decode("utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as e:
        raise ConfigError(f"{path}: not valid TOML: {e}") from None
    table = doc.get("tool", {}).get("hotpath", {})
    if not isinstance(table, dict):
        raise ConfigError(f"{path}: [tool.hotpath] must be a table")
    out: dict[str, Any] = {}
    for key, value in table.items():
        name = key.replace("_", "-")
        if name not in KEYS:
            raise ConfigError(f"{path}: [tool.hotpath] has an unknown key {key!r} "
                              f"(known: {', '.join(KEYS)})")
        try:
            out[name] = _check(name, value)
        except TypeError:
            raise ConfigError(f"{path}: [tool.hotpath] {key} must be {KEYS[name]}, "
                              f"not {value!r}") from None
    if "output-dir" in out:                  # relative to the file, not to where we are
        out["output-dir"] = os.path.join(os.path.dirname(path), out["output-dir"])
    _cache[path] = out
    return out


#: settings → the argparse dest they give a default to
_DESTS = {"sort": "sort", "limit": "limit", "focus": "focus", "bench-clock": "timer",
          "bench-budget": "max_time"}


def apply_to_parser(parser: argparse.ArgumentParser, settings: dict[str, Any]) -> None:
    """Make ``settings`` the defaults of ``parser``'s options and its subcommands' (those
    whose dest is sort, limit, focus, timer (bench-clock) or max_time (bench-budget) —
    where such an option exists; not where the value is not one of the option's
    choices, as for diff's --sort), so that flags still win."""
    import argparse as ap
    wanted = {dest: settings[key] for key, dest in _DESTS.items() if key in settings}
    if not wanted:
        return
    for action in parser._actions:
        if isinstance(action, ap._SubParsersAction):
            for sub in dict.fromkeys(action.choices.values()):
                apply_to_parser(sub, settings)
        elif action.dest in wanted:
            value = wanted[action.dest]
            if action.choices is not None and value not in action.choices:
                continue                       # e.g. diff's --sort (delta, ...)
            action.default = list(value) if isinstance(value, list) else value
            if type(action) is ap._AppendAction:   # a flag replaces the list, not extends it
                action.__class__ = _replacing_append()


def _replacing_append() -> type:
    """argparse's "append" action, except that the first flag starts a new list instead
    of appending to the default (the settings' list)."""
    import argparse as ap

    class ReplacingAppend(ap._AppendAction):
        def __call__(self, parser, namespace, values, option_string=None):  # type: ignore[override]
            if getattr(namespace, self.dest, None) is self.default:
                setattr(namespace, self.dest, None)
            super().__call__(parser, namespace, values, option_string)
    return ReplacingAppend


def apply_to_options(opts: Any, argv: list[str], settings: dict[str, Any]) -> None:
    """For ``hotpath run``'s parsed options (``opts``, from ``argv``): the settings'
    sort, limit and focus where no flag gave them."""
    given = {a.split("=", 1)[0] for a in argv}
    flags = {"sort": ("--sort",), "limit": ("--limit",), "focus": ("--focus",)}
    for key, dest in _DESTS.items():
        if key in settings and hasattr(opts, dest) and not given & set(flags[key]):
            value = settings[key]
            setattr(opts, dest, list(value) if isinstance(value, list) else value)
