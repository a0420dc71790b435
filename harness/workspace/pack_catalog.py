"""The bundled packs: service specs shipped in the package (`harness/packs/*.yaml`).

A workspace names the packs it uses in its settings, optionally pinned to a version:

    packs: [slack, github@2026.03, google-drive]

A pinned version matches the pack's version, or a prefix of it at a dot
(`github@2026` matches 2026.03). `harness/packs/index.json`, written by
`make packs` beside the packs, describes each one without reading it.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

PACK_REFERENCE = re.compile(r"^(?P<name>[a-z0-9][a-z0-9_.-]*?)(?:@(?P<version>[0-9][0-9.]*))?$")
INDEX = "index.json"
LOCATION_PREFIX = "connector-harness/packs/"  # how locations in a bundled pack are written
MAX_PACK_BYTES = 16 * 1024 * 1024  # packs are the package's own files; Graph's is large


@dataclass(frozen=True, slots=True)
class PackInfo:
    """One bundled pack, as `index.json` describes it."""

    name: str
    file: str
    version: str
    title: str
    source: str
    date: str
    operations: int
    scopes: int
    models: tuple[str, ...]
    hosts: tuple[str, ...]

    def to_data(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "file": self.file,
            "version": self.version,
            "title": self.title,
            "source": self.source,
            "date": self.date,
            "operations": self.operations,
            "scopes": self.scopes,
            "models": list(self.models),
            "hosts": list(self.hosts),
        }

    @classmethod
    def from_data(cls, data: dict[str, Any]) -> PackInfo:
        return cls(
            name=str(data["name"]),
            file=str(data["file"]),
            version=str(data["version"]),
            title=str(data["title"]),
            source=str(data["source"]),
            date=str(data["date"]),
            operations=int(data["operations"]),
            scopes=int(data["scopes"]),
            models=tuple(data.get("models", ())),
            hosts=tuple(data.get("hosts", ())),
        )


def packs_directory() -> Path:
    """Where the bundled packs are installed."""
    return Path(str(resources.files("harness").joinpath("packs")))


@cache
def bundled_packs() -> tuple[PackInfo, ...]:
    """Every bundled pack, by name."""
    index = packs_directory() / INDEX
    if not index.is_file():
        return ()
    data = json.loads(index.read_text("utf-8"))
    return tuple(sorted((PackInfo.from_data(item) for item in data["packs"]), key=lambda p: p.name))


def find_pack(name: str) -> PackInfo | None:
    return next((pack for pack in bundled_packs() if pack.name == name), None)


def pack_path(pack: PackInfo) -> Path:
    return packs_directory() / pack.file


def version_matches(pinned: str, version: str) -> bool:
    """`2026.03` matches 2026.03 and 2026.03.1; `2026` matches any 2026 version."""
    return not pinned or version == pinned or version.startswith(pinned + ".")


def parse_reference(text: str) -> tuple[str, str] | None:
    """`github@2026.03` -> (github, 2026.03); None when it is not a pack reference."""
    found = PACK_REFERENCE.match(text)
    if found is None:
        return None
    return found["name"], found["version"] or ""


def reference_problem(text: str) -> tuple[str, str] | None:
    """(problem, hint) when `text` names no bundled pack or a version it does not have."""
    parsed = parse_reference(text)
    names = ", ".join(pack.name for pack in bundled_packs()) or "none are installed"
    if parsed is None:
        return (
            f"`{text}` is not a pack reference",
            f"write NAME or NAME@VERSION, e.g. `github@2026.03`; bundled packs: {names}",
        )
    name, version = parsed
    pack = find_pack(name)
    if pack is None:
        import difflib

        close = difflib.get_close_matches(name, [p.name for p in bundled_packs()], n=1)
        return (
            f"there is no bundled pack named `{name}`",
            (f"did you mean `{close[0]}`? " if close else "")
            + f"bundled packs: {names} (`connector-harness packs` lists them)",
        )
    if not version_matches(version, pack.version):
        return (
            f"pack `{name}` is pinned to version {version}, but the installed pack is "
            f"{pack.version}",
            f"review the pack's changes, then write `{name}@{pack.version}` (or `{name}` to "
            "follow the installed version)",
        )
    return None
