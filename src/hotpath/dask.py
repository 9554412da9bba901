"""Profile the workers of a Dask cluster the program did not start itself.

::

    import hotpath.dask
    with hotpath.dask.profile(client) as prof:       # functions, on every worker
        client.gather(client.map(work, range(100)))
    prof.save("run.hprof")                           # hotpath report run.hprof

``profile(client, lines=[f, "pkg.mod:g"], memory=True)`` adds line timings for the
functions named (function objects or ``-f`` specs) and the memory mode. On exit every
worker's profile is gathered to the client and merged into ``prof``, a
``hotpath.model.Profile`` with one process entry per worker (``hotpath.model.processes``):
every report and export reads it as it reads ``hotpath run``'s profile of a program and
its children. The client process is entry 0 and is not profiled. A worker that leaves
the cluster during the run (killed, crashed, retired) is listed with its profile missing
and why; one that joins is profiled from when it joined.

A program that starts its own ``LocalCluster`` under ``hotpath run`` needs none of this:
its worker processes are followed as children.

``distributed`` is imported only when a profile starts; hotpath does not depend on it.
"""
from __future__ import annotations

import os
import sys
import time
from typing import Any, Iterable

from hotpath.model import Profile

__all__ = ["profile", "DaskProfile"]


class DaskProfile(Profile):
    """The merged profile of a Dask run (filled in when the ``with`` block ends)."""

    def save(self, path: str) -> None:
        """Write the profile file (``hotpath report PATH`` opens it)."""
        from hotpath import fileformat
        fileformat.write(self, path)


def _line_specs(lines: Iterable[Any]) -> list[str]:
    """``-f`` specs for the functions named: a spec string as it is; a function by its
    module (or, for one defined in ``__main__``, its file) and qualified name."""
    import inspect
    out = []
    for f in lines:
        if isinstance(f, str):
            out.append(f)
            continue
        f = inspect.unwrap(getattr(f, "__func__", f))
        code = getattr(f, "__code__", None)
        module = getattr(f, "__module__", None)
        if code is None or not module:
            raise ValueError(f"lines: {f!r} is not a Python function nor a 'pkg.mod:func' spec")
        if module == "__main__" or module not in sys.modules or \
                getattr(sys.modules[module], "__file__", None) is None:
            out.append(f"{os.path.abspath(code.co_filename)}:{code.co_qualname}")
        else:
            out.append(f"{module}:{code.co_qualname}")
    return out


def _specs(lines: Iterable[Any] | None, memory: bool, builtins: bool) -> list[dict[str, Any]]:
    from hotpath.session.functions import FunctionsMode
    specs = [FunctionsMode(builtins=builtins).spec()]
    if lines:
        from hotpath.session.lines import absolute_specs, resolve_targets
        specs.append({"kind": "lines", "mode": "explicit",
                      "specs": absolute_specs(resolve_targets(_line_specs(lines)))})
    if memory:
        specs.append({"kind": "memory", "mode": "exact", "specs": [], "sample_bytes": 16384,
                      "native": False, "interval": 0.01})
    return specs


class _Run:
    def __init__(self, client: Any, specs: list[dict[str, Any]]) -> None:
        self.client = client
        self.specs = specs
        self.name = f"hotpath-{os.getpid()}-{time.monotonic_ns()}"
        self.start = 0.0
        self.workers: dict[str, dict[str, Any]] = {}
        self.prof = DaskProfile()

    def begin(self) -> None:
        from hotpath.session.dask_worker import HotpathWorkerPlugin, hello
        plugin = HotpathWorkerPlugin(self.name, self.specs)
        register = getattr(self.client, "register_plugin", None) or \
            self.client.register_worker_plugin
        self.start = time.time()
        register(plugin, name=self.name)
        self.workers = _run_all(self.client, hello, self.name)

    def end(self) -> DaskProfile:
        from hotpath.session.dask_worker import collect
        try:
            got = _run_all(self.client, collect, self.name)
        finally:
            try:
                self.client.unregister_worker_plugin(self.name)
            except Exception:
                pass
        merge_workers(self.prof, self.workers, got, self.start, self.specs,
                      getattr(self.client.scheduler, "address", ""))
        return self.prof


def _run_all(client: Any, func: Any, *args: Any) -> dict[str, Any]:
    """``client.run`` on every worker; a worker that fails gives its exception (older
    ``distributed`` without ``on_error``: the workers that answered)."""
    try:
        return client.run(func, *args, on_error="return")
    except TypeError:
        pass
    out: dict[str, Any] = {}
    for addr in client.scheduler_info().get("workers", {}):
        try:
            out.update(client.run(func, *args, workers=[addr]))
        except Exception as e:
            out[addr] = e
    return out


