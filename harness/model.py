"""The domain model: frozen values built from validated workspace files."""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from datetime import UTC, date, datetime
from typing import Any, Literal, get_args

from harness.conditions import ConditionalRequirement, CreatesRule, RevealsRule
from harness.errors import Location
from harness.findings import FindingKind
from harness.pickling import pickled_by_fields
from harness.scopes import Grant, Requirement, ScopeUniverse
from harness.sql import Table

# The fixed value sets of the workspace files, as their YAML spells them.
Risk = Literal["read", "write", "delete", "admin"]
AnswerKind = Literal["recorded", "static", "collection"]
CollectionAction = Literal["list", "create", "read", "update", "delete", ""]
Expectation = Literal["allowed", "denied"]  # what a flow expects of a step
CredentialAction = Literal["refresh", "rotate", "revoke", ""]  # "": a call, not an event
ServiceKind = Literal["http", "postgres"]
ContainerRole = Literal["mock", "upstream"]
HealthKind = Literal["http", "tcp", "command"]

RISK_WEIGHTS: dict[Risk, int] = {"read": 1, "write": 3, "delete": 5, "admin": 8}
METHOD_RISK: dict[str, Risk] = {
    "GET": "read",
    "HEAD": "read",
    "OPTIONS": "read",
    "DELETE": "delete",
}


@dataclass(frozen=True, slots=True)
class Answer:
    """How the mock answers an allowed call."""

    kind: AnswerKind
    status: int = 200
    # a JSON object or array is not hashable: left out of the hash (not of equality), so an
    # operation that answers `{static: {json: {...}}}` can still key the analysis' tables
    json: Any = field(default=None, hash=False)
    headers: tuple[tuple[str, str], ...] = ()
    collection: str = ""
    action: CollectionAction = ""
    id_param: str = ""


@dataclass(frozen=True, slots=True)
class Operation:
    """One method + path template of a service, with the requirement that guards it."""

    service: str
    id: str
    method: str
    path: str
    requires: Requirement
    risk: Risk
    resources: tuple[tuple[str, str], ...]  # resource key -> locator
    answer: Answer
    location: Location
    methods: tuple[str, ...] = ()  # further HTTP methods it answers (Slack: GET and POST)
    # When the requirement depends on the call (docs/workspace.md, "Conditional requirements"):
    # `requires` then lists every alternative any call may need, for display only.
    conditional: ConditionalRequirement | None = None
    creates: CreatesRule | None = None  # the resource an allowed call creates, for later calls
    reveals: RevealsRule | None = None  # a class of the addressed resource its answer tells
    least: tuple[frozenset[str], ...] = ()  # alternatives the vendor calls least privileged

    @property
    def weight(self) -> int:
        return RISK_WEIGHTS[self.risk]

    @property
    def qualified(self) -> str:
        return f"{self.service}:{self.id}"

    @property
    def resource_keys(self) -> frozenset[str]:
        return frozenset(key for key, _ in self.resources)


@dataclass(frozen=True, slots=True)
class Collection:
    id_prefix: str
    seed: tuple[Any, ...]


@dataclass(frozen=True, slots=True)
class HealthCheck:
    """How the docker transport knows a container is ready to answer."""

    kind: HealthKind = (
        "http"  # http: an HTTP answer on `path`; tcp: a connection held; command: exit 0
    )
    path: str = "/"
    command: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class ContainerSpec:
    """A service run as a container by the docker transport (`container:` in a service spec).

    role `mock`: the harness's own mock server in the container decides and answers;
    role `upstream`: third-party software answers the calls the sandbox allowed.
    """

    image: str
    port: int
    role: ContainerRole
    environment: tuple[tuple[str, str], ...]
    command: tuple[str, ...]
    mounts: tuple[tuple[str, str], ...]  # host path -> container path, read-only
    health: HealthCheck
    start_timeout_seconds: int
    location: Location


class LazyIndex:
    """A slot for an index built from a frozen value on first use (the route index of a
    service); never pickled, so a cached workspace rebuilds it only if it is needed."""

    __slots__ = ("value",)

    def __init__(self) -> None:
        self.value: Any = None

    def __reduce__(self) -> tuple[type[LazyIndex], tuple[()]]:
        return LazyIndex, ()


