"""Line timings: the typed model of a profile's ``extra["lines"]`` section.

The section (docs/lines.md) is stored in the file as it is today::

    {"version": 1, "unit": 1e-9, "mode": "explicit" | "auto", "clock": str,
     "samples": int,
     "functions": [{"filename": str, "lineno": int, "name": str,
                    "lines": [[line, hits, time], ...],       # time in ``unit`` seconds
                    "auto": null | {"chosen_at": s, "samples": n, "own_seconds": s}}]}

``LineData.from_section`` reads it and ``to_section`` writes it (same keys, same order);
the capture builds one from the C snapshot, the reporters read one, and neither passes
the dict around. ``timings()`` is line_profiler's shape: ``{(filename, first line,
qualified name): [(line, hits, time)]}``.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

__all__ = ["NS", "Key", "AutoChoice", "FunctionLines", "LineData", "auto_note", "has_lines"]

NS = 1e-9      #: the unit of stored line times: integer nanoseconds
SECTION_VERSION = 1

#: (filename, first line, qualified name): line_profiler's key for a function
Key = tuple[str, int, str]


def auto_note(chosen_at: float, samples: int, seconds: float | None = None) -> str:
    """The remark shown under a function chosen by ``--lines=auto``."""
    own = f"{seconds * 1e3:.0f} ms of sampled own time, " if seconds is not None else ""
    return (f"Chosen by --lines=auto: timed from {chosen_at:.3f} s into the run "
            f"(after {own}{samples} samples); lines run before that are not counted.")


@dataclass
class AutoChoice:
    """When and why ``--lines=auto`` chose a function."""
    chosen_at: float                 #: seconds into the run
    samples: int                     #: samples taken until then
    own_seconds: float | None = None  #: sampled own time of the function when chosen

    @property
    def note(self) -> str:
        return auto_note(self.chosen_at, self.samples, self.own_seconds)


@dataclass
class FunctionLines:
    """The timed lines of one function: ``(line, hits, time)`` sorted by line."""
    filename: str
    lineno: int
    name: str
    lines: list[tuple[int, int, int]] = field(default_factory=list)
    auto: AutoChoice | None = None

    @property
    def key(self) -> Key:
        return (self.filename, self.lineno, self.name)

    @property
    def total_time(self) -> int:
        return sum(r[2] for r in self.lines)


@dataclass
class LineData:
    """A whole ``extra["lines"]`` section."""
    functions: list[FunctionLines] = field(default_factory=list)
    unit: float = NS                 #: seconds per stored time unit
    mode: str = "explicit"           #: "explicit" (@profile, -f) or "auto"
    clock: str = ""
    samples: int = 0                 #: samples taken by --lines=auto
    version: int = SECTION_VERSION

    @classmethod
    def from_section(cls, data: dict[str, Any]) -> "LineData":
        """Read a section (as stored; missing keys take their defaults)."""
        functions = []
        for f in data.get("functions", []):
            a = f.get("auto")
            functions.append(FunctionLines(
                f["filename"], int(f["lineno"]), f["name"],
                [tuple(int(x) for x in row) for row in f["lines"]],  # type: ignore[misc]
                AutoChoice(a["chosen_at"], a["samples"], a.get("own_seconds")) if a else None))
        return cls(functions, float(data.get("unit", NS)), data.get("mode") or "explicit",
                   data.get("clock", ""), int(data.get("samples") or 0),
                   int(data.get("version", SECTION_VERSION)))

    @classmethod
    def of(cls, profile: Any) -> "LineData | None":
        """The line data of a ``model.Profile``, or None when it has none."""
        data = profile.extra.get("lines")
        return cls.from_section(data) if isinstance(data, dict) else None

    def to_section(self) -> dict[str, Any]:
        """The JSON-able section, as the file format stores it."""
        return {"version": self.version, "unit": self.unit, "mode": self.mode,
                "clock": self.clock, "samples": self.samples,
                "functions": [{
                    "filename": f.filename, "lineno": f.lineno, "name": f.name,
                    "lines": [list(r) for r in f.lines],
                    "auto": None if f.auto is None else {
                        "chosen_at": f.auto.chosen_at, "samples": f.auto.samples,
                        "own_seconds": f.auto.own_seconds},
                } for f in self.functions]}

    def timings(self) -> dict[Key, list[tuple[int, int, int]]]:
        """line_profiler's ``LineStats.timings`` shape (a later duplicate key wins)."""
        return {f.key: list(f.lines) for f in self.functions}

    def notes(self) -> dict[Key, str]:
        """Per function chosen by ``--lines=auto``: the remark for its table."""
        return {f.key: f.auto.note for f in self.functions if f.auto is not None}


def has_lines(profile: Any) -> bool:
    """Whether a ``model.Profile`` holds line timings of at least one function."""
    return bool(profile.extra.get("lines", {}).get("functions"))
