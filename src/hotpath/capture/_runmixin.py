"""The one run/runctx/runcall/context-manager face every capture class shares.

A class using it names its own start and stop calls, ``_run_on`` and ``_run_off``
(``enable``/``disable`` for ``Profile``, ``enable_by_count``/``disable_by_count`` for
``LineProfiler``, ``start``/``stop`` for ``MemoryProfiler``). They are class attributes
bound to the real methods, not wrappers, so the function profiler records the same one
C call for its own stop as cProfile's ``disable()`` does.
"""
from __future__ import annotations

TYPE_CHECKING = False
if TYPE_CHECKING:             # typing is not imported at run time (issue 13, start-up)
    from typing import Any, Callable, TypeVar

    _Self = TypeVar("_Self", bound="RunMixin")

__all__ = ["RunMixin"]


class RunMixin:
    """``run``, ``runctx``, ``runcall`` and ``with``, as ``cProfile.Profile`` has them."""

    _run_on: Callable[[Any], Any]
    _run_off: Callable[[Any], Any]

    def run(self: _Self, cmd: str) -> _Self:
        """Record ``exec(cmd)`` in ``__main__``'s namespace."""
        import __main__
        return self.runctx(cmd, __main__.__dict__, __main__.__dict__)

    def runctx(self: _Self, cmd: str, globals: dict[str, Any] | None, locals: Any) -> _Self:
        """Record ``exec(cmd, globals, locals)``."""
        self._run_on()
        try:
            exec(cmd, globals, locals)
        finally:
            self._run_off()
        return self

    def runcall(self, func: Callable[..., Any], /, *args: Any, **kw: Any) -> Any:
        """Record ``func(*args, **kw)``; returns its result."""
        self._run_on()
        try:
            return func(*args, **kw)
        finally:
            self._run_off()

    def __enter__(self: _Self) -> _Self:
        self._run_on()
        return self

    def __exit__(self, *exc_info: Any) -> None:
        self._run_off()
