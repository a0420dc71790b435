"""Service specs: scopes, operations, collections, containers and PostgreSQL services."""

from __future__ import annotations

import re
from dataclasses import replace
from typing import Any

from harness.model import (
    METHOD_RISK,
    Answer,
    Collection,
    ContainerSpec,
    HealthCheck,
    Operation,
    Service,
)
from harness.permission_models import ModelSpec, read_models, service_views
from harness.routing import (
    ambiguity_problem,
    malformed_params,
    path_problem,
    template_params,
)
from harness.scopes import Requirement, ScopeUniverse
from harness.sql import Table, privilege_operations, scope_universe
from harness.workspace.base import LoaderBase, defined_names, suggest
from harness.workspace.operation_requirements import read_operation_requirements
from harness.workspace.pack_loading import pack_of
from harness.workspace.service_options import read_routing, read_upload_sessions
from harness.workspace.units import parse_duration
from harness.workspace.yaml_source import YamlDocument


class ServiceSection(LoaderBase):
    """Reads the service specs (mocks/) into Services."""

    def _services(self, documents: list[YamlDocument]) -> dict[str, Service]:
        services: dict[str, Service] = {}
        for document in documents:
            service = self._service(document)
            if service is None:
                self.maybe_defined.update(defined_names(document.data))
                continue
            if service.name in services:
                self._fail(
                    document.location(("service",)),
                    f"service `{service.name}` is already defined at {services[service.name].location}",
                    "give each service spec its own `service:` name",
                )
                continue
            services[service.name] = service
        return services

    def _service(self, doc: YamlDocument) -> Service | None:
        data: dict[str, Any] = doc.data
        if data.get("kind") == "postgres":
            return self._postgres_service(doc, data)
        name = data["service"]
        before = len(self.errors)
        models, problems = read_models(data, lambda path, key: doc.location(path, key=key))
        for where, problem, hint in problems:
            self._fail(where, problem, hint)
        universe = models[0].universe
        hosts = tuple(host.lower() for host in data["hosts"])
        regions = tuple(
            sorted((host.lower(), region) for host, region in data.get("regions", {}).items())
        )
        for host, _ in regions:
            if host not in hosts:
                self._fail(
                    doc.location(("regions", host), key=True),
                    f"region given for `{host}`, which is not one of `hosts`",
                    f"add it to hosts, or use one of: {', '.join(hosts)}",
                )
        collections = {
            cname: Collection(spec.get("id_prefix", f"{cname[:1]}_"), tuple(spec.get("seed", ())))
            for cname, spec in data.get("collections", {}).items()
        }
        operations: list[tuple[Operation, dict[str, Operation]]] = []
        seen_ids: dict[str, int] = {}
        seen_routes: dict[tuple[str, str], str] = {}
        routing = read_routing(data)
        value_maps = data.get("value_maps", {})
        for index, op_data in enumerate(data["operations"]):
            built = self._operation(doc, name, index, op_data, models, collections, value_maps)
            if built is None:
                continue
            operation = built[0]
            if operation.id in seen_ids:
                self._fail(
                    doc.location(("operations", index, "id")),
                    f"operation id `{operation.id}` is used twice in service `{name}`",
                    "give each operation a unique id",
                )
                continue
            # `{a}` and `{b}` are the same route; `{+a}` (spanning segments) is another
            shape = re.sub(r"\{(\+?)[^}]+\}", r"{\1}", operation.path)
            if routing.case_insensitive:
                shape = shape.lower()
            clash = next(
                (
                    seen_routes[(method, shape)]
                    for method in (operation.method, *operation.methods)
                    if (method, shape) in seen_routes
                ),
                None,
            )
            if clash is not None:
                self._fail(
                    doc.location(("operations", index, "path")),
                    f"{operation.method} {operation.path} is already served by operation `{clash}`",
                    "two operations cannot share a method and path template",
                )
                continue
            seen_ids[operation.id] = index
            for method in (operation.method, *operation.methods):
                seen_routes[(method, shape)] = operation.id
            operations.append(built)
        if len(self.errors) > before:
            return None
        base = Service(
            name=name,
            title=data.get("title", name),
            hosts=hosts,
            regions=regions,
            opaque=bool(data.get("opaque", False)),
            scopes=(),
            operations=(),
            collections=tuple(sorted(collections.items())),
            location=doc.location(("service",)),
            universe=universe,
            container=_container(doc, data["container"]) if "container" in data else None,
            token_params=tuple(data.get("token_params", ("access_token",))),
            routing=routing,
            upload_sessions=read_upload_sessions(data),
            version=str(data.get("version", "")),
            pack=pack_of(doc),
        )
        views = service_views(base, models, operations)
        self._model_views.extend(views[1:])
        return views[0]

    def _postgres_service(self, doc: YamlDocument, data: dict[str, Any]) -> Service | None:
        """A database whose privileges are scopes: see harness.sql."""
        name = data["service"]
        tables: list[Table] = []
        before = len(self.errors)
        for table_name, spec in data["tables"].items():
            columns = tuple((column, str(kind)) for column, kind in spec["columns"].items())
            declared = {column for column, _ in columns}
            for row_index, row in enumerate(spec.get("seed", ())):
                for column in row:
                    if column not in declared:
                        self._fail(
                            doc.location(
                                ("tables", table_name, "seed", row_index, column), key=True
                            ),
                            f"seed row sets `{column}`, which is not a column of `{table_name}`",
                            suggest(column, declared),
                        )
            tables.append(Table(table_name, columns, tuple(spec.get("seed", ()))))
        if len(self.errors) > before:
            return None
        implies = scope_universe(tables)
        operations = tuple(
            Operation(
                service=name,
                id=operation_id,
                method="SQL",
                path=scope,
                requires=Requirement.single(scope),
                risk=risk,
                resources=(),
                answer=Answer("recorded"),
                location=doc.location(("tables", table_name), key=True),
            )
            for table_name, operation_id, scope, risk in privilege_operations(tables)
        )
        return Service(
            name=name,
            title=data.get("title", name),
            hosts=(),
            regions=(),
            opaque=False,
            scopes=tuple((scope, "") for scope in sorted(implies)),
            operations=operations,
            collections=(),
            location=doc.location(("service",)),
            universe=ScopeUniverse(implies),
            kind="postgres",
            tables=tuple(tables),
        )

    def _operation(
        self,
        doc: YamlDocument,
        service: str,
        index: int,
        data: dict[str, Any],
        models: tuple[ModelSpec, ...],
        collections: dict[str, Collection],
        value_maps: dict[str, Any],
    ) -> tuple[Operation, dict[str, Operation]] | None:
        """The operation in the default model, and in each model by name."""
        base = ("operations", index)
        ok = True
        problem = path_problem(data["path"])
        if problem:
            ok = False
            self._fail(
                doc.location((*base, "path")),
                problem,
                "write a template: literal segments, `{name}` for one segment and `{+name}` "
                "for several (e.g. `/repos/{owner}/{repo}/readme/{+dir}`), without the query",
            )
        for written in malformed_params(data["path"]):
            ok = False
            self._fail(
                doc.location((*base, "path")),
                f"`{written}` in `{data['path']}` is not a path parameter",
                "write `{name}` for one path segment or `{+name}` for several, the name made "
                "of letters, digits and _",
            )
        ambiguous = ambiguity_problem(data["path"])
        if ambiguous:
            ok = False
            self._fail(
                doc.location((*base, "path")),
                ambiguous,
                "put literal text between parameters (`{name}.{ext}`), and let at most one "
                "parameter span several segments (`{+path}`)",
            )
        params = template_params(data["path"])
        repeated = sorted({param for param in params if params.count(param) > 1})
        if repeated:
            ok = False
            self._fail(
                doc.location((*base, "path")),
                f"path parameter `{{{repeated[0]}}}` appears more than once in `{data['path']}`",
                "give each path parameter its own name",
            )
        requirements = read_operation_requirements(
            str(data["id"]),
            data,
            params,
            models,
            value_maps,
            lambda path, problem, hint: self._fail(doc.location((*base, *path)), problem, hint),
        )
        if requirements is None:
            ok = False
        resources = tuple(sorted(data.get("resources", {}).items()))
        for key, locator in resources:
            if locator.startswith("path.") and locator[5:] not in params:
                ok = False
                self._fail(
                    doc.location((*base, "resources", key)),
                    f"resource `{key}` reads `{locator}`, but the path has no `{{{locator[5:]}}}`",
                    f"path parameters here: {', '.join(params) or 'none'}",
                )
        answer = _answer(data.get("answer", "recorded"))
        if answer.kind == "collection":
            if answer.collection not in collections:
                ok = False
                self._fail(
                    doc.location((*base, "answer", "collection")),
                    f"collection `{answer.collection}` is not declared under `collections`",
                    suggest(answer.collection, collections),
                )
            needs_id = answer.action in ("read", "update", "delete")
            if needs_id and answer.id_param not in params:
                ok = False
                self._fail(
                    doc.location((*base, "answer")),
                    f"action `{answer.action}` needs `id:` naming a path parameter",
                    f"path parameters here: {', '.join(params) or 'none'}",
                )
        if not ok or requirements is None:
            return None
        written = data["method"]
        methods = tuple(dict.fromkeys([written] if isinstance(written, str) else written))
        default = requirements.default
        operation = Operation(
            service=service,
            id=data["id"],
            method=methods[0],
            path=data["path"],
            requires=default.requires,
            risk=data.get("risk", METHOD_RISK.get(methods[0], "write")),
            resources=resources,
            answer=answer,
            location=doc.location(base),
            methods=methods[1:],
            conditional=default.conditional,
            creates=requirements.creates,
            reveals=requirements.reveals,
            least=default.least,
        )
        per_model = {
            model: replace(
                operation,
                requires=found.requires,
                conditional=found.conditional,
                least=found.least,
            )
            for model, found in requirements.by_model[1:]
        }
        return operation, per_model

    # -- policy ---------------------------------------------------------------------------


