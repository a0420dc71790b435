"""Workspace settings: connector-harness.yaml, else [tool.connector-harness] in pyproject.toml."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from harness.errors import InputError, InputErrors
from harness.model import Settings
from harness.paths import outside
from harness.workspace.pack_catalog import parse_reference, reference_problem
from harness.workspace.pyproject import (
    PYPROJECT_TABLE,
    SETTINGS_FILE,
    PyprojectTable,
    read_pyproject_table,
)
from harness.workspace.units import parse_instant
from harness.workspace.validation import conforms, validate
from harness.workspace.yaml_source import MarkedDict, YamlDocument, load_yaml

_TOML_KEY = re.compile(r"^\s*([A-Za-z0-9_-]+)\s*=\s*")
# The keys that decide which files the workspace is read from and what they may use: while
# one of them is broken, loading the workspace would report problems of the wrong files.
_READING_KEYS = frozenset({"mocks", "scenarios", "n8n", "max_file_bytes", "packs"})


class SettingsErrors(InputErrors):
    """The settings file's own problems. `usable` holds the settings without the broken keys
    when none of them decides which files are read, so that the workspace can still be
    loaded and its problems reported in the same run; None when it cannot be."""

    def __init__(self, errors: list[InputError], usable: Settings | None) -> None:
        super().__init__(errors)
        self.usable = usable


def load_settings(root: Path) -> Settings:
    """The settings of the workspace at `root`; defaults when neither file configures it."""
    return settings_from(read_settings_document(root), root)


def read_settings_document(root: Path) -> YamlDocument | None:
    """The settings document of the workspace at `root`: its connector-harness.yaml, else
    the [tool.connector-harness] table of its pyproject.toml; None when neither exists."""
    yaml_path = root / SETTINGS_FILE
    if yaml_path.is_file():
        return load_yaml(yaml_path)
    return pyproject_table(root / "pyproject.toml")


def settings_from(document: YamlDocument | None, root: Path) -> Settings:
    """The settings a settings document gives the workspace at `root`, validated.

    Raises SettingsErrors with every problem of the file; it carries the settings without
    the broken keys when none of them decides which files are read."""
    if document is None or document.data is None:
        return Settings()
    errors = validate(document, "config", what="workspace settings")
    if errors:
        data = document.data
        broken = (
            {key for key in data if not conforms("config", {key: data[key]})}
            if isinstance(data, dict)
            else set(_READING_KEYS)
        )
        if not broken or broken & _READING_KEYS:
            raise SettingsErrors(errors, None)
        document = _without(document, broken)
    problems = [
        error
        for key in ("mocks", "scenarios")
        if key in document.data
        for error in _check_directories(document, root, key)
    ]
    problems += _check_n8n(document, root)
    problems.extend(_check_packs(document))
    if problems:
        raise SettingsErrors(errors + problems, None)
    errors.extend(_check_reports(document))
    try:
        settings = _settings(document)
    except InputError as error:  # the clock: which files to read is known all the same
        errors.append(error)
        settings = _settings(_without(document, {"clock"}))
    if document.path.name == SETTINGS_FILE and "workspace" in document.data:
        errors.append(
            InputError(
                document.location(("workspace",), key=True),
                "`workspace` cannot be set in connector-harness.yaml: the file is in the "
                "workspace it would name",
                "remove it; name the workspace in [tool.connector-harness] of the rootdir's "
                'pyproject.toml (workspace = "automation"), or pass it to the command',
            )
        )
    if errors:
        raise SettingsErrors(errors, settings)
    return settings


def _without(document: YamlDocument, keys: set[str]) -> YamlDocument:
    """The settings document without `keys` (positions kept)."""
    data = document.data
    rest = MarkedDict()
    rest.update((key, value) for key, value in data.items() if key not in keys)
    if isinstance(data, MarkedDict):
        rest.marks = {key: mark for key, mark in data.marks.items() if key not in keys}
    return YamlDocument(
        path=document.path,
        data=rest,
        value_marks=document.value_marks,
        key_marks=document.key_marks,
        root_mark=document.root_mark,
    )


def _check_reports(document: YamlDocument) -> list[InputError]:
    """`report:` paths stay in the directory the check runs in: the settings file is part of
    the workspace, which a pull request may change, and a report written to an absolute
    path, up through `..` or along a link could overwrite any file the job can write (a CI
    script, a git hook). The command line's `--output` names any path."""
    errors = []
    here = Path.cwd()
    for index, entry in enumerate(document.data.get("report", ())):
        path = str(entry).partition(":")[2]
        if not path:
            continue  # the schema's pattern reports it
        try:
            escapes = Path(path).is_absolute() or ".." in Path(path).parts
            target = None if escapes else outside(here, here / path)
        except ValueError:  # a NUL byte
            escapes, target = True, None
        if escapes or target is not None:
            where = f" (a link leads to {target})" if target is not None else ""
            errors.append(
                InputError(
                    document.location(("report", index)),
                    f"`report[{index}]` writes outside the directory the check runs in: "
                    f"{path!r}{where}",
                    "write a relative path without `..`, e.g. `report: [sarif:results.sarif]`; "
                    "to write elsewhere, pass `--output PATH` (pytest: "
                    "`--harness-report FORMAT:PATH`)",
                )
            )
    return errors


