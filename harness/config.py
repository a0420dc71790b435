"""Workspace settings: connector-harness.yaml, else [tool.connector-harness] in pyproject.toml."""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any

from harness.errors import InputError, InputErrors, Location
from harness.model import Settings
from harness.units import parse_instant
from harness.validation import validate
from harness.yamlsource import YamlDocument, load_yaml

SETTINGS_FILE = "connector-harness.yaml"


def load_settings(root: Path) -> Settings:
    """The settings of the workspace at `root`; defaults when neither file configures it."""
    yaml_path = root / SETTINGS_FILE
    if yaml_path.is_file():
        document: YamlDocument | None = load_yaml(yaml_path)
    else:
        document = _from_pyproject(root / "pyproject.toml")
    if document is None or document.data is None:
        return Settings()
    errors = validate(document, "config", what="workspace settings")
    if errors:
        raise InputErrors(errors)
    return _settings(document)


def _from_pyproject(path: Path) -> YamlDocument | None:
    if not path.is_file():
        return None
    try:
        data = tomllib.loads(path.read_text("utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as err:
        raise InputError(Location(str(path)), f"invalid TOML: {err}") from err
    table = data.get("tool", {}).get("connector-harness")
    if table is None:
        return None
    # TOML keeps no positions; errors point at the table header instead.
    line = _line_of(path, "[tool.connector-harness]")
    document = YamlDocument(path=path, data=table)
    document.value_marks[()] = (line, 1)
    return document


def _line_of(path: Path, needle: str) -> int:
    for number, line in enumerate(path.read_text("utf-8").splitlines(), start=1):
        if line.strip() == needle:
            return number
    return 1


def _settings(document: YamlDocument) -> Settings:
    data: dict[str, Any] = document.data
    defaults = Settings()
    clock = defaults.clock
    if "clock" in data:
        try:
            clock = parse_instant(str(data["clock"]))
        except ValueError as err:
            raise InputError(
                document.location(("clock",)),
                f"`clock` is not a valid time: {err}",
                'write e.g. clock: "2026-01-01T00:00:00Z"',
            ) from err
    return Settings(
        mocks=tuple(data.get("mocks", defaults.mocks)),
        scenarios=tuple(data.get("scenarios", defaults.scenarios)),
        clock=clock,
        max_file_bytes=int(data.get("max_file_bytes", defaults.max_file_bytes)),
        fail_on=tuple(data.get("fail_on", defaults.fail_on)),
    )
