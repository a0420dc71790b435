"""Google API Discovery documents to service specs: per-method `scopes`, any one suffices.

Methods are found in `resources` (nested) and at the top level; the route is
`servicePath` + `flatPath` (or `path`) on the host of `rootUrl`. A method that
accepts uploads gets extra operations for its `mediaUpload` paths. *Context*
documents (other Google APIs) only count when inferring which scope is
broader, because Google's scopes reach across APIs.
"""

from __future__ import annotations

import importlib.metadata
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from harness.calls import METHODS
from harness.errors import InputError
from harness.importers.breadth import Alternatives
from harness.importers.spec import (
    ImportedOperation,
    ImportedService,
    ImportSettings,
    ServiceDraft,
    assemble,
    operation_id,
    provenance,
    route_path,
    scope_descriptions,
)
from harness.workspace.source_document import PathKey, SourceDocument

PACKAGE = "google-api-python-client"
DOCUMENTS = "googleapiclient/discovery_cache/documents"


def packaged_documents() -> tuple[Path, str] | None:
    """The Discovery documents shipped in google-api-python-client, and its version."""
    try:
        distribution = importlib.metadata.distribution(PACKAGE)
    except importlib.metadata.PackageNotFoundError:
        return None
    folder = Path(str(distribution.locate_file(DOCUMENTS)))
    return (folder, distribution.version) if folder.is_dir() else None


def packaged_source(path: Path) -> str | None:
    """`google-api-python-client 2.x: googleapiclient/.../sheets.v4.json` for a packaged file."""
    found = packaged_documents()
    if found is None:
        return None
    folder, version = found
    try:
        relative = path.resolve().relative_to(folder.resolve())
    except ValueError:
        return None
    return f"{PACKAGE} {version}: {DOCUMENTS}/{relative.as_posix()}"


def _methods(node: Any, path: PathKey) -> Iterator[tuple[dict[str, Any], PathKey]]:
    """Every method of a resource tree, in document order."""
    if not isinstance(node, dict):
        return
    methods = node.get("methods")
    if isinstance(methods, dict):
        for name, method in methods.items():
            if isinstance(method, dict):
                yield method, (*path, "methods", name)
    resources = node.get("resources")
    if isinstance(resources, dict):
        for name, resource in resources.items():
            yield from _methods(resource, (*path, "resources", name))


def _check(document: SourceDocument) -> dict[str, Any]:
    data = document.data
    if not isinstance(data, dict) or data.get("kind") != "discovery#restDescription":
        raise InputError(
            document.location(("kind",) if isinstance(data, dict) and "kind" in data else ()),
            "the document is not a Google API Discovery document "
            "(expected `kind: discovery#restDescription`)",
            "pass a Discovery document such as sheets.v4.json "
            "(for OpenAPI/Swagger use `import-service openapi`)",
        )
    return data


def context_requirements(documents: Sequence[SourceDocument]) -> list[Alternatives]:
    """The requirement of every method of other Discovery documents (for breadth only)."""
    result: list[Alternatives] = []
    for document in documents:
        for method, _ in _methods(_check(document), ()):
            scopes = method.get("scopes")
            if isinstance(scopes, list) and scopes:
                result.append(tuple((str(scope),) for scope in scopes))
    return result


def _mapping(value: Any) -> dict[str, Any]:
    """`value` when the document holds a mapping there, else an empty one."""
    return value if isinstance(value, dict) else {}


def import_discovery(
    document: SourceDocument,
    settings: ImportSettings,
    context: Sequence[SourceDocument] = (),
) -> ImportedService:
    """The service spec of a Discovery document (`context`: other APIs, for breadth)."""
    data = _check(document)
    try:
        root = urlsplit(str(data.get("rootUrl") or ""))
        root_host = root.hostname
    except ValueError as err:  # an unclosed IPv6 bracket, a port out of range
        raise InputError(
            document.location(("rootUrl",)),
            f"`rootUrl` is not a valid URL: {err}",
            "pass the document as Google publishes it, or the API's host with --host",
        ) from err
    if not root_host and not settings.hosts:
        raise InputError(
            document.location(("rootUrl",)),
            "the document has no absolute `rootUrl`",
            "pass the API's host with --host, e.g. --host sheets.googleapis.com",
        )
    service_path = str(data.get("servicePath") or "")
    name = str(data.get("name") or "")
    version = str(data.get("version") or "")
    draft = ServiceDraft(
        name=settings.service or operation_id(name).lower() or "google",
        title=settings.title or str(data.get("title") or name),
        hosts=list(settings.hosts or [root.netloc.lower()]),
        exclude=settings.exclude_scopes,
        token_params=settings.token_params,
        extra_methods=settings.extra_methods,
    )
    auth = _mapping(_mapping(_mapping(data.get("auth")).get("oauth2")).get("scopes"))
    draft.scopes.update(scope_descriptions(auth if isinstance(auth, dict) else {}))
    prefix = f"{name}."
    for method, where in _methods(data, ()):
        http_method = str(method.get("httpMethod") or "").upper()
        method_id = str(method.get("id") or "")
        what = f"method {method_id or where[-1]}"
        if http_method not in METHODS:
            draft.skip(
                document.location((*where, "httpMethod")),
                what,
                f"HTTP method {http_method or '(none)'} is not one the sandbox serves",
            )
            continue
        raw = method.get("flatPath") or method.get("path")
        if not isinstance(raw, str):
            draft.skip(document.location(where), what, "it has no `path`")
            continue
        scopes = method.get("scopes")
        requires: Alternatives = (
            tuple((str(scope),) for scope in scopes) if isinstance(scopes, list) else ()
        )
        base_id = operation_id(method_id.removeprefix(prefix) if method_id else raw)
        routes = [(base_id, "/" + service_path.lstrip("/") + raw.lstrip("/"))]
        upload = _mapping(_mapping(method.get("mediaUpload")).get("protocols"))
        if method.get("supportsMediaUpload") and isinstance(upload, dict):
            paths: list[str] = []
            for protocol in ("simple", "resumable"):
                spec = upload.get(protocol)
                upload_path = spec.get("path") if isinstance(spec, dict) else None
                if isinstance(upload_path, str) and upload_path not in paths:
                    paths.append(upload_path)
            for number, upload_path in enumerate(paths):
                routes.append(
                    (base_id + (".upload" if number == 0 else ".upload-resumable"), upload_path)
                )
        for op_id, raw_path in routes:
            path, _ = route_path(raw_path, settings.spanning)
            draft.operations.append(
                ImportedOperation(op_id, http_method, path, requires, document.location(where))
            )
    draft.context = context_requirements(context)
    revision = str(data.get("revision") or "")
    date = (
        f"{revision[:4]}-{revision[4:6]}-{revision[6:8]}"
        if len(revision) == 8 and revision.isdigit()
        else None
    )
    extra = {"api": f"{name}:{version}"}
    if revision:
        extra["revision"] = revision
    if context:
        extra["breadth_context"] = ", ".join(
            f"{doc.data.get('name')}:{doc.data.get('version')}" for doc in context
        )
    draft.provenance = provenance(
        settings,
        source=document.name.rsplit("/", 1)[-1],
        format="Google API Discovery",
        sha256=document.sha256,
        date=date,
        extra=extra,
    )
    return assemble(draft, document.name)
