"""Loading a workspace: find files, parse, validate, build the model, cross-check references.

Errors are collected rather than raised one at a time, so a user sees every
problem of a workspace in one run; they are raised together as InputErrors.
"""

from __future__ import annotations

import difflib
import gc
import hashlib
import re
from collections.abc import Iterable
from dataclasses import replace
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from harness import cache
from harness.config import load_settings
from harness.errors import InputError, InputErrors, Location
from harness.model import (
    METHOD_RISK,
    Answer,
    Binding,
    Collection,
    Connector,
    ContainerSpec,
    Credential,
    Flow,
    GrantSource,
    HealthCheck,
    Mark,
    Operation,
    Policy,
    Role,
    ScopeConflict,
    Service,
    Settings,
    Step,
    Waiver,
    Workspace,
)
from harness.routing import Router, split_url, template_params
from harness.scopes import Grant, Requirement, ScopeUniverse, is_pattern
from harness.sql import RISK as SQL_RISK
from harness.sql import (
    SqlProblem,
    Table,
    expand_grant,
    privilege_operations,
    scope_universe,
    statement_needs,
)
from harness.units import parse_date, parse_duration
from harness.validation import validate
from harness.yamlsource import YamlDocument, load_yaml

TEMPLATE = re.compile(r"\{\{\s*([A-Za-z_][A-Za-z0-9_.-]*)\s*\}\}")


def load_workspace(root: Path | str) -> Workspace:
    """Load and cross-check the workspace at `root`; raise InputErrors listing every problem."""
    root = Path(root)
    if not root.is_dir():
        raise InputError(
            Location(str(root)),
            "the workspace is a file, not a directory"
            if root.exists()
            else "the workspace directory does not exist",
            "pass the directory that holds mocks/ and scenarios/",
        )
    settings = load_settings(root)
    loader = _Loader(root, settings)
    # Loading builds millions of small acyclic objects that all stay alive; the cyclic
    # garbage collector would walk the growing heap again and again for nothing.
    collecting = gc.isenabled()
    gc.disable()
    try:
        return loader.load()
    finally:
        if collecting:
            gc.enable()


def workspace_from_data(
    services: list[dict[str, Any]],
    policies: list[dict[str, Any]],
    settings: Settings | None = None,
) -> Workspace:
    """Build a workspace from in-memory data, with the same validation as files get.

    Errors point at `<service N>` / `<policy N>` pseudo-files; tests and
    Hypothesis strategies use this to skip the file system.
    """
    loader = _Loader(Path("<memory>"), settings or Settings())
    documents: list[list[YamlDocument]] = [[], []]
    for group, (kind, items) in enumerate((("service", services), ("policy", policies))):
        for index, data in enumerate(items):
            document = YamlDocument(path=Path(f"<{kind} {index}>"), data=data)
            problems = validate(document, kind, what=f"a {kind} document")
            loader.errors.extend(problems)
            if problems:
                loader.unreadable.add(kind)
            else:
                documents[group].append(document)
    return loader.build(documents[0], documents[1])


def scenario_files(root: Path | str) -> list[Path]:
    """The policy documents of the workspace at `root` (its configured scenario directories)."""
    root = Path(root)
    return _yaml_files(root, load_settings(root).scenarios)


def _yaml_files(root: Path, directories: Iterable[str]) -> list[Path]:
    files: list[Path] = []
    for directory in directories:
        base = root / directory
        if base.is_dir():
            files.extend(
                p for p in base.rglob("*") if p.suffix in (".yaml", ".yml") and p.is_file()
            )
    return sorted(set(files))


def _suggest(name: str, known: Iterable[str]) -> str:
    known = sorted(known)
    close = difflib.get_close_matches(name, known, n=1)
    if close:
        return f"did you mean `{close[0]}`?"
    if not known:
        return "none are defined yet"
    shown = ", ".join(known[:12]) + (", ..." if len(known) > 12 else "")
    return f"known: {shown}"


