"""Paths taken from input, kept inside their workspace, and reads bounded by size.

A path written in a file, a marker or on the command line is resolved (symbolic
links followed, `..` collapsed) before it is compared with the directory it must stay
in: `flows/../../x` and a link leading out are both outside. Reads refuse what is not
a regular file (`/dev/zero`, a pipe, a directory) and stop at a byte limit instead of
reading first and measuring after.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path
from typing import BinaryIO

from harness.errors import InputError, Location


def outside(root: Path, path: Path) -> Path | None:
    """Where `path` really leads when that is outside `root` (links followed), else None."""
    try:
        target = path.resolve()
        base = root.resolve()
    except (OSError, RuntimeError):  # a loop of links, or a name longer than the OS allows
        return path
    return None if target == base or target.is_relative_to(base) else target


def contained(root: Path, relative: str | Path, *, what: str, where: Location) -> Path:
    """`root / relative`, which must stay inside `root`: else an InputError at `where` that
    names the path and says what to write instead."""
    path = root / relative
    if Path(relative).is_absolute() or outside(root, path) is not None:
        raise InputError(
            where,
            f"{what} {str(relative)!r} leads outside {root}",
            f"write a path inside {root} without `..` or links leading out, e.g. a plain file name",
        )
    return path


READ_CHUNK = 1024 * 1024


def read_at_most(source: BinaryIO, limit: int) -> bytes:
    """Up to `limit` bytes of `source`, read a chunk at a time: `read(limit)` would allocate
    all of `limit` first, and a limit the user set to 100 GB (`max_file_bytes`) is then a
    MemoryError for a file of 300 bytes."""
    chunks: list[bytes] = []
    left = limit
    while left > 0:
        chunk = source.read(min(left, READ_CHUNK))
        if not chunk:
            break
        chunks.append(chunk)
        left -= len(chunk)
    return b"".join(chunks)


def read_bounded(path: Path, max_bytes: int, *, where: Location | None = None) -> bytes:
    """The bytes of the regular file `path`, at most `max_bytes` of them; InputError when it
    cannot be read, is not a regular file, or is larger (measured while reading: a file that
    grows, or lies about its size, is cut off all the same)."""
    located = where or Location(str(path))
    try:
        handle = os.open(path, os.O_RDONLY | os.O_NONBLOCK)
    except OSError as err:
        raise InputError(
            located,
            f"cannot read the file: {err.strerror}",
            "check that the path exists and is readable",
        ) from err
    mode = os.fstat(handle).st_mode
    if not stat.S_ISREG(mode):
        os.close(handle)
        kind = "a directory" if stat.S_ISDIR(mode) else "not a regular file"
        raise InputError(
            located,
            f"the path is {kind} (a device, pipe or socket is never read)",
            "pass a regular file",
        )
    with os.fdopen(handle, "rb") as source:
        try:
            data = read_at_most(source, max_bytes + 1)
        except OSError as err:
            raise InputError(located, f"cannot read the file: {err.strerror}", "") from err
    if len(data) > max_bytes:
        raise InputError(
            located,
            f"the file is over the limit of {max_bytes:,} bytes",
            "split it into smaller files, or raise `max_file_bytes` in connector-harness.yaml",
        )
    return data
