"""What a generated workspace uses of the engine: bundled packs and permission models.

Every piece of the n8n import that depends on the workspace format's pack and model
features lives here, so that one file changes when they do:

- bundled packs: the generated settings name them (`packs: [slack, github]`); the
  import routes calls and splits grants over the same packs;
- permission models: a connector says which model its credential holds per service
  (`credential.models: {github: oauth}`); a credential whose model a pack does not
  have is not bound (its grants are listed instead).

It is also the one place the n8n import reaches into the workspace loader's modules
(which may move): the other n8n modules take them from here.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable
from typing import Any

from harness.model import Service, Settings, Workspace
from harness.workspace.loader import workspace_from_data
from harness.workspace.pack_catalog import bundled_packs
from harness.workspace.yaml_source import YamlDocument, load_yaml

__all__ = [
    "PACK_SERVICES",
    "YamlDocument",
    "credential_models",
    "judges",
    "load_yaml",
    "model_view",
    "pack_services",
    "service_models",
    "settings_document",
    "workspace_from_data",
]

# The packs whose services n8n's integrations call; the rest of the catalogue is loaded too.
PACK_SERVICES = ("slack", "github", "gmail", "google-drive", "google-sheets", "msgraph")


@functools.cache
def _pack_workspace(name: str) -> Workspace:
    """One bundled pack, loaded as a workspace that names it (Graph's alone takes seconds)."""
    return workspace_from_data([], [], Settings(packs=((name, ""),)))


def _family(host: str) -> str:
    """The domain a vendor's hosts share: googleapis.com for Sheets, Drive and Gmail."""
    return ".".join(host.lower().rsplit(".", 2)[-2:])


def pack_services(hosts: Iterable[str] | None = None) -> dict[str, Service]:
    """The bundled packs (their default model) of the vendors whose hosts the calls reach,
    all of them when `hosts` is None: a Sheets credential's Drive scopes are judged on the
    Drive pack, which the calls never reach."""
    families = None if hosts is None else {_family(host) for host in hosts if host}
    found: dict[str, Service] = {}
    for pack in bundled_packs():
        if families is not None and not any(_family(h) in families for h in pack.hosts):
            continue
        for service in _pack_workspace(pack.name).services:
            found[service.name] = service
    return found


def service_models(service: Service) -> tuple[str, ...]:
    """The permission models a service has, its default first (() when it has one)."""
    return tuple(service.models)


def model_view(service: Service, model: str | None) -> Service:
    """The service as a credential of `model` sees it (its scopes and requirements there)."""
    if not model or model not in service.models or not service.pack:
        return service
    try:
        return _pack_workspace(service.pack).service(service.name, model)
    except StopIteration:
        return service


def judges(service: Service, model: str | None) -> bool:
    """Whether the service can judge grants held in `model` (None: the only model there is)."""
    return model is None or not service.models or model in service.models


def settings_document(packs: Iterable[str]) -> dict[str, Any]:
    """The generated workspace's connector-harness.yaml."""
    names = sorted(packs)
    if not names:
        return {"scenarios": ["scenarios"]}
    return {"packs": names, "scenarios": ["scenarios"]}


def copied_packs(packs: Iterable[str]) -> dict[str, bytes]:
    """Files to write into the workspace for its packs: none, the settings name them."""
    return {}


def credential_models(
    models: dict[str, str], services: Iterable[str], known: dict[str, Service]
) -> dict[str, str] | None:
    """`credential.models` for a connector: the services it reaches that have models."""
    chosen = {
        service: model
        for service, model in sorted(models.items())
        if service in set(services) and service in known and known[service].models
    }
    return chosen or None
