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
from harness.paths import read_bounded
from harness.workspace.yaml_source import DEFAULT_MAX_FILE_BYTES, MAX_DEPTH, MAX_INT_DIGITS

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
    raw = read_bounded(path, DEFAULT_MAX_FILE_BYTES)
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as err:
        raise InputError(
            Location(str(path)), "the file is not UTF-8 text", "save it as UTF-8"
        ) from err
    try:
        data = tomllib.loads(text)
    except RecursionError as err:  # tomllib parses nested arrays and tables recursively
        raise InputError(
            Location(str(path)), "the TOML document is nested too deeply", "flatten it"
        ) from err
    except ValueError as err:
        if not isinstance(err, tomllib.TOMLDecodeError):  # an integer longer than Python reads
            raise InputError(
                Location(str(path)),
                f"invalid TOML: a number has more than {MAX_INT_DIGITS:,} digits",
                "write the number as text (in quotes), or a smaller number",
            ) from err
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
    if _depth(table) > MAX_DEPTH:
        raise InputError(
            Location(str(path)),
            f"[tool.connector-harness] is nested deeper than {MAX_DEPTH} levels",
            "flatten it",
        )
    return PyprojectTable(path, text, table)


def _depth(value: Any) -> int:
    """How deeply `value` nests lists and tables (iteratively: no recursion on input)."""
    deepest, pending = 0, [(value, 0)]
    while pending:
        item, depth = pending.pop()
        deepest = max(deepest, depth)
        if depth <= MAX_DEPTH:
            children = item.values() if isinstance(item, dict) else item
            if isinstance(item, dict | list):
                pending.extend((child, depth + 1) for child in children)
    return deepest
