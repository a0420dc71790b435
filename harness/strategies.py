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

from collections.abc import Sequence
from typing import Any

try:
    from hypothesis import strategies as st
    from hypothesis.stateful import Bundle, RuleBasedStateMachine, initialize, invariant, rule
except ModuleNotFoundError as missing:  # an optional extra: say which
    raise ModuleNotFoundError(
        "harness.strategies builds Hypothesis strategies; install Hypothesis with "
        "pip install 'connector-harness[hypothesis]'"
    ) from missing

from harness.calls import Request
from harness.model import Binding, Workspace
from harness.sandbox import Sandbox
from harness.workspace.default import active_workspace, use_workspace, use_workspace_from
from harness.workspace.loader import workspace_from_data

__all__ = [
    "CredentialLifecycle",
    "bindings",
    "flows",
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


@st.composite
def service_specs(
    draw: st.DrawFn, *, name: str = "svc", host: str = HOST, max_operations: int = 6
) -> dict[str, Any]:
    """A service spec: a scope universe and operations guarded by generated requirements."""
    universe = draw(scope_universes())
    plain = [scope for scope in universe if scope != "all"]
    operations = []
    for index in range(draw(st.integers(1, max_operations))):
        risk = draw(st.sampled_from(RISKS))
        operations.append(
            {
                "id": f"op{index}",
                "method": "GET" if risk == "read" else "POST",
                "path": f"/op{index}",
                "requires": draw(requirements(plain)),
                "risk": risk,
            }
        )
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
    calls = [
        {"request": {"method": op["method"], "url": f"https://{host}{op['path']}"}}
        for op in spec["operations"]
    ]
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
