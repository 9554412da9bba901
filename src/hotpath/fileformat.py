"""The hotpath profile file format: one module writes it, the same module reads it.

A file is a fixed 16-byte header (magic, major.minor version, header checksum) followed
by length-prefixed, typed, checksummed sections and a final END section. Metadata and
extras are JSON; the function table and the calling-context trees are packed binary
(fixed-width little-endian integer columns), read straight into the model's columns
(``array``s, no Python object per node), so a million-node profile reads in a few tens
of milliseconds. The full specification, with the rules for adding sections, is
``docs/format.md``; the byte layout is also drawn next to the encoder below.

Reading never trusts the input: every size is checked before anything is allocated,
every section's checksum is verified, every index in the trees is validated, and the
extra sections reporters read (``lines``, ``memory``) are checked against their layouts
(``hotpath.extras``), so a truncated, corrupted, foreign or wrongly shaped file gives
exactly one :class:`FormatError` with a message that says what is wrong and where —
never an ``IndexError``, ``struct.error``, ``UnicodeDecodeError`` or similar. No pickle,
no eval: only JSON, struct and array.

Public API::

    write(profile, path_or_binary_file)     dumps(profile) -> bytes
    read(path_or_binary_file) -> Profile    loads(data) -> Profile
    FormatError
"""
from __future__ import annotations

import json
import math
import os
import struct
import sys
import zlib
from array import array
from itertools import chain
from operator import lt

from .extras import ShapeError, check_extra, column_bounds
from .model import ROOT, Function, Profile, ThreadProfile
from .outfile import open_output

__all__ = ["write", "read", "dumps", "loads", "FormatError",
           "MAGIC", "FORMAT_MAJOR", "FORMAT_MINOR"]

TYPE_CHECKING = False
if TYPE_CHECKING:             # typing is not imported at run time (issue 13, start-up)
    from typing import IO, Any, Iterator, Union

    PathOrFile = Union[str, "os.PathLike[str]", IO[bytes]]


class FormatError(Exception):
    """The input is not a valid hotpath profile (wrong type, truncated, corrupted, or
    written by a newer, incompatible hotpath). The message says which and where.

    ``path`` is the file's name (None for :func:`loads`), ``offset`` the byte offset the
    problem was found at, when known.
    """

    def __init__(self, message: str, path: str | None = None,
                 offset: int | None = None) -> None:
        super().__init__(f"{path}: {message}" if path else message)
        self.path = path
        self.offset = offset


# ---------------------------------------------------------------------------------------
# Constants. Changing any of these is a format change: see docs/format.md.

MAGIC = b"HOTPATH\0"
FORMAT_MAJOR = 1          #: bumped when an older reader would misread a newer file
FORMAT_MINOR = 1          #: bumped when sections or fields are added compatibly
#                           (1: XCOL, an extra's integer columns packed)

_HEADER = struct.Struct("<8sHHI")          # magic, major, minor, crc32(first 12 bytes)
_SECTION = struct.Struct("<4sIQQII")       # tag, flags, stored_len, raw_len, crc, hcrc
_SECTION_CRC_SPAN = _SECTION.size - 4      # the header crc covers the 28 bytes before it

# Section flags.
_COMPRESSION_MASK = 0x0F                   # bits 0-3: 0 = stored, 1 = zlib
_COMP_NONE, _COMP_ZLIB = 0, 1
_REQUIRED = 0x10                           # a reader that does not know the tag must fail

# Section tags, and the names error messages use for them.
TAG_META, TAG_FUNCTIONS, TAG_THREAD, TAG_EXTRA, TAG_COLUMNS, TAG_END = (
    b"META", b"FUNC", b"THRD", b"XTRA", b"XCOL", b"END\0")
_TAG_NAMES = {TAG_META: "META", TAG_FUNCTIONS: "FUNCTIONS", TAG_THREAD: "THREAD",
              TAG_EXTRA: "EXTRA", TAG_COLUMNS: "COLUMNS", TAG_END: "END"}

_COMPRESS_MIN = 1024       # sections smaller than this are stored as they are
_ZLIB_LEVEL = 1            # fast; node columns are very regular and compress well anyway
_ZLIB_MAX_RATIO = 1100     # deflate cannot expand more than ~1032:1; more means corrupt

# Node columns, in file order: (attribute, signed?). func and parent are -1 at the root.
_NODE_COLUMNS = (("func", True), ("parent", True), ("calls", False),
                 ("self_ticks", False), ("total_ticks", False))
_WIDTHS = (1, 2, 4, 8)


def _typecodes(signed: bool) -> dict[int, str]:
    """array typecode for each width, looked up rather than assumed ('l' varies)."""
    out: dict[int, str] = {}
    for c in ("bhiql" if signed else "BHIQL"):   # first wins: i/q rather than l
        out.setdefault(array(c).itemsize, c)
    missing = set(_WIDTHS) - set(out)
    if missing:                            # pragma: no cover - no such CPython platform
        raise ImportError(f"hotpath.fileformat: no array typecode of size {missing}")
    return out