def _check_n8n(document: YamlDocument, root: Path) -> list[InputError]:
    """`n8n:` names directories and files inside the workspace that exist."""
    n8n = document.data.get("n8n") or {}
    wanted: list[tuple[tuple[str | int, ...], str, bool]] = [
        (("n8n", "workflows", index), name, True)
        for index, name in enumerate(n8n.get("workflows", ()))
    ]
    wanted += [(("n8n", key), n8n[key], False) for key in ("credentials", "scopes") if key in n8n]
    found = (
        _missing_path(document, path, name, root, directory=directory, example="exports/")
        for path, name, directory in wanted
    )
    return [error for error in found if error is not None]


def _check_directories(document: YamlDocument, root: Path, key: str) -> list[InputError]:
    """Configured directories must exist inside the workspace; a typo would read nothing."""
    names: list[str] = document.data[key]
    if not names:
        return [
            InputError(
                document.location((key,)),
                f"`{key}` lists no directory, so no files would be read",
                f"list at least one directory, e.g. {key}: [{key}]",
            )
        ]
    present = sorted(p.name for p in root.iterdir() if p.is_dir() and not p.name.startswith("."))
    found = (
        _missing_path(
            document,
            (key, index),
            name,
            root,
            directory=True,
            example=f"{key}: [{key}]",
            present=present,
        )
        for index, name in enumerate(names)
    )
    return [error for error in found if error is not None]


def _missing_path(
    document: YamlDocument,
    path: tuple[str | int, ...],
    name: str,
    root: Path,
    *,
    directory: bool,
    example: str,
    present: list[str] | None = None,
) -> InputError | None:
    """Why a configured path is not a directory (or file) inside the workspace, or None."""
    key = "".join(f"[{part}]" if isinstance(part, int) else f".{part}" for part in path)[1:]
    kind = "directory" if directory else "file"
    if Path(name).is_absolute() or ".." in Path(name).parts:
        return InputError(
            document.location(path),
            f"`{key}` must be a {kind} inside the workspace, not {name!r}",
            f"write a path relative to the workspace directory, e.g. {example}",
        )
    try:
        (root / name).lstat()
    except FileNotFoundError:
        pass
    except (OSError, ValueError) as err:  # a name too long, a NUL byte
        return InputError(
            document.location(path),
            f"`{key}` cannot name a {kind}: {getattr(err, 'strerror', None) or err}",
            f"write a short path relative to the workspace directory, e.g. {example}",
        )
    target = outside(root, root / name)
    if target is not None:
        return InputError(
            document.location(path),
            f"`{key}`: {name!r} is a link leading outside the workspace (to {target})",
            f"keep the {kind} inside the workspace directory: copy it in instead of linking",
        )
    if not ((root / name).is_dir() if directory else (root / name).is_file()):
        listed = f" ({', '.join(present) or 'none yet'})" if present is not None else ""
        return InputError(
            document.location(path),
            f"`{key}`: the {kind} {name!r} does not exist in the workspace",
            f"create it, or list an existing one{listed}"
            if present is not None
            else "create it, or correct the path",
        )
    return None


def _check_packs(document: YamlDocument) -> list[InputError]:
    """Every `packs` entry names a bundled pack, and a pinned version is the installed one."""
    errors = []
    for index, text in enumerate(document.data.get("packs", ())):
        problem = reference_problem(text)
        if problem is not None:
            errors.append(InputError(document.location(("packs", index)), *problem))
    return errors


