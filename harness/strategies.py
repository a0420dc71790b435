"""Hypothesis strategies for connector-harness.

Two kinds:
- over an existing workspace: `scopes`, `scope_subsets` (of a role, a binding or a
  service), `bindings`. The pytest plugin registers the session's workspace with
  `use_workspace`, so tests can write `@given(scopes=scope_subsets(role="crm-reader"))`;
  every one of them also takes `workspace=` explicitly.
- synthetic: `scope_universes`, `requirements`, `service_specs`, `roles`, `flows`
  and `workspaces` generate valid workspace data (the YAML shapes), for testing
  tools built on the harness, or the harness itself.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any
from urllib.parse import urlencode

try:
    from hypothesis import strategies as st
    from hypothesis.stateful import Bundle, RuleBasedStateMachine, initialize, invariant, rule
except ModuleNotFoundError as missing:  # an optional extra: say which
    raise ModuleNotFoundError(
        "harness.strategies builds Hypothesis strategies; install Hypothesis with "
        "pip install 'connector-harness[hypothesis]'"
    ) from missing

from harness.calls import Request
from harness.conditions import AllOf, AnyOf, Each, When
from harness.model import Binding, Operation, Workspace
from harness.sandbox import Sandbox
from harness.workspace.default import active_workspace, use_workspace, use_workspace_from
from harness.workspace.loader import workspace_from_data

__all__ = [
    "CredentialLifecycle",
    "bindings",
    "conditional_requirements",
    "flows",
    "pack_policies",
    "policies",
    "requirements",
    "roles",
    "scope_subsets",
    "scope_universes",
    "scopes",
    "service_specs",
    "use_workspace",
    "use_workspace_from",
    "workspace_data",
    "workspaces",
]

Grants = dict[str, list[str]]  # service -> grants, the shape of a role's `grants:`


def _workspace(workspace: Workspace | None) -> Workspace:
    if workspace is not None:
        return workspace
    active = active_workspace()
    if active is None:
        raise LookupError(
            "no workspace: pass workspace=..., or run under pytest with the connector-harness "
            "plugin (which registers the session's workspace, if it loads)"
        )
    return active


def scopes(service: str, *, workspace: Workspace | None = None) -> st.SearchStrategy[str]:
    """One declared scope of `service`."""
    return st.deferred(
        lambda: st.sampled_from(_workspace(workspace).service(service).universe.names)
    )


def _grants_of(
    workspace: Workspace, *, role: str | None, service: str | None, binding: str | None
) -> list[tuple[str, str]]:
    if sum(x is not None for x in (role, service, binding)) != 1:
        raise TypeError("give exactly one of role=, service= or binding=")
    if role is not None:
        return sorted({(s.service, str(s.grant)) for s in workspace.role_grants(role)})
    if binding is not None:
        chosen = next(b for b in workspace.bindings if b.name == binding)
        return sorted({(s.service, str(s.grant)) for s in workspace.binding_grants(chosen)})
    assert service is not None
    return [(service, name) for name in workspace.service(service).universe.names]


def scope_subsets(
    *,
    role: str | None = None,
    service: str | None = None,
    binding: str | None = None,
    min_size: int = 0,
    workspace: Workspace | None = None,
) -> st.SearchStrategy[Grants]:
    """Subsets of a role's, a binding's or a service's grants, as `{service: [grants]}`.

    Shrinks towards fewer grants, so a failing example ends at the smallest set
    that still breaks the flow.
    """

    def build() -> st.SearchStrategy[Grants]:
        universe = _grants_of(_workspace(workspace), role=role, service=service, binding=binding)
        subsets = (
            st.lists(st.sampled_from(universe), unique=True, min_size=min_size)
            if universe
            else st.just([])
        )
        return subsets.map(_as_grants)

    return st.deferred(build)


def bindings(
    *, env: str | None = None, workspace: Workspace | None = None
) -> st.SearchStrategy[Binding]:
    """One binding of the workspace (optionally of one environment)."""

    def build() -> st.SearchStrategy[Binding]:
        found = [b for b in _workspace(workspace).bindings if env is None or b.env == env]
        if not found:
            raise LookupError(f"no binding in environment {env!r}")
        return st.sampled_from(found)

    return st.deferred(build)


def _as_grants(pairs: list[tuple[str, str]]) -> Grants:
    grants: Grants = {}
    for service, grant in sorted(pairs):
        grants.setdefault(service, []).append(grant)
    return grants


# -- synthetic workspace data -------------------------------------------------------------

RISKS = ("read", "write", "delete", "admin")
HOST = "api.svc.example"


@st.composite
def scope_universes(draw: st.DrawFn, *, max_scopes: int = 7) -> dict[str, list[str]]:
    """Scope names with implications (each may imply earlier ones), sometimes an `all`
    scope implying a wildcard: the `scopes:` of a service spec, as name -> implied."""
    count = draw(st.integers(2, max_scopes))
    names = [f"s{i}" for i in range(count)]
    universe: dict[str, list[str]] = {}
    for index, name in enumerate(names):
        earlier = names[:index]
        universe[name] = (
            draw(st.lists(st.sampled_from(earlier), unique=True, max_size=2)) if earlier else []
        )
    if draw(st.booleans()):
        universe["all"] = ["s*"]
    return universe


def requirements(scopes: Sequence[str]) -> st.SearchStrategy[Any]:
    """A `requires:` value over `scopes`: one scope, `{all_of}` or `{any_of}` alternatives."""
    names = st.sampled_from(sorted(scopes))
    alternative = st.lists(names, min_size=1, max_size=2, unique=True)
    return st.one_of(
        names,
        st.builds(lambda group: {"all_of": group}, alternative),
        st.builds(lambda groups: {"any_of": groups}, st.lists(alternative, min_size=1, max_size=3)),
    )


MODES = ("a", "b", "c")  # the values of a generated conditional operation's `mode` argument


def conditional_requirements(scopes: Sequence[str], *, each: bool) -> st.SearchStrategy[Any]:
    """A `requires:` that depends on the call's `mode` argument: one alternative only for
    some modes (`when`), or, for a list argument, a requirement per listed mode (`each`) or
    one by how many modes it lists (`count`)."""
    names = st.sampled_from(sorted(scopes))
    if each:
        return st.one_of(
            st.builds(
                lambda picks: {"each": "mode", "of": dict(zip(MODES, picks, strict=True))},
                st.tuples(names, names, names),
            ),
            st.builds(
                lambda several, one, bound: {
                    "when": {"mode": {"count": {"min": bound}}},
                    "then": several,
                    "else": one,
                },
                names,
                names,
                st.sampled_from([2, 3]),
            ),
        )
    modes = st.lists(st.sampled_from(MODES), min_size=1, max_size=2, unique=True)
    return st.builds(
        lambda always, only, when: {"any_of": [always, {"when": {"mode": when}, "then": only}]},
        names,
        names,
        modes,
    )


@st.composite
def service_specs(
    draw: st.DrawFn,
    *,
    name: str = "svc",
    host: str = HOST,
    max_operations: int = 6,
    conditions: bool = False,
) -> dict[str, Any]:
    """A service spec: a scope universe and operations guarded by generated requirements;
    with `conditions`, some requirements depend on a `mode` argument of the call."""
    universe = draw(scope_universes())
    plain = [scope for scope in universe if scope != "all"]
    operations = []
    for index in range(draw(st.integers(1, max_operations))):
        risk = draw(st.sampled_from(RISKS))
        operation: dict[str, Any] = {
            "id": f"op{index}",
            "method": "GET" if risk == "read" else "POST",
            "path": f"/op{index}",
            "requires": draw(requirements(plain)),
            "risk": risk,
        }
        if conditions and draw(st.booleans()):
            each = draw(st.booleans())
            operation["arguments"] = {
                "mode": {"in": "query", "default": ["a"] if each else "a", "values": list(MODES)}
                | ({"list": True} if each else {})
            }
            operation["requires"] = draw(conditional_requirements(plain, each=each))
        operations.append(operation)
    return {
        "service": name,
        "hosts": [host],
        "scopes": {
            scope: {"implies": implied} if implied else None for scope, implied in universe.items()
        },
        "operations": operations,
    }


def roles(spec: dict[str, Any], *, name: str = "role") -> st.SearchStrategy[dict[str, Any]]:
    """A role granting some scopes of `spec`."""
    scopes = st.lists(st.sampled_from(sorted(spec["scopes"])), unique=True, max_size=4)
    return st.builds(
        lambda granted: {"name": name, "grants": {spec["service"]: granted} if granted else {}},
        scopes,
    )


def flows(
    spec: dict[str, Any], *, name: str = "flow", connector: str = "bot", max_calls: int = 6
) -> st.SearchStrategy[dict[str, Any]]:
    """A flow calling operations of `spec`, in any order, repeats allowed."""
    host = spec["hosts"][0]
    calls = []
    for op in spec["operations"]:
        url = f"https://{host}{op['path']}"
        queries = [""]
        if "mode" in op.get("arguments", {}):  # every value, a pair, all three, the default
            queries += [f"?mode={mode}" for mode in MODES] + ["?mode=a,c", "?mode=c,b,a"]
        calls += [{"request": {"method": op["method"], "url": url + query}} for query in queries]
    steps = st.lists(st.sampled_from(calls), min_size=1, max_size=max_calls)
    return st.builds(lambda chosen: {"name": name, "connector": connector, "steps": chosen}, steps)


@st.composite
def workspace_data(draw: st.DrawFn) -> tuple[dict[str, Any], dict[str, Any]]:
    """(service spec, policy document): one connector `bot`, one role, one prod binding, one flow."""
    spec = draw(service_specs())
    document = {
        "connectors": [
            {
                "name": "bot",
                "owner": "owner@example.com",
                "allowed_hosts": list(spec["hosts"]),
                "credential": {"type": "oauth2-client-credentials", "lifetime": "1h"},
            }
        ],
        "roles": [draw(roles(spec))],
        "bindings": [{"connector": "bot", "env": "prod", "roles": ["role"]}],
        "flows": [draw(flows(spec))],
    }
    return spec, document


@st.composite
def policies(
    draw: st.DrawFn, spec: dict[str, Any], *, max_roles: int = 3, max_bindings: int = 4
) -> dict[str, Any]:
    """A policy document over `spec`: one or two connectors, roles (a later one may extend an
    earlier one) and bindings that share them, and one flow per connector."""
    connectors = ["bot", "bot2"][: draw(st.integers(1, 2))]
    role_names = [f"role{i}" for i in range(draw(st.integers(1, max_roles)))]
    roles_data = []
    for index, name in enumerate(role_names):
        role = draw(roles(spec, name=name))
        if index and draw(st.booleans()):
            role["extends"] = [draw(st.sampled_from(role_names[:index]))]
        roles_data.append(role)
    pairs = [(c, env) for c in connectors for env in ("dev", "prod", "test")]
    chosen = draw(st.lists(st.sampled_from(pairs), min_size=1, max_size=max_bindings, unique=True))
    bindings_data = [
        {
            "connector": connector,
            "env": env,
            "roles": draw(
                st.lists(st.sampled_from(role_names), min_size=1, max_size=2, unique=True)
            ),
        }
        for connector, env in sorted(chosen)
    ]
    return {
        "connectors": [
            {
                "name": name,
                "owner": "owner@example.com",
                "allowed_hosts": list(spec["hosts"]),
                "credential": {"type": "oauth2-client-credentials", "lifetime": "1h"},
            }
            for name in connectors
        ],
        "roles": roles_data,
        "bindings": bindings_data,
        "flows": [draw(flows(spec, name=f"{name}-flow", connector=name)) for name in connectors],
    }


_PLAIN_PATH = re.compile(r"(/[A-Za-z0-9_.-]*|/\{[A-Za-z0-9_]+\})+")


@st.composite
def pack_policies(
    draw: st.DrawFn, workspace: Workspace, service: str, *, max_calls: int = 5
) -> dict[str, Any]:
    """A policy document over a bundled pack's service in `workspace` (one loaded with the
    pack): a connector holding grants in one of the service's permission models, roles and
    bindings sharing them, and a flow calling the pack's operations with the values its
    conditional requirements test."""
    base = workspace.service(service)
    model = draw(st.sampled_from(base.models)) if base.models else ""
    view = workspace.service(service, model)
    operations = [op for op in view.operations if _PLAIN_PATH.fullmatch(op.path)]
    chosen = draw(st.lists(st.sampled_from(operations), min_size=1, max_size=max_calls))
    steps = [draw(_pack_step(view.hosts[0], op)) for op in chosen]
    universe = sorted(view.universe.names)
    grants = st.lists(st.sampled_from(universe), unique=True, max_size=4)
    role_names = [f"role{i}" for i in range(draw(st.integers(1, 2)))]
    envs = draw(st.lists(st.sampled_from(("dev", "prod")), min_size=1, unique=True))
    credential: dict[str, Any] = {"type": "oauth2-client-credentials", "lifetime": "1h"}
    if model:
        credential["models"] = {service: model}
    return {
        "connectors": [
            {
                "name": "bot",
                "owner": "owner@example.com",
                "allowed_hosts": list(view.hosts),
                "credential": credential,
            }
        ],
        "roles": [
            {"name": name, "grants": {service: g} if (g := draw(grants)) else {}}
            for name in role_names
        ],
        "bindings": [
            {
                "connector": "bot",
                "env": env,
                "roles": draw(
                    st.lists(st.sampled_from(role_names), min_size=1, max_size=2, unique=True)
                ),
            }
            for env in envs
        ],
        "flows": [{"name": "flow", "connector": "bot", "steps": steps}],
    }


@st.composite
def _pack_step(draw: st.DrawFn, host: str, operation: Operation) -> dict[str, Any]:
    """A call of `operation`: its path parameters filled, and each argument its conditions
    test given one of the values they name (or left to its default)."""
    path = re.sub(r"\{[A-Za-z0-9_]+\}", lambda m: f"v{len(m.group())}", operation.path)
    query: list[tuple[str, str]] = []
    body: dict[str, Any] = {}
    for argument in operation.conditional.arguments if operation.conditional else ():
        values = sorted(argument.values or _tested_values(operation, argument.name))
        if not values or argument.source not in ("query", "body", "any"):
            continue
        value = draw(st.none() | st.sampled_from(values))
        if value is None:
            continue
        if argument.source == "body":
            body[argument.name] = [value] if argument.is_list else value
        else:
            query.append((argument.name, value))
    request: dict[str, Any] = {
        "method": operation.method,
        "url": f"https://{host}{path}" + (f"?{urlencode(query)}" if query else ""),
    }
    if body:
        request["json"] = body
    return {"request": request}


def _tested_values(operation: Operation, argument: str) -> set[str]:
    """The values the operation's conditions test `argument` against."""
    found: set[str] = set()
    stack: list[Any] = [operation.conditional.expression] if operation.conditional else []
    while stack:
        item = stack.pop()
        if isinstance(item, When):
            found.update(v for t in item.tests if t.argument == argument for v in t.values)
            stack += [item.then, item.otherwise]
        elif isinstance(item, Each):
            if item.argument == argument:
                found.update(value for value, _ in item.cases)
            stack += [expression for _, expression in item.cases] + [item.otherwise]
        elif isinstance(item, (AllOf, AnyOf)):
            stack += list(item.items)
    return {value for value in found if "\x00" not in value}


