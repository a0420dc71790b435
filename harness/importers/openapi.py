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
from harness.importers._source import PathKey, SourceDocument, describe_path
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

HTTP_METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")
SCOPED_TYPES = frozenset({"oauth2", "openIdConnect"})
CREDENTIAL_TYPES = frozenset({"apiKey", "http", "basic", "mutualTLS"})
PUBLIC_SCOPE = "none"
MAX_ALTERNATIVES = 256


class Unresolvable(Exception):
    """A `$ref` that cannot be followed; the caller skips what contains it."""

    def __init__(self, path: PathKey, reason: str) -> None:
        super().__init__(reason)
        self.path = path
        self.reason = reason


def resolve(document: SourceDocument, value: Any, path: PathKey) -> tuple[Any, PathKey]:
    """Follow local `$ref`s from `value` (found at `path`) to the value they name."""
    seen: set[str] = set()
    while isinstance(value, dict) and "$ref" in value:
        ref = value["$ref"]
        if not isinstance(ref, str) or not ref.startswith("#"):
            raise Unresolvable(
                (*path, "$ref"),
                f"external $ref {ref!r} is not supported (bundle the document into one file first)",
            )
        if ref in seen:
            raise Unresolvable((*path, "$ref"), f"$ref {ref!r} refers to itself in a cycle")
        seen.add(ref)
        target: Any = document.data
        parts = [
            part.replace("~1", "/").replace("~0", "~") for part in ref[1:].split("/")[1:] if ref[1:]
        ]
        walked: list[str | int] = []
        for part in parts:
            if isinstance(target, dict) and part in target:
                target = target[part]
                walked.append(part)
            elif isinstance(target, list) and part.isdigit() and int(part) < len(target):
                target = target[int(part)]
                walked.append(int(part))
            else:
                missing = "/".join(["#", *map(str, walked), part])
                raise Unresolvable(
                    (*path, "$ref"),
                    f"$ref {ref!r} does not resolve: nothing at {missing!r}",
                )
        value, path = target, tuple(walked)
    return value, path


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
        self.schemes: dict[str, tuple[str, PathKey]] = {}  # name -> (type, location path)
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
        hosts, base = [], urlsplit(first).path
        for server in servers:
            if not isinstance(server, dict):
                continue
            parts = urlsplit(self._server_url(server))
            if parts.hostname and parts.path == base:
                hosts.append(parts.netloc.lower())
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
        root_security = self.data.get("security")
        for raw_path, item in paths.items():
            if str(raw_path).startswith("x-"):
                continue
            self._path_item(str(raw_path), item, root_security)
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
        for name, raw in container.items():
            path: PathKey = (*base, name)
            try:
                scheme, path = resolve(self.document, raw, path)
            except Unresolvable as err:
                self.broken_schemes[name] = f"{err.reason} (at {self.location(err.path)})"
                continue
            kind = scheme.get("type") if isinstance(scheme, dict) else None
            if kind not in SCOPED_TYPES and kind not in CREDENTIAL_TYPES:
                self.broken_schemes[name] = (
                    f"security scheme `{name}` has unknown type {kind!r} "
                    f"(at {self.location((*path, 'type'))}); known: "
                    + ", ".join(sorted(SCOPED_TYPES | CREDENTIAL_TYPES))
                )
                continue
            self.schemes[name] = (str(kind), path)
            if kind == "oauth2":
                self._declare_scopes(scheme)

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

    def _path_item(self, raw_path: str, item: Any, root_security: Any) -> None:
        item_path: PathKey = ("paths", raw_path)
        try:
            item, _ = resolve(self.document, item, item_path)
        except Unresolvable as err:
            self.draft.skip(self.location(err.path), f"path {raw_path}", err.reason)
            return
        if not isinstance(item, dict):
            self.draft.skip(self.location(item_path), f"path {raw_path}", "it is not an object")
            return
        methods = [m for m in HTTP_METHODS if m in item]
        for method in methods:
            where: PathKey = (*item_path, method)
            what = f"{method.upper()} {raw_path}"
            if method == "trace":
                self.draft.skip(
                    self.location(where), what, "TRACE is not a method the sandbox serves"
                )
                continue
            try:
                operation, _ = resolve(self.document, item[method], where)
            except Unresolvable as err:
                self.draft.skip(self.location(err.path), what, err.reason)
                continue
            if not isinstance(operation, dict):
                self.draft.skip(self.location(where), what, "the operation is not an object")
                continue
            security_path: PathKey = (*where, "security")
            security = operation.get("security")
            if security is None:
                security, security_path = root_security, ("security",)
            try:
                requires = self._requirement(security, security_path)
            except Unresolvable as err:
                self.draft.skip(self.location(err.path), what, err.reason)
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
                    id=self._operation_id(operation, method, raw_path, len(methods)),
                    method=method.upper(),
                    path=path,
                    requires=requires,
                    location=self.location(where),
                )
            )

    def _operation_id(self, operation: dict[str, Any], method: str, path: str, count: int) -> str:
        if self.settings.operation_ids == "path":
            if count == 1 and not re.search(r"[{}]", path):
                return operation_id(path.strip("/"))
            return path_id(method, path)
        given = operation.get("operationId")
        return operation_id(str(given)) if given else path_id(method, path)

    def _requirement(self, security: Any, path: PathKey) -> tuple[tuple[str, ...], ...]:
        """Any-of alternatives from a security requirement list; () means public, and an empty
        alternative that any credential of the listed schemes is enough."""
        if security is None:
            return ()
        if not isinstance(security, list):
            raise Unresolvable(path, f"`{describe_path(path)}` must be a list of requirements")
        alternatives: list[tuple[str, ...]] = []
        for index, requirement in enumerate(security):
            where: PathKey = (*path, index)
            if not isinstance(requirement, dict):
                raise Unresolvable(where, "a security requirement must be an object")
            if not requirement:
                return ()  # `{}`: this alternative needs no credential, the operation is public
            options: list[list[tuple[str, ...]]] = []
            for name, scopes in requirement.items():
                if name in self.broken_schemes:
                    raise Unresolvable((*where, name), self.broken_schemes[name])
                if name not in self.schemes:
                    defined = ", ".join(sorted(self.schemes)) or "none"
                    raise Unresolvable(
                        (*where, name),
                        f"unknown security scheme `{name}` (defined: {defined})",
                    )
                kind, _ = self.schemes[name]
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
