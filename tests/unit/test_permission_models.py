"""Permission models: one service, several kinds of grant; a connector holds one per service."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from workspaces import build, policy

from harness.calls import Request
from harness.engine import run_check
from harness.errors import InputErrors
from harness.lint.linter import lint_workspace
from harness.sandbox import Sandbox

HOST = "api.repo.example"


def repo_service() -> dict[str, Any]:
    """GitHub-like: fine-grained `app` permissions, and classic `oauth` scopes."""
    return {
        "service": "repo",
        "hosts": [HOST],
        "models": {
            "app": {"scopes": {"issues:read": None, "issues:write": {"implies": ["issues:read"]}}},
            "oauth": {
                "scopes": {
                    "repo": {"implies": ["public_repo"]},
                    "public_repo": None,
                    "legacy_repo": {"legacy": "repo"},
                    "admin:org": None,
                }
            },
        },
        "operations": [
            {
                "id": "issues.list",
                "method": "GET",
                "path": "/repos/{owner}/{name}/issues",
                "requires": "issues:read",
                "requires_in": {"oauth": {"any_of": ["repo", "legacy_repo"]}},
            },
            {
                "id": "issues.create",
                "method": "POST",
                "path": "/repos/{owner}/{name}/issues",
                "requires": "issues:write",
                "requires_in": {"oauth": {"any_of": ["repo", "legacy_repo"]}},
            },
            {
                "id": "org.update",
                "method": "PATCH",
                "path": "/orgs/{org}",
                "requires_in": {"oauth": "admin:org"},
            },
        ],
    }


def _policy(grants: list[str], calls: list[tuple[str, str]], model: str = "") -> dict[str, Any]:
    document = policy(grants, calls, service_name="repo", host=HOST, allowed_hosts=[HOST])
    if model:
        document["connectors"][0]["credential"]["models"] = {"repo": model}
    return document


def test_a_connector_without_models_holds_the_first_model() -> None:
    workspace = build([repo_service()], [_policy(["issues:read"], [("GET", "/repos/o/r/issues")])])
    (result,) = run_check(workspace).results
    assert (result.findings, result.services[0].model) == ((), "app")


def test_the_oauth_model_judges_classic_scopes_and_suggests_them() -> None:
    calls = [("GET", "/repos/o/r/issues"), ("POST", "/repos/o/r/issues")]
    workspace = build([repo_service()], [_policy(["repo", "admin:org"], calls, model="oauth")])
    (result,) = run_check(workspace).results
    (analysis,) = result.services
    assert (analysis.model, analysis.suggested) == ("oauth", ("repo",))
    (excessive,) = result.findings
    assert (excessive.kind, excessive.subject) == ("excessive", "admin:org")


def test_an_operation_a_model_cannot_call_is_missing_with_nothing_to_grant() -> None:
    workspace = build([repo_service()], [_policy(["issues:write"], [("PATCH", "/orgs/acme")])])
    (result,) = run_check(workspace).results
    (missing,) = [f for f in result.findings if f.kind == "missing"]
    assert missing.message == (
        "repo:org.update was denied: it is not available to an `app` token; no app grant "
        "allows it: the connector's credential must hold `oauth` grants (`models: {repo: oauth}`)"
    )
    assert "\x00" not in missing.message
    assert missing.replacement == ()


def test_an_unavailable_operation_names_no_scope_in_the_log_the_report_or_the_answer() -> None:
    workspace = build([repo_service()], [_policy(["issues:write"], [("PATCH", "/orgs/acme")])])
    sandbox = Sandbox(workspace)
    report = run_check(workspace, sandbox=sandbox)
    (decision,) = [d for d in sandbox.decisions if d.operation == "org.update"]
    data = decision.to_data()
    assert (data["outcome"], data["requirement"]) == ("denied", None)
    assert data["reason"] == "is not available to an `app` token; granted: issues:write"
    assert "\x00" not in json.dumps(report.to_data())
    token = sandbox.issue_token(workspace.bindings[0])
    answer = sandbox.handle(
        Request("PATCH", f"https://{HOST}/orgs/acme", {"Authorization": f"Bearer {token}"})
    )
    assert answer.status == 403
    assert answer.json == {
        "error": "insufficient_scope",
        "operation": "repo:org.update",
        "required": None,
        "message": "repo:org.update is not available to an `app` token",
    }
    assert answer.header("WWW-Authenticate") == 'Bearer error="insufficient_scope"'


def test_a_grant_outside_the_connectors_model_is_an_input_error_naming_the_model() -> None:
    document = _policy(["repo"], [("GET", "/repos/o/r/issues")])
    with pytest.raises(InputErrors) as raised:
        build([repo_service()], [document])
    (error,) = raised.value.errors
    assert error.problem == (
        "binding bot@prod: role `role` grants the repo scope `repo`, but connector `bot` holds "
        "repo's `app` permission model, where it does not exist"
    )
    assert error.hint.endswith("or set `credential: {models: {repo: oauth}}` on connector `bot`")


def test_a_scope_of_no_model_is_refused_at_the_role() -> None:
    with pytest.raises(InputErrors) as raised:
        build([repo_service()], [_policy(["issues:admin"], [("GET", "/repos/o/r/issues")])])
    assert "`issues:admin` matches no scope of service `repo`" in str(raised.value)


def test_credential_models_name_a_model_of_the_service() -> None:
    with pytest.raises(InputErrors) as raised:
        build([repo_service()], [_policy(["repo"], [("GET", "/repos/o/r/issues")], model="oath")])
    assert "`oath` is not a permission model of `repo`" in str(raised.value)
    assert "did you mean `oauth`?" in str(raised.value)


def test_lint_warns_of_a_legacy_scope_and_names_the_current_one() -> None:
    document = _policy(["legacy_repo"], [("GET", "/repos/o/r/issues")], model="oauth")
    workspace = build([repo_service()], [document])
    findings = lint_workspace(workspace, Path("."), date(2026, 1, 1))
    (finding,) = [f for f in findings if f.rule == "CH109"]
    assert finding.severity == "warning"
    assert finding.message == (
        "`legacy_repo` in role `role` is a legacy repo scope, replaced by `repo`; held by bot@prod"
    )
    assert finding.fix == "grant `repo` instead of `legacy_repo`"


def test_the_same_grants_in_two_models_are_judged_each_in_its_own_model() -> None:
    """`write` implies `read` in the `app` model only: a sandbox serving connectors of both
    models judges each token's grants in the model its connector holds, whichever is first."""
    spec = {
        "service": "repo",
        "hosts": [HOST],
        "models": {
            "app": {"scopes": {"read": None, "write": {"implies": ["read"]}}},
            "oauth": {"scopes": {"read": None, "write": None}},
        },
        "operations": [{"id": "items.list", "method": "GET", "path": "/items", "requires": "read"}],
    }
    app = _policy(["write"], [("GET", "/items")])
    oauth = _policy(["write"], [("GET", "/items")], model="oauth")
    renamed = {"bot": "oauth-bot", "role": "oauth-role"}
    oauth["connectors"][0]["name"] = renamed["bot"]
    oauth["roles"][0]["name"] = renamed["role"]
    oauth["bindings"] = [{"connector": "oauth-bot", "env": "prod", "roles": ["oauth-role"]}]
    oauth["flows"][0].update(name="oauth-flow", connector="oauth-bot")
    workspace = build([spec], [app, oauth])
    sandbox = Sandbox(workspace)
    tokens = {b.connector: sandbox.issue_token(b) for b in workspace.bindings}
    outcomes = []
    for connector in ("bot", "oauth-bot", "bot"):
        headers = {"Authorization": f"Bearer {tokens[connector]}"}
        outcomes.append(sandbox.handle(Request("GET", f"https://{HOST}/items", headers)).status)
    assert outcomes == [200, 403, 200]
    assert [d.model for d in sandbox.decisions] == ["app", "oauth", "app"]


def test_a_flow_may_give_a_resource_kind_only_another_model_names() -> None:
    """GitHub's `repository` class matters only to classic OAuth scopes: a flow of an
    `oauth` connector gives its public repositories although the default model never
    names the kind (docs/packs.md)."""
    spec = repo_service()
    spec["operations"][0]["requires_in"] = {
        "oauth": {
            "any_of": [
                "repo",
                {"when": {"repository": {"class": ["public"]}}, "then": "public_repo"},
            ]
        }
    }
    spec["operations"][0]["arguments"] = {
        "repository": {"in": "path", "template": "{owner}/{name}", "resource": "repository"}
    }
    document = _policy(["public_repo"], [("GET", "/repos/acme/site/issues")], model="oauth")
    document["flows"][0]["given"] = {"repo": {"repository": {"public": ["acme/site"]}}}
    workspace = build([spec], [document])
    sandbox = Sandbox(workspace)
    run_check(workspace, sandbox=sandbox)
    (decision,) = sandbox.decisions
    assert (decision.outcome, decision.condition) == ("allowed", "repository=acme/site [public]")
