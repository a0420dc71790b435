"""`authorize`: one pure function from what a call presents to a Verdict, rules in order."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from typing import Any

import pytest
from workspaces import HOST, build, policy, service

from harness.authorization import AccessRequest, Verdict, authorize, judged_by_database
from harness.calls import Request
from harness.conditions import CREATED
from harness.model import Workspace
from harness.replay_state import ReplayState
from harness.routing import Router
from harness.sandbox import Sandbox
from harness.scopes import Grant, GrantSet, Requirement
from harness.sql import tables_of
from harness.tokens import Claims, TokenRejected

WORKSPACE: Workspace = build(
    [service(regions={HOST: "us"})], [policy(["svc.read"], [("GET", "/items")])]
)
SERVICE = WORKSPACE.services[0]
CONNECTOR = WORKSPACE.connectors[0]


def _claims(grants: tuple[str, ...]) -> Claims:
    return Claims("t1", "bot", "bot@prod", "prod", {"svc": grants}, 0, 3600, (), "issuer")


def _access(
    method: str = "GET",
    path: str = "/items",
    *,
    host: str = HOST,
    grants: tuple[str, ...] | None = ("svc.read",),
    rejection: TokenRejected | None = None,
    connector: Any = CONNECTOR,
    query: Mapping[str, str] | None = None,
) -> AccessRequest:
    route = Router(WORKSPACE.services).route(method, host, path)
    claims = _claims(grants) if grants is not None and rejection is None else None
    grant_set = (
        GrantSet.build((Grant.parse(g) for g in grants), SERVICE.universe)
        if claims is not None and grants is not None
        else None
    )
    return AccessRequest(
        method=method,
        host=host,
        path=path,
        route=route,
        host_served=host == HOST,
        query=query or {},
        body=None,
        headers={},
        claims=claims,
        rejection=rejection,
        connector=connector if claims is not None else None,
        grants=grant_set,
        replay=ReplayState(),
    )


def test_an_allowed_call_names_its_rule_its_requirement_and_the_grants_that_allowed_it() -> None:
    verdict = authorize(_access(grants=("svc.write",)))
    assert verdict == Verdict(
        "allowed",
        "scope",
        str(SERVICE.operation("items.list").location),
        0,
        "requires svc.read",
        satisfied_by=("svc.write",),
        requirement=Requirement.single("svc.read"),
    )


def test_the_rules_apply_in_order_and_the_first_refusal_decides() -> None:
    # no operation on an unknown host: egress, before anything else
    assert authorize(_access(host="evil.example", path="/x"))[:3] == ("blocked", "egress.host", "")
    # a mocked host without this operation
    unrouted = authorize(_access(path="/nowhere"))
    assert (unrouted.outcome, unrouted.rule, unrouted.status) == ("denied", "route", 404)
    # a token that does not verify is refused before the egress and scope checks
    rejected = authorize(_access(rejection=TokenRejected("the token expired 5s ago")))
    assert (rejected.rule, rejected.status, rejected.error) == ("token", 401, "invalid_token")
    assert rejected.reason == "the token expired 5s ago"
    # the connector's region comes before the scope check
    region = authorize(_access(connector=replace(CONNECTOR, regions=("eu",))))
    assert (region.outcome, region.rule) == ("blocked", "egress.region")
    # no token at all
    anonymous = authorize(_access(grants=None))
    assert (anonymous.rule, anonymous.status, anonymous.error) == ("token", 401, "invalid_request")
    assert anonymous.reason == "no bearer token was sent"
    # a valid token without the scope
    denied = authorize(_access("DELETE", "/items/i1"))
    assert (denied.outcome, denied.rule, denied.status) == ("denied", "scope", 403)
    assert denied.reason == "requires svc.delete; granted: svc.read"
    assert denied.requirement == Requirement.single("svc.delete")


def test_a_resource_locator_reads_the_call_and_the_verdict_records_it() -> None:
    verdict = authorize(_access(path="/items/i7", grants=("svc.read@item=i7",)))
    assert (verdict.outcome, verdict.resources) == ("allowed", (("item", "i7"),))
    assert verdict.satisfied_by == ("svc.read@item=i7",)
    elsewhere = authorize(_access(path="/items/i8", grants=("svc.read@item=i7",)))
    assert (elsewhere.outcome, elsewhere.resources) == ("denied", (("item", "i8"),))


def test_a_sql_statement_judged_by_a_real_server_follows_its_answer() -> None:
    model = Verdict(
        "allowed", "scope", "db.yaml:3:5", 0, "requires SELECT(orders)",
        satisfied_by=("SELECT(orders)",), requirement=Requirement.single("SELECT(orders)"),
    )  # fmt: skip
    orders = Requirement.single("SELECT(orders)")
    refused = judged_by_database(model, orders, 403, "permission denied for table orders")
    assert (refused.outcome, refused.rule, refused.status) == ("denied", "scope", 403)
    assert refused.reason == (
        "requires SELECT(orders); PostgreSQL: permission denied for table orders"
    )
    broken = judged_by_database(model, orders, 400, "syntax error")
    assert (broken.outcome, broken.rule, broken.reason) == (
        "denied",
        "database",
        "PostgreSQL: syntax error",
    )
    allowed = judged_by_database(model, orders, 200, "")
    assert (allowed.outcome, allowed.satisfied_by) == ("allowed", ("SELECT(orders)",))


def test_the_tables_a_requirement_names() -> None:
    requirement = Requirement(
        (frozenset({"SELECT(orders.total)", "UPDATE(customers)"}), frozenset({"DELETE(orders)"}))
    )
    assert tables_of(requirement) == ["customers", "orders"]


@pytest.mark.parametrize("reset", [False, True])
def test_the_replay_state_holds_what_the_replay_created_until_the_sandbox_resets(
    reset: bool,
) -> None:
    operations = [
        {
            "id": "items.create",
            "method": "POST",
            "path": "/items",
            "requires": "svc.write",
            "answer": {"collection": "items", "action": "create"},
            "creates": {"resource": "item", "id": "response.json.id"},
        }
    ]
    spec = service(operations=operations, collections={"items": {"id_prefix": "i"}})
    sandbox = Sandbox(build([spec], [policy(["svc.write"], [("POST", "/items")])]))
    token = sandbox.issue_token(sandbox.workspace.bindings[0])
    headers = {"Authorization": f"Bearer {token}"}
    assert sandbox.handle(Request("POST", f"https://{HOST}/items", headers, {"a": 1})).status == 201
    if reset:
        sandbox.reset()
    expected = frozenset() if reset else frozenset({CREATED})
    assert sandbox.replay_state.classes("item", "i1", "") == expected
