from __future__ import annotations

import itertools
import math
import random
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


def _cheaper_bound(n: int, k: int) -> int:
    """The cheaper of leave-one-out (n + 1) and binary search (2k*ceil(log2 n) + 2)."""
    return min(n + 1, 2 * k * math.ceil(math.log2(max(n, 2))) + 2)


SLACK = 6  # documented in docs/explore.md: at most this many replays above the cheaper bound


def _replays(elements: list[Element], needed: set[Element]) -> int:
    calls: list[int] = []
    kept, proof = minimise(_oracle(needed, calls), elements)
    assert set(kept) == needed
    assert set(proof) == needed
    assert all(proof.values())
    return len(calls)


def test_minimise_is_near_the_cheaper_strategy_for_every_placement_of_few_grants() -> None:
    for n in range(1, 11):
        elements = [("svc", f"s{i:03d}") for i in range(n)]
        for k in range(n + 1):
            for needed in itertools.combinations(elements, k):
                assert _replays(elements, set(needed)) <= _cheaper_bound(n, k) + SLACK


@pytest.mark.parametrize("n", [16, 32, 128, 512])
@pytest.mark.parametrize("share", [0.0, 0.01, 0.1, 0.5, 1.0])
def test_minimise_is_near_the_cheaper_strategy_on_large_bindings(n: int, share: float) -> None:
    elements = [("svc", f"s{i:03d}") for i in range(n)]
    k = max(1, round(n * share))
    generator = random.Random(n * 1000 + k)
    for _ in range(5):
        needed = set(generator.sample(elements, k))
        assert _replays(elements, needed) <= _cheaper_bound(n, k) + SLACK


def test_a_dense_binding_costs_leave_one_out_not_binary_search() -> None:
    elements = [("svc", f"s{i:03d}") for i in range(16)]
    needed = set(elements[::2])  # 8 of 16: binary search alone spent 38 to 43 replays
    assert _replays(elements, needed) <= 17 + SLACK


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