_SIGNED_CODES = _typecodes(True)
_UNSIGNED_CODES = _typecodes(False)
_INT_TYPECODES = frozenset("bBhHiIlLqQ")
_BIG_ENDIAN_HOST = sys.byteorder == "big"

_U32 = struct.Struct("<I")
_THREAD_HEAD = struct.Struct("<QII")       # thread_id, flags, name_len
_THREAD_NODES = struct.Struct("<Q5B")      # node_count, five column widths
_THREAD_TRUNCATED = 0x1
_FUNC_HEAD = struct.Struct("<II")          # string_count, function_count
_COLUMN_HEAD = struct.Struct("<BBQ")       # width, signed, count


# ---------------------------------------------------------------------------------------
# Encoder
#
# File layout (all integers little-endian; crc = zlib.crc32):
#
#   offset
#   0     +--------------------------------+
#         | magic      8 bytes "HOTPATH\0"  |
#   8     | major u16  | minor u16          |
#   12    | header crc u32 (bytes 0..11)    |
#   16    +================================+
#         | section                        |  repeated; order:
#         | section                        |    META, FUNC, THRD*, XTRA*, END
#         | ...                            |  (unknown tags are skipped by readers)
#         | END section                    |  last; nothing may follow it
#         +================================+
#
# Section (32-byte header + payload):
#
#   0     +-------------+------------+
#         | tag 4 bytes | flags u32  |   flags: bits 0-3 compression (0 none, 1 zlib),
#   8     +-------------+------------+          bit 4 REQUIRED (unknown => reject)
#         | stored_len u64           |   payload bytes that follow this header
#   16    | raw_len u64              |   payload bytes after decompression
#   24    | payload crc u32          |   crc of the stored (maybe compressed) payload
#   28    | header crc u32           |   crc of header bytes 0..27
#   32    +--------------------------+
#         | payload, stored_len bytes|
#         +--------------------------+
#
# Payloads (after decompression):
#
#   META  JSON object {"tick_seconds": float > 0, "meta": {...}, "writer": str}
#
#   FUNC  +-----------------+-------------------+
#         | n_strings u32   | n_functions u32   |
#         +-----------------+-------------------+
#         | string byte lengths  u32[n_strings] |
#         | strings, UTF-8, concatenated        |
#         | functions  u32[n_functions][4]:     |
#         |   filename idx, name idx,           |
#         |   qualname idx, lineno              |
#         +-------------------------------------+
#
#   THRD  +----------------------------+  one section per thread, in profile order
#         | thread_id u64              |
#         | flags u32 (bit 0 truncated)|
#         | name_len u32 | name UTF-8  |
#         | node_count u64             |
#         | widths u8[5]               |  bytes per value of each column: 1, 2, 4, 8
#         +----------------------------+
#         | func        int[n]         |  signed; -1 only at node 0 (the root)
#         | parent      int[n]         |  signed; -1 at node 0, else < own index
#         | calls       uint[n]        |  n = node_count; columns one after another
#         | self_ticks  uint[n]        |
#         | total_ticks uint[n]        |
#         +----------------------------+
#
#   XTRA  | name_len u32 | name UTF-8 | JSON value |   one section per extra entry
#
#   XCOL  | name_len u32 | name UTF-8 | column_count u32 |  right after its XTRA, when
#         +-------------------------------------------+   the extra holds array.array
#         | path_len u32 | path UTF-8 ("tree/parent") |   integer columns (a memory
#         | width u8 | signed u8 | count u64          |   section's tree and stacks);
#         | values int[count], width bytes each       |   path: the keys of nested
#         +-------------------------------------------+   dicts down to the column
#
#   END   | section_count u32 |   number of sections before END (incl. unknown ones)


def dumps(profile: Profile) -> bytes:
    """Encode ``profile`` as the bytes of a hotpath profile file.

    Raises ``ValueError`` or ``TypeError`` if the profile breaks the model's invariants
    (so a file that cannot be read back is never produced).
    """
    return b"".join(_encode(profile))


def write(profile: Profile, path: PathOrFile) -> None:
    """Write ``profile`` to ``path`` (a file name, or a binary file object).

    A named file is written as ``hotpath.outfile.open_output`` writes every output: a
    regular (or new) file atomically — the data goes to a temporary file in the same
    directory, which then replaces it, so readers never see a half-written profile and a
    failed write leaves any previous file untouched; a symbolic link is followed to its
    target; a device or FIFO is written in place, never replaced.
    """
    chunks = list(_encode(profile))        # encode (and validate) before writing a byte
    if hasattr(path, "write"):
        for chunk in chunks:
            path.write(chunk)  # type: ignore[union-attr]
        return
    with open_output(path, "wb") as f:
        for chunk in chunks:
            f.write(chunk)


