"""GitHub's app-permissions map to a service spec: permission plus read/write access.

The data (octokit/app-permissions) has two views: `paths` gives one permission
per operation, and `permissions` lists, per permission and access, the
operations it allows, which names the alternatives GitHub also accepts (a
comment on an issue needs `issues:write` or `pull_requests:write`). We take
the union of both. Scopes are spelled `PERMISSION:ACCESS`; `write` implies
`read`. Writes under the `administration` permissions are `admin` risk.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from harness.calls import METHODS
from harness.errors import InputError, Location
from harness.importers.github_oauth import SCOPES_PAGE, oauth_requirement, oauth_scopes
from harness.importers.spec import (
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
from harness.workspace.source_document import SourceDocument

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
    service = assemble(draft, document.name)
    return with_oauth_model(service, alternatives) if settings.oauth_model else service


def with_oauth_model(
    service: ImportedService, alternatives: dict[tuple[str, str], set[tuple[str, str]]]
) -> ImportedService:
    """The service with two models: `app` (the data's permissions) and `oauth` (classic OAuth
    App scopes, harness.importers.github_oauth); an operation no rule covers is not
    available to OAuth tokens, and is listed in the header."""
    implies = dict(service.implies)
    app = tuple(
        (
            name,
            {
                **({"description": d} if d else {}),
                **({"implies": list(implies[name])} if name in implies else {}),
            },
        )
        for name, d in service.scopes
    )
    permissions: dict[tuple[str, str], list[tuple[str, str]]] = {}
    for (method, raw_path), pairs in alternatives.items():
        for written in REGEX_PATHS.get(raw_path, (raw_path,)):
            path, _ = route_path(written)
            permissions[(method, path.replace("{+", "{"))] = sorted(pairs)
    operations = []
    uncovered = []
    for operation in service.operations:
        key = (operation.method, operation.path.replace("{+", "{"))
        found = oauth_requirement(operation.method, key[1], permissions.get(key, []))
        extra: tuple[tuple[str, Any], ...] = ()
        if found is None:
            uncovered.append(f"{operation.method} {operation.path}")
        else:
            requirement, arguments, source = found
            extra = (
                ("requires_in", {"oauth": requirement}),
                *((("arguments", arguments),) if arguments else ()),
                ("source", source),
            )
        operations.append(replace(operation, extra=extra))
    notes = list(service.notes)
    notes.append(
        "model `oauth`: classic OAuth App scopes, from the app permission each operation needs, "
        f"by the rules of {SCOPES_PAGE} (harness/importers/github_oauth.py)"
    )
    if uncovered:
        notes.append(
            f"model `oauth`: no rule of that page covers {len(uncovered)} operation(s), not "
            f"available to OAuth tokens here: {', '.join(uncovered[:8])}"
            + (", ..." if len(uncovered) > 8 else "")
        )
    return replace(
        service,
        scopes=(),
        implies=(),
        operations=tuple(operations),
        notes=tuple(notes),
        models=(
            ("app", "GitHub App and fine-grained token permissions (PERMISSION:read|write)", app),
            (
                "oauth",
                "Classic OAuth App and personal access token (classic) scopes",
                tuple(oauth_scopes().items()),
            ),
        ),
    )


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
