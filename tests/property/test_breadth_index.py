"""The bitmask breadth index computes the breadth the definition says (docs/workspace.md)."""

from __future__ import annotations

from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st
from workspaces import build, policy

from harness.breadth import BreadthIndex
from harness.explore import Breadth
from harness.model import Service
from harness.scopes import Grant

SCOPES = ["s0", "s1", "s2", "s3", "s4"]
# An operation declares no resource, one or two; a grant is narrowed to none, one or both.
RESOURCES = st.sampled_from(
    [{}, {"channel": "query.c"}, {"team": "query.t"}, {"channel": "query.c", "team": "query.t"}]
)
NARROWING = st.sampled_from(["", "@channel=C1", "@team=T1", "@channel=C1,team=T1"])


def _definition(service: Service, grants: list[Grant]) -> int:
    """Breadth by its definition: per operation, the usable closure of the grants whose
    narrowing keys the operation declares, weighed by risk and the most sensitive grant that
    takes part in allowing it."""
    sensitivity = dict(service.sensitivity)

    def factor(grant: Grant) -> int:
        return max(sensitivity.get(s, 1) for s in service.universe.closure(grant.scope))

    total = 0
    for operation in service.operations:
        if operation.requires.needs_no_scope:
            continue
        keys = operation.resource_keys
        usable_grants = [g for g in grants if all(k in keys for k, _ in g.narrowing)]
        usable: set[str] = set()
        for grant in usable_grants:
            usable |= service.universe.closure(grant.scope)
        satisfied = [a for a in operation.requires.any_of if a <= usable]
        if not satisfied:
            continue
        taking_part = [
            factor(g)
            for g in usable_grants
            if any(service.universe.closure(g.scope) & a for a in satisfied)
        ]
        total += operation.weight * max(taking_part)
    return total


@st.composite
def services(draw: Any) -> dict[str, Any]:
    implies = {
        scope: draw(
            st.lists(st.sampled_from(SCOPES[index + 1 :] or ["s4"]), max_size=2, unique=True)
        )
        for index, scope in enumerate(SCOPES)
    }
    implies["s4"] = []
    sensitive = draw(st.booleans())
    scopes = {
        scope: {
            **({"implies": implied} if implied and implied != [scope] else {}),
            **({"sensitivity": draw(st.integers(1, 4))} if sensitive else {}),
        }
        or None
        for scope, implied in implies.items()
    }
    alternative = st.one_of(
        st.sampled_from(SCOPES),
        st.lists(st.sampled_from(SCOPES), min_size=2, max_size=3, unique=True),
    )
    operations = []
    for index in range(draw(st.integers(1, 8))):
        operations.append(
            {
                "id": f"op{index}",
                "method": draw(st.sampled_from(["GET", "POST", "DELETE"])),
                "path": f"/op{index}",
                "requires": {"any_of": draw(st.lists(alternative, min_size=1, max_size=3))},
                **({"resources": resources} if (resources := draw(RESOURCES)) else {}),
            }
        )
    return {"service": "svc", "hosts": ["svc.example"], "scopes": scopes, "operations": operations}


grants = st.lists(
    st.builds(
        lambda scope, narrowing: Grant.parse(scope + narrowing),
        st.sampled_from(SCOPES),
        NARROWING,
    ),
    max_size=8,
)


@settings(max_examples=200, deadline=None)
@given(spec=services(), held=grants)
def test_the_index_measures_breadth_as_defined(spec: dict[str, Any], held: list[Grant]) -> None:
    service = build([spec], []).services[0]
    assert BreadthIndex(service).breadth(held) == _definition(service, held)


@settings(max_examples=100, deadline=None)
@given(spec=services(), held=grants, more=grants)
def test_more_grants_are_never_narrower(
    spec: dict[str, Any], held: list[Grant], more: list[Grant]
) -> None:
    index = BreadthIndex(build([spec], []).services[0])
    assert index.breadth([*held, *more]) >= index.breadth(held)


@settings(max_examples=100, deadline=None)
@given(spec=services(), held=grants)
def test_explore_ranks_grants_by_their_breadth_as_defined(
    spec: dict[str, Any], held: list[Grant]
) -> None:
    """explore's order (broadest first, then by name) is the order the definition gives."""
    workspace = build([spec], [policy(["s0"], [("GET", "/op0")])])  # never replayed
    service = workspace.services[0]
    elements = [("svc", str(grant)) for grant in held]
    expected = sorted(set(elements), key=lambda e: (-_definition(service, [Grant.parse(e[1])]), e))
    assert Breadth(workspace, workspace.bindings[0]).ranked(set(elements)) == expected
