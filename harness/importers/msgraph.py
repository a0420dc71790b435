"""Microsoft Graph's permissions map to a service spec with two permission models.

The data (microsoftgraph/microsoft-graph-devx-content, permissions/new/permissions.json)
lists each permission (`Mail.Read`) with its schemes (`DelegatedWork`,
`DelegatedPersonal`, `Application`: a display name, `privilegeLevel`,
`requiresAdminConsent`) and `pathSets`: methods and paths it allows in some of its
schemes, each path marked `least=SCHEMES` where the permission is the least
privileged one for those schemes, and `AlsoRequires=A,B` where it works only
together with one of A, B. The least privileged alternatives of an operation are kept
(`least_in:`): the suggested role and the grant to add name them, as Graph's pages do.

Graph's delegated and application permissions are different grants with the same
names, so the spec has two models: `delegated` (DelegatedWork and DelegatedPersonal)
and `application`. An operation allows, in each model, any permission that lists
it for one of the model's schemes (with one of its `AlsoRequires` when it has some).
A scope's `sensitivity` is its `privilegeLevel` (2 when the data gives none), doubled
when it requires admin consent; breadth weighs what it reaches by that. The data lists
no implication, and often omits the broader permission on a read (the "Get message"
page accepts Mail.ReadWrite, the data lists only Mail.Read and Mail.ReadBasic): where
the vendor's own description of `X.ReadWrite[.Y]` says it allows reading, it implies
`X.Read[.Y]` in that model, citing the permissions reference.

The data gives `/me/...` paths the Application scheme too, but `/me` is the signed-in user,
which an app-only token does not have: they are delegated only. Where the data gives an
operation as `/users/{id}/...` only, a delegated-only `/me/...` twin is added, so that a
`/me` call does not reach the application permissions of the `/users/{id}` form through
the routing alias.

Paths: the data writes them lower-case with `{id}` for every key; the spec routes them
case-insensitively under `/v1.0` and `/beta`, with OData key segments (`/users('x')`)
and `/me` equivalent to `/users/{id}`, a site's document library
(`/sites/{id}/drives/{drive}`) to its default one (`/sites/{id}/drive`). A key addressed by path (`root:/{path}:`) spans
segments. Paths with a query (`?$filter=...`) describe filtered lists whose permission
the data cannot attach to a call by path alone: they are skipped, and counted.
Resource-specific consent permissions (`authorizationType: RSC`, such as
`ChannelMessage.Read.Group`) are consented to for one team or chat by its owner; Graph's
pages name them least privileged where they suffice, so they are imported, classified as
such.
"""

from __future__ import annotations

import re
from typing import Any

from harness.calls import METHODS
from harness.errors import InputError, Location
from harness.importers.breadth import Alternatives
from harness.importers.spec import (
    ImportedOperation,
    ImportedService,
    ImportSettings,
    Skipped,
    normalise,
    path_id,
    provenance,
    route_path,
)
from harness.workspace.source_document import SourceDocument

MODELS = (
    ("delegated", ("DelegatedWork", "DelegatedPersonal"), "Delegated permissions: the app acts "
     "for a signed-in user (work or school, or personal Microsoft account)"),
    ("application", ("Application",), "Application permissions: the app acts as itself, "
     "without a signed-in user (app-only); most need an administrator's consent"),
)  # fmt: skip
DEFAULT_PRIVILEGE = 2
ROUTING = (
    ("case_insensitive", True),
    ("base_paths", ["/v1.0", "/beta"]),
    ("key_segments", True),
    (
        "aliases",
        [
            ["/me", "/users/{id}"],
            # a site's document libraries are its drives, reached with the site's permissions
            # (https://learn.microsoft.com/en-us/graph/api/resources/driveitem: /sites/{site-id}/
            # drive/items/{item-id}); the data lists most item operations under the default
            # library (/sites/{id}/drive) only
            ["/sites/{id}/drives/{drive}", "/sites/{id}/drive"],
        ],
    ),
)
_ALSO = re.compile(r"AlsoRequires=([^;]*)")
_LEAST = re.compile(r"least=([^;]*)")
REFERENCE = "https://learn.microsoft.com/en-us/graph/permissions-reference"
_READS = re.compile(r"\bread", re.IGNORECASE)
_SHAPE = re.compile(r"\{(\+?)[^{}]*\}")
_ADDRESS = re.compile(r"(:/)\{([^{}]+)\}")  # `root:/{item-path}` -> a key that spans segments


def _sensitivity(scheme: dict[str, Any]) -> tuple[int, str]:
    level = scheme.get("privilegeLevel")
    factor = level if isinstance(level, int) and level > 0 else DEFAULT_PRIVILEGE
    consent = bool(scheme.get("requiresAdminConsent"))
    words = f"privilegeLevel {level if level is not None else 'not given'}"
    words += ", admin consent required" if consent else ", user consent"
    return factor * (2 if consent else 1), words


