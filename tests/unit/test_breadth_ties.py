"""Scopes that allow the same operations of a service: the one implying less is narrower."""

from __future__ import annotations

from workspaces import build, policy, service

from harness.engine import run_check

# `wide` allows exactly what `narrow` allows here, and implies it (it reaches further elsewhere).
SCOPES = {"narrow": [], "wide": ["narrow"]}
OPERATIONS = [
    {
        "id": "items.list",
        "method": "GET",
        "path": "/items",
        "requires": {"any_of": ["narrow", "wide"]},
    }
]


def _result(grants: list[str]) -> tuple[tuple[str, ...], list[str], str]:
    workspace = build([service(SCOPES, OPERATIONS)], [policy(grants, [("GET", "/items")])])
    (result,) = run_check(workspace).results
    (analysis,) = result.services
    messages = [finding.message for finding in result.findings]
    return analysis.suggested, [finding.kind for finding in result.findings], "\n".join(messages)


def test_the_suggested_grant_is_the_one_that_implies_less() -> None:
    suggested, kinds, _ = _result(["narrow"])
    assert suggested == ("narrow",)
    assert kinds == []


def test_a_grant_implying_more_for_the_same_operations_is_over_broad() -> None:
    suggested, kinds, message = _result(["wide"])
    assert suggested == ("narrow",)
    assert kinds == ["over-broad"]
    assert (
        "it implies `narrow`; narrow allows the same operations of `svc` and implies less"
        in message
    )
