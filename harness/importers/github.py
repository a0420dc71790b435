"""GitHub's app-permissions map to a service spec: permission plus read/write access.

The data (octokit/app-permissions) has two views: `paths` gives one permission
per operation, and `permissions` lists, per permission and access, the
operations it allows, which names the alternatives GitHub also accepts (a
comment on an issue needs `issues:write` or `pull_requests:write`). We take
the union of both. Scopes are spelled `PERMISSION:ACCESS`; `write` implies
`read`. Writes under the `administration` permissions are `admin` risk.
"""

from __future__ import annotations

from typing import Any

from harness.errors import InputError, Location
from harness.importers._source import SourceDocument
from harness.importers.spec import (
    METHODS,
    ImportedOperation,
    ImportedService,
    ImportSettings,
    ServiceDraft,
    assemble,
    path_id,
    provenance,
    route_path,
)
from harness.routing import path_problem

ACCESS = ("read", "write")
ADMIN_PERMISSIONS = frozenset({"administration", "organization_administration"})

# Paths the data writes as regular expressions, and the templates GitHub documents for them.
REGEX_PATHS: dict[str, tuple[str, ...]] = {
    # https://docs.github.com/en/rest/repos/contents#get-a-repository-readme and
    # #get-a-repository-readme-for-a-directory: `readme` and `readme/{dir}` (dir may be nested)
    "/repos/{owner}/{repo}/readme(?:/(.*))?": (
        "/repos/{owner}/{repo}/readme",
        "/repos/{owner}/{repo}/readme/{+dir}",
    ),
}


def _scope(permission: str, access: str) -> str:
    return f"{permission}:{access}"


def import_github(document: SourceDocument, settings: ImportSettings) -> ImportedService:
    """The service spec of GitHub's app-permissions map (`paths` + `permissions`)."""
    data = document.data
    if not isinstance(data, dict) or not isinstance(data.get("paths"), dict):
        raise InputError(
            document.location(),
            "the document has no `paths` map of method -> {permission, access}",
            "pass octokit/app-permissions' generated/api.github.com.json",
        )
    draft = ServiceDraft(
        name=settings.service or "github",
        title=settings.title or "GitHub REST API",
        hosts=list(settings.hosts or ["api.github.com"]),
        exclude=settings.exclude_scopes,
        token_params=settings.token_params,
        extra_methods=settings.extra_methods,
    )
    alternatives: dict[tuple[str, str], set[tuple[str, str]]] = {}
    where: dict[tuple[str, str], Any] = {}
    for path, methods in data["paths"].items():
        if not isinstance(methods, dict):
            draft.skip(document.location(("paths", path)), f"path {path}", "it is not an object")
            continue
        for method, entry in methods.items():
            key = (str(method).upper(), str(path))
            location = document.location(("paths", path, method))
            what = f"{key[0]} {path}"
            if key[0] not in METHODS:
                draft.skip(location, what, f"{method} is not a method the sandbox serves")
                continue
            permission = entry.get("permission") if isinstance(entry, dict) else None
            access = entry.get("access") if isinstance(entry, dict) else None
            if not isinstance(permission, str) or access not in ACCESS:
                draft.skip(
                    location, what, "it needs `permission` (text) and `access` (read or write)"
                )
                continue
            alternatives.setdefault(key, set()).add((permission, str(access)))
            where[key] = location
    permissions = data.get("permissions")
    for permission, spec in (permissions or {}).items():
        if not isinstance(spec, dict):
            continue
        for access in ACCESS:
            for index, endpoint in enumerate(spec.get(access) or ()):
                method, _, path = str(endpoint).partition(" ")
                key = (method.upper(), path)
                if key not in alternatives and key[0] in METHODS and path.startswith("/"):
                    where[key] = document.location(("permissions", permission, access, index))
                    alternatives[key] = set()
                if key in alternatives:
                    alternatives[key].add((permission, access))
        draft.scopes.setdefault(_scope(permission, "read"), f"{permission}: read access")
    for pairs in alternatives.values():
        for permission, access in pairs:
            draft.scopes.setdefault(_scope(permission, "read"), f"{permission}: read access")
            if access == "write":
                draft.scopes.setdefault(
                    _scope(permission, "write"), f"{permission}: read and write access"
                )
    for scope in list(draft.scopes):
        permission, _, access = scope.rpartition(":")
        if access == "write":
            draft.declared_implies[scope] = [_scope(permission, "read")]
    for (method, written_path), pairs in sorted(alternatives.items()):
        problem = path_problem(written_path)
        if problem and written_path not in REGEX_PATHS:
            draft.skip(where[(method, written_path)], f"{method} {written_path}", problem)
            continue
        for raw_path in REGEX_PATHS.get(written_path, (written_path,)):
            _add_operation(draft, method, raw_path, pairs, where[(method, written_path)], settings)
    draft.provenance = provenance(
        settings,
        source=document.name.rsplit("/", 1)[-1],
        format="GitHub app permissions",
        sha256=document.sha256,
    )
    return assemble(draft, document.name)


def _add_operation(
    draft: ServiceDraft,
    method: str,
    raw_path: str,
    pairs: set[tuple[str, str]],
    location: Location,
    settings: ImportSettings,
) -> None:
    """One operation of `method` on `raw_path`, allowed by any of the (permission, access)."""
    path, _ = route_path(raw_path, settings.spanning)
    writes = [permission for permission, access in pairs if access == "write"]
    risk = None
    if not writes:
        risk = "read"
    elif all(permission in ADMIN_PERMISSIONS for permission in writes):
        risk = "admin"
    draft.operations.append(
        ImportedOperation(
            id=path_id(method, raw_path),
            method=method,
            path=path,
            requires=tuple((_scope(p, a),) for p, a in sorted(pairs)),
            location=location,
            risk=risk,
        )
    )