SPECIAL_REQUIREMENTS = {"none": Requirement.public(), "authenticated": Requirement.authenticated()}


def _answer(data: Any) -> Answer:
    if data == "recorded":
        return Answer("recorded")
    if "static" in data:
        static = data["static"]
        return Answer(
            "static",
            status=static.get("status", 200),
            json=static.get("json"),
            headers=tuple(sorted(static.get("headers", {}).items())),
        )
    return Answer(
        "collection",
        collection=data["collection"],
        action=data["action"],
        id_param=data.get("id", ""),
    )


def _container(doc: YamlDocument, data: dict[str, Any]) -> ContainerSpec:
    health = data.get("health", {"http": "/"})
    if "command" in health:
        check = HealthCheck("command", command=tuple(health["command"]))
    elif "tcp" in health:
        check = HealthCheck("tcp")
    else:
        check = HealthCheck("http", path=health["http"])
    return ContainerSpec(
        image=data["image"],
        port=data.get("port", 8080),
        role=data.get("role", "upstream"),
        environment=tuple(sorted((k, str(v)) for k, v in data.get("environment", {}).items())),
        command=tuple(data.get("command", ())),
        mounts=tuple(sorted(data.get("mounts", {}).items())),
        health=check,
        start_timeout_seconds=parse_duration(data.get("start_timeout", "60s")),
        location=doc.location(("container",)),
    )
