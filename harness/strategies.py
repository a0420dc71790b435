"""Hypothesis strategies over a workspace: scopes, scope subsets of roles and services, bindings.

The pytest plugin registers the session's workspace with `use_workspace`, so tests
can write `@given(scopes=scope_subsets(role="crm-reader"))` without passing it;
every strategy also takes `workspace=` explicitly.
"""

from __future__ import annotations

from hypothesis import strategies as st

from harness.model import Binding, Workspace

Grants = dict[str, list[str]]  # service -> grants, the shape of a role's `grants:`

_ACTIVE: list[Workspace] = []


def use_workspace(workspace: Workspace) -> None:
    """Make `workspace` the default for strategies created without `workspace=`."""
    _ACTIVE[:] = [workspace]


def _workspace(workspace: Workspace | None) -> Workspace:
    if workspace is not None:
        return workspace
    if not _ACTIVE:
        raise LookupError(
            "no workspace: pass workspace=..., or run under pytest with the connector-harness "
            "plugin (which registers the session's workspace)"
        )
    return _ACTIVE[0]


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
