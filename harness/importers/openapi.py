"""OpenAPI 3.x and Swagger 2.0 documents to service specs (OAuth2 scopes per operation).

An operation's `security` (else the document's) is a list of requirement
objects, any one of which suffices; each maps scheme names to scope lists that
OpenAPI reads as all-of. Some vendors mean any-of instead (Slack lists
`chat:write:user` and `chat:write:bot` for chat.postMessage, either one works):
`scopes="any-of"` reads each listed scope as an alternative. Schemes without
scopes (API keys, HTTP auth) only ask for a credential and add no scope; a
vendor scope named `none` means no scope is needed (Slack's convention).
"""

from __future__ import annotations

import itertools
import re
from typing import Any
from urllib.parse import urlsplit

from harness.errors import InputError, Location
from harness.importers.references import BrokenReference, Located, References
from harness.importers.spec import (
    ImportedOperation,
    ImportedService,
    ImportSettings,
    ServiceDraft,
    assemble,
    operation_id,
    path_id,
    provenance,
    route_path,
    scope_descriptions,
    service_name,
)
from harness.workspace.source_document import PathKey, SourceDocument, describe_path

HTTP_METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")
SCOPED_TYPES = frozenset({"oauth2", "openIdConnect"})
CREDENTIAL_TYPES = frozenset({"apiKey", "http", "basic", "mutualTLS"})
PUBLIC_SCOPE = "none"
MAX_ALTERNATIVES = 256


def import_openapi(document: SourceDocument, settings: ImportSettings) -> ImportedService:
    """The service spec of an OpenAPI 3.x or Swagger 2.0 document."""
    data = document.data
    if not isinstance(data, dict):
        raise InputError(
            document.location(),
            "the document is not a JSON/YAML object",
            "pass an OpenAPI 3.x or Swagger 2.0 document",
        )
    version = str(data.get("openapi") or data.get("swagger") or "")
    if not (version.startswith("3.") or version == "2.0"):
        raise InputError(
            document.location(),
            'the document has neither `openapi: 3.x` nor `swagger: "2.0"`',
            "pass an OpenAPI 3.x or Swagger 2.0 document "
            "(for Google Discovery documents use `import-service discovery`)",
        )
    return _OpenApi(document, settings, swagger=version == "2.0").run()