@dataclass(frozen=True, slots=True)
class RoutingOptions:
    """How request paths map to a service's templates (`routing:` in a service spec)."""

    case_insensitive: bool = False  # Microsoft Graph: paths match whatever their case
    base_paths: tuple[str, ...] = ()  # a path must start with one of these (/v1.0, /beta)
    key_segments: bool = False  # OData: `/users('x')` is the same as `/users/x`
    aliases: tuple[tuple[str, str], ...] = ()  # equivalent path prefixes (/me, /users/{id})


@dataclass(frozen=True, slots=True)
class UploadSessions:
    """Resumable uploads: a call with `opens` query values opens a session whose later calls
    (`PUT` of the bytes) name it in query parameter `param` and inherit its requirement."""

    param: str
    opens: tuple[tuple[str, str], ...]


@dataclass(frozen=True, slots=True)
class Service:
    """A mocked downstream API built from a service spec."""

    name: str
    title: str
    hosts: tuple[str, ...]
    regions: tuple[tuple[str, str], ...]
    opaque: bool
    scopes: tuple[tuple[str, str], ...]  # name -> description
    operations: tuple[Operation, ...]
    collections: tuple[tuple[str, Collection], ...]
    location: Location
    universe: ScopeUniverse = field(compare=False, repr=False)
    scope_locations: tuple[tuple[str, Location], ...] = ()
    container: ContainerSpec | None = None
    kind: ServiceKind = "http"
    tables: tuple[Table, ...] = ()  # a postgres service's tables
    statements: tuple[Operation, ...] = ()  # a postgres service: one per recorded statement
    # query or form parameters that may carry the token instead of the Authorization header
    token_params: tuple[str, ...] = ("access_token",)  # RFC 6750 2.2, 2.3
    routing: RoutingOptions = RoutingOptions()
    upload_sessions: UploadSessions | None = None
    model: str = ""  # the permission model of this view ("": the service has one model)
    models: tuple[str, ...] = ()  # every model of the service, the default first
    sensitivity: tuple[tuple[str, int], ...] = ()  # scope -> breadth factor (vendor classes)
    legacy: tuple[tuple[str, str], ...] = ()  # legacy scope -> the scope that replaces it
    # scopes the vendor adds by itself to any grant implying them (GitHub's Metadata read)
    automatic: tuple[str, ...] = ()
    version: str = ""  # a bundled pack's version
    pack: str = ""  # the bundled pack this service comes from ("": the workspace's own)
    routes: LazyIndex = field(default_factory=LazyIndex, init=False, compare=False, repr=False)
    # the breadth index of this view (harness.breadth), shared by every binding that uses it
    breadth: LazyIndex = field(default_factory=LazyIndex, init=False, compare=False, repr=False)

    def region_of(self, host: str) -> str | None:
        return dict(self.regions).get(host)

    def operation(self, operation_id: str) -> Operation:
        return next(op for op in self.operations if op.id == operation_id)


@dataclass(frozen=True, slots=True)
class Credential:
    type: str
    lifetime_seconds: int
    audience: tuple[str, ...]  # service names; empty = every service
    rotation_seconds: int | None
    lifetime_location: Location | None = None  # the `lifetime:` value
    rotation_location: Location | None = None  # `rotation:`, else the `credential:` mapping
    models: tuple[tuple[str, str], ...] = ()  # service -> the permission model it holds grants in
    models_location: Location | None = None


@dataclass(frozen=True, slots=True)
class Connector:
    """A non-human identity (system account, bot, OAuth app) that calls services."""

    name: str
    description: str
    owner: str
    kind: str
    credential: Credential
    allowed_hosts: tuple[str, ...]
    regions: tuple[str, ...]
    location: Location


@dataclass(frozen=True, slots=True)
class GrantSource:
    """A grant as written in a role, with where it was written."""

    service: str
    grant: Grant
    role: str
    location: Location


@dataclass(frozen=True, slots=True)
class Role:
    name: str
    description: str
    owner: str
    review_every_days: int | None
    last_reviewed: date | None
    extends: tuple[str, ...]
    grants: tuple[GrantSource, ...]  # only the role's own grants; see Workspace.role_grants
    location: Location
    grants_location: Location


@dataclass(frozen=True, slots=True)
class Mark:
    """A pytest mark written in YAML: `nightly`, `{xfail: "reason"}`, `{timeout: [30]}`."""

    name: str
    args: tuple[Any, ...] = ()
    kwargs: tuple[tuple[str, Any], ...] = ()

    @classmethod
    def parse(cls, data: str | dict[str, Any]) -> Mark:
        if isinstance(data, str):
            return cls(data)
        ((name, value),) = data.items()
        if isinstance(value, dict):
            return cls(name, (), tuple(sorted(value.items())))
        if isinstance(value, list):
            return cls(name, tuple(value))
        if isinstance(value, str) and name in ("xfail", "skip", "skipif"):
            return cls(name, (), (("reason", value),))
        return cls(name, (value,))