def _signed_in(path: str) -> bool:
    """`/me/...`: "the signed-in user", which an app-only (application) token does not have
    (https://learn.microsoft.com/en-us/graph/call-api: use /users/{id} without a user)."""
    return path == "/me" or path.startswith("/me/")


def _template(path: str) -> tuple[str, tuple[str, ...]]:
    """The data's path as a routable template (lower-case literals, spanning addresses, no
    spaces: `f(a={value}, b={value})` is sent `f(a=1,b=2)`)."""
    spanned = _ADDRESS.sub(lambda m: m[1] + "{+" + m[2] + "}", "".join(path.split()))
    pieces = re.split(r"(\{[^{}]*\})", spanned)
    lowered = "".join(piece if piece.startswith("{") else piece.lower() for piece in pieces)
    return route_path(lowered)


def _signed_in_twins(
    needs: dict[tuple[str, str], dict[str, set[tuple[str, ...]]]],
    first_path: dict[tuple[str, str], str],
    least: dict[tuple[tuple[str, str], str], set[tuple[str, ...]]],
) -> dict[tuple[str, str], str]:
    """A delegated-only `/me/...` operation for each `/users/{id}/...` one the data gives no
    `/me` form: without it a `/me` call routes to the `/users/{id}` operation through the
    routing alias and is allowed with application permissions, which Graph refuses on /me
    (https://learn.microsoft.com/en-us/graph/call-api: /me is the signed-in user). Added to
    `needs` and `least`; returns the data-style path of each twin."""
    added: dict[tuple[str, str], str] = {}
    for (method, shape), per_model in list(needs.items()):
        if not shape.startswith("/users/{}/") or not per_model.get("delegated"):
            continue
        twin = (method, "/me/" + shape[len("/users/{}/") :])
        if twin in needs:
            continue
        needs[twin] = {"delegated": set(per_model["delegated"])}
        marked = least.get(((method, shape), "delegated"))
        if marked:
            least[(twin, "delegated")] = set(marked)
        written = first_path[(method, shape)]
        added[twin] = "/me/" + written.split("/", 3)[3]
    return added