def pyproject_table(path: Path) -> YamlDocument | None:
    """The [tool.connector-harness] table of a pyproject.toml as a document that locates its
    keys; None when the file or the table does not exist."""
    table = read_pyproject_table(path)
    return pyproject_document(table) if table is not None else None


def pyproject_document(table: PyprojectTable) -> YamlDocument:
    """A table already read, as a document that locates its keys."""
    document = YamlDocument(path=table.path, data=table.values)
    _mark_table(document, table.text.splitlines())
    return document


def _mark_table(document: YamlDocument, lines: list[str]) -> None:
    """TOML keeps no positions: point at the table header, at each `key =` line in it, and
    at each item of an array value (on whichever line it is written)."""
    document.value_marks[()] = (1, 1)
    inside = False
    row = 0
    while row < len(lines):
        line = lines[row]
        row += 1
        stripped = line.strip()
        if stripped.startswith("["):
            inside = stripped.partition("#")[0].rstrip() == PYPROJECT_TABLE
            if inside:
                document.value_marks[()] = (row, 1)
            continue
        found = _TOML_KEY.match(line) if inside else None
        if found:
            document.key_marks[(found[1],)] = (row, found.start(1) + 1)
            document.value_marks[(found[1],)] = (row, found.end() + 1)
            if line.startswith("[", found.end()):
                row = _mark_items(document, found[1], lines, row - 1, found.end())


def _mark_items(document: YamlDocument, key: str, lines: list[str], row: int, column: int) -> int:
    """Mark where each item of the array opening at lines[row][column] starts; return the
    index of the line after the one that closes it. Strings (basic, literal, multi-line)
    and comments are skipped, so a `,` or `]` inside them ends nothing."""
    depth, index, expecting, quote = 0, 0, False, ""
    while row < len(lines):
        line, at = lines[row], column
        while at < len(line):
            char = line[at]
            if quote:
                if char == "\\" and quote[0] == '"':
                    at += 2
                elif line.startswith(quote, at):
                    at, quote = at + len(quote), ""
                else:
                    at += 1
                continue
            if char == "#":
                break
            item = depth == 1 and expecting and not char.isspace() and char not in ",]}"
            if item:
                document.value_marks[(key, index)] = (row + 1, at + 1)
                index, expecting = index + 1, False
            if char in "\"'":
                triple = line[at : at + 3]
                quote = triple if triple in ('"""', "'''") else char
                at += len(quote)
                continue
            if char in "[{":
                depth += 1
                expecting = expecting or depth == 1
            elif char in "]}":
                depth -= 1
                if depth == 0:
                    return row + 1
            elif char == "," and depth == 1:
                expecting = True
            at += 1
        row, column = row + 1, 0
    return row


def _settings(document: YamlDocument) -> Settings:
    data: dict[str, Any] = document.data
    defaults = Settings()
    clock = defaults.clock
    if "clock" in data:
        try:
            clock = parse_instant(str(data["clock"]))
        except (ValueError, OverflowError) as err:
            raise InputError(
                document.location(("clock",)),
                f"`clock` is not a valid time: {err}",
                'write e.g. clock: "2026-01-01T00:00:00Z"',
            ) from err
    n8n: dict[str, Any] = data.get("n8n", {})
    packs = tuple(
        parsed for text in data.get("packs", ()) if (parsed := parse_reference(text)) is not None
    )
    return Settings(
        packs=packs,
        packs_location=document.location(("packs",)) if "packs" in data else None,
        mocks=tuple(data.get("mocks", defaults.mocks)),
        scenarios=tuple(data.get("scenarios", defaults.scenarios)),
        clock=clock,
        max_file_bytes=int(data.get("max_file_bytes", defaults.max_file_bytes)),
        n8n_workflows=tuple(n8n.get("workflows", defaults.n8n_workflows)),
        n8n_credentials=str(n8n.get("credentials", defaults.n8n_credentials)),
        n8n_scopes=str(n8n.get("scopes", defaults.n8n_scopes)),
        n8n_envs=tuple(n8n.get("envs", defaults.n8n_envs)),
        fail_on=tuple(data.get("fail_on", defaults.fail_on)),
        env=data.get("env"),
        binding=data.get("binding"),
        env_location=document.location(("env",)) if "env" in data else None,
        binding_location=document.location(("binding",)) if "binding" in data else None,
        strict=bool(data.get("strict", defaults.strict)),
        reports=tuple(
            (kind, path)
            for kind, _, path in (str(entry).partition(":") for entry in data.get("report", ()))
        ),
    )