@dataclass(frozen=True, slots=True)
class Binding:
    """A connector bound to roles in one environment: the unit that passes or fails."""

    connector: str
    env: str
    roles: tuple[str, ...]
    expires_at: date | None
    location: Location
    marks: tuple[Mark, ...] = ()

    @property
    def name(self) -> str:
        return f"{self.connector}@{self.env}"


@pickled_by_fields
@dataclass(frozen=True, slots=True)
class Step:
    """One recorded call of a flow."""

    index: int
    name: str
    method: str
    url: str
    headers: tuple[tuple[str, str], ...]
    body: Any  # JSON body (None when absent)
    response_status: int | None
    response_json: Any
    response_headers: tuple[tuple[str, str], ...]
    capture: tuple[tuple[str, str], ...]
    wait_seconds: int
    expect: Expectation
    location: Location
    content: bytes | None = None  # a binary request body (from a sidecar file)
    response_content: bytes | None = None
    action: CredentialAction = ""  # a credential event instead of a call
    sql: str = ""  # a SQL statement instead of a request ({{ name }}: a bound parameter)
    database: str = ""  # the postgres service a SQL statement runs on
    statement: str = ""  # the id of the statement's operation in that service


@dataclass(frozen=True, slots=True)
class Flow:
    """A recorded automation, replayed under every binding of its connector."""

    name: str
    connector: str
    description: str
    marks: tuple[Mark, ...]
    variables: tuple[tuple[str, Any], ...]
    steps: tuple[Step, ...]
    location: Location
    # what the flow's pre-existing resources are to the app: (service, kind, id, class), class
    # `given` (a file opened with the app: Drive's drive.file reaches it) or another the
    # vendor distinguishes (a `public` GitHub repository: public_repo reaches it)
    given: tuple[tuple[str, str, str, str], ...] = ()


@dataclass(frozen=True, slots=True)
class Waiver:
    """A time-limited, approved exception: these grants of a binding may exceed its minimum."""

    binding: str
    grants: tuple[tuple[str, Grant], ...]  # (service, grant)
    reason: str
    owner: str
    ticket: str
    approved_by: str
    expires: date
    location: Location

    def covers(self, service: str, grant: Grant) -> bool:
        return (service, grant) in self.grants


@dataclass(frozen=True, slots=True)
class ScopeConflict:
    """Scopes that one binding must never hold together (separation of duties)."""

    name: str
    scopes: tuple[tuple[str, str], ...]  # (service, scope)
    location: Location


@dataclass(frozen=True, slots=True)
class Policy:
    """Workspace-wide rules for lint and the gate (the `policy:` section)."""

    max_credential_lifetime_seconds: int = 24 * 3600
    max_rotation_seconds: int = 90 * 86400
    prod_environments: tuple[str, ...] = ("prod",)
    deployers: tuple[str, ...] = ()
    approvers: tuple[str, ...] = ()
    conflicting_scopes: tuple[ScopeConflict, ...] = ()
    max_calls_per_flow: int = 1000
    max_response_bytes: int = 10 * 1024 * 1024
    location: Location | None = None


@dataclass(frozen=True, slots=True)
class Settings:
    """Workspace settings from connector-harness.yaml or [tool.connector-harness]."""

    mocks: tuple[str, ...] = ("mocks",)
    scenarios: tuple[str, ...] = ("scenarios",)
    clock: datetime = datetime(2026, 1, 1, tzinfo=UTC)
    max_file_bytes: int = 2 * 1024 * 1024
    packs: tuple[tuple[str, str], ...] = ()  # bundled packs used: (name, pinned version or "")
    packs_location: Location | None = None
    # exported n8n workflows read as they are (harness/n8n/collect.py)
    n8n_workflows: tuple[str, ...] = ()  # directories of exports, besides *.n8n.json files
    n8n_credentials: str = ""  # an `n8n export:credentials` file (its scopes only)
    n8n_scopes: str = ""  # the mapping file of credential scopes
    n8n_envs: tuple[str, ...] = ("prod",)
    fail_on: tuple[FindingKind, ...] = get_args(FindingKind)  # every kind fails the gate
    # the run's defaults, for the CLI, the API and the plugin alike (a flag overrides them)
    env: str | None = None  # only bindings of this environment
    binding: str | None = None  # only this binding (CONNECTOR@ENV, or a connector name)
    strict: bool = True  # false: excessive and over-broad grants do not fail the gate
    reports: tuple[tuple[str, str], ...] = ()  # (format, path): reports every check writes
    env_location: Location | None = None  # where `env` and `binding` were written
    binding_location: Location | None = None

    @property
    def failing(self) -> tuple[FindingKind, ...]:
        """The kinds that fail the gate: `fail_on`, less the lenient ones when not strict."""
        if self.strict:
            return self.fail_on
        return tuple(kind for kind in self.fail_on if kind not in ("excessive", "over-broad"))


