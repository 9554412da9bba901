"""Open an output file the way every hotpath writer must: ``open_output(path, mode)``.

The profile writer and every exporter write through this one function, so they all treat
what ``-o`` points at the same way:

* a **regular file, or a name that does not exist yet**, is written atomically: the data
  goes to a temporary file in the same directory, which replaces the name only once it
  is complete (flushed and fsync'ed). Readers never see half a file, a failed or killed
  write leaves the previous file as it was (and no empty file behind), and a replaced
  file keeps its permission bits;
* a **symbolic link** is followed to its final target, and that target is treated by
  these rules; the link itself stays a link (a dangling link gets its target created);
* **anything else** — a character or block device (``/dev/null``, a tty), a FIFO, a
  socket — is written *through*: opened and written in place, never replaced, since a
  rename would swap the device node or pipe for a regular file. Errors the device reports
  (``/dev/full``: no space left) are raised as the ``OSError`` they are.

Only the writer's data goes to the file; nothing else about it is changed.
"""
from __future__ import annotations

import os
import stat
from contextlib import contextmanager

TYPE_CHECKING = False
if TYPE_CHECKING:             # typing is not imported at run time (issue 13, start-up)
    from typing import IO, Any, Iterator, Union

    PathLike = Union[str, "os.PathLike[str]"]

__all__ = ["open_output", "resolve_output", "is_write_through", "writable_problem"]


def _temp_name(directory: str, prefix: str) -> str:
    """A fresh unlikely name in ``directory`` (what ``secrets.token_hex`` gives, from
    ``os.urandom`` directly: the secrets module imports hmac and hashlib)."""
    return os.path.join(directory, f"{prefix}{os.urandom(4).hex()}")


def resolve_output(path: PathLike) -> str:
    """The name to write to: ``path`` itself, or for a symbolic link (or a chain of
    them) its final target, resolved relative to each link's own directory."""
    target = os.fspath(path)
    if not os.path.islink(target):
        return target
    # realpath resolves every link on the way; a dangling link yields the name it points
    # to, which is where a new file belongs. A loop is left to open() to report (ELOOP).
    return os.path.realpath(target)


def is_write_through(target: str) -> bool:
    """Whether ``target`` exists and is not a regular file (a device, FIFO, socket):
    such files are written in place, never replaced."""
    try:
        st = os.stat(target)
    except FileNotFoundError:
        return False
    return not stat.S_ISREG(st.st_mode) and not stat.S_ISDIR(st.st_mode)


@contextmanager
def open_output(path: PathLike, mode: str = "wb", **kwargs: Any) -> Iterator[IO[Any]]:
    """A file object to write ``path``'s new contents to (``mode`` "w" or "wb"; other
    keyword arguments as for ``open``: encoding, newline, ...).

    For a regular or new file the contents appear at ``path`` only when the ``with``
    block ends without an exception; on an exception nothing at ``path`` changes. For a
    device or FIFO the data is written in place as it comes. ``OSError`` is raised as
    the system reports it (a directory, a missing directory, no permission, no space).
    """
    if mode not in ("w", "wb"):
        raise ValueError(f"open_output mode must be 'w' or 'wb', not {mode!r}")
    target = resolve_output(path)
    if is_write_through(target):
        # O_TRUNC means nothing to a device or FIFO; no O_CREAT: it exists, and if it
        # went away in between, failing beats creating a regular file in /dev.
        fd = os.open(target, os.O_WRONLY | getattr(os, "O_BINARY", 0))
        with os.fdopen(fd, mode, **kwargs) as f:
            yield f
        return
    existing_mode = None
    try:
        st = os.stat(target)
        if stat.S_ISREG(st.st_mode):
            existing_mode = stat.S_IMODE(st.st_mode)
    except OSError:
        pass
    if os.path.isdir(target):
        raise IsADirectoryError(21, "Is a directory", target)
    directory, base = os.path.split(target)
    tmp = _temp_name(directory, f".{base}.") + ".tmp"
    # 0o666 lets the umask decide a new file's permissions, as a plain open() would.
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0),
                 0o666)
    try:
        with os.fdopen(fd, mode, **kwargs) as f:
            yield f
            f.flush()
            os.fsync(f.fileno())
        if existing_mode is not None:
            os.chmod(tmp, existing_mode)
        os.replace(tmp, target)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise


def writable_problem(path: PathLike) -> str | None:
    """Why ``open_output(path)`` would fail, said before any work is done (a program run,
    a benchmark measured), or None when it will not. The directory must exist and take
    new files (the file is written beside itself and renamed); an existing target that is
    not a regular file is written through and must itself be writable. A real probe file
    is made and removed, so permissions, read-only mounts, root and ACLs all answer."""
    shown = os.fspath(path)
    target = resolve_output(path)
    out_dir = os.path.dirname(os.path.abspath(target))
    if not os.path.isdir(out_dir):
        return f"cannot write {shown!r}: directory {out_dir!r} does not exist"
    if os.path.isdir(target):
        return f"cannot write {shown!r}: it is a directory"
    if os.path.exists(target) and is_write_through(target):
        return None if os.access(target, os.W_OK) else f"cannot write {shown!r}: permission denied"
    # As tempfile.mkstemp does (without importing tempfile, shutil and random): a new
    # name, created exclusively, another name if it exists.
    for _ in range(100):
        probe = _temp_name(out_dir, ".hotpath-probe-")
        try:
            fd = os.open(probe, os.O_RDWR | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0),
                         0o600)
        except FileExistsError:
            continue
        except OSError as e:
            return f"cannot write {shown!r}: directory {out_dir!r}: {e.strerror or e}"
        break
    else:
        return f"cannot write {shown!r}: directory {out_dir!r}: no free temporary name"
    os.close(fd)
    os.unlink(probe)
    return None