def import_msgraph(document: SourceDocument, settings: ImportSettings) -> ImportedService:
    """The service spec of Graph's permissions map, with `delegated` and `application` models."""
    data = document.data
    permissions = data.get("permissions") if isinstance(data, dict) else None
    if not isinstance(permissions, dict):
        raise InputError(
            document.location(),
            "the document has no `permissions` map of name -> {schemes, pathSets}",
            "pass microsoft-graph-devx-content's permissions/new/permissions.json",
        )
    skipped: list[Skipped] = []
    notes: list[str] = []
    scopes: dict[str, dict[str, dict[str, Any]]] = {model: {} for model, _, _ in MODELS}
    # (method, template) -> model -> alternatives; and where each was first written
    needs: dict[tuple[str, str], dict[str, set[tuple[str, ...]]]] = {}
    first_path: dict[tuple[str, str], str] = {}
    templates: dict[
        tuple[str, str], str
    ] = {}  # one template per route (`{id}` and `{key}` are one)
    filtered = rsc = 0
    reading: dict[str, dict[str, str]] = {model: {} for model, _, _ in MODELS}
    # ((method, shape), model) -> the alternatives the data marks least privileged
    least: dict[tuple[tuple[str, str], str], set[tuple[str, ...]]] = {}
    for name in sorted(permissions):
        permission = permissions[name]
        if not isinstance(permission, dict):
            skipped.append(Skipped(document.location(("permissions", name)), name, "not an object"))
            continue
        specific = permission.get("authorizationType") == "RSC"
        rsc += specific
        schemes = permission.get("schemes")
        schemes = schemes if isinstance(schemes, dict) else {}
        for model, keys, _ in MODELS:
            held = [schemes[key] for key in keys if isinstance(schemes.get(key), dict)]
            if held:
                factor, words = max(_sensitivity(scheme) for scheme in held)
                entry: dict[str, Any] = {
                    "description": str(held[0].get("adminDisplayName") or "").strip(),
                    "sensitivity": factor,
                    "classification": words,
                }
                if specific:
                    # https://learn.microsoft.com/en-us/microsoftteams/platform/graph-api/rsc/resource-specific-consent
                    entry["description"] = entry["description"] or (
                        "Resource-specific consent: granted to the app for one team or chat"
                    )
                    entry["classification"] = f"{words}, resource-specific consent"
                scopes[model][name] = {k: v for k, v in entry.items() if v != ""}
                reads = any(
                    _READS.search(f"{scheme.get('adminDescription', '')} "
                                  f"{scheme.get('adminDisplayName', '')}")
                    for scheme in held
                )  # fmt: skip
                if ".ReadWrite" in name and reads:
                    reading[model][name] = name.replace(".ReadWrite", ".Read", 1)
        path_sets = permission.get("pathSets")
        for path_set in path_sets if isinstance(path_sets, list) else ():
            if not isinstance(path_set, dict):
                continue
            listed = path_set.get("methods")
            methods = [str(m).upper() for m in listed] if isinstance(listed, list) else []
            listed_keys = path_set.get("schemeKeys")
            scheme_keys: set[str] = (
                {str(k) for k in listed_keys} if isinstance(listed_keys, list) else set()
            )
            paths = path_set.get("paths")
            for written, marks in (paths if isinstance(paths, dict) else {}).items():
                if "?" in written:
                    filtered += 1
                    continue
                template, _ = _template(str(written))
                shape = _SHAPE.sub(lambda m: "{+}" if m[1] else "{}", template)
                also = _ALSO.search(str(marks or ""))
                partners = tuple(p.strip() for p in also[1].split(",") if p.strip()) if also else ()
                least_for = _LEAST.search(str(marks or ""))
                least_schemes = {k.strip() for k in least_for[1].split(",")} if least_for else set()
                for method in methods:
                    if method not in METHODS:
                        continue
                    key = (method, shape)
                    first_path.setdefault(key, str(written))
                    templates.setdefault(key, template)
                    per_model = needs.setdefault(key, {})
                    for model, model_keys, _ in MODELS:
                        if not scheme_keys & set(model_keys):
                            continue
                        if model == "application" and _signed_in(template):
                            continue  # /me is the signed-in user: app-only tokens have none
                        if not any(isinstance(schemes.get(k), dict) for k in model_keys):
                            continue
                        alternatives = per_model.setdefault(model, set())
                        found = (
                            {tuple(sorted((name, partner))) for partner in partners}
                            if partners
                            else {(name,)}
                        )
                        alternatives.update(found)
                        if least_schemes & set(model_keys):
                            least.setdefault((key, model), set()).update(found)
    twins = _signed_in_twins(needs, first_path, least)
    for key, written in twins.items():
        first_path[key] = written
        templates[key] = _template(written)[0]
    for model, pairs in reading.items():
        for wide, narrow in pairs.items():
            if narrow in scopes[model]:
                scopes[model][wide] = {
                    **scopes[model][wide],
                    "implies": [narrow],
                    "source": REFERENCE,
                }
    operations = []
    ids: set[str] = set()
    ordered = sorted(
        needs.items(), key=lambda item: (templates[item[0]], METHODS.index(item[0][0]))
    )
    for (method, shape), per_model in ordered:
        template = templates[(method, shape)]
        requires_in: list[tuple[str, Alternatives]] = []
        least_in: list[tuple[str, Alternatives]] = []
        for model, _, _ in MODELS:
            declared = scopes[model]
            kept = [
                alternative
                for alternative in per_model.get(model, ())
                if all(scope in declared for scope in alternative)
            ]
            if kept:
                normalised = normalise(kept)
                requires_in.append((model, normalised))
                # a marked alternative that a smaller one absorbed is not the least privileged
                marked = least.get(((method, shape), model), set()) & set(normalised)
                if marked and marked != set(normalised):
                    least_in.append((model, tuple(sorted(marked))))
        if not requires_in:
            skipped.append(
                Skipped(
                    Location(document.name),
                    f"{method} {first_path[(method, shape)]}",
                    "no permission of either model allows it",
                )
            )
            continue
        identifier, number = path_id(method, template), 2
        base = identifier
        while identifier in ids:
            identifier, number = f"{base}-{number}", number + 1
        ids.add(identifier)
        operations.append(
            ImportedOperation(
                id=identifier,
                method=method,
                path=template,
                requires=(),
                location=Location(document.name),
                requires_in=tuple(requires_in),
                least_in=tuple(least_in),
            )
        )
    notes.append(
        f"`implies`: X.ReadWrite[.Y] implies X.Read[.Y] in a model where the vendor's own "
        f"description of X.ReadWrite[.Y] says it allows reading ({REFERENCE}); no other "
        "implication is written"
    )
    if filtered:
        notes.append(
            f"{filtered} path(s) with a query (`?$filter=...`) skipped: the permission of a "
            "filtered list cannot be attached to a call by its path"
        )
    if rsc:
        notes.append(
            f"{rsc} resource-specific consent (RSC) permission(s) kept: an owner consents to "
            "them for one team or chat, and Graph names them least privileged where they "
            "suffice (https://learn.microsoft.com/en-us/microsoftteams/platform/graph-api/rsc/"
            "resource-specific-consent)"
        )
    return ImportedService(
        name=settings.service or "msgraph",
        title=settings.title or "Microsoft Graph",
        hosts=tuple(settings.hosts or ("graph.microsoft.com",)),
        scopes=(),
        implies=(),
        operations=tuple(operations),
        provenance=tuple(
            provenance(
                settings,
                source=document.name.rsplit("/", 1)[-1],
                format="Microsoft Graph permissions",
                sha256=document.sha256,
            ).items()
        ),
        skipped=tuple(skipped),
        notes=tuple(notes),
        models=tuple(
            (model, description, tuple(sorted(scopes[model].items())))
            for model, _, description in MODELS
        ),
        routing=ROUTING,
    )