class _Loader:
    def __init__(self, root: Path, settings: Settings) -> None:
        self.root = root
        self.settings = settings
        self.errors: list[InputError] = []
        # Kinds ("service", "policy") of which a document failed to load: a name that
        # seems undefined may be defined there, so dangling references are not reported.
        self.unreadable: set[str] = set()
        self._all_services: dict[str, Service] = {}
        self._statements: dict[str, dict[str, Operation]] = {}  # database -> id -> statement

    def _relative(self, path: Path) -> Path:
        try:
            return path.relative_to(Path.cwd())
        except ValueError:
            return path

    def _read(self, path: Path, kind: str, what: str) -> YamlDocument | None:
        try:
            document = load_yaml(self._relative(path), max_bytes=self.settings.max_file_bytes)
        except InputError as err:
            self.errors.append(err)
            self.unreadable.add(kind)
            return None
        problems = validate(document, kind, what=what)
        if problems:
            self.errors.extend(problems)
            self.unreadable.add(kind)
            return None
        return document

    def _fail(self, location: Location, problem: str, hint: str = "") -> None:
        self.errors.append(InputError(location, problem, hint))

    def _dangling(self, kind: str, location: Location, problem: str, hint: str) -> None:
        """A reference to an undefined name, unless a `kind` document failed to load."""
        if kind not in self.unreadable:
            self._fail(location, problem, hint)

    def load(self) -> Workspace:
        service_files = _yaml_files(self.root, self.settings.mocks)
        policy_files = _yaml_files(self.root, self.settings.scenarios)
        if not service_files and not policy_files:
            raise InputError(
                Location(str(self.root)),
                "no workspace files found",
                f"put service specs under {', '.join(self.settings.mocks)}/ and policy documents "
                f"under {', '.join(self.settings.scenarios)}/, or configure them in "
                "connector-harness.yaml",
            )
        key = cache.cache_key(str(self.root), self._inputs())
        cached = cache.lookup(key)
        if cached is not None:
            return cached
        service_documents = [self._read(p, "service", "a service spec") for p in service_files]
        documents = [self._read(p, "policy", "a policy document") for p in policy_files]
        workspace = self.build(
            [d for d in service_documents if d is not None], [d for d in documents if d is not None]
        )
        cache.store(key, workspace)
        return workspace

    def _inputs(self) -> list[Path]:
        """Every file the workspace may read: specs, documents, sidecar bodies, settings."""
        files = [self.root / name for name in ("connector-harness.yaml", "pyproject.toml")]
        for directory in (*self.settings.mocks, *self.settings.scenarios):
            files.extend((self.root / directory).rglob("*"))
        return sorted({f for f in files if f.is_file()})

    def build(
        self, service_documents: list[YamlDocument], documents: list[YamlDocument]
    ) -> Workspace:
        """The model from parsed documents; raise InputErrors listing every problem."""
        services = self._services(service_documents)
        connectors = self._connectors(documents, services)
        roles = self._roles(documents, services)
        bindings = self._bindings(documents, connectors, roles)
        flows = self._flows(documents, connectors, services)
        for name, statements in self._statements.items():
            services[name] = replace(services[name], statements=tuple(statements.values()))
        waivers = self._waivers(documents, services, {b.name for b in bindings})
        policy = self._policy(documents, services)
        if self.errors:
            raise InputErrors(self.errors)
        return Workspace(
            root=str(self.root),
            settings=self.settings,
            services=tuple(sorted(services.values(), key=lambda s: s.name)),
            connectors=tuple(sorted(connectors.values(), key=lambda c: c.name)),
            roles=tuple(sorted(roles.values(), key=lambda r: r.name)),
            bindings=tuple(sorted(bindings, key=lambda b: (b.connector, b.env))),
            flows=tuple(sorted(flows, key=lambda f: (f.connector, f.name))),
            waivers=tuple(waivers),
            policy=policy,
        )

    def _grants(
        self,
        doc: YamlDocument,
        base: tuple[str | int, ...],
        data: dict[str, list[str]],
        services: dict[str, Service],
        owner: str,
    ) -> list[tuple[str, Grant, Location]]:
        """`{service: [grants]}` of `owner` checked against the services' declared scopes."""
        found: list[tuple[str, Grant, Location]] = []
        for service_name, texts in data.items():
            service = services.get(service_name)
            if service is None:
                self._dangling(
                    "service",
                    doc.location((*base, service_name), key=True),
                    f"{owner} grants scopes of `{service_name}`, which is not a service",
                    _suggest(service_name, services),
                )
                continue
            for position, text in enumerate(texts):
                where = doc.location((*base, service_name, position))
                if service.kind == "postgres":
                    try:
                        expanded = expand_grant(text, {t.name: t for t in service.tables})
                    except SqlProblem as problem:
                        self._fail(where, problem.problem, problem.hint)
                        continue
                    found.extend((service_name, Grant(scope), where) for scope in expanded)
                    continue
                grant = Grant.parse(text)
                if service.universe.undeclared(grant.scope):
                    kind = "pattern" if is_pattern(grant.scope) else "scope"
                    self._fail(
                        where,
                        f"{kind} `{grant.scope}` matches no scope of service `{service_name}`",
                        _suggest(grant.scope, service.universe.names),
                    )
                    continue
                found.append((service_name, grant, where))
        return found

    def _waivers(
        self, documents: list[YamlDocument], services: dict[str, Service], bindings: set[str]
    ) -> list[Waiver]:
        waivers = []
        for doc, index, data in self._entries(documents, "waivers"):
            base = ("waivers", index)
            if data["binding"] not in bindings:
                self._dangling(
                    "policy",
                    doc.location((*base, "binding")),
                    f"waiver for binding `{data['binding']}`, which is not defined",
                    _suggest(data["binding"], bindings),
                )
            grants = self._grants(
                doc,
                (*base, "grants"),
                data["grants"],
                services,
                f"the waiver for {data['binding']}",
            )
            expires = self._date(doc, (*base, "expires"), data["expires"])
            if expires is None:
                continue
            waivers.append(
                Waiver(
                    binding=data["binding"],
                    grants=tuple(sorted((service, grant) for service, grant, _ in grants)),
                    reason=data["reason"],
                    owner=data["owner"],
                    ticket=data.get("ticket", ""),
                    approved_by=data["approved_by"],
                    expires=expires,
                    location=doc.location(base),
                )
            )
        return waivers

    def _policy(self, documents: list[YamlDocument], services: dict[str, Service]) -> Policy:
        sections = [doc for doc in documents if doc.data and "policy" in doc.data]
        for extra in sections[1:]:
            self._fail(
                extra.location(("policy",), key=True),
                f"a second `policy:` section (the first is in {sections[0].path})",
                "keep one policy section per workspace",
            )
        if not sections:
            return Policy()
        doc = sections[0]
        data: dict[str, Any] = doc.data["policy"]
        defaults = Policy()
        conflicts = []
        for index, entry in enumerate(data.get("conflicting_scopes", ())):
            scopes = []
            for position, text in enumerate(entry["scopes"]):
                service, _, scope = text.partition(":")
                where = doc.location(("policy", "conflicting_scopes", index, "scopes", position))
                if service not in services:
                    self._fail(
                        where,
                        f"`{service}` is not a service of this workspace",
                        _suggest(service, services),
                    )
                elif services[service].universe.undeclared(scope):
                    self._fail(
                        where,
                        f"`{scope}` matches no scope of service `{service}`",
                        _suggest(scope, services[service].universe.names),
                    )
                scopes.append((service, scope))
            conflicts.append(
                ScopeConflict(
                    entry["name"],
                    tuple(scopes),
                    doc.location(("policy", "conflicting_scopes", index)),
                )
            )
        duties = data.get("duties", {})
        volume = data.get("volume", {})
        lifetime = data.get("max_credential_lifetime")
        rotation = data.get("max_rotation")
        return Policy(
            max_credential_lifetime_seconds=parse_duration(lifetime)
            if lifetime
            else defaults.max_credential_lifetime_seconds,
            max_rotation_seconds=parse_duration(rotation)
            if rotation
            else defaults.max_rotation_seconds,
            prod_environments=tuple(data.get("prod_environments", defaults.prod_environments)),
            deployers=tuple(duties.get("deploy", ())),
            approvers=tuple(duties.get("approve", ())),
            conflicting_scopes=tuple(conflicts),
            max_calls_per_flow=volume.get("max_calls_per_flow", defaults.max_calls_per_flow),
            max_response_bytes=volume.get("max_response_bytes", defaults.max_response_bytes),
            location=doc.location(("policy",), key=True),
        )

    # -- services -------------------------------------------------------------------------

    def _services(self, documents: list[YamlDocument]) -> dict[str, Service]:
        services: dict[str, Service] = {}
        for document in documents:
            service = self._service(document)
            if service is None:
                self.unreadable.add("service")
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
        scope_data: dict[str, Any] = data["scopes"]
        implies = {
            scope: tuple((spec or {}).get("implies", ())) for scope, spec in scope_data.items()
        }
        universe = ScopeUniverse(implies)
        before = len(self.errors)
        for scope, targets in implies.items():
            for index, target in enumerate(targets):
                if universe.undeclared(target):
                    self._fail(
                        doc.location(("scopes", scope, "implies", index)),
                        f"scope `{scope}` implies `{target}`, which is not declared in `scopes`",
                        _suggest(target, universe.names),
                    )
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
        operations: list[Operation] = []
        seen_ids: dict[str, int] = {}
        seen_routes: dict[tuple[str, str], str] = {}
        for index, op_data in enumerate(data["operations"]):
            operation = self._operation(doc, name, index, op_data, universe, collections)
            if operation is None:
                continue
            if operation.id in seen_ids:
                self._fail(
                    doc.location(("operations", index, "id")),
                    f"operation id `{operation.id}` is used twice in service `{name}`",
                    "give each operation a unique id",
                )
                continue
            # `{a}` and `{b}` are the same route; `{+a}` (spanning segments) is another
            route = (operation.method, re.sub(r"\{(\+?)[^}]+\}", r"{\1}", operation.path))
            if route in seen_routes:
                self._fail(
                    doc.location(("operations", index, "path")),
                    f"{operation.method} {operation.path} is already served by operation "
                    f"`{seen_routes[route]}`",
                    "two operations cannot share a method and path template",
                )
                continue
            seen_ids[operation.id] = index
            seen_routes[route] = operation.id
            operations.append(operation)
        if len(self.errors) > before:
            return None
        return Service(
            name=name,
            title=data.get("title", name),
            hosts=hosts,
            regions=regions,
            opaque=bool(data.get("opaque", False)),
            scopes=tuple(
                sorted(
                    (scope, (spec or {}).get("description", ""))
                    for scope, spec in scope_data.items()
                )
            ),
            operations=tuple(operations),
            collections=tuple(sorted(collections.items())),
            location=doc.location(("service",)),
            universe=universe,
            scope_locations=tuple(
                sorted((scope, doc.location(("scopes", scope), key=True)) for scope in scope_data)
            ),
            container=_container(doc, data["container"]) if "container" in data else None,
            token_params=tuple(data.get("token_params", ("access_token",))),
        )

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
                            _suggest(column, declared),
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
        universe: ScopeUniverse,
        collections: dict[str, Collection],
    ) -> Operation | None:
        base = ("operations", index)
        requires = _requirement(data["requires"])
        ok = True
        for scope in sorted(requires.scopes()):
            if scope not in universe:
                ok = False
                self._fail(
                    doc.location((*base, "requires")),
                    f"operation `{data['id']}` requires `{scope}`, which is not declared in `scopes`",
                    _suggest(scope, universe.names),
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
                    _suggest(answer.collection, collections),
                )
            needs_id = answer.action in ("read", "update", "delete")
            if needs_id and answer.id_param not in params:
                ok = False
                self._fail(
                    doc.location((*base, "answer")),
                    f"action `{answer.action}` needs `id:` naming a path parameter",
                    f"path parameters here: {', '.join(params) or 'none'}",
                )
        if not ok:
            return None
        method = data["method"]
        return Operation(
            service=service,
            id=data["id"],
            method=method,
            path=data["path"],
            requires=requires,
            risk=data.get("risk", METHOD_RISK.get(method, "write")),
            resources=resources,
            answer=answer,
            location=doc.location(base),
        )

    # -- policy ---------------------------------------------------------------------------

    def _entries(
        self, documents: list[YamlDocument], section: str
    ) -> Iterable[tuple[YamlDocument, int, dict[str, Any]]]:
        for document in documents:
            for index, entry in enumerate(document.data.get(section, ()) if document.data else ()):
                yield document, index, entry

    def _unique(self, seen: dict[str, Location], name: str, kind: str, where: Location) -> bool:
        if name in seen:
            self._fail(
                where,
                f"{kind} `{name}` is already defined at {seen[name]}",
                f"{kind} names are unique across the workspace; rename one of them",
            )
            return False
        seen[name] = where
        return True

    def _connectors(
        self, documents: list[YamlDocument], services: dict[str, Service]
    ) -> dict[str, Connector]:
        connectors: dict[str, Connector] = {}
        seen: dict[str, Location] = {}
        for doc, index, data in self._entries(documents, "connectors"):
            base = ("connectors", index)
            if not self._unique(seen, data["name"], "connector", doc.location((*base, "name"))):
                continue
            credential = data["credential"]
            for position, audience in enumerate(credential.get("audience", ())):
                if audience not in services:
                    self._dangling(
                        "service",
                        doc.location((*base, "credential", "audience", position)),
                        f"audience `{audience}` is not a service of this workspace",
                        _suggest(audience, services),
                    )
            connectors[data["name"]] = Connector(
                name=data["name"],
                description=data.get("description", ""),
                owner=data["owner"],
                kind=data.get("kind", "service-account"),
                credential=Credential(
                    type=credential["type"],
                    lifetime_seconds=parse_duration(credential["lifetime"]),
                    audience=tuple(credential.get("audience", ())),
                    rotation_seconds=parse_duration(credential["rotation"])
                    if "rotation" in credential
                    else None,
                    lifetime_location=doc.location((*base, "credential", "lifetime")),
                    rotation_location=doc.location((*base, "credential", "rotation"))
                    if "rotation" in credential
                    else doc.location((*base, "credential"), key=True),
                ),
                allowed_hosts=tuple(host.lower() for host in data["allowed_hosts"]),
                regions=tuple(data.get("regions", ())),
                location=doc.location(base),
            )
        return connectors

    def _date(self, doc: YamlDocument, path: tuple[str | int, ...], text: str | None) -> Any:
        if text is None:
            return None
        try:
            return parse_date(text)
        except ValueError as err:
            self._fail(
                doc.location(path),
                f"`{text}` is not a real date ({err})",
                "write a date as YYYY-MM-DD",
            )
            return None

    def _roles(
        self, documents: list[YamlDocument], services: dict[str, Service]
    ) -> dict[str, Role]:
        roles: dict[str, Role] = {}
        extends_at: dict[tuple[str, str], Location] = {}
        seen: dict[str, Location] = {}
        for doc, index, data in self._entries(documents, "roles"):
            base = ("roles", index)
            if not self._unique(seen, data["name"], "role", doc.location((*base, "name"))):
                continue
            for position, parent in enumerate(data.get("extends", ())):
                extends_at[(data["name"], parent)] = doc.location((*base, "extends", position))
            grants = [
                GrantSource(service, grant, data["name"], where)
                for service, grant, where in self._grants(
                    doc, (*base, "grants"), data["grants"], services, f"role `{data['name']}`"
                )
            ]
            review = data.get("review_every")
            roles[data["name"]] = Role(
                name=data["name"],
                description=data.get("description", ""),
                owner=data.get("owner", ""),
                review_every_days=parse_duration(review) // 86400 if review else None,
                last_reviewed=self._date(doc, (*base, "last_reviewed"), data.get("last_reviewed")),
                extends=tuple(data.get("extends", ())),
                grants=tuple(grants),
                location=doc.location(base),
                grants_location=doc.location((*base, "grants")),
            )
        for (name, parent), where in extends_at.items():
            if parent not in roles:
                self._dangling(
                    "policy",
                    where,
                    f"role `{name}` extends `{parent}`, which is not a role",
                    _suggest(parent, roles),
                )
        self._check_cycles(roles)
        return roles

    def _check_cycles(self, roles: dict[str, Role]) -> None:
        state: dict[str, str] = {}

        def visit(name: str, trail: list[str]) -> None:
            if state.get(name) == "done" or name not in roles:
                return
            if state.get(name) == "active":
                cycle = [*trail[trail.index(name) :], name]
                self._fail(
                    roles[name].location,
                    f"role inheritance cycle: {' -> '.join(cycle)}",
                    f"remove one `extends` entry so that `{name}` does not inherit from itself",
                )
                return
            state[name] = "active"
            for parent in roles[name].extends:
                visit(parent, [*trail, name])
            state[name] = "done"

        for name in sorted(roles):
            visit(name, [])

    def _bindings(
        self,
        documents: list[YamlDocument],
        connectors: dict[str, Connector],
        roles: dict[str, Role],
    ) -> list[Binding]:
        bindings: list[Binding] = []
        seen: dict[str, Location] = {}
        for doc, index, data in self._entries(documents, "bindings"):
            base = ("bindings", index)
            where = doc.location(base)
            ok = self._unique(seen, f"{data['connector']}@{data['env']}", "binding", where)
            if data["connector"] not in connectors:
                ok = False
                self._dangling(
                    "policy",
                    doc.location((*base, "connector")),
                    f"binding refers to connector `{data['connector']}`, which is not defined",
                    _suggest(data["connector"], connectors),
                )
            for position, role in enumerate(data["roles"]):
                if role not in roles:
                    ok = False
                    self._dangling(
                        "policy",
                        doc.location((*base, "roles", position)),
                        f"binding refers to role `{role}`, which is not defined",
                        _suggest(role, roles),
                    )
            expires = self._date(doc, (*base, "expires"), data.get("expires"))
            if ok:
                bindings.append(
                    Binding(
                        data["connector"],
                        data["env"],
                        tuple(data["roles"]),
                        expires,
                        where,
                        tuple(Mark.parse(mark) for mark in data.get("marks", ())),
                    )
                )
        return bindings

    def _flows(
        self,
        documents: list[YamlDocument],
        connectors: dict[str, Connector],
        services: dict[str, Service],
    ) -> list[Flow]:
        router = Router(tuple(services.values()))
        self._all_services = services
        flows: list[Flow] = []
        seen: dict[str, Location] = {}
        for doc, index, data in self._entries(documents, "flows"):
            base = ("flows", index)
            if not self._unique(seen, data["name"], "flow", doc.location((*base, "name"))):
                continue
            if data["connector"] not in connectors:
                self._dangling(
                    "policy",
                    doc.location((*base, "connector")),
                    f"flow refers to connector `{data['connector']}`, which is not defined",
                    _suggest(data["connector"], connectors),
                )
                continue
            variables = dict(data.get("vars", {}))
            known = set(variables)
            steps = []
            for position, step_data in enumerate(data["steps"]):
                step = self._step(
                    doc, (*base, "steps", position), position, step_data, known, router
                )
                if step is not None:
                    steps.append(step)
                known.update(step_data.get("capture", {}))
            flows.append(
                Flow(
                    name=data["name"],
                    connector=data["connector"],
                    description=data.get("description", ""),
                    marks=tuple(Mark.parse(mark) for mark in data.get("marks", ())),
                    variables=tuple(sorted(variables.items())),
                    steps=tuple(steps),
                    location=doc.location(base),
                )
            )
        return flows

    def _sidecar(
        self, doc: YamlDocument, path: tuple[str | int, ...], name: str | None
    ) -> bytes | None:
        """The bytes of a sidecar body file next to `doc` (None when absent or unreadable)."""
        if name is None:
            return None
        target = (doc.path.parent / name).resolve()
        if not target.is_relative_to(doc.path.parent.resolve()) or not target.is_file():
            self._fail(
                doc.location(path),
                f"body file {name!r} does not exist next to this file",
                "write a path relative to this file's directory, e.g. flow.bodies/1-request.bin",
            )
            return None
        return target.read_bytes()

    def _sql_step(
        self,
        doc: YamlDocument,
        base: tuple[str | int, ...],
        index: int,
        data: dict[str, Any],
        known: set[str],
    ) -> Step | None:
        """A recorded SQL statement: its privileges become the requirement of an operation."""
        databases = sorted(s.name for s in self._all_services.values() if s.kind == "postgres")
        database = data.get("database") or (databases[0] if len(databases) == 1 else "")
        if database not in databases:
            where = (*base, "database") if "database" in data else (*base, "sql")
            self._dangling(
                "service",
                doc.location(where),
                f"no postgres service named `{database}`"
                if database
                else "the step does not say which database it runs on",
                f"write `database: NAME` with one of: {', '.join(databases) or 'none defined'}",
            )
            return None
        text: str = data["sql"]
        names = TEMPLATE.findall(text)
        for name in sorted(set(names)):
            if name not in known:
                self._fail(
                    doc.location((*base, "sql")),
                    f"`{{{{ {name} }}}}` is neither a flow variable nor captured by an earlier step",
                    f"add `{name}` under the flow's `vars:` ({_suggest(name, known)})",
                )
                return None
        counter = iter(range(1, len(names) + 1))
        parsable = TEMPLATE.sub(lambda _: f"${next(counter)}", text)
        service = self._all_services[database]
        try:
            needs = statement_needs(parsable, {t.name: t for t in service.tables})
        except SqlProblem as problem:
            self._fail(doc.location((*base, "sql")), problem.problem, problem.hint)
            return None
        normalized = " ".join(text.split())
        digest = hashlib.sha256(normalized.encode()).hexdigest()[:8]
        operation_id = f"sql.{needs.command.lower()}.{'+'.join(needs.tables)}.{digest}"
        self._statements.setdefault(database, {}).setdefault(
            operation_id,
            Operation(
                service=database,
                id=operation_id,
                method="SQL",
                path=normalized,
                requires=needs.requirement,
                risk=SQL_RISK[needs.command],
                resources=(),
                answer=Answer("recorded"),
                location=doc.location((*base, "sql")),
            ),
        )
        response = data.get("response", {})
        return Step(
            index=index,
            name=data.get("name", f"step {index + 1}"),
            method="SQL",
            url=f"postgres://{database}",
            headers=(),
            body=None,
            response_status=response.get("status"),
            response_json=response.get("json"),
            response_headers=(),
            capture=tuple(sorted(data.get("capture", {}).items())),
            wait_seconds=parse_duration(data["wait"]) if "wait" in data else 0,
            expect=data.get("expect", "allowed"),
            location=doc.location(base),
            sql=text,
            database=database,
            statement=operation_id,
        )

    def _step(
        self,
        doc: YamlDocument,
        base: tuple[str | int, ...],
        index: int,
        data: dict[str, Any],
        known: set[str],
        router: Router,
    ) -> Step | None:
        if "action" in data:
            return Step(
                index=index,
                name=data.get("name", f"{data['action']} the token"),
                method="",
                url="",
                headers=(),
                body=None,
                response_status=None,
                response_json=None,
                response_headers=(),
                capture=(),
                wait_seconds=parse_duration(data["wait"]) if "wait" in data else 0,
                expect="allowed",
                location=doc.location(base),
                action=data["action"],
            )
        if "sql" in data:
            return self._sql_step(doc, base, index, data, known)
        request = data["request"]
        response = data.get("response", {})
        ok = True
        for field, value in (
            ("url", request["url"]),
            ("headers", request.get("headers")),
            ("json", request.get("json")),
        ):
            for name in sorted(set(TEMPLATE.findall(str(value)))):
                if name not in known:
                    ok = False
                    self._fail(
                        doc.location((*base, "request", field)),
                        f"`{{{{ {name} }}}}` is neither a flow variable nor captured by an earlier step",
                        f"add `{name}` under the flow's `vars:`, or capture it in an earlier step "
                        f"({_suggest(name, known)})",
                    )
        url = TEMPLATE.sub("placeholder", request["url"])
        try:
            host, path, _ = split_url(url)
        except ValueError as err:  # a bad port or an unclosed [IPv6] bracket
            self._fail(
                doc.location((*base, "request", "url")),
                f"the URL is not valid: {err}",
                "write an absolute URL such as https://api.crm.example/v1/contacts",
            )
            return None
        if not urlsplit(url).hostname:
            ok = False
            self._fail(
                doc.location((*base, "request", "url")),
                "the URL has no host",
                "write an absolute URL such as https://api.crm.example/v1/contacts",
            )
        elif router.knows_host(host) and router.route(request["method"], host, path) is None:
            ok = False
            candidates = "\n".join(
                f"  {op.method} {op.path}  ({op.qualified})" for op in router.candidates(host)
            )
            self._fail(
                doc.location((*base, "request", "url")),
                f"no operation of {', '.join(s.name for s in router.services_at(host))} matches "
                f"{request['method']} {path}",
                f"use one of the operations served on {host}:\n{candidates}",
            )
        before = len(self.errors)
        content = self._sidecar(doc, (*base, "request", "body_file"), request.get("body_file"))
        response_content = self._sidecar(
            doc, (*base, "response", "body_file"), response.get("body_file")
        )
        if not ok or len(self.errors) > before:
            return None
        return Step(
            content=content,
            response_content=response_content,
            index=index,
            name=data.get("name", f"step {index + 1}"),
            method=request["method"],
            url=request["url"],
            headers=tuple(sorted(request.get("headers", {}).items())),
            body=request.get("json"),
            response_status=response.get("status"),
            response_json=response.get("json"),
            response_headers=tuple(sorted(response.get("headers", {}).items())),
            capture=tuple(sorted(data.get("capture", {}).items())),
            wait_seconds=parse_duration(data["wait"]) if "wait" in data else 0,
            expect=data.get("expect", "allowed"),
            location=doc.location(base),
        )


SPECIAL_REQUIREMENTS = {"none": Requirement.public(), "authenticated": Requirement.authenticated()}


def _requirement(data: Any) -> Requirement:
    if isinstance(data, str):
        if data in SPECIAL_REQUIREMENTS:
            return SPECIAL_REQUIREMENTS[data]
        return Requirement.single(data)
    if "all_of" in data:
        return Requirement((frozenset(data["all_of"]),))
    alternatives = tuple(
        frozenset([item]) if isinstance(item, str) else frozenset(item) for item in data["any_of"]
    )
    return Requirement(tuple(dict.fromkeys(alternatives)))


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
