"""Exported n8n workflows in a workspace, read as they are: no YAML written.

`*.n8n.json` files under the scenario directories (and every `*.json` file under the
directories `n8n.workflows` names) become connectors, roles, bindings and flows in
memory, exactly as `import-n8n` would write them, each located at its node in the
export. A connector the workspace's own YAML defines under the same name is the user's:
the derived connector, role and bindings give way to it, and the derived flows use it.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from harness.errors import HarnessError, InputError, Location
from harness.model import Service, Settings
from harness.n8n.documents import Document, plan_documents
from harness.n8n.grants import ScopeSources, read_credentials_export, read_mapping
from harness.n8n.importer import read_exports, run_nodes
from harness.n8n.plan import plan_workspace
from harness.n8n.targets import YamlDocument

SUFFIX = ".n8n.json"


def workflow_files(root: Path, settings: Settings) -> list[Path]:
    """The export files the workspace holds: *.n8n.json in its scenario directories, *.json in
    its `n8n.workflows` directories (a credentials export there is not a workflow)."""
    found: set[Path] = set()
    for directory in settings.scenarios:
        base = root / directory
        if base.is_dir():
            found.update(p for p in base.rglob(f"*{SUFFIX}") if p.is_file())
    credentials = (root / settings.n8n_credentials).resolve() if settings.n8n_credentials else None
    for directory in settings.n8n_workflows:
        base = root / directory
        if base.is_dir():
            found.update(
                p for p in base.rglob("*.json") if p.is_file() and p.resolve() != credentials
            )
    return sorted(found)


def extra_inputs(root: Path, settings: Settings) -> list[Path]:
    """Files besides the scenario directories that the derived workspace depends on."""
    files = [root / name for name in (settings.n8n_credentials, settings.n8n_scopes) if name]
    for directory in settings.n8n_workflows:
        files.extend((root / directory).rglob("*.json"))
    return [f for f in files if f.is_file()]


def workflow_documents(
    files: Sequence[Path],
    shown: Sequence[str],
    settings: Settings,
    root: Path,
    services: dict[str, Service],
    defined_connectors: set[str],
) -> tuple[list[YamlDocument], list[InputError]]:
    """Policy documents derived from `files`, and the errors of files that are no export."""
    workflows, errors = read_exports(files, shown)
    if not workflows:
        return [], errors
    try:
        sources = ScopeSources(
            mapping=read_mapping(root / settings.n8n_scopes) if settings.n8n_scopes else {},
            exported=read_credentials_export(root / settings.n8n_credentials)
            if settings.n8n_credentials
            else {},
        )
        run = run_nodes(workflows, clock=settings.clock)
    except InputError as error:
        return [], [*errors, error]
    except HarnessError as error:
        where = workflows[0].location
        return [], [
            *errors,
            InputError(
                Location(where.file),
                f"the n8n workflows of this workspace cannot be read: {error}",
                "install what the message names, or move the exports out of the scenario directories",
            ),
        ]
    plan = plan_workspace(run, sources, envs=settings.n8n_envs, services=services)
    documents = []
    for document in plan_documents(plan):
        kept = _without_defined(document, defined_connectors)
        if kept is not None:
            documents.append(kept)
    return documents, errors


def _without_defined(document: Document, defined: set[str]) -> YamlDocument | None:
    data: dict[str, Any] = dict(document.data)
    marks = dict(document.marks)
    if "connectors" in data and data["connectors"][0]["name"] in defined:
        return None  # the workspace's own connector: its roles and bindings apply
    if not document.marks:
        return None
    where = next(iter(marks.values()))
    yaml = YamlDocument(path=Path(where.file), data=data)
    for path, location in marks.items():
        yaml.value_marks[path] = (location.line, location.column)
    yaml.value_marks[()] = (where.line, where.column)
    return yaml
