"""In-memory workspace builders for tests: small dicts in the workspace file format."""

from __future__ import annotations

from typing import Any

from harness.model import Workspace
from harness.workspace.loader import workspace_from_data

HOST = "api.svc.example"


def service(
    scopes: dict[str, list[str]] | None = None,
    operations: list[dict[str, Any]] | None = None,
    **extra: Any,
) -> dict[str, Any]:
    """A service spec: `scopes` maps each scope to what it implies."""
    scopes = (
        scopes
        if scopes is not None
        else {
            "svc.read": [],
            "svc.write": ["svc.read"],
            "svc.delete": [],
            "svc.admin": ["svc.*"],
        }
    )
    operations = (
        operations
        if operations is not None
        else [
            {"id": "items.list", "method": "GET", "path": "/items", "requires": "svc.read"},
            {
                "id": "items.get",
                "method": "GET",
                "path": "/items/{item}",
                "requires": "svc.read",
                "resources": {"item": "path.item"},
            },
            {"id": "items.create", "method": "POST", "path": "/items", "requires": "svc.write"},
            {
                "id": "items.delete",
                "method": "DELETE",
                "path": "/items/{item}",
                "requires": "svc.delete",
            },
            {
                "id": "settings.update",
                "method": "PUT",
                "path": "/settings",
                "requires": "svc.admin",
                "risk": "admin",
            },
        ]
    )
    data: dict[str, Any] = {
        "service": "svc",
        "hosts": [HOST],
        "scopes": {
            name: {"implies": implied} if implied else None for name, implied in scopes.items()
        },
        "operations": operations,
    }
    data.update(extra)
    return data


def policy(
    grants: list[str],
    calls: list[tuple[str, str] | dict[str, Any]],
    *,
    service_name: str = "svc",
    host: str = HOST,
    lifetime: str = "1h",
    allowed_hosts: list[str] | None = None,
) -> dict[str, Any]:
    """One connector `bot`, one role `role` with `grants`, one prod binding, one flow of `calls`."""
    steps = []
    for call in calls:
        if isinstance(call, dict):
            steps.append(call)
        else:
            method, path = call
            steps.append({"request": {"method": method, "url": f"https://{host}{path}"}})
    return {
        "connectors": [
            {
                "name": "bot",
                "owner": "owner@example.com",
                "credential": {"type": "oauth2-client-credentials", "lifetime": lifetime},
                "allowed_hosts": allowed_hosts if allowed_hosts is not None else [HOST],
            }
        ],
        "roles": [{"name": "role", "grants": {service_name: grants} if grants else {}}],
        "bindings": [{"connector": "bot", "env": "prod", "roles": ["role"]}],
        "flows": [{"name": "flow", "connector": "bot", "steps": steps}],
    }


def build(services: list[dict[str, Any]], policies: list[dict[str, Any]]) -> Workspace:
    return workspace_from_data(services, policies)


def waived_excess(reason: str = "migration in progress") -> Workspace:
    """bot@prod: settings.update is denied (missing), svc.write unused (excessive), and svc.delete
    unused but waived by SEC-42 until 2026-06-30."""
    document = policy(
        ["svc.read", "svc.delete", "svc.write"], [("GET", "/items"), ("PUT", "/settings")]
    )
    document["waivers"] = [
        {
            "binding": "bot@prod",
            "grants": {"svc": ["svc.delete"]},
            "reason": reason,
            "owner": "team@example.com",
            "ticket": "SEC-42",
            "approved_by": "security@example.com",
            "expires": "2026-06-30",
        }
    ]
    return build([service()], [document])