class _OpenApi:
    def __init__(self, document: SourceDocument, settings: ImportSettings, *, swagger: bool):
        self.document = document
        self.references = References(document)
        self.data: dict[str, Any] = document.data
        self.settings = settings
        self.swagger = swagger
        info = self.data.get("info") if isinstance(self.data.get("info"), dict) else {}
        self.info: dict[str, Any] = info or {}
        title = str(settings.title or self.info.get("title") or "")
        hosts, base_path = self._servers()
        self.base_path = (
            settings.base_path if settings.base_path is not None else base_path
        ).rstrip("/")
        self.draft = ServiceDraft(
            name=settings.service or service_name(title or document.name),
            title=title or settings.service or document.name,
            hosts=list(settings.hosts or hosts),
            exclude=settings.exclude_scopes,
            token_params=settings.token_params,
            extra_methods=settings.extra_methods,
        )
        self.schemes: dict[str, str] = {}  # name -> type
        self.broken_schemes: dict[str, str] = {}

    def location(self, path: PathKey) -> Location:
        return self.document.location(path)

    def _servers(self) -> tuple[list[str], str]:
        if self.swagger:
            host = self.data.get("host")
            return ([str(host)] if host else []), str(self.data.get("basePath") or "")
        servers = self.data.get("servers")
        if not isinstance(servers, list) or not servers or not isinstance(servers[0], dict):
            return [], ""
        first = self._server_url(servers[0])
        try:
            hosts, base = [], urlsplit(first).path
        except ValueError:  # not a URL: no host, which run() reports
            return [], ""
        for server in servers:
            if not isinstance(server, dict):
                continue
            try:
                parts = urlsplit(self._server_url(server))
                if parts.hostname and parts.path == base:
                    hosts.append(parts.netloc.lower())
            except ValueError:  # an unclosed IPv6 bracket: not a server to import
                continue
        return hosts, base

    @staticmethod
    def _server_url(server: dict[str, Any]) -> str:
        url = str(server.get("url") or "")
        variables = server.get("variables") if isinstance(server.get("variables"), dict) else {}
        for name, spec in (variables or {}).items():
            default = spec.get("default", "") if isinstance(spec, dict) else ""
            url = url.replace("{" + str(name) + "}", str(default))
        return url

    def run(self) -> ImportedService:
        if not self.draft.hosts:
            raise InputError(
                self.location(("servers",) if not self.swagger else ("host",)),
                "the document names no host (no `host`/`servers` with an absolute URL)",
                "pass the API's host name with --host, e.g. --host api.example.com",
            )
        self._read_schemes()
        paths = self.data.get("paths")
        if not isinstance(paths, dict) or not paths:
            raise InputError(
                self.location(("paths",)),
                "the document has no `paths`",
                "pass a complete OpenAPI document: its `paths` map lists the operations",
            )
        root_security = self.references.at("security") if "security" in self.data else None
        for key in paths:
            if str(key).startswith("x-"):
                continue
            self._path_item(key, root_security)
        info_version = self.info.get("version")
        self.draft.provenance = provenance(
            self.settings,
            source=self.document.name.rsplit("/", 1)[-1],
            format=f"{'Swagger' if self.swagger else 'OpenAPI'} "
            f"{self.data.get('swagger') or self.data.get('openapi')}",
            sha256=self.document.sha256,
            version=str(info_version) if info_version is not None else None,
        )
        return assemble(self.draft, self.document.name)

    # -- security schemes -----------------------------------------------------------------

    def _read_schemes(self) -> None:
        base: PathKey = (
            ("securityDefinitions",) if self.swagger else ("components", "securitySchemes")
        )
        container: Any = self.data
        for key in base:
            container = container.get(key) if isinstance(container, dict) else None
        if not isinstance(container, dict):
            return
        for name in container:
            try:
                scheme = self.references.follow(self.references.at(*base, name))
            except BrokenReference as err:
                self.broken_schemes[name] = f"{err.reason} (at {err.location})"
                continue
            kind = scheme.value.get("type") if isinstance(scheme.value, dict) else None
            known = isinstance(kind, str) and (kind in SCOPED_TYPES or kind in CREDENTIAL_TYPES)
            if not known:
                self.broken_schemes[name] = (
                    f"security scheme `{name}` has unknown type {kind!r} "
                    f"(at {scheme.location('type')}); known: "
                    + ", ".join(sorted(SCOPED_TYPES | CREDENTIAL_TYPES))
                )
                continue
            self.schemes[name] = str(kind)
            if kind == "oauth2":
                self._declare_scopes(scheme.value)

    def _declare_scopes(self, scheme: dict[str, Any]) -> None:
        declared: dict[str, Any] = {}
        if isinstance(scheme.get("scopes"), dict):  # Swagger 2.0
            declared.update(scheme["scopes"])
        flows = scheme.get("flows")
        if isinstance(flows, dict):  # OpenAPI 3.x
            for flow in flows.values():
                if isinstance(flow, dict) and isinstance(flow.get("scopes"), dict):
                    for scope, text in flow["scopes"].items():
                        declared.setdefault(scope, text)
        for scope, text in sorted(scope_descriptions(declared).items()):
            if scope == PUBLIC_SCOPE or not scope or any(c.isspace() for c in scope):
                continue
            self.draft.scopes.setdefault(scope, text)

    # -- paths and operations -------------------------------------------------------------

    def _path_item(self, key: Any, root_security: Located | None) -> None:
        raw_path = str(key)
        try:
            item = self.references.follow(self.references.at("paths", key))
        except BrokenReference as err:
            self.draft.skip(err.location, f"path {raw_path}", err.reason)
            return
        if not isinstance(item.value, dict):
            self.draft.skip(item.location(), f"path {raw_path}", "it is not an object")
            return
        methods = [m for m in HTTP_METHODS if m in item.value]
        for method in methods:
            what = f"{method.upper()} {raw_path}"
            if method == "trace":
                self.draft.skip(
                    item.location(method), what, "TRACE is not a method the sandbox serves"
                )
                continue
            try:
                operation = self.references.follow(item.child(method))
            except BrokenReference as err:
                self.draft.skip(err.location, what, err.reason)
                continue
            if not isinstance(operation.value, dict):
                self.draft.skip(item.location(method), what, "the operation is not an object")
                continue
            security = (
                operation.child("security")
                if operation.value.get("security") is not None
                else root_security
            )
            try:
                requires = self._requirement(security)
            except BrokenReference as err:
                self.draft.skip(err.location, what, err.reason)
                continue
            path, renamed = route_path(
                self.base_path + "/" + raw_path.lstrip("/"), self.settings.spanning
            )
            if renamed:
                self.draft.notes.append(
                    f"{what}: path parameters renamed to route: {', '.join(renamed)}"
                )
            self.draft.operations.append(
                ImportedOperation(
                    id=self._operation_id(operation.value, method, raw_path, len(methods)),
                    method=method.upper(),
                    path=path,
                    requires=requires,
                    location=item.location(method),
                )
            )

    def _operation_id(self, operation: dict[str, Any], method: str, path: str, count: int) -> str:
        if self.settings.operation_ids == "path":
            if count == 1 and not re.search(r"[{}]", path):
                return operation_id(path.strip("/"))
            return path_id(method, path)
        given = operation.get("operationId")
        return operation_id(str(given)) if given else path_id(method, path)

    def _requirement(self, security: Located | None) -> tuple[tuple[str, ...], ...]:
        """Any-of alternatives from a security requirement list; () means public, and an empty
        alternative that any credential of the listed schemes is enough."""
        if security is None or security.value is None:
            return ()
        if not isinstance(security.value, list):
            raise BrokenReference(
                security.location(),
                f"`{describe_path(security.path)}` must be a list of requirements",
            )
        alternatives: list[tuple[str, ...]] = []
        for index, requirement in enumerate(security.value):
            if not isinstance(requirement, dict):
                raise BrokenReference(
                    security.location(index), "a security requirement must be an object"
                )
            if not requirement:
                return ()  # `{}`: this alternative needs no credential, the operation is public
            options: list[list[tuple[str, ...]]] = []
            for name, scopes in requirement.items():
                if name in self.broken_schemes:
                    raise BrokenReference(security.location(index, name), self.broken_schemes[name])
                if name not in self.schemes:
                    defined = ", ".join(sorted(self.schemes)) or "none"
                    raise BrokenReference(
                        security.location(index, name),
                        f"unknown security scheme `{name}` (defined: {defined})",
                    )
                kind = self.schemes[name]
                listed = [str(s) for s in scopes] if isinstance(scopes, list) else []
                listed = [s for s in listed if s != PUBLIC_SCOPE]
                if kind not in SCOPED_TYPES or not listed:
                    continue  # a credential of this scheme, no particular scope
                if self.settings.scopes == "any-of":
                    options.append([(scope,) for scope in listed])
                else:
                    options.append([tuple(listed)])
            if not options:
                alternatives.append(())  # a credential of these schemes, whatever its scopes
                continue
            for combination in itertools.islice(itertools.product(*options), MAX_ALTERNATIVES):
                alternatives.append(tuple(sorted({s for part in combination for s in part})))
        return tuple(alternatives)