@dataclass(frozen=True, slots=True)
class Workspace:
    """Everything loaded from one workspace directory, cross-checked."""

    root: str
    settings: Settings
    services: tuple[Service, ...]
    connectors: tuple[Connector, ...]
    roles: tuple[Role, ...]
    bindings: tuple[Binding, ...]
    flows: tuple[Flow, ...]
    waivers: tuple[Waiver, ...] = ()
    policy: Policy = Policy()
    model_views: tuple[Service, ...] = ()  # services in their other permission models
    # Lookups by name, built on first use: a scan per lookup made a check quadratic in
    # the number of connectors (every binding looked up its flows, roles and connector).
    _index: _WorkspaceIndex | None = field(default=None, init=False, repr=False, compare=False)

    def __reduce__(self) -> tuple[type[Workspace], tuple[Any, ...]]:
        """Pickled as its constructor's arguments: the index is rebuilt, not stored."""
        return Workspace, tuple(getattr(self, f.name) for f in fields(self) if f.init)

    @property
    def index(self) -> _WorkspaceIndex:
        index = self._index
        if index is None:
            index = _WorkspaceIndex.of(self)
            object.__setattr__(self, "_index", index)
        return index

    def service(self, name: str, model: str = "") -> Service:
        """The service in `model` (default: its default permission model); StopIteration
        when there is none, as the scan this lookup replaced raised."""
        default = self.index.services.get(name)
        if default is None:
            raise StopIteration(name)
        if not model or model == default.model:
            return default
        return next(s for s in self.model_views if s.name == name and s.model == model)

    def connector(self, name: str) -> Connector:
        return self.index.connectors[name]

    def role(self, name: str) -> Role:
        return self.index.roles[name]

    def flows_of(self, connector: str) -> tuple[Flow, ...]:
        return self.index.flows.get(connector, ())

    def role_grants(self, name: str) -> tuple[GrantSource, ...]:
        """A role's own grants followed by those it inherits (extends is acyclic after loading)."""
        # Depth first, each role once: a chain thousands of roles long needs no deep stack,
        # and a role inherited along two paths (a diamond) is not collected twice.
        by_name = self.index.roles
        collected: list[GrantSource] = []
        seen: set[str] = set()
        pending = [name]
        while pending:
            current = pending.pop()
            if current in seen:
                continue
            seen.add(current)
            role = by_name[current]
            collected.extend(role.grants)
            pending.extend(reversed(role.extends))
        return tuple(collected)

    def binding_grants(self, binding: Binding) -> tuple[GrantSource, ...]:
        """Every grant a binding holds through its roles, in role order."""
        collected: list[GrantSource] = []
        for role in binding.roles:
            collected.extend(self.role_grants(role))
        return tuple(collected)


@dataclass(frozen=True, slots=True)
class _WorkspaceIndex:
    """A workspace's services, connectors and roles by name (the first of a name, as a
    scan would find it), and its flows by connector, in workspace order."""

    services: dict[str, Service]
    connectors: dict[str, Connector]
    roles: dict[str, Role]
    flows: dict[str, tuple[Flow, ...]]

    @staticmethod
    def of(workspace: Workspace) -> _WorkspaceIndex:
        services: dict[str, Service] = {}
        for service in workspace.services:
            services.setdefault(service.name, service)
        connectors: dict[str, Connector] = {}
        for connector in workspace.connectors:
            connectors.setdefault(connector.name, connector)
        roles: dict[str, Role] = {}
        for role in workspace.roles:
            roles.setdefault(role.name, role)
        flows: dict[str, list[Flow]] = {}
        for flow in workspace.flows:
            flows.setdefault(flow.connector, []).append(flow)
        return _WorkspaceIndex(
            services, connectors, roles, {name: tuple(f) for name, f in flows.items()}
        )