def _encode(profile: Profile) -> Iterator[bytes]:
    """Yield the file in pieces: header, then one piece per section."""
    head = struct.pack("<8sHH", MAGIC, FORMAT_MAJOR, FORMAT_MINOR)
    yield head + _U32.pack(zlib.crc32(head))
    count = 0
    for tag, payload, required in _sections(profile):
        yield _section(tag, payload, required)
        count += 1
    yield _section(TAG_END, _U32.pack(count), True)


def _sections(profile: Profile) -> Iterator[tuple[bytes, bytes, bool]]:
    ts = profile.tick_seconds
    if not isinstance(ts, (int, float)) or not (math.isfinite(float(ts)) and ts > 0):
        raise ValueError(f"tick_seconds must be a finite number > 0, not {ts!r}")
    if not isinstance(profile.meta, dict):
        raise TypeError(f"profile.meta must be a dict, not {type(profile.meta).__name__}")
    from . import __version__
    yield TAG_META, _json_bytes({"tick_seconds": float(ts), "meta": profile.meta,
                                 "writer": f"hotpath {__version__}"}, "profile.meta"), True
    yield TAG_FUNCTIONS, _encode_functions(profile.functions), True
    nfuncs = len(profile.functions)
    for i, t in enumerate(profile.threads):
        yield TAG_THREAD, _encode_thread(t, i, nfuncs), True
    if not isinstance(profile.extra, dict):
        raise TypeError(f"profile.extra must be a dict, not {type(profile.extra).__name__}")
    for name, value in profile.extra.items():
        if not isinstance(name, str):
            raise TypeError(f"profile.extra keys must be str, not {name!r}")
        try:
            check_extra(name, value)       # the layouts reporters rely on (extras.py)
        except ShapeError as e:
            raise ShapeError(f"profile.extra[{name!r}] has the wrong shape: {e}") from None
        nb = _utf8(name)
        value, columns = _split_columns(value)
        # Extras are optional data: a reader that does not know them may skip them.
        yield (TAG_EXTRA, _U32.pack(len(nb)) + nb
               + _json_bytes(value, f"profile.extra[{name!r}]"), False)
        if columns:
            # ... but not their columns: the JSON part alone would read as other data.
            yield TAG_COLUMNS, _encode_columns(nb, columns), True


def _split_columns(value: Any, path: str = "") -> tuple[Any, list[tuple[str, array]]]:
    """``value`` without its ``array`` columns (in dicts, at any depth of dicts), and the
    columns by path ("tree/parent"); dicts on the way are copied, nothing else."""
    if not isinstance(value, dict):
        return value, []
    out: dict[Any, Any] = {}
    columns: list[tuple[str, array]] = []
    for k, v in value.items():
        if isinstance(v, array) and isinstance(k, str):
            if "/" in k:
                raise ValueError(f"{path}{k}: a key holding an array cannot contain '/'")
            if v.typecode not in _INT_TYPECODES:
                raise TypeError(f"{path}{k}: only integer arrays can be stored, not "
                                f"array({v.typecode!r})")
            columns.append((path + k, v))
        elif isinstance(v, dict) and isinstance(k, str):
            out[k], more = _split_columns(v, f"{path}{k}/")
            if more and "/" in k:
                raise ValueError(f"{path}{k}: a key on the way to an array cannot contain '/'")
            columns += more
        else:
            out[k] = v
    return out, columns


