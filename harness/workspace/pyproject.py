"""The settings files' names, and the [tool.connector-harness] table of a pyproject.toml read
with the standard library alone: the pytest plugin reads it at start-up, in every pytest
run, before anything else of the harness loads."""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from harness.errors import InputError, Location

SETTINGS_FILE = "connector-harness.yaml"
PYPROJECT_TABLE = "[tool.connector-harness]"

_TOML_POSITION = re.compile(r"\s*\((?:at line (\d+), column (\d+)|at end of document)\)$")


@dataclass(frozen=True, slots=True)
class PyprojectTable:
    """[tool.connector-harness] as written, with the file's text (TOML keeps no positions)."""

    path: Path
    text: str
    values: dict[str, Any]


def read_pyproject_table(path: Path) -> PyprojectTable | None:
    """The table of the pyproject.toml at `path`; None when the file or the table does not
    exist, an InputError (with its line) when the file is not valid TOML."""
    if not path.is_file():
        return None
    try:
        text = path.read_text("utf-8")
    except UnicodeDecodeError as err:
        raise InputError(
            Location(str(path)), "the file is not UTF-8 text", "save it as UTF-8"
        ) from err
    except OSError as err:
        raise InputError(
            Location(str(path)),
            f"cannot read the file: {err.strerror}",
            "check that the file is readable",
        ) from err
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as err:
        message = str(err)
        found = _TOML_POSITION.search(message)
        if found and found[1]:
            line, column = int(found[1]), int(found[2])
        else:  # "at end of document": an unclosed string, table or array
            line, column = len(text.splitlines()) or 1, 0
        raise InputError(
            Location(str(path), line, column),
            f"invalid TOML: {message[: found.start()] if found else message}",
            "check the quoting and the `key = value` layout around this position",
        ) from err
    tool = data.get("tool")
    table = tool.get("connector-harness") if isinstance(tool, dict) else None
    if table is None:
        return None
    return PyprojectTable(path, text, table)
