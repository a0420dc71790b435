r"""A cache of loaded workspaces, so an unchanged workspace loads in a fraction of a parse.

Parsing and validating a large workspace costs seconds; unpickling the model it
produced costs a tenth of that. Entries are keyed by a SHA-256 over the harness
version and code, the Python version, the working directory (locations are
relative to it) and the path and bytes of every workspace file, so any change misses.

The cache lives in the user's cache directory ($CONNECTOR_HARNESS_CACHE, else the
platform's: $XDG_CACHE_HOME/connector-harness or ~/.cache/connector-harness on Linux,
~/Library/Caches/connector-harness on macOS, %LOCALAPPDATA%\connector-harness\Cache on
Windows, as platformdirs knows them), never in the workspace: a pickle is code, and a
workspace may come from an untrusted pull request. Set CONNECTOR_HARNESS_CACHE=off to
disable it.
"""

from __future__ import annotations

import contextlib
import functools
import gc
import hashlib
import io
import os
import pickle
import stat
import sys
import tempfile
from collections.abc import Iterable
from dataclasses import replace
from pathlib import Path
from typing import BinaryIO

import platformdirs

from harness import __version__
from harness.model import Flow, Workspace
from harness.paths import read_at_most

VARIABLE = "CONNECTOR_HARNESS_CACHE"
MAX_ENTRIES = 8
FLOWS_PER_PART = 64  # flows pickled together (see _dump)


def cache_directory() -> Path | None:
    configured = os.environ.get(VARIABLE)
    if configured is not None:
        return (
            None
            if configured.strip().lower() in ("", "0", "off", "false", "no")
            else Path(configured)
        )
    return Path(platformdirs.user_cache_dir("connector-harness", appauthor=False))


@functools.cache
def _harness_digest() -> str:
    """The harness's own code, schemas and bundled packs: a change must not reuse old models."""
    digest = hashlib.sha256()
    package = Path(__file__).resolve().parents[1]
    for path in sorted(package.rglob("*")):
        if path.suffix in (".py", ".json", ".yaml", ".js"):  # .js: the n8n runner
            digest.update(path.read_bytes())
    return digest.hexdigest()


def harness_digest() -> str:
    """SHA-256 of the harness's own code, schemas and packs: which build wrote an output."""
    return _harness_digest()


def cache_key(root: str, files: Iterable[Path], max_bytes: int) -> str | None:
    """The key of a workspace's files; None when one cannot be read or is over `max_bytes`
    (the loader will say why). Each file's size is checked before it is read, and only
    regular files are read: a workspace holding a huge or endless file costs nothing here."""
    digest = hashlib.sha256()
    for part in (__version__, _harness_digest(), sys.version, os.getcwd(), root):
        digest.update(part.encode() + b"\0")
    try:
        for path in sorted(files):
            status = path.stat()
            if not stat.S_ISREG(status.st_mode) or status.st_size > max_bytes:
                return None
            digest.update(str(path.resolve()).encode() + b"\0")
            with path.open("rb") as source:
                content = read_at_most(source, max_bytes + 1)
            if len(content) > max_bytes:
                return None
            digest.update(content)
            digest.update(b"\0")
    except OSError:
        return None
    return digest.hexdigest()


def lookup(key: str | None) -> Workspace | None:
    """The cached workspace for `key`, or None (absent, unreadable, or from another build)."""
    directory = cache_directory()
    if directory is None or key is None:
        return None
    entry = directory / f"{key}.pickle"
    try:
        if not _own(directory) or not _own(entry):
            return None  # a pickle is code: load only what this user wrote
        data = entry.read_bytes()
    except OSError:
        return None
    collecting = gc.isenabled()
    gc.disable()  # unpickling builds a large acyclic graph; see loader.load_workspace
    try:
        return _load(io.BytesIO(data))  # our own private directory, written by store()
    except Exception:  # a truncated or stale entry: ignore it, it will be rewritten
        return None
    finally:
        if collecting:
            gc.enable()


def store(key: str | None, workspace: Workspace) -> None:
    """Save `workspace` under `key`; failing to write a cache is never an error."""
    directory = cache_directory()
    if directory is None or key is None:
        return
    with contextlib.suppress(OSError, pickle.PicklingError):
        directory.mkdir(mode=0o700, parents=True, exist_ok=True)
        if not _own(directory):
            return  # someone else's directory: never load pickles from it, so never fill it
        handle, temporary = tempfile.mkstemp(dir=directory, suffix=".tmp")
        with os.fdopen(handle, "wb") as out:
            _dump(workspace, out)
        os.replace(temporary, directory / f"{key}.pickle")
        entries = sorted(directory.glob("*.pickle"), key=lambda p: p.stat().st_mtime)
        for stale in entries[:-MAX_ENTRIES]:
            stale.unlink(missing_ok=True)


def _dump(workspace: Workspace, out: BinaryIO) -> None:
    """The workspace without its flows and their number, then the flows, FLOWS_PER_PART to
    a pickle. A pickler remembers every object it has written (16 bytes each, in a table
    that doubles as it fills), which, for one pickle of a whole workspace, raised the peak
    memory of a first run with the cache on by a tenth; a part's pickler remembers only its
    part. A flow shares no object with another flow or with the rest of the workspace (but
    equal strings, which unpickle equal), so nothing else changes (tests/unit/test_cache.py)."""
    flows = workspace.flows
    pickle.dump((replace(workspace, flows=()), len(flows)), out, protocol=pickle.HIGHEST_PROTOCOL)
    for start in range(0, len(flows), FLOWS_PER_PART):
        pickle.dump(flows[start : start + FLOWS_PER_PART], out, protocol=pickle.HIGHEST_PROTOCOL)


def _load(source: BinaryIO) -> Workspace | None:
    """What `_dump` wrote, or None when it is not that."""
    head = pickle.load(source)
    if not (isinstance(head, tuple) and len(head) == 2 and isinstance(head[0], Workspace)):
        return None
    workspace: Workspace = head[0]
    count = head[1]
    if not isinstance(count, int):
        return None
    flows: list[Flow] = []
    while len(flows) < count:
        part = pickle.load(source)
        if not isinstance(part, tuple) or not part:
            return None
        flows.extend(part)
    if len(flows) != count or not all(isinstance(flow, Flow) for flow in flows):
        return None
    return replace(workspace, flows=tuple(flows))


def _own(path: Path) -> bool:
    """Owned by this user, and writable by no one else."""
    status = path.stat()
    return status.st_uid == os.getuid() and not status.st_mode & 0o022
