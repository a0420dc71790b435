"""The plugin's options from the one table (harness.options), resolved flag > ini >
[tool.connector-harness] > connector-harness.yaml > default, and the workspace's
settings document, read once for the session."""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from harness.errors import InputError, UsageError
from harness.options import Layer, Option, RunOptions, pytest_options, resolve_options
from harness.workspace.pyproject import SETTINGS_FILE, PyprojectTable, read_pyproject_table

if TYPE_CHECKING:  # YAML, the schemas and the model load with the workspace, not the plugin
    from harness.model import Settings
    from harness.workspace.yaml_source import YamlDocument


@dataclass(frozen=True, slots=True)
class HarnessConfig:
    """The plugin's resolved options, and the settings files already read at start-up."""

    options: RunOptions
    rootdir: Path
    pyproject: PyprojectTable | None  # the rootdir's [tool.connector-harness]
    settings_yaml: YamlDocument | None  # the workspace's connector-harness.yaml
    problem: InputError | None  # the workspace's settings file does not read

    def settings(self) -> Settings:
        """The workspace's settings, from its settings file (read again only when it is not
        one the plugin read at start-up); InputError(s) when they are invalid."""
        from harness.workspace.settings import (
            pyproject_document,
            read_settings_document,
            settings_from,
        )

        if self.problem is not None:
            raise self.problem
        workspace = self.options.workspace
        if self.settings_yaml is not None:
            document: YamlDocument | None = self.settings_yaml
        elif workspace == self.rootdir:
            document = pyproject_document(self.pyproject) if self.pyproject else None
        else:
            document = read_settings_document(workspace)
        return settings_from(document, workspace)


def add_options(parser: pytest.Parser) -> None:
    group = parser.getgroup("connector-harness", "least-privilege checks (connector-harness)")
    for option in pytest_options():
        arguments: dict[str, Any] = {"dest": f"harness_{option.name}", "help": option.help}
        if option.kind == "bool":
            arguments.update(action="store", choices=("true", "false"), metavar="true|false")
        elif option.kind == "list":
            arguments.update(action="append", metavar=option.metavar)
        elif option.name == "record":  # see spell_out_record_mode; the mode is checked later
            arguments.update(nargs="?", const="all", metavar="MODE")
        else:
            arguments.update(metavar=option.metavar)
        group.addoption(option.pytest_flag, **arguments)
        if option.kind == "list":
            parser.addini(option.ini_name, option.help, type="linelist", default=None)
        else:
            parser.addini(option.ini_name, option.help, type="string", default=None)


def spell_out_record_mode(args: list[str]) -> bool:
    """`--harness-record` takes its mode with `=`; a bare `--harness-record` followed by a
    mode (none, new, all) that names no file takes that mode; followed by anything else (a
    test path, another option) it means `all`, and what follows stays the command line's.
    Rewritten in place, before pytest parses `args`, so that `pytest --harness-record
    tests/x.py` runs tests/x.py instead of reading it as the mode. True when it changed."""
    flag = _RECORD.pytest_flag
    changed = False
    index = 0
    while index < len(args) and args[index] != "--":
        if args[index] == flag:
            changed = True
            following = args[index + 1] if index + 1 < len(args) else None
            if following in _RECORD.choices and not Path(following).exists():
                args[index : index + 2] = [f"{flag}={following}"]
            else:
                args[index] = f"{flag}=all"
        index += 1
    return changed


def resolve(config: pytest.Config) -> HarnessConfig:
    """Every plugin option, or a pytest.UsageError naming the bad one and where it was set."""
    rootdir = config.rootpath.resolve()
    options = pytest_options()
    pyproject: PyprojectTable | None = None
    pyproject_problem: InputError | None = None
    try:
        pyproject = read_pyproject_table(rootdir / "pyproject.toml")
    except InputError as unreadable:  # reported with the workspace, when it is its settings
        pyproject_problem = unreadable
    layers = [
        Layer({o.name: config.getoption(f"harness_{o.name}") for o in options}, _flag),
        Layer({o.name: config.getini(o.ini_name) for o in options}, _ini),
        Layer(pyproject.values if pyproject is not None else {}, _pyproject_key),
    ]
    try:
        workspace = resolve_options(layers, [_WORKSPACE], base=rootdir).workspace.resolve()
        settings_yaml, problem = _settings_yaml(workspace)
        if settings_yaml is None and problem is None and workspace == rootdir:
            problem = pyproject_problem  # the rootdir's pyproject.toml is the settings file
        if settings_yaml is not None and isinstance(settings_yaml.data, dict):
            # the workspace's own location is the one thing its settings file cannot move
            own = {k: v for k, v in settings_yaml.data.items() if k != "workspace"}
            layers.append(Layer(own, _yaml_key))
        resolved = resolve_options(layers, options, base=rootdir)
    except UsageError as err:
        raise pytest.UsageError(str(err)) from err
    configured = resolved.configured or pyproject is not None
    chosen = replace(resolved, workspace=workspace, configured=configured)
    return HarnessConfig(chosen, rootdir, pyproject, settings_yaml, problem)


def _settings_yaml(workspace: Path) -> tuple[YamlDocument | None, InputError | None]:
    """The workspace's connector-harness.yaml, parsed (YAML loads only when there is one)."""
    if not (workspace / SETTINGS_FILE).is_file():
        return None, None
    from harness.workspace.yaml_source import load_yaml

    try:
        return load_yaml(workspace / SETTINGS_FILE), None
    except InputError as unreadable:
        return None, unreadable


def _flag(option: Option) -> str:
    return option.pytest_flag


def _ini(option: Option) -> str:
    return option.ini_name


def _pyproject_key(option: Option) -> str:
    return f"[tool.connector-harness] {option.name}"


def _yaml_key(option: Option) -> str:
    return f"{SETTINGS_FILE}: {option.name}"


_WORKSPACE = next(option for option in pytest_options() if option.name == "workspace")
_RECORD = next(option for option in pytest_options() if option.name == "record")
