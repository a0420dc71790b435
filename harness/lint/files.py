"""The files lint reads beyond the model: every file under the workspace directories, as
text, and which YAML file names each sidecar body (its disable comments apply to it)."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

from harness.errors import InputError
from harness.paths import read_bounded
from harness.workspace.yaml_source import parse_yaml


def display_path(path: Path) -> str:
    """A path as the loader writes it in locations (relative to the working directory)."""
    try:
        return str(path.relative_to(Path.cwd()))
    except ValueError:
        return str(path)


def workspace_files(root: Path, directories: Iterable[str]) -> list[tuple[str, Path]]:
    """(display path, path) of every file under the workspace directories, hidden ones aside."""
    found: dict[str, Path] = {}
    for directory in directories:
        base = root / directory
        if not base.is_dir():
            continue
        for path in base.rglob("*"):
            hidden = any(
                part.startswith(".") or part == "__pycache__"
                for part in path.relative_to(base).parts
            )
            if path.is_file() and not hidden:
                found[display_path(path)] = path
    return sorted(found.items())


def read_text(path: Path, max_bytes: int) -> str:
    """A file as text; bytes that are not UTF-8 map one to one, so positions stay countable.
    Larger than `max_bytes`, or not a regular file: an InputError."""
    raw = read_bounded(path, max_bytes)
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        return raw.decode("latin-1")


def is_yaml(display: str) -> bool:
    return display.endswith((".yaml", ".yml"))


def sidecar_owners(files: list[tuple[str, Path]], texts: dict[str, str]) -> dict[str, str]:
    """Sidecar body file -> the YAML file that names it in `body_file:` (its disables apply)."""
    by_resolved = {path.resolve(): display for display, path in files}
    owners: dict[str, str] = {}
    for display, path in files:
        if not is_yaml(display) or "body_file" not in texts[display]:
            continue
        try:
            data = parse_yaml(texts[display], path).data
        except InputError:
            continue
        for name in _body_files(data):
            sidecar = by_resolved.get((path.parent / name).resolve())
            if sidecar is not None:
                owners.setdefault(sidecar, display)
    return owners


def _body_files(data: Any) -> Iterator[str]:
    if isinstance(data, dict):
        for key, value in data.items():
            if key == "body_file" and isinstance(value, str):
                yield value
            else:
                yield from _body_files(value)
    elif isinstance(data, list):
        for item in data:
            yield from _body_files(item)