def merge_workers(prof: Profile, before: dict[str, Any], after: dict[str, Any],
                  start: float, specs: list[dict[str, Any]], scheduler: str = "") -> None:
    """Fill ``prof`` (the client's, empty) with the workers' profiles: ``before`` the
    workers' ``hello`` at the start, ``after`` their ``collect`` at the end (address ->
    dict, or the exception ``Client.run`` returned for that worker)."""
    from hotpath import fileformat
    from hotpath.model.processes import ProcessInfo, add_process
    now = time.time()
    prof.meta.update({
        "pid": os.getpid(), "ppid": os.getppid(),
        "argv": list(getattr(sys, "orig_argv", None) or sys.argv),
        "command": f"dask client of {scheduler or 'a cluster'} (not profiled)",
        "kind": "dask", "mode": "lines" if any(s["kind"] == "lines" for s in specs)
        else "memory" if any(s["kind"] == "memory" for s in specs) else "function",
        "start_time": start, "duration": now - start,
        "dask": {"scheduler": scheduler, "workers": sorted(set(before) | set(after))}})
    from hotpath import __version__
    prof.meta["hotpath_version"] = __version__
    rows = []
    for addr in sorted(set(before) | set(after)):
        first = before.get(addr)
        last = after.get(addr)
        hi = first if isinstance(first, dict) else last if isinstance(last, dict) else {}
        info = ProcessInfo(int(hi.get("pid", 0)), int(hi.get("ppid", 0)), [],
                           f"dask worker {hi.get('name', '?')} ({addr})",
                           float(hi.get("start", start)))
        child = None
        if isinstance(last, dict) and "profile" in last:
            try:
                child = fileformat.loads(last["profile"])
            except fileformat.FormatError as e:
                info.status, info.reason = "missing", f"its profile could not be read ({e})"
            else:
                _name_dynamic(child)
                info.argv = list(child.meta.get("argv") or [])
                info.end = child.meta.get("end_time")
                if not isinstance(first, dict):
                    info.reason = "joined the cluster during the run"
        else:
            info.status = "missing"
            if isinstance(last, dict):
                info.reason = last.get("error") or "no profile"
            elif last is not None:
                info.reason = f"it failed to answer: {type(last).__name__}: {last}"
            else:
                info.reason = ("it left the cluster during the run (killed, crashed or "
                               "retired): its profile is lost")
        rows.append((info.start, info.pid, info, child))
    for _, _, info, child in sorted(rows, key=lambda r: (r[0], r[1])):
        add_process(prof, child, info)
    if not rows:
        prof.extra["processes"] = [ProcessInfo(os.getpid(), os.getppid(), [],
                                               prof.meta["command"], start, now).to_json()]


def _main_codes() -> dict[tuple[str, int], str]:
    """(qualified name, first line) -> file of the client's ``__main__`` functions (the
    ones ``cloudpickle`` sends by value, without their file name)."""
    import types
    main = sys.modules.get("__main__")
    out: dict[tuple[str, int], str] = {}
    todo: list[Any] = list(vars(main).values()) if main is not None else []
    seen: set[int] = set()
    while todo:
        v = todo.pop()
        if id(v) in seen:
            continue
        seen.add(id(v))
        if isinstance(v, types.FunctionType):
            v = v.__code__
        if isinstance(v, type) and getattr(v, "__module__", None) == "__main__":
            todo.extend(vars(v).values())
        elif isinstance(v, (staticmethod, classmethod)):
            todo.append(v.__func__)
        elif isinstance(v, types.CodeType):
            out[(v.co_qualname, v.co_firstlineno)] = v.co_filename
            out.setdefault((v.co_name, v.co_firstlineno), v.co_filename)
            todo.extend(c for c in v.co_consts if isinstance(c, types.CodeType))
    return out


def _name_dynamic(child: Profile) -> None:
    """Give functions the worker knew only as ``<dynamic-code>`` their file again, when
    the client's ``__main__`` defines them (function table, line timings, memory)."""
    from dataclasses import replace

    from hotpath.session.dask_worker import DYNAMIC
    files = _main_codes()
    for i, f in enumerate(child.functions):
        if f.filename == DYNAMIC:
            path = files.get((f.qualname or f.name, f.lineno)) or files.get((f.name, f.lineno))
            if path:
                child.functions[i] = replace(f, filename=path)
    mem = child.extra.get("memory")
    for f in (mem.get("functions", []) if isinstance(mem, dict) else []):
        if f[0] == DYNAMIC and files.get((f[1], f[2])):
            f[0] = files[(f[1], f[2])]
    for f in child.extra.get("lines", {}).get("functions", []):
        if f.get("filename") == DYNAMIC:
            path = files.get((f.get("qualname") or f["name"], f["lineno"])) or \
                files.get((f["name"], f["lineno"]))
            if path:
                f["filename"] = path


class profile:
    """``with hotpath.dask.profile(client) as prof:`` — record every worker of
    ``client``'s cluster while the block runs (see the module docstring).

    ``lines``: functions (objects or ``pkg.mod:func`` / ``path.py:func`` specs) to time
    line by line; ``memory``: also the memory mode; ``builtins``: record C functions.
    ``prof`` is a ``DaskProfile`` (a ``hotpath.model.Profile``), empty until the block
    has ended. ImportError (one line) when ``distributed`` is not installed."""

    def __init__(self, client: Any, lines: Iterable[Any] | None = None,
                 memory: bool = False, builtins: bool = True) -> None:
        try:
            import distributed  # noqa: F401
        except ImportError:
            raise ImportError("hotpath.dask needs Dask's 'distributed' package "
                              "(pip install distributed)") from None
        self._run = _Run(client, _specs(lines, memory, builtins))

    def __enter__(self) -> DaskProfile:
        self._run.begin()
        return self._run.prof

    def __exit__(self, *exc: Any) -> None:
        self._run.end()
