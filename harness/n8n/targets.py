"""What a generated workspace may use of the engine: bundled packs and permission models.

Every piece of the n8n import that depends on the workspace format's newer features
lives here, so that one file changes when they do:

- bundled packs: a workspace names them in its settings (`packs: [slack, github]`) when
  the settings schema has `packs`; until then the packs are written into the generated
  workspace's `mocks/` from this repository's copies;
- permission models: a connector says which model its credential holds per service
  (`credential.models: {github: oauth}`) when the policy schema has `models`; a
  credential whose model a pack cannot judge is not bound (its grants are listed instead).

It is also the one place the n8n import reaches into the engine's loader.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import yaml

import harness
from harness.loader import workspace_from_data
from harness.model import Service, Workspace

PACK_SERVICES = ("slack", "github", "gmail", "google-drive", "google-sheets", "msgraph")
_PACKAGE = Path(harness.__file__).resolve().parent
PACKAGED_PACKS = _PACKAGE / "packs"  # packs as package data
SOURCE_PACKS = _PACKAGE.parent / "mocks"  # the repository's packs, before they were package data
# The model a pack judges when it declares no `models:`; others judge every token alike.
# GitHub's pack speaks fine-grained permissions only; Slack's mixes legacy bot and user
# scopes (chat.postMessage wants `chat:write:bot` or `chat:write:user`, where Slack now
# documents `chat:write` for both: https://api.slack.com/methods/chat.postMessage), so
# neither judges an n8n credential until its pack declares `models:`.
_SINGLE_MODEL = {"github": "app", "slack": "legacy"}


def _schema(name: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(
        (_PACKAGE / "schemas" / f"{name}.schema.json").read_text("utf-8")
    )
    return data


@functools.cache
def settings_name_packs() -> bool:
    """Workspace settings accept `packs: [...]`."""
    return "packs" in _schema("config").get("properties", {})


@functools.cache
def connectors_name_models() -> bool:
    """Connectors accept `credential.models: {service: model}`."""
    connector = _schema("policy").get("$defs", {}).get("connector", {})
    credential = connector.get("properties", {}).get("credential", {})
    return "models" in credential.get("properties", {})


def pack_files() -> dict[str, Path]:
    """The bundled pack of each service this import targets, where it is installed."""
    found: dict[str, Path] = {}
    for directory in (PACKAGED_PACKS, SOURCE_PACKS):
        for name in PACK_SERVICES:
            candidate = directory / f"{name}.yaml"
            if name not in found and candidate.is_file():
                found[name] = candidate
    return found


@functools.cache
def _packs_workspace() -> Workspace:
    data = [
        yaml.load(path.read_text("utf-8"), Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))
        for path in pack_files().values()
    ]
    return workspace_from_data(data, [])


def pack_services() -> dict[str, Service]:
    """The bundled packs as services (their default model), to route calls against."""
    return {service.name: service for service in _packs_workspace().services}


def model_view(service: Service, model: str | None) -> Service:
    """The service as a credential of `model` sees it (its scopes and requirements there)."""
    if not model or model not in service_models(service) or model == service_models(service)[0]:
        return service
    try:
        view: Service = _packs_workspace().service(service.name, model)  # type: ignore[call-arg]  # views by model
    except (TypeError, StopIteration):
        return service
    return view


def service_models(service: Service) -> tuple[str, ...]:
    """The permission models a pack judges, its default first."""
    declared = getattr(service, "models", None)
    if declared:
        return tuple(str(model) for model in declared)
    return (_SINGLE_MODEL.get(service.name, "default"),)


def judges(service: Service, model: str | None) -> bool:
    """Whether the pack can judge grants held in `model` (None: the service's only model)."""
    if model is None:
        return True
    models = service_models(service)
    return model in models or models == ("default",)


def settings_document(packs: Iterable[str]) -> dict[str, Any]:
    """The generated workspace's connector-harness.yaml (a settings key only for what exists)."""
    names = sorted(packs)
    if not names:
        return {"scenarios": ["scenarios"]}
    if settings_name_packs():
        return {"packs": names, "scenarios": ["scenarios"]}
    return {"mocks": ["mocks"], "scenarios": ["scenarios"]}


def copied_packs(packs: Iterable[str]) -> dict[str, bytes]:
    """Files to write under mocks/ when settings cannot name packs: relative path -> bytes."""
    if settings_name_packs():
        return {}
    files = pack_files()
    return {
        f"mocks/{name}.yaml": files[name].read_bytes() for name in sorted(packs) if name in files
    }


def credential_models(models: dict[str, str], services: Iterable[str]) -> dict[str, str] | None:
    """`credential.models` for a connector, when connectors can name models."""
    if not connectors_name_models():
        return None
    chosen = {service: model for service, model in models.items() if service in set(services)}
    return chosen or None
