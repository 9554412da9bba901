"""Source text for annotated views, read once when a report is written.

A report must keep working offline and after the profiled files change or disappear, so
the HTML report embeds the lines it annotates. ``SourceReader`` reads a profiled file
(relative names against the program's working directory, the file's own encoding
declaration honoured), caches it, and never raises: a missing, unreadable, binary or
oversized file yields ``None`` and a reason (``reason(filename)``).

``excerpt`` picks the lines of one function to show: its whole ``def`` block (as
``inspect.getblock`` finds it, which is what kernprof shows), extended to every line that
has data; a block longer than ``max_lines`` (a module body, say) keeps only the lines
with data, ``context`` lines around each, and the first line.
"""
from __future__ import annotations

import inspect
import io
import os
import tokenize
from typing import Iterable

__all__ = ["SourceReader", "Excerpt"]

MAX_FILE_BYTES = 8 * 1024 * 1024      # larger files are not embedded
MAX_LINE_CHARS = 2000                 # longer lines are cut (minified code, data)


class Excerpt:
    """Line numbers and their text; with ``missing`` (why) when the file could not be
    read, the numbers are the lines with data and every text is empty."""
    __slots__ = ("numbers", "text", "missing")

    def __init__(self, numbers: list[int], text: list[str], missing: str | None) -> None:
        self.numbers = numbers
        self.text = text
        self.missing = missing


class SourceReader:
    """Reads and caches source files; ``root`` resolves relative file names."""

    def __init__(self, root: str | None = None) -> None:
        self.root = root
        self._files: dict[str, list[str] | None] = {}
        self._why: dict[str, str] = {}
        self._ends: dict[tuple[str, int], int] = {}

    def reason(self, filename: str) -> str | None:
        """Why ``filename`` has no source (after ``lines``), or ``None``."""
        return self._why.get(filename)

    def lines(self, filename: str) -> list[str] | None:
        """The file's lines without line ends, or ``None`` (see ``reason``)."""
        if filename in self._files:
            return self._files[filename]
        text = self._read(filename)
        self._files[filename] = text
        return text

    def line(self, filename: str, lineno: int, limit: int = 160) -> str:
        """One line, stripped and cut to ``limit`` characters; "" when unavailable."""
        lines = self.lines(filename)
        if not lines or not 0 < lineno <= len(lines):
            return ""
        text = lines[lineno - 1].strip()
        return text if len(text) <= limit else text[:limit - 1] + "\u2026"

    def _read(self, filename: str) -> list[str] | None:
        if not filename or filename == "~" or filename.startswith("<"):
            self._why[filename] = "no source file (code not from a file)"
            return None
        path = filename
        if not os.path.isabs(path) and self.root:
            path = os.path.join(self.root, path)
        try:
            size = os.path.getsize(path)
            if size > MAX_FILE_BYTES:
                self._why[filename] = f"source file too large to embed ({size:,} bytes)"
                return None
            with open(path, "rb") as f:
                raw = f.read()
        except OSError as e:
            self._why[filename] = ("source file not found" if isinstance(e, FileNotFoundError)
                                   else f"source file unreadable: {e.strerror or e}")
            return None
        if b"\0" in raw:
            self._why[filename] = "not a text file"
            return None
        try:
            encoding, _ = tokenize.detect_encoding(io.BytesIO(raw).readline)
            text = raw.decode(encoding, "replace")
        except (SyntaxError, LookupError, UnicodeError):
            text = raw.decode("utf-8", "replace")
        if text.startswith("\ufeff"):
            text = text[1:]
        out = text.splitlines()
        return [ln if len(ln) <= MAX_LINE_CHARS else ln[:MAX_LINE_CHARS] + "\u2026" for ln in out]

    def block_end(self, filename: str, first: int) -> int:
        """The last line of the block starting at ``first`` (``first`` when unknown)."""
        key = (filename, first)
        end = self._ends.get(key)
        if end is None:
            lines = self.lines(filename)
            end = first
            if lines and 0 < first <= len(lines):
                tail = [ln + "\n" for ln in lines[first - 1:]]
                try:
                    end = first + len(inspect.getblock(tail)) - 1
                except Exception:            # tokenizer trouble on odd sources
                    end = first
            self._ends[key] = end
        return end

    def excerpt(self, filename: str, first: int, data_lines: Iterable[int],
                whole_file: bool = False, max_lines: int = 400, context: int = 3) -> Excerpt:
        """The lines to show for the function starting at ``first`` (see the module doc).
        ``whole_file`` (module bodies) starts at line 1 and runs to the file's end."""
        data = sorted({int(n) for n in data_lines if int(n) > 0})
        lines = self.lines(filename)
        first = max(int(first), 1)
        if lines is None:
            numbers = sorted(set(data) | {first}) if first else data
            return Excerpt(numbers, [""] * len(numbers), self.reason(filename))
        if whole_file:
            lo, hi = 1, len(lines)
        else:
            lo, hi = first, self.block_end(filename, first)
        if data:
            lo, hi = min(lo, data[0]), max(hi, data[-1])
        hi = min(hi, len(lines))
        if hi - lo + 1 <= max_lines:
            numbers = list(range(lo, hi + 1))
        else:
            keep = {first} if lo <= first <= hi else set()
            for n in data:
                keep.update(range(max(lo, n - context), min(hi, n + context) + 1))
            numbers = sorted(keep)[: max_lines * 4]
        text = [lines[n - 1] if 0 < n <= len(lines) else "" for n in numbers]
        return Excerpt(numbers, text, None)
