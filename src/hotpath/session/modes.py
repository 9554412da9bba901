"""One interface for every profiling mode, and the session that runs a program under a
list of them.

A ``Mode`` is one room: the functions, lines or memory capture, seen from a run.

1. ``install()`` — before the program starts (resolve ``-f`` names, put ``profile`` in
   builtins); ValueError for a bad request, shown to the user as one line.
2. ``start()`` — just before the program's first line; RuntimeError when the hooks it
   needs are held by another tool (the session undoes the modes already started).
3. ``stop()`` — the program has ended: stop recording. Modes stop in reverse order of
   starting, all of them before anything else is done (so that no mode records
   another's work, nor the session's).
4. ``finish(profile)`` — put what was recorded into the one ``hotpath.model.Profile`` of
   the run (same order).
5. ``after_write(profile, path)`` — the file is written; files of the mode's own (the
   memory timeline pictures); returns text for the "profile written" line.
6. ``show(profile, stream)`` — the table printed at the end of the run.
7. ``abandon()`` — in a forked child: stop, report nothing.
8. ``spec()`` — a JSON-able description from which ``session.children.mode_from_spec``
   builds the same mode in a followed child process.

Modes compose by being listed: ``[FunctionsMode(...), LinesMode(...)]`` is
``hotpath run --lines``; the last mode's table is the one printed, and its name is the
profile's ``meta["mode"]``.
"""
from __future__ import annotations

import os
import sys

from .meta import RunMeta
from .program import Program, StartFailed, run_program

TYPE_CHECKING = False
if TYPE_CHECKING:             # typing is not imported at run time (issue 13, start-up)
    from typing import Any, Sequence, TextIO

    from hotpath.model import Profile

__all__ = ["Mode", "Session", "write_profile", "written_hint"]


class Mode:
    """The interface every mode implements (the defaults do nothing)."""

    #: ``profile.meta["mode"]`` when this is the last mode of a session
    name = ""

    def install(self) -> None:
        """Before the program starts. ValueError: a bad request (shown as one line)."""

    def start(self) -> None:
        """Start recording. RuntimeError: the hooks it needs are taken."""

    def stop(self) -> None:
        """Stop recording (warnings on stderr; never raises)."""

    def finish(self, profile: Profile) -> None:
        """Add what was recorded to ``profile``."""

    def after_write(self, profile: Profile, path: str) -> str:
        """The profile file is written at ``path``; returns text for the written line."""
        return ""

    def show(self, profile: Profile, stream: TextIO) -> None:
        """Print this mode's table."""

    def abandon(self) -> None:
        """In a forked child: stop; nothing is reported."""

    def spec(self) -> dict | None:
        """The mode, for a followed child (``children.mode_from_spec``); None: children
        do not record this mode."""
        return None


def _shell_quote(s: str) -> str:
    """``shlex.quote`` (without importing shlex for one call)."""
    if not s:
        return "''"
    if all(c.isascii() and (c.isalnum() or c in "@%+=:,./-_") for c in s):
        return s
    return "'" + s.replace("'", "'\"'\"'") + "'"


def written_hint(out_path: str, extra: str = "") -> str:
    """The last line of a run: where the profile is, as a command that can be pasted."""
    q = _shell_quote(out_path)
    return f"hotpath: profile written to {q} (hotpath report {q}){extra}\n"


def write_profile(data: Profile, cwd: str, out_path: str) -> bool:
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


class Session:
    """Run ``program`` under ``modes`` and write one profile file to ``out_path``
    (relative to the working directory at the start); ``quiet``: print no table."""

    def __init__(self, program: Program, modes: Sequence[Mode], out_path: str,
                 quiet: bool = False, follow: object = None) -> None:
        if not modes:
            raise ValueError("a session needs at least one mode")
        self.program = program
        self.modes = list(modes)
        self.out_path = out_path
        self.quiet = quiet
        self.cwd = os.getcwd()
        self.meta = RunMeta(program, self.cwd)
        self.profile: Profile | None = None
        self.hint: str | None = None       #: the written line; None: no file written
        #: ``children.Follow(modes)`` to profile the program's child processes too
        #: (``start()`` before the program, ``collect(profile, start_time)`` after)
        self.follow: Any = follow

    def install(self) -> None:
        """Install every mode; ValueError for a bad request."""
        for m in self.modes:
            m.install()

    def run(self) -> int:
        """Run the program; its exit status. StartFailed when a mode cannot start."""
        return run_program(self.program, self._start, self._save,
                           None if self.quiet else self._show, self._in_child,
                           note_children=self.follow is None)

    def _start(self) -> None:
        if self.follow is not None:
            self.follow.start()
        self.meta.started()
        started: list[Mode] = []
        for m in self.modes:
            try:
                m.start()
            except RuntimeError as e:       # another tool holds a hook this mode needs
                for s in reversed(started):
                    try:
                        s.abandon()
                    except Exception:
                        pass
                raise StartFailed(str(e)) from None
            started.append(m)

    def _save(self) -> None:
        # Stop first, allocating nothing before (a memory mode would count it): no
        # iterator, no list; small ints are preallocated.
        i = len(self.modes)
        while i:
            i -= 1
            self.modes[i].stop()
        from hotpath.model import Profile
        profile = Profile()
        for m in reversed(self.modes):
            m.finish(profile)
        profile.meta.update(self.meta.fields(self.modes[-1].name))
        if self.follow is not None:
            try:
                self.follow.collect(profile, self.meta.start_time)
            except Exception as e:         # the parent's profile is written regardless
                sys.stderr.write(f"hotpath: warning: child processes not merged: {e}\n")
        self.profile = profile
        if write_profile(profile, self.cwd, self.out_path):
            path = os.path.join(self.cwd, self.out_path)
            extra = "".join(m.after_write(profile, path) for m in self.modes)
            self.hint = written_hint(self.out_path, extra)

    def _show(self) -> None:
        assert self.profile is not None
        sys.stderr.write("\n")
        self.modes[-1].show(self.profile, sys.stderr)
        if "processes" in self.profile.extra:
            from hotpath.report.processes import print_processes
            print_processes(self.profile, sys.stderr)
        if self.hint is not None:
            sys.stderr.write(self.hint)

    def _in_child(self) -> None:
        # A forked child records nothing: it costs the child no time, as without hotpath.
        for m in reversed(self.modes):
            try:
                m.abandon()
            except Exception:
                pass


