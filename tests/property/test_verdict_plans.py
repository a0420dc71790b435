"""A planned verdict is the verdict every rule gives.

The sandbox keeps, per operation, service, connector, host and (not narrowed) grants, the
verdict its calls get (`authorization.Plan`), reading only the resources each call touches
anew. Over generated workspaces, replayed twice and under random grant sets, the decisions
must equal those of a sandbox that tries every rule for every call.
"""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from workspaces import HOST, build, policy, service

from harness.decisions import Decision
from harness.model import Workspace
from harness.replay import replay
from harness.sandbox import Sandbox
from harness.strategies import policies, service_specs, workspace_data
from harness.workspace.loader import workspace_from_data


def _decisions(sandbox: Sandbox, grant_sets: list[list[str]]) -> list[Any]:
    workspace = sandbox.workspace
    binding = workspace.bindings[0]
    service = workspace.services[0].name
    found: list[Any] = []
    for flow in workspace.flows:
        found += replay(sandbox, flow, binding)
        found += replay(sandbox, flow, binding)  # the second time, from the plans
        for grants in grant_sets:
            found += replay(sandbox, flow, binding, grants={service: grants})
    return found


@settings(max_examples=120, deadline=None)
@given(workspace_data(), st.data())
def test_planned_verdicts_equal_verdicts_judged_in_full(
    data: tuple[dict[str, Any], dict[str, Any]], draw: st.DataObject
) -> None:
    spec, document = data
    workspace = workspace_from_data([spec], [document])
    scopes = sorted(spec["scopes"])
    grant_sets = draw.draw(
        st.lists(st.lists(st.sampled_from(scopes), unique=True, max_size=4), max_size=3)
    )
    planned = Sandbox(workspace)
    in_full = Sandbox(workspace)
    in_full._plans = None  # type: ignore[assignment]  # every rule, every call
    assert _decisions(planned, grant_sets) == _decisions(in_full, grant_sets)
    assert planned._plans  # the plans were used


def _replayed_both_ways(workspace: Workspace) -> list[Decision]:
    """The decisions of the workspace's one flow, with plans; asserted equal to those of a
    sandbox that tries every rule for every call."""
    planned = Sandbox(workspace)
    in_full = Sandbox(workspace)
    in_full._plans = None  # type: ignore[assignment]
    (flow,) = workspace.flows
    (binding,) = workspace.bindings
    decisions = replay(planned, flow, binding)
    assert decisions == replay(in_full, flow, binding)
    return decisions


@pytest.mark.parametrize(
    ("grant", "outcomes"),
    [
        ("svc.read", ["allowed", "allowed", "allowed", "denied"]),
        ("svc.read@item=a", ["allowed", "denied", "allowed", "denied"]),  # narrowed
    ],
)
def test_a_planned_verdict_is_that_of_its_own_call_resources(
    grant: str, outcomes: list[str]
) -> None:
    calls = [("GET", "/items/a"), ("GET", "/items/b"), ("GET", "/items/a"), ("DELETE", "/items/b")]
    decisions = _replayed_both_ways(build([service()], [policy([grant], calls)]))
    assert [d.outcome for d in decisions] == outcomes
    assert [d.resources for d in decisions] == [
        (("item", "a"),),
        (("item", "b"),),
        (("item", "a"),),
        (),
    ]
    assert {d.host for d in decisions} == {HOST}


def test_a_planned_verdict_follows_the_evaluation_of_each_call() -> None:
    mail = {
        "service": "svc",
        "hosts": [HOST],
        "scopes": {"mail.readonly": None, "mail.metadata": None},
        "operations": [
            {
                "id": "messages.get",
                "method": "GET",
                "path": "/messages/{id}",
                "arguments": {
                    "format": {"in": "query", "default": "full", "values": ["full", "metadata"]},
                },
                "requires": {
                    "any_of": [
                        "mail.readonly",
                        {"when": {"format": ["metadata"]}, "then": "mail.metadata"},
                    ]
                },
                "resources": {"message": "path.id"},
            }
        ],
    }
    calls = [
        ("GET", "/messages/m1?format=metadata"),
        ("GET", "/messages/m1"),
        ("GET", "/messages/m2?format=metadata"),
        ("GET", "/messages/m2?format=raw"),
        ("GET", "/messages/m3?format=raw"),
    ]
    decisions = _replayed_both_ways(build([mail], [policy(["mail.metadata"], calls)]))
    assert [(d.outcome, d.rule, d.resources) for d in decisions] == [
        ("allowed", "scope", (("message", "m1"),)),
        ("denied", "scope", (("message", "m1"),)),
        ("allowed", "scope", (("message", "m2"),)),
        ("denied", "argument", (("message", "m2"),)),
        ("denied", "argument", (("message", "m3"),)),
    ]


def test_a_planned_verdict_follows_how_many_values_a_list_argument_holds() -> None:
    # Slack's conversations.open: one user opens a DM (im:write), several an mpim (mpim:write);
    # a plan kept for `users=U1` must not serve `users=U1,U2`
    dm = {
        "service": "svc",
        "hosts": [HOST],
        "scopes": {"im:write": None, "mpim:write": None},
        "operations": [
            {
                "id": "conversations.open",
                "method": "POST",
                "path": "/open",
                "arguments": {"users": {"in": "any", "list": True}},
                "requires": {
                    "when": {"users": {"count": {"min": 2}}},
                    "then": "mpim:write",
                    "else": "im:write",
                },
            }
        ],
    }
    calls = [
        ("POST", "/open?users=U1"),
        ("POST", "/open?users=U1,U2"),
        ("POST", "/open?users=U1"),
        ("POST", "/open?users=U1,U1"),
        ("POST", "/open?users=U2&users=U1"),
        ("POST", "/open?users=U3"),
    ]
    decisions = _replayed_both_ways(build([dm], [policy(["im:write"], calls)]))
    assert [(d.outcome, d.condition) for d in decisions] == [
        ("allowed", "users=U1"),
        ("denied", "users=U1,U2"),
        ("allowed", "users=U1"),
        ("allowed", "users=U1"),
        ("denied", "users=U2,U1"),
        ("allowed", "users=U3"),
    ]


@settings(max_examples=60, deadline=None)
@given(st.data())
def test_planned_verdicts_of_conditional_operations_equal_verdicts_judged_in_full(
    draw: st.DataObject,
) -> None:
    # operations whose requirement depends on a `mode` argument: its value, each listed
    # value, or how many values it lists (`count`)
    spec = draw.draw(service_specs(conditions=True), label="spec")
    document = draw.draw(policies(spec, max_bindings=1), label="policy")
    workspace = workspace_from_data([spec], [document])
    scopes = sorted(spec["scopes"])
    grant_sets = draw.draw(
        st.lists(st.lists(st.sampled_from(scopes), unique=True, max_size=4), max_size=3)
    )
    planned = Sandbox(workspace)
    in_full = Sandbox(workspace)
    in_full._plans = None  # type: ignore[assignment]
    assert _decisions(planned, grant_sets) == _decisions(in_full, grant_sets)