def workspaces() -> st.SearchStrategy[Workspace]:
    """Whole, valid workspaces built from `workspace_data`."""
    return workspace_data().map(lambda data: workspace_from_data([data[0]], [data[1]]))


# -- the credential lifecycle as a state machine --------------------------------------------

ITEMS = ("a", "b")


class CredentialLifecycle(RuleBasedStateMachine):
    """Grant, revoke, rotate, expire and narrow tokens on a generated workspace, checking:
    a revoked or expired token is always refused; a narrowed grant never allows more;
    decisions are monotone in the grant set. Run it as `TestLifecycle = CredentialLifecycle.TestCase`."""

    tokens = Bundle("tokens")

    @initialize(data=workspace_data())
    def start(self, data: tuple[dict[str, Any], dict[str, Any]]) -> None:
        spec, document = data
        self.workspace = workspace_from_data([spec], [document])
        self.sandbox = Sandbox(self.workspace)
        self.binding = self.workspace.bindings[0]
        self.service = self.workspace.services[0]
        self.dead: set[str] = set()  # revoked or expired tokens
        self.expiry: dict[str, int] = {}  # every minted token -> when it expires

    def _grants(self) -> st.SearchStrategy[frozenset[str]]:
        return st.frozensets(st.sampled_from(self.service.universe.names), max_size=4)

    def _mint(self, grants: frozenset[str], lifetime: int = 3600) -> str:
        token = self.sandbox.issue_token(
            self.binding, lifetime=lifetime, grants={self.service.name: sorted(grants)}
        )
        self.expiry[token] = self.sandbox.clock.now + lifetime
        return token

    def _allowed(self, token: str) -> set[tuple[str, str]]:
        """The (operation, item) calls the token is allowed, trying every operation."""
        allowed = set()
        for operation in self.service.operations:
            for item in ITEMS:
                url = f"https://{self.service.hosts[0]}{operation.path}?item={item}"
                response = self.sandbox.handle(
                    Request(operation.method, url, {"Authorization": f"Bearer {token}"})
                )
                if response.status < 400:
                    allowed.add((operation.id, item))
        return allowed

    @rule(target=tokens, data=st.data())
    def grant(self, data: st.DataObject) -> tuple[str, frozenset[str]]:
        grants = data.draw(self._grants())
        return self._mint(grants), grants

    @rule(token=tokens)
    def revoke(self, token: tuple[str, frozenset[str]]) -> None:
        claims = self.sandbox.tokens.identify(token[0])
        assert claims is not None
        self.sandbox.tokens.revoke(claims.token_id)
        self.dead.add(token[0])

    @rule(target=tokens, token=tokens)
    def rotate(self, token: tuple[str, frozenset[str]]) -> tuple[str, frozenset[str]]:
        self.revoke(token)
        return self._mint(token[1]), token[1]

    @rule(seconds=st.integers(1, 7200))
    def expire(self, seconds: int) -> None:
        self.sandbox.clock.advance(seconds)
        self.dead.update(
            t for t, expires in self.expiry.items() if self.sandbox.clock.now >= expires
        )

    @rule(data=st.data())
    def narrowing_never_allows_more(self, data: st.DataObject) -> None:
        grants = data.draw(self._grants())
        item = data.draw(st.sampled_from(ITEMS))
        narrowed = frozenset(f"{grant}@item={item}" for grant in grants)
        assert self._allowed(self._mint(narrowed)) <= self._allowed(self._mint(grants))

    @rule(data=st.data())
    def decisions_are_monotone(self, data: st.DataObject) -> None:
        grants = data.draw(self._grants())
        extra = data.draw(st.sampled_from(self.service.universe.names))
        assert self._allowed(self._mint(grants)) <= self._allowed(self._mint(grants | {extra}))

    @invariant()
    def dead_tokens_are_always_refused(self) -> None:
        for token in sorted(self.dead):
            assert not self._allowed(token), "a revoked or expired token was allowed a call"
