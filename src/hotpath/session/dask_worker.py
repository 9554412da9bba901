"""The worker side of ``hotpath.dask.profile``: a ``distributed.WorkerPlugin`` that
records its worker process in the run's modes (``children.start_modes``, as a followed
child does) and hands the profile over, as the file format's bytes, when the client asks
(``collect``, run on every worker by ``Client.run``).

Imported only on a Dask worker and by ``hotpath.dask`` when a profile starts: it needs
``distributed``, which hotpath itself does not depend on.

Line timings for functions the client defined in ``__main__`` (which ``cloudpickle``
sends by value: no module is executed on the worker, so no ``-f`` file spec is ever
resolved there) are found on the way: when a task starts executing, its function and the
functions its globals name are matched by qualified name (their file name is
``cloudpickle``'s ``<dynamic-code>``) or by file and qualified name.
"""
from __future__ import annotations

import os
import sys
import time
import types
from typing import Any

from distributed import WorkerPlugin

from .children import end_modes, start_modes

__all__ = ["HotpathWorkerPlugin", "hello", "collect", "DYNAMIC"]

#: The file name ``cloudpickle`` gives the code of functions it sends by value
#: (``hotpath.dask`` names their file again on the client).
DYNAMIC = "<dynamic-code>"


class HotpathWorkerPlugin(WorkerPlugin):
    """Records the worker it is set up on; ``name`` is unique per profile."""

    def __init__(self, name: str, specs: list[dict[str, Any]]) -> None:
        self.name = name
        self.specs = specs
        self.modes: list[Any] = []
        self.error = ""
        self.start = 0.0
        self.worker: Any = None
        self._by_value: dict[str, set[str]] = {}    # realpath -> qualnames (lines)
        self._seen: set[int] = set()

    def setup(self, worker: Any) -> None:
        self.worker = worker
        self.start = time.time()
        for spec in self.specs:
            if spec.get("kind") == "lines":
                for s in spec.get("specs") or ():
                    path, _, qual = s.rpartition(":")
                    if path.endswith(".py"):
                        self._by_value.setdefault(os.path.realpath(path), set()).add(qual)
        from . import children
        if children._current is not None and not children._current.done:
            self.error = ("it is recorded already, as a child process that hotpath run "
                          "follows: its profile is in that run's file")
            return
        try:
            self.modes = start_modes(self.specs)
        except Exception as e:
            self.error = f"it could not be profiled: {type(e).__name__}: {e}"

    def transition(self, key: Any, start: str, finish: str, **kw: Any) -> None:
        if finish != "executing" or not self._by_value or not self.modes:
            return
        try:
            func = self.worker.state.tasks[key].run_spec
            func = getattr(func, "func", func)
        except Exception:
            return
        self._add_by_value(func)

    def _add_by_value(self, func: Any) -> None:
        """Line-profile ``func`` and the functions its globals name, where they are the
        ones the profile asked for (file and qualified name)."""
        todo = [func]
        glb = getattr(func, "__globals__", None)
        if isinstance(glb, dict):
            todo.extend(v for v in list(glb.values()) if isinstance(v, types.FunctionType))
        lp = next((getattr(m, "lp", None) for m in self.modes if getattr(m, "lp", None)), None)
        if lp is None:
            return
        for f in todo:
            code = getattr(f, "__code__", None)
            if code is None or id(code) in self._seen:
                continue
            self._seen.add(id(code))
            if code.co_filename == DYNAMIC:      # cloudpickle keeps no file name
                wanted = {q for qs in self._by_value.values() for q in qs}
            else:
                wanted = self._by_value.get(os.path.realpath(code.co_filename), set())
            if not wanted:
                continue
            codes = [code]
            while codes:
                co = codes.pop()
                if co.co_qualname in wanted:
                    lp.add_code(co)
                    self._found(co.co_qualname)
                codes.extend(c for c in co.co_consts if isinstance(c, types.CodeType))

    def _found(self, qual: str) -> None:
        """The ``-f`` specs for ``qual`` are found (no "never run" warning for them)."""
        for m in self.modes:
            select = getattr(m, "select", None)
            for spec, _, q in getattr(select, "specs", ()):
                if q == qual:
                    select.found.add(spec)

    def collect(self) -> bytes:
        """Stop recording; this worker's profile, as bytes (once)."""
        from hotpath import fileformat
        modes, self.modes = self.modes, []
        if not modes:
            raise RuntimeError(self.error or "this worker's profile was collected already")
        from .children import _mute, _unmute
        err = _mute()               # the worker's stderr is not the user's: keep warnings
        try:
            profile = end_modes(modes)
        finally:
            _unmute(err)
        w = self.worker
        profile.meta.update({
            "pid": os.getpid(), "ppid": os.getppid(),
            "argv": list(getattr(sys, "orig_argv", None) or sys.argv),
            "label": f"dask worker {w.name} ({w.address})" if w is not None else "dask worker",
            "start_time": self.start, "end_time": time.time(),
            "mode": modes[-1].name, "warnings": err.getvalue() if err is not None else ""})
        return fileformat.dumps(profile)

    def teardown(self, worker: Any) -> None:
        """Unregistered (or the worker closes) without a collect: drop the recording."""
        modes, self.modes = self.modes, []
        for m in reversed(modes):
            try:
                m.abandon()
            except Exception:
                pass


def _plugin(dask_worker: Any, name: str) -> HotpathWorkerPlugin | None:
    p = getattr(dask_worker, "plugins", {}).get(name)
    return p if isinstance(p, HotpathWorkerPlugin) else None


def hello(name: str, dask_worker: Any = None) -> dict[str, Any]:
    """This worker, as the client lists it (pid, name, start, whether it records)."""
    p = _plugin(dask_worker, name)
    return {"pid": os.getpid(), "ppid": os.getppid(), "name": str(dask_worker.name),
            "start": p.start if p else time.time(),
            "error": (p.error if p else "the profiling plugin is not set up on it")}


def collect(name: str, dask_worker: Any = None) -> dict[str, Any]:
    """Run on a worker by the client: its profile's bytes, or why there is none."""
    out = hello(name, dask_worker)
    p = _plugin(dask_worker, name)
    if p is None or out["error"]:
        return out
    try:
        out["profile"] = p.collect()
    except Exception as e:
        out["error"] = f"its profile could not be collected: {type(e).__name__}: {e}"
    return out
