"""A digest of a workspace's files, which ties a decision log (harness.audit) to the
workspace its run judged: anyone holding the same files computes the same digest."""

from __future__ import annotations

import hashlib
import os
import stat
from pathlib import Path

from harness.model import Settings

CHUNK = 1024 * 1024
SETTINGS_FILES = ("connector-harness.yaml", "pyproject.toml")


def workspace_digest(root: Path | str, settings: Settings) -> str:
    """`sha256:HEX` over the relative path and content of every file the workspace is read
    from (the settings files and everything under its mocks and scenarios directories).

    Files are read in chunks, so memory stays bounded whatever their size. A symbolic
    link counts by its target's name, never by what it points to: the digest reads
    nothing outside the workspace. An in-memory workspace (no directory) has no digest.
    """
    base = Path(root)
    if not base.is_dir():
        return ""
    entries: list[tuple[str, bytes]] = []
    for name in SETTINGS_FILES:
        entry = _entry(base, base / name)
        if entry is not None:
            entries.append(entry)
    for directory in sorted({*settings.mocks, *settings.scenarios}):
        top = base / directory
        entry = _entry(base, top)
        if entry is not None:  # the directory itself is a link or a file
            entries.append(entry)
            continue
        for folder, subdirectories, files in os.walk(top, followlinks=False):
            subdirectories.sort()
            for name in (*files, *subdirectories):
                entry = _entry(base, Path(folder) / name)
                if entry is not None:
                    entries.append(entry)
    digest = hashlib.sha256()
    for relative, content in sorted(set(entries)):
        digest.update(relative.encode("utf-8", "surrogateescape") + b"\0" + content + b"\n")
    return f"sha256:{digest.hexdigest()}"


def _entry(base: Path, path: Path) -> tuple[str, bytes] | None:
    """(relative path, what it holds) of a file or link; None for a directory or nothing."""
    try:
        status = path.lstat()
    except OSError:
        return None
    relative = path.relative_to(base).as_posix()
    try:
        if stat.S_ISLNK(status.st_mode):
            return relative, b"link:" + os.fsencode(os.readlink(path))
        if not stat.S_ISREG(status.st_mode):
            return None
        # not following a link swapped in since, nor blocking on a pipe
        handle = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
    except OSError as err:
        return relative, f"unreadable:{err.strerror}".encode()
    content = hashlib.sha256()
    with os.fdopen(handle, "rb") as source:
        if not stat.S_ISREG(os.fstat(source.fileno()).st_mode):
            return None
        try:
            while chunk := source.read(CHUNK):
                content.update(chunk)
        except OSError as err:
            return relative, f"unreadable:{err.strerror}".encode()
    return relative, b"file:" + content.hexdigest().encode()
