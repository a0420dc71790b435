from __future__ import annotations

import math
from typing import Any

import pytest
from workspaces import build, policy, service

from harness.explore import Element, Outcome, explore, minimise


def _oracle(needed: set[Element], calls: list[int]) -> Any:
    def test(grants: frozenset[Element]) -> Outcome:
        calls.append(1)
        missing = sorted(needed - grants)
        return Outcome(tuple(((e[1], 0), f"needs {e}") for e in missing))

    return test


@pytest.mark.parametrize("n", [8, 32, 128])
@pytest.mark.parametrize("k", [1, 3, 8])
def test_minimise_finds_the_needed_grants_within_the_replay_bound(n: int, k: int) -> None:
    elements = [("svc", f"s{i:03d}") for i in range(n)]
    needed = set(elements[i] for i in range(0, n, max(1, n // k)))
    needed = set(sorted(needed)[:k])
    calls: list[int] = []
    kept, proof = minimise(_oracle(needed, calls), elements)
    assert set(kept) == needed
    assert set(proof) == needed
    assert all(proof.values())
    assert len(calls) <= 2 * k * math.ceil(math.log2(n)) + 2


def _spec() -> dict[str, Any]:
    operations = [
        {
            "id": "post",
            "method": "POST",
            "path": "/post",
            "requires": {"any_of": ["chat:write:bot", "chat:write:user"]},
        },
        {"id": "read", "method": "GET", "path": "/read", "requires": "channels:read"},
        {
            "id": "settings",
            "method": "PUT",
            "path": "/settings",
            "requires": "admin",
            "risk": "admin",
        },
    ]
    scopes = {"chat:write:bot": [], "chat:write:user": [], "channels:read": [], "admin": ["*"]}
    return service(scopes=scopes, operations=operations)


def test_alternative_minimal_sets_are_found_and_the_least_broad_marked() -> None:
    grants = ["chat:write:bot", "chat:write:user", "channels:read", "admin"]
    workspace = build([_spec()], [policy(grants, [("POST", "/post"), ("GET", "/read")])])
    result = explore(workspace, workspace.bindings[0])
    found = sorted(tuple(g for _, g in s.grants) for s in result.sets)
    assert found == [
        ("admin",),
        ("channels:read", "chat:write:bot"),
        ("channels:read", "chat:write:user"),
    ]
    assert result.exhaustive
    least = result.least_broad
    assert least is not None
    assert least.breadth < result.granted_breadth
    proof = dict(least.proof)
    assert proof[("svc", "channels:read")].startswith(
        "flow step 2 (step 2): GET api.svc.example/read is refused"
    )


def test_steps_refused_whatever_is_granted_are_set_apart() -> None:
    calls = [("GET", "/read"), {"request": {"method": "GET", "url": "https://elsewhere.example/x"}}]
    workspace = build([_spec()], [policy(["channels:read", "admin"], calls)])
    result = explore(workspace, workspace.bindings[0])
    assert result.failing_regardless == (
        "flow step 2 (step 2): GET elsewhere.example/x is refused",
    )
    assert [tuple(g for _, g in s.grants) for s in result.sets] == [("channels:read",), ("admin",)]
