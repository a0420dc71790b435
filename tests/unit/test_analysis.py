from __future__ import annotations

from dataclasses import replace
from typing import Any

from workspaces import build, policy, service

from harness.analysis import BindingResult
from harness.engine import run_check


def _check(grants: list[str], calls: list[Any], **options: Any) -> BindingResult:
    fail_on = options.pop("fail_on", None)
    workspace = build([service()], [policy(grants, calls, **options)])
    if fail_on is not None:
        workspace = replace(workspace, settings=replace(workspace.settings, fail_on=fail_on))
    (result,) = run_check(workspace).results
    return result


def _kinds(result: BindingResult) -> list[tuple[str, str, tuple[str, ...]]]:
    return [(f.kind, f.subject, f.replacement) for f in result.findings]


def test_a_binding_that_grants_exactly_what_is_needed_passes() -> None:
    result = _check(["svc.read", "svc.write"], [("GET", "/items"), ("POST", "/items")])
    # svc.write implies svc.read, so svc.read is redundant
    assert _kinds(result) == [("excessive", "svc.read", ())]
    result = _check(["svc.write"], [("GET", "/items"), ("POST", "/items")])
    assert (result.passed, result.findings) == (True, ())
    assert result.services[0].suggested == ("svc.write",)
    assert (result.exercised, result.granted, result.coverage) == (1, 1, 1.0)


def test_a_denied_call_is_missing_with_the_scope_to_add() -> None:
    result = _check(["svc.read"], [("GET", "/items"), ("POST", "/items")])
    assert not result.passed
    assert _kinds(result) == [("missing", "svc:items.create", ("svc.write",))]
    finding = result.findings[0]
    assert finding.location == "<policy 0>:1:1"
    assert finding.evidence == ("flow step 2 (step 2)",)
    assert "requires svc.write" in finding.message
    # svc.write implies svc.read: keeping both would make svc.read excessive on the next run
    assert finding.instead.endswith("grants:\n  svc: [svc.write]")
    assert result.services[0].suggested == ("svc.write",)
    assert (result.allowed, result.denied) == (1, 1)


def test_an_unused_grant_is_excessive() -> None:
    result = _check(["svc.read", "svc.delete"], [("GET", "/items")])
    assert _kinds(result) == [("excessive", "svc.delete", ())]
    assert "no call of the binding's flows needed it" in result.findings[0].message
    assert result.findings[0].instead.endswith("svc: [svc.read]")
    assert (result.exercised, result.granted) == (1, 2)


def test_write_where_read_suffices_is_over_broad() -> None:
    result = _check(["svc.write"], [("GET", "/items")])
    assert _kinds(result) == [("over-broad", "svc.write", ("svc.read",))]
    assert result.findings[0].message.endswith(
        "svc.read is enough for every call it is used for, and allows 1 fewer operation, "
        "namely POST /items"
    )
    assert result.services[0].granted_breadth == 5  # items.list, items.get, items.create
    assert result.services[0].suggested_breadth == 2


def test_admin_and_wildcard_grants_are_replaced_by_the_least_broad_cover() -> None:
    for grant in ("svc.admin", "svc.*", "*"):
        result = _check([grant], [("GET", "/items"), ("POST", "/items")])
        assert _kinds(result) == [("over-broad", grant, ("svc.write",))], grant


def test_a_grant_used_on_one_resource_can_be_narrowed() -> None:
    result = _check(["svc.read"], [("GET", "/items/a1"), ("GET", "/items/a1")])
    assert _kinds(result) == [("over-broad", "svc.read", ("svc.read@item=a1",))]
    result = _check(["svc.read@item=a1"], [("GET", "/items/a1")])
    assert result.passed, result.findings
    result = _check(["svc.read@item=a1"], [("GET", "/items/b2")])
    assert _kinds(result) == [
        ("missing", "svc:items.get", ("svc.read@item=b2",)),
        ("excessive", "svc.read@item=a1", ()),
    ]


def test_blocked_hosts_expired_tokens_and_unexpected_allows_are_findings() -> None:
    calls = [
        {"request": {"method": "GET", "url": "https://evil.example/x"}},
        {"wait": "2h", "request": {"method": "GET", "url": "https://api.svc.example/items"}},
    ]
    result = _check(["svc.read"], calls)
    assert [f.kind for f in result.findings] == ["egress", "credential"]
    assert result.findings[0].subject == "evil.example"
    assert "expired" in result.findings[1].message
    expected_denied = {
        "expect": "denied",
        "request": {"method": "GET", "url": "https://api.svc.example/items"},
    }
    result = _check(["svc.read"], [expected_denied])
    # the grant allowed only a call that should have been refused: unneeded and harmful
    assert [f.kind for f in result.findings] == ["excessive", "unexpected-allow"]
    result = _check([], [expected_denied])
    assert result.passed, result.findings


def test_fail_on_decides_which_kinds_fail_the_gate() -> None:
    result = _check(["svc.write"], [("GET", "/items")], fail_on=("missing",))
    assert result.passed
    assert result.count("over-broad") == 1


def test_the_suggested_role_is_yaml_to_paste() -> None:
    result = _check(["svc.admin"], [("GET", "/items")])
    assert result.suggested_role == (
        "roles:\n"
        "  - name: bot-prod-least-privilege\n"
        "    description: Least privilege for bot@prod, suggested by connector-harness\n"
        "    grants:\n"
        "      svc: [svc.read]"
    )


def test_an_operation_any_token_may_call_needs_no_grant() -> None:
    me = {"id": "me.get", "method": "GET", "path": "/me", "requires": "authenticated"}
    workspace = build(
        [service(operations=[me])], [policy(["svc.read"], [("GET", "/me"), ("GET", "/me")])]
    )
    (result,) = run_check(workspace).results
    assert (result.allowed, result.denied) == (2, 0)
    assert _kinds(result) == [("excessive", "svc.read", ())]  # the token alone was enough
    assert result.services[0].suggested == ()