def _encode_columns(name: bytes, columns: list[tuple[str, array]]) -> bytes:
    """An XCOL payload: each column at the fewest bytes that hold its values."""
    parts = [_U32.pack(len(name)), name, _U32.pack(len(columns))]
    for path, col in columns:
        lo, hi, _ = column_bounds(col)
        signed = lo is not None and lo < 0
        w = _width(lo, hi, signed) if lo is not None else 1
        code = (_SIGNED_CODES if signed else _UNSIGNED_CODES)[w]
        if _BIG_ENDIAN_HOST:
            col = array(code, col)
            col.byteswap()
            data = col.tobytes()
        elif col.itemsize > w:
            # Little-endian: a value that fits in w bytes is its item's first w bytes
            # (two's complement keeps the sign), so narrowing is a strided copy, not an
            # int object per value.
            data = memoryview(col).cast("B").cast(code)[::col.itemsize // w].tobytes()
        else:
            data = (col if col.itemsize == w else array(code, col)).tobytes()
        pb = _utf8(path)
        parts += [_U32.pack(len(pb)), pb, _COLUMN_HEAD.pack(w, int(signed), len(col)), data]
    return b"".join(parts)


def _section(tag: bytes, payload: bytes, required: bool) -> bytes:
    """One section: the 32-byte header then the payload, compressed if that pays."""
    raw_len = len(payload)
    flags = _REQUIRED if required else 0
    if raw_len >= _COMPRESS_MIN:
        packed = zlib.compress(payload, _ZLIB_LEVEL)
        if len(packed) < raw_len:
            payload, flags = packed, flags | _COMP_ZLIB
    head = struct.pack("<4sIQQI", tag, flags, len(payload), raw_len, zlib.crc32(payload))
    return head + _U32.pack(zlib.crc32(head)) + payload


def _utf8(s: str) -> bytes:
    # surrogatepass: file names decoded with surrogateescape still round-trip.
    return s.encode("utf-8", "surrogatepass")


def _json_bytes(value: Any, what: str) -> bytes:
    """Strict JSON (no NaN/Infinity), ASCII-only so any JSON reader can take it."""
    _check_keys(value, what)
    try:
        return json.dumps(value, ensure_ascii=True, allow_nan=False,
                          separators=(",", ":")).encode("ascii")
    except (TypeError, ValueError) as e:
        raise type(e)(f"{what} is not JSON-serializable: {e}") from None


_SCALARS = frozenset((int, float, str, bool, type(None)))
_SEQUENCES = frozenset((list, tuple))


def _check_keys(value: Any, what: str) -> None:
    """Refuse dict keys that JSON would silently turn into strings (1 -> "1"), so what
    is read back always equals what was written."""
    todo = [value]
    while todo:
        v = todo.pop()
        if isinstance(v, dict):
            for k in v:
                if not isinstance(k, str):
                    raise TypeError(f"{what}: dict key {k!r} is not a str (JSON would "
                                    f"read it back as {str(k)!r}); convert it first")
            todo.extend(v.values())
        elif isinstance(v, (list, tuple)):
            # only the containers: a list of numbers costs one C-level pass
            if _SCALARS.issuperset(map(type, v)):
                continue
            inner = [x for x in v if type(x) not in _SCALARS]
            if _SEQUENCES.issuperset(map(type, inner)):
                # lists of lists (a memory section's 100k stacks): their items, flattened
                # at C speed, are the next one container to look at, not 100k of them
                todo.append(list(chain.from_iterable(inner)))
            else:
                todo.extend(inner)


def _encode_functions(functions: list[Function]) -> bytes:
    """The FUNC payload: a string table (file names repeat a lot) and index records."""
    index: dict[str, int] = {}
    strings: list[bytes] = []
    records = array(_UNSIGNED_CODES[4])

    def intern(s: Any, what: str) -> int:
        if not isinstance(s, str):
            raise TypeError(f"{what} must be str, not {type(s).__name__}")
        i = index.get(s)
        if i is None:
            i = index[s] = len(strings)
            strings.append(_utf8(s))
        return i

    for k, f in enumerate(functions):
        lineno = f.lineno
        if not isinstance(lineno, int) or not 0 <= lineno < 2**32:
            raise ValueError(f"function {k}: lineno must be an int in [0, 2**32), "
                             f"not {lineno!r}")
        records.extend((intern(f.filename, f"function {k} filename"),
                        intern(f.name, f"function {k} name"),
                        intern(f.qualname, f"function {k} qualname"), lineno))
    lengths = array(_UNSIGNED_CODES[4], map(len, strings))
    if _BIG_ENDIAN_HOST:
        lengths.byteswap()
        records.byteswap()
    return (_FUNC_HEAD.pack(len(strings), len(functions)) + lengths.tobytes()
            + b"".join(strings) + records.tobytes())


def _width(lo: int, hi: int, signed: bool) -> int:
    """Fewest bytes (1, 2, 4, 8) whose integers hold every value in [lo, hi]."""
    for w in _WIDTHS:
        bits = 8 * w
        if signed and -(1 << (bits - 1)) <= lo and hi < (1 << (bits - 1)):
            return w
        if not signed and lo >= 0 and hi < (1 << bits):
            return w
    return 8                               # callers have already checked the range


def _encode_thread(t: ThreadProfile, index: int, nfuncs: int) -> bytes:
    """A THRD payload; validates the tree with the same rules the reader applies."""
    where = f"thread {index} (id {t.thread_id!r})"
    if not isinstance(t.thread_id, int) or not 0 <= t.thread_id < 2**64:
        raise ValueError(f"{where}: thread_id must be an int in [0, 2**64)")
    if not isinstance(t.name, str):
        raise TypeError(f"{where}: name must be str, not {type(t.name).__name__}")
    n = len(t.func)
    if n == 0:
        raise ValueError(f"{where}: a tree needs its root node")
    # Columns as 8-byte arrays first: one conversion checks type and range of every value.
    columns = []
    for attr, signed in _NODE_COLUMNS:
        col = getattr(t, attr)
        if len(col) != n:
            raise ValueError(f"{where}: column {attr} has {len(col)} values for {n} nodes")
        try:
            columns.append(array((_SIGNED_CODES if signed else _UNSIGNED_CODES)[8], col))
        except (TypeError, OverflowError):
            raise ValueError(f"{where}: every node's {attr} must be an int in "
                             f"{'[-2**63, 2**63)' if signed else '[0, 2**64)'}") from None
    func, parent = columns[0], columns[1]
    if func[0] != ROOT or parent[0] != -1:
        raise ValueError(f"{where}: node 0 must be the root (func {ROOT}, parent -1)")
    if n > 1:
        if not 0 <= min(func[1:]) <= max(func[1:]) < nfuncs:
            bad = next(i for i in range(1, n) if not 0 <= func[i] < nfuncs)
            raise ValueError(f"{where} node {bad}: func {func[bad]} is not an index into "
                             f"the function table ({nfuncs} functions)")
        if min(parent[1:]) < 0 or not all(map(lt, parent[1:], range(1, n))):
            bad = next(i for i in range(1, n) if not 0 <= parent[i] < i)
            raise ValueError(f"{where} node {bad}: parent {parent[bad]} must be in "
                             f"[0, {bad}) (parents come before their children)")
    name = _utf8(t.name)
    widths = []
    blobs = []
    for (_attr, signed), col in zip(_NODE_COLUMNS, columns):
        w = _width(min(col), max(col), signed)
        if w != 8:
            col = array((_SIGNED_CODES if signed else _UNSIGNED_CODES)[w], col)
        if _BIG_ENDIAN_HOST:
            col.byteswap()
        widths.append(w)
        blobs.append(col.tobytes())
    return b"".join([_THREAD_HEAD.pack(t.thread_id, _THREAD_TRUNCATED if t.truncated else 0,
                                       len(name)), name,
                     _THREAD_NODES.pack(n, *widths), *blobs])


# ---------------------------------------------------------------------------------------
# Decoder

def loads(data: bytes | bytearray | memoryview) -> Profile:
    """Decode a profile from the bytes of a hotpath profile file.

    Raises :class:`FormatError` if ``data`` is not a complete, intact profile.
    """
    return _Decoder(memoryview(data).cast("B"), None).profile()


def read(path: PathOrFile) -> Profile:
    """Read a profile from ``path`` (a file name, or a binary file object).

    Raises :class:`FormatError` if the file is not a complete, intact hotpath profile;
    ``OSError`` if it cannot be opened or read.
    """
    if hasattr(path, "read"):
        name = getattr(path, "name", None)
        return _read_stream(path, name if isinstance(name, str) else "<stream>")
    with open(path, "rb") as f:
        return _read_stream(f, os.fspath(path))


def _read_stream(f: IO[bytes], name: str) -> Profile:
    # Look at the header before reading the rest: a multi-gigabyte file that is not a
    # profile is rejected without loading it.
    head = f.read(_HEADER.size)
    if not isinstance(head, bytes):
        raise TypeError(f"{name}: expected a binary file object (opened with 'rb')")
    _Decoder(memoryview(head), name).check_header()
    rest = f.read()
    return _Decoder(memoryview(head + rest), name).profile()


class _Decoder:
    """Decodes one file held in memory. Every failure goes through ``fail``."""

    def __init__(self, data: memoryview, name: str | None) -> None:
        self.data = data
        self.name = name

    def fail(self, message: str, offset: int | None = None) -> FormatError:
        return FormatError(message, self.name, offset)

    # -- header ---------------------------------------------------------------------

    def check_header(self) -> None:
        data = self.data
        size = len(data)
        if size == 0:
            raise self.fail("empty file, not a hotpath profile")
        if bytes(data[:len(MAGIC)]) != MAGIC[:size]:
            raise self.fail(f"not a hotpath profile (bad magic){_guess_type(data)}", 0)
        if size < _HEADER.size:
            raise self.fail(f"truncated file (header needs {_HEADER.size} bytes, "
                            f"file has {size})", size)
        _, major, minor, crc = _HEADER.unpack_from(data)
        if zlib.crc32(data[:12]) != crc:
            raise self.fail("checksum mismatch in file header (corrupted file)", 12)
        if major > FORMAT_MAJOR:
            raise self.fail(f"written by a newer hotpath (format version "
                            f"{major}.{minor}); this hotpath reads format "
                            f"{FORMAT_MAJOR}.x — upgrade it", 8)
        if major < 1:
            raise self.fail(f"unsupported format version {major}.{minor}", 8)

    # -- sections -------------------------------------------------------------------

    def sections(self) -> Iterator[tuple[bytes, int, int, memoryview | None]]:
        """Yield (tag, flags, offset, payload) for every section before END; payload is
        None for unknown optional sections (skipped, not decompressed). Checks the END
        section's count and that nothing follows it."""
        data = self.data
        size = len(data)
        pos = _HEADER.size
        count = 0
        while True:
            if pos == size:
                raise self.fail(f"truncated file (ends at byte {size} after {count} "
                                f"sections, without an END section)", pos)
            if size - pos < _SECTION.size:
                raise self.fail(f"truncated file (section header at byte {pos} needs "
                                f"{_SECTION.size} bytes, file has {size - pos})", pos)
            tag, flags, stored, raw, crc, hcrc = _SECTION.unpack_from(data, pos)
            if zlib.crc32(data[pos:pos + _SECTION_CRC_SPAN]) != hcrc:
                raise self.fail(f"checksum mismatch in section header at byte {pos} "
                                f"(corrupted file)", pos)
            label = _TAG_NAMES.get(tag, f"{bytes(tag)!r}")
            start = pos + _SECTION.size
            end = start + stored
            if end > size:
                raise self.fail(f"truncated file (section {label} ends at byte {end} "
                                f"of {size})", size)
            payload = data[start:end]
            if zlib.crc32(payload) != crc:
                raise self.fail(f"checksum mismatch in section {label} at byte {pos}", pos)
            pos = end
            if tag not in _TAG_NAMES:
                if flags & _REQUIRED:
                    at = start - _SECTION.size
                    raise self.fail(f"section {label} at byte {at} is required but unknown "
                                    f"to this hotpath (written by a newer version?) — "
                                    f"upgrade it", at)
                count += 1
                yield tag, flags, start, None
                continue
            body = self.unpack_payload(label, flags, payload, raw, start)
            if tag == TAG_END:
                if len(body) != 4 or _U32.unpack(body)[0] != count:
                    raise self.fail(f"bad END section (expected a count of {count} "
                                    f"sections)", start)
                if pos != size:
                    raise self.fail(f"{size - pos} bytes of trailing data after the END "
                                    f"section at byte {pos}", pos)
                return
            count += 1
            yield tag, flags, start, body

    def unpack_payload(self, label: str, flags: int, payload: memoryview, raw: int,
                       offset: int) -> memoryview:
        method = flags & _COMPRESSION_MASK
        if method == _COMP_NONE:
            if raw != len(payload):
                raise self.fail(f"section {label}: stored and raw sizes differ "
                                f"({len(payload)} != {raw}) in an uncompressed section",
                                offset)
            return payload
        if method != _COMP_ZLIB:
            raise self.fail(f"section {label} uses compression method {method}, unknown "
                            f"to this hotpath (written by a newer version?)", offset)
        # Bound the output before allocating it: deflate never expands past ~1032:1.
        if raw > len(payload) * _ZLIB_MAX_RATIO + 64:
            raise self.fail(f"section {label}: implausible uncompressed size {raw} for "
                            f"{len(payload)} compressed bytes", offset)
        try:
            d = zlib.decompressobj()
            out = d.decompress(payload, raw + 1)   # one byte more reveals overlong data
        except zlib.error as e:
            raise self.fail(f"section {label}: corrupt compressed data ({e})",
                            offset) from None
        except MemoryError:
            raise self.fail(f"section {label}: too large to decompress ({raw} bytes)",
                            offset) from None
        if len(out) != raw or not d.eof or d.unused_data:
            raise self.fail(f"section {label}: compressed data does not decode to the "
                            f"stated {raw} bytes", offset)
        return memoryview(out)

    # -- whole profile --------------------------------------------------------------

    def profile(self) -> Profile:
        self.check_header()
        meta: tuple[float, dict] | None = None
        functions: list[Function] | None = None
        threads: list[ThreadProfile] = []
        extra: dict[str, Any] = {}
        extra_at: dict[str, int] = {}      # checked at the end, when their columns are in
        columns_of: set[str] = set()       # the extras whose XCOL was read
        for tag, _flags, offset, body in self.sections():
            if body is None:
                continue                   # unknown optional section: skipped
            if tag == TAG_META:
                if meta is not None:
                    raise self.fail("more than one META section", offset)
                meta = self.decode_meta(body, offset)
            elif tag == TAG_FUNCTIONS:
                if functions is not None:
                    raise self.fail("more than one FUNCTIONS section", offset)
                functions = self.decode_functions(body, offset)
            elif tag == TAG_THREAD:
                if functions is None:
                    raise self.fail("THREAD section before the FUNCTIONS section", offset)
                threads.append(self.decode_thread(body, offset, len(functions),
                                                  len(threads)))
            elif tag == TAG_EXTRA:
                name, value = self.decode_extra(body, offset)
                if name in extra:
                    raise self.fail(f"more than one EXTRA section named {name!r}", offset)
                extra[name] = value
                extra_at[name] = offset
            elif tag == TAG_COLUMNS:
                self.decode_columns(body, offset, extra, columns_of)
        for name, value in extra.items():
            try:
                check_extra(name, value)   # shapes the reporters rely on: lines, memory
            except ShapeError as e:
                raise self.fail(f"section EXTRA {name!r} has the wrong shape: {e}",
                                extra_at[name]) from None
        if meta is None:
            raise self.fail("no META section")
        if functions is None:
            raise self.fail("no FUNCTIONS section")
        return Profile(functions=functions, threads=threads, tick_seconds=meta[0],
                       meta=meta[1], extra=extra)

    # -- payload decoders -----------------------------------------------------------

    def json(self, body: memoryview, what: str, offset: int) -> Any:
        try:
            return json.loads(str(body, "utf-8"), parse_constant=_no_constant,
                              parse_float=_finite_float)
        except (ValueError, RecursionError) as e:   # incl. UnicodeDecodeError
            raise self.fail(f"section {what}: invalid JSON ({_short(e)})", offset) from None

    def text(self, body: memoryview, what: str, offset: int) -> str:
        try:
            return str(body, "utf-8", "surrogatepass")
        except UnicodeDecodeError as e:
            raise self.fail(f"{what}: invalid UTF-8 ({_short(e)})", offset) from None

    def decode_meta(self, body: memoryview, offset: int) -> tuple[float, dict]:
        doc = self.json(body, "META", offset)
        if not isinstance(doc, dict):
            raise self.fail("section META: not a JSON object", offset)
        ts = doc.get("tick_seconds")
        try:
            ok = type(ts) in (int, float) and math.isfinite(ts) and ts > 0
        except OverflowError:              # an integer too large for a float
            ok = False
        if not ok:
            raise self.fail(f"section META: tick_seconds must be a finite number > 0, "
                            f"not {_short(repr(ts), 40)}", offset)
        meta = doc.get("meta")
        if not isinstance(meta, dict):
            raise self.fail("section META: 'meta' must be a JSON object", offset)
        return float(ts), meta

    def decode_functions(self, body: memoryview, offset: int) -> list[Function]:
        size = len(body)
        if size < _FUNC_HEAD.size:
            raise self.fail(f"section FUNCTIONS: {size} bytes is too short", offset)
        nstr, nfun = _FUNC_HEAD.unpack_from(body)
        # Both tables are fixed-width, so their sizes are known before allocating.
        fixed = _FUNC_HEAD.size + 4 * nstr + 16 * nfun
        if fixed > size:
            raise self.fail(f"section FUNCTIONS: {nstr} strings and {nfun} functions do "
                            f"not fit in {size} bytes", offset)
        pos = _FUNC_HEAD.size
        lengths = _ints(body[pos:pos + 4 * nstr], 4, False)
        pos += 4 * nstr
        blob_len = size - fixed
        if sum(lengths) != blob_len:
            raise self.fail(f"section FUNCTIONS: string lengths add up to {sum(lengths)}, "
                            f"not the {blob_len} bytes stored", offset)
        strings: list[str] = []
        for n in lengths:
            strings.append(self.text(body[pos:pos + n],
                                     f"section FUNCTIONS string {len(strings)}", offset))
            pos += n
        rec = _ints(body[pos:], 4, False)
        if nfun and max(rec[0::4] + rec[1::4] + rec[2::4]) >= nstr:
            bad = next(i for i, v in enumerate(rec) if i % 4 != 3 and v >= nstr) // 4
            raise self.fail(f"section FUNCTIONS: function {bad} refers to a string "
                            f"beyond the {nstr} stored", offset)
        s = strings
        return [Function(s[rec[i]], rec[i + 3], s[rec[i + 1]], s[rec[i + 2]])
                for i in range(0, 4 * nfun, 4)]

    def decode_thread(self, body: memoryview, offset: int, nfuncs: int,
                      index: int) -> ThreadProfile:
        where = f"section THREAD {index}"
        size = len(body)
        if size < _THREAD_HEAD.size:
            raise self.fail(f"{where}: {size} bytes is too short", offset)
        tid, flags, name_len = _THREAD_HEAD.unpack_from(body)
        pos = _THREAD_HEAD.size
        if pos + name_len + _THREAD_NODES.size > size:
            raise self.fail(f"{where}: name of {name_len} bytes does not fit in "
                            f"{size} bytes", offset)
        name = self.text(body[pos:pos + name_len], f"{where} name", offset)
        pos += name_len
        n, *widths = _THREAD_NODES.unpack_from(body, pos)
        pos += _THREAD_NODES.size
        if any(w not in _WIDTHS for w in widths):
            raise self.fail(f"{where}: bad column widths {widths} (each must be 1, 2, "
                            f"4 or 8)", offset)
        if n == 0:
            raise self.fail(f"{where}: no nodes (a tree has at least its root)", offset)
        need = n * sum(widths)
        if need != size - pos:
            raise self.fail(f"{where}: {n} nodes need {need} bytes of columns, "
                            f"{size - pos} are stored", offset)
        cols = []
        for (_attr, signed), w in zip(_NODE_COLUMNS, widths):
            cols.append(_ints(body[pos:pos + n * w], w, signed))
            pos += n * w
        func, parent = cols[0], cols[1]
        # Structural checks, in bulk (C-speed min/max/all), before building any node.
        if func[0] != ROOT or parent[0] != -1:
            raise self.fail(f"{where}: node 0 is not a root (func {func[0]}, parent "
                            f"{parent[0]})", offset)
        check = _c_tree_check()
        if n > 1 and check is not None and not check(func, parent, nfuncs):
            pass                          # every node checked in C (the usual case)
        elif n > 1:
            rest_f = func[1:]
            if min(rest_f) < 0 or max(rest_f) >= nfuncs:
                bad = next(i for i in range(1, n) if not 0 <= func[i] < nfuncs)
                raise self.fail(f"{where}: node {bad} has function {func[bad]}, outside "
                                f"the function table of {nfuncs}", offset)
            rest_p = parent[1:]
            if min(rest_p) < 0 or not all(map(lt, rest_p, range(1, n))):
                bad = next(i for i in range(1, n) if not 0 <= parent[i] < i)
                raise self.fail(f"{where}: node {bad} has parent {parent[bad]}, which is "
                                f"not an earlier node", offset)
        # The columns become the tree as they are, at their stored widths.
        return ThreadProfile.from_columns(tid, name, *cols,
                                          truncated=bool(flags & _THREAD_TRUNCATED))

    def named_section(self, body: memoryview, offset: int, label: str,
                      head: int) -> tuple[str, int]:
        """A section that starts with a u32-prefixed name (EXTRA, XCOL), `head` bytes of
        fixed fields in all: (the name, where the rest starts)."""
        size = len(body)
        if size < head:
            raise self.fail(f"section {label}: {size} bytes is too short", offset)
        (name_len,) = _U32.unpack_from(body)
        if head + name_len > size:
            raise self.fail(f"section {label}: name of {name_len} bytes does not fit in "
                            f"{size} bytes", offset)
        return self.text(body[4:4 + name_len], f"section {label} name", offset), 4 + name_len

    def decode_extra(self, body: memoryview, offset: int) -> tuple[str, Any]:
        name, pos = self.named_section(body, offset, "EXTRA", 4)
        value = self.json(body[pos:], f"EXTRA {name!r}", offset)
        return name, value

    def decode_columns(self, body: memoryview, offset: int, extra: dict[str, Any],
                       columns_of: set[str]) -> None:
        """An XCOL section: its columns put into the extra of its name, read before it,
        at their paths (each a new key of a dict the JSON part has)."""
        size = len(body)
        name, name_end = self.named_section(body, offset, "COLUMNS", 8)
        name_len = name_end - 4
        if name not in extra or name in columns_of:
            raise self.fail(f"section COLUMNS {name!r} does not follow an EXTRA section of "
                            f"that name, or is its second", offset)
        columns_of.add(name)
        where = f"section COLUMNS {name!r}"
        (count,) = _U32.unpack_from(body, 4 + name_len)
        pos = 8 + name_len
        for k in range(count):
            if pos + 4 > size:
                raise self.fail(f"{where}: column {k} does not fit", offset)
            (plen,) = _U32.unpack_from(body, pos)
            pos += 4
            if pos + plen + _COLUMN_HEAD.size > size:
                raise self.fail(f"{where}: column {k} does not fit", offset)
            path = self.text(body[pos:pos + plen], f"{where} column {k} path", offset)
            pos += plen
            w, signed, n = _COLUMN_HEAD.unpack_from(body, pos)
            pos += _COLUMN_HEAD.size
            if w not in _WIDTHS or signed not in (0, 1):
                raise self.fail(f"{where}: column {path!r} has width {w}, signed {signed}",
                                offset)
            if n * w > size - pos:
                raise self.fail(f"{where}: column {path!r} of {n} values does not fit in "
                                f"{size - pos} bytes", offset)
            col = _ints(body[pos:pos + n * w], w, bool(signed))
            pos += n * w
            *parents, key = path.split("/")
            d = extra[name]
            for p in parents:
                d = d.get(p) if isinstance(d, dict) else None
            if not isinstance(d, dict) or key in d:
                raise self.fail(f"{where}: column {path!r} has no place in the EXTRA "
                                f"section", offset)
            d[key] = col
        if pos != size:
            raise self.fail(f"{where}: {size - pos} bytes after the last column", offset)


def _c_tree_check() -> Any:
    """The C core's structural check (``_core._tree_check``), or None without the
    extension; imported when a file is read, not with this module."""
    try:
        from ._core import _tree_check
    except ImportError:
        return None
    return _tree_check


def _ints(buf: memoryview, width: int, signed: bool) -> array:
    """Little-endian fixed-width integers → array, in one bulk copy."""
    a = array((_SIGNED_CODES if signed else _UNSIGNED_CODES)[width])
    a.frombytes(buf)
    if _BIG_ENDIAN_HOST:
        a.byteswap()
    return a


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")         # NaN / Infinity: the writer never


def _finite_float(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):                    # 1e999: would not write back
        raise ValueError(f"number {_short(text, 30)} is out of range")
    return value


def _short(e: object, limit: int = 120) -> str:
    s = str(e)
    return s if len(s) <= limit else s[:limit] + "..."


def _guess_type(data: memoryview) -> str:
    """A hint for common wrong inputs, appended to the bad-magic message."""
    head = bytes(data[:64])
    if head[:2] == b"\x1f\x8b":
        return "; it is gzip-compressed"
    if all(32 <= c < 127 or c in b"\t\r\n" for c in head):
        if head.lstrip()[:1] in (b"{", b"["):
            return "; it looks like a JSON file"
        return "; it looks like a text file"
    if head[:1] in (b"{", b"\xfb"):       # marshal'd dict, as pstats.dump_stats writes
        return "; it looks like a pstats/cProfile file — open it with pstats"
    return ""
