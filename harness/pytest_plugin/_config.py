"""The plugin's options resolved from one table: flag > ini > pyproject > default."""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from harness.options import REPORT_FORMATS, Option, parse_bool, pytest_options


@dataclass(frozen=True, slots=True)
class HarnessConfig:
    workspace: Path
    env: str | None
    binding: str | None
    strict: bool
    reports: tuple[tuple[str, Path], ...]
    record: str
    baseline: Path | None
    today: date
    configured: bool  # some option came from a flag, an ini key or [tool.connector-harness]


def add_options(parser: pytest.Parser) -> None:
    group = parser.getgroup("connector-harness", "least-privilege checks (connector-harness)")
    for option in pytest_options():
        arguments: dict[str, Any] = {"dest": f"harness_{option.name}", "help": option.help}
        if option.kind == "bool":
            arguments.update(action="store", choices=("true", "false"), metavar="true|false")
        elif option.kind == "list":
            arguments.update(action="append", metavar=option.metavar)
        elif option.name == "record":
            arguments.update(nargs="?", const="all", choices=option.choices, metavar="MODE")
        else:
            arguments.update(metavar=option.metavar)
        group.addoption(option.pytest_flag, **arguments)
        if option.kind == "list":
            parser.addini(option.ini_name, option.help, type="linelist", default=None)
        else:
            parser.addini(option.ini_name, option.help, type="string", default=None)


def _pyproject_table(rootpath: Path) -> dict[str, Any] | None:
    """[tool.connector-harness] of the rootdir's pyproject.toml; None when there is none."""
    path = rootpath / "pyproject.toml"
    if not path.is_file():
        return None
    try:
        data = tomllib.loads(path.read_text("utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError):
        return None  # the workspace loader reports a broken pyproject with its position
    table = data.get("tool", {}).get("connector-harness")
    return table if isinstance(table, dict) else None


def _value(config: pytest.Config, option: Option, table: dict[str, Any]) -> tuple[Any, bool]:
    """The option's value, and whether anything set it (else it is the default)."""
    flag = config.getoption(f"harness_{option.name}")
    if flag is not None:
        return flag, True
    ini = config.getini(option.ini_name)
    if ini not in (None, [], ""):
        return ini, True
    if option.name in table:
        return table[option.name], True
    return option.default, False


def resolve(config: pytest.Config) -> HarnessConfig:
    """Every plugin option, or a UsageError naming the bad one."""
    table = _pyproject_table(config.rootpath)
    resolved = {option.name: _value(config, option, table or {}) for option in pytest_options()}
    values = {name: value for name, (value, _) in resolved.items()}
    configured = table is not None or any(explicit for _, explicit in resolved.values())
    strict = values["strict"]
    if isinstance(strict, str):
        try:
            strict = parse_bool(strict)
        except ValueError as err:
            raise pytest.UsageError(f"harness_strict: {err}") from err
    reports = []
    for entry in values["report"] or ():
        kind, _, path = str(entry).partition(":")
        if kind not in REPORT_FORMATS or not path:
            raise pytest.UsageError(
                f"--harness-report {entry!r}: write FORMAT:PATH with FORMAT one of "
                f"{', '.join(REPORT_FORMATS)}, e.g. --harness-report json:least-privilege.json"
            )
        reports.append((kind, Path(path)))
    record = str(values["record"])
    if record not in ("none", "new", "all"):
        raise pytest.UsageError(f"harness_record: {record!r} is not one of none, new, all")
    workspace = Path(values["workspace"]) if values["workspace"] else Path(".")
    try:
        today = date.fromisoformat(values["today"]) if values["today"] else date.today()
    except ValueError as err:
        raise pytest.UsageError(
            f"harness_today: {values['today']!r} is not a date (YYYY-MM-DD)"
        ) from err
    return HarnessConfig(
        workspace=(config.rootpath / workspace).resolve(),
        env=values["env"] or None,
        binding=values["binding"] or None,
        strict=bool(strict),
        reports=tuple(reports),
        record=record,
        baseline=(config.rootpath / values["baseline"]) if values["baseline"] else None,
        today=today,
        configured=configured,
    )
