"""Engine rules the bundled packs need to follow the vendors' pages.

- `{prefix: [...]}`: a file under `.github/workflows/` also needs the workflows permission;
- `reveals:`: GitHub's answer `private: false` makes the repository public for `public_repo`;
- `automatic: true`: GitHub's Metadata read comes with any repository permission;
- the vendor's least-privileged marks make a grant over-broad even at equal breadth (Graph);
- scopes the vendor puts in one sensitivity class, neither including the other, are not
  ranked by breadth alone (Gmail's compose and readonly for listing drafts).
"""

from __future__ import annotations

from typing import Any

import pytest
from workspaces import build

from harness.calls import CallContext, Request, Response
from harness.engine import run_check
from harness.errors import InputErrors
from harness.recording import recorded_step
from harness.route_index import RouteIndex
from harness.sandbox import Sandbox
from harness.secrets import SecretScrubber
from harness.workspace.loader import workspace_from_data

HOST = "api.repo.example"
REPOSITORY = {"in": "path", "template": "{owner}/{repo}", "resource": "repository"}


def repo_service(**extra: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "service": "repo",
        "hosts": [HOST],
        "scopes": {
            "metadata:read": {"automatic": True},
            "contents:read": {"implies": ["metadata:read"]},
            "contents:write": {"implies": ["contents:read"]},
            "workflows:write": {"implies": ["metadata:read"]},
            "repo": {"implies": ["public_repo"]},
            "public_repo": None,
        },
        "operations": [
            {
                "id": "repos.get",
                "method": "GET",
                "path": "/repos/{owner}/{repo}",
                "arguments": {"repository": REPOSITORY},
                "requires": {
                    "any_of": [
                        "metadata:read",
                        "repo",
                        {"when": {"repository": {"class": ["public"]}}, "then": "public_repo"},
                    ]
                },
                "reveals": {
                    "argument": "repository",
                    "classes": {"public": {"response.json.private": [False]}},
                },
            },
            {
                "id": "contents.put",
                "method": "PUT",
                "path": "/repos/{owner}/{repo}/contents/{+path}",
                "arguments": {"path": {"in": "path"}},
                "requires": {
                    "when": {"path": {"prefix": [".github/workflows/"]}},
                    "then": {"all_of": ["contents:write", "workflows:write"]},
                    "else": "contents:write",
                },
            },
        ],
    }
    data.update(extra)
    return data


def _policy(grants: list[str], steps: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "connectors": [
            {
                "name": "bot",
                "owner": "o@example.com",
                "credential": {"type": "oauth2-client-credentials", "lifetime": "1h"},
                "allowed_hosts": [HOST],
            }
        ],
        "roles": [{"name": "role", "grants": {"repo": grants}}],
        "bindings": [{"connector": "bot", "env": "prod", "roles": ["role"]}],
        "flows": [{"name": "flow", "connector": "bot", "steps": steps}],
    }


def _step(method: str, path: str, **response: Any) -> dict[str, Any]:
    step: dict[str, Any] = {"request": {"method": method, "url": f"https://{HOST}{path}"}}
    if response:
        step["response"] = {"status": 200, **response}
    return step


def _findings(grants: list[str], steps: list[dict[str, Any]]) -> list[tuple[str, str]]:
    (result,) = run_check(build([repo_service()], [_policy(grants, steps)])).results
    return [(f.kind, f.subject) for f in result.findings]


WORKFLOW = _step("PUT", "/repos/acme/app/contents/.github/workflows/ci.yml")
README = _step("PUT", "/repos/acme/app/contents/docs/README.md")


def test_a_file_under_the_prefix_needs_both_scopes() -> None:
    assert _findings(["contents:write", "workflows:write"], [WORKFLOW]) == []
    assert ("missing", "repo:contents.put") in _findings(["contents:write"], [WORKFLOW])


def test_a_file_outside_the_prefix_needs_one() -> None:
    assert _findings(["contents:write"], [README]) == []
    assert ("excessive", "workflows:write") in _findings(
        ["contents:write", "workflows:write"], [README]
    )


def test_a_prefix_test_on_an_argument_without_default_is_an_input_error() -> None:
    service = repo_service()
    service["operations"][1]["arguments"] = {"path": {"in": "query"}}
    with pytest.raises(InputErrors) as raised:
        build([service], [_policy(["contents:write"], [README])])
    assert "has no `default:`" in str(raised.value)


def test_the_recorded_answer_reveals_a_public_repository() -> None:
    public = _step("GET", "/repos/acme/site", json={"private": False})
    assert _findings(["public_repo"], [public]) == []
    private = _step("GET", "/repos/acme/app", json={"private": True})
    assert ("missing", "repo:repos.get") in _findings(["public_repo"], [private])
    unanswered = _step("GET", "/repos/acme/app")
    assert ("missing", "repo:repos.get") in _findings(["public_repo"], [unanswered])


def test_reveals_must_name_an_argument_that_names_a_resource() -> None:
    service = repo_service()
    service["operations"][0]["reveals"]["argument"] = "owner"
    with pytest.raises(InputErrors) as raised:
        build([service], [_policy(["repo"], [])])
    assert "is not a declared argument that names a resource" in str(raised.value)


def test_an_automatic_scope_beside_a_grant_implying_it_is_not_excessive() -> None:
    get = _step("GET", "/repos/acme/app", json={"private": True})
    assert _findings(["contents:write", "metadata:read"], [get, README]) == []
    # a grant that is not automatic is still excessive beside one that implies it
    assert ("excessive", "contents:read") in _findings(
        ["contents:write", "contents:read"], [README]
    )


def _graph_like() -> dict[str, Any]:
    return {
        "service": "cal",
        "hosts": [HOST],
        "scopes": {
            "Calendars.Read": {"sensitivity": 2},
            "Calendars.ReadBasic": {"sensitivity": 4},
        },
        "operations": [
            {
                "id": "events.list",
                "method": "GET",
                "path": "/me/events",
                "requires": {"any_of": ["Calendars.Read", "Calendars.ReadBasic"]},
                "least": ["Calendars.ReadBasic"],
            }
        ],
    }


def test_a_grant_the_vendor_does_not_call_least_privileged_is_over_broad() -> None:
    policy = _policy(["Calendars.Read"], [_step("GET", "/me/events")])
    policy["roles"][0]["grants"] = {"cal": ["Calendars.Read"]}
    (result,) = run_check(build([_graph_like()], [policy])).results
    (finding,) = result.findings
    assert (finding.kind, finding.subject, finding.replacement) == (
        "over-broad",
        "Calendars.Read",
        ("Calendars.ReadBasic",),
    )
    assert "least privileged" in finding.message


def test_scopes_of_one_vendor_class_neither_including_the_other_are_not_ranked() -> None:
    service = {
        "service": "mail",
        "hosts": [HOST],
        "scopes": {
            "compose": {"sensitivity": 4, "implies": ["send"]},
            "readonly": {"sensitivity": 4},
            "send": {"sensitivity": 2},
        },
        "operations": [
            {
                "id": "drafts.list",
                "method": "GET",
                "path": "/drafts",
                "requires": {"any_of": ["compose", "readonly"]},
            },
            {"id": "send", "method": "POST", "path": "/send", "requires": "send"},
            {"id": "read", "method": "GET", "path": "/messages", "requires": "readonly"},
        ],
    }
    policy = _policy([], [_step("GET", "/drafts")])
    policy["roles"][0]["grants"] = {"mail": ["compose"]}
    (result,) = run_check(build([service], [policy])).results
    assert result.findings == ()


def test_a_recorded_form_body_keeps_its_content_type() -> None:
    request = Request(
        "POST",
        "https://slack.example/api/conversations.list",
        {"Content-Type": "application/x-www-form-urlencoded", "User-Agent": "sdk"},
        content=b"types=im%2Cmpim",
    )
    step = recorded_step(
        1, request, Response(200, {}), scrubber=SecretScrubber(), sidecar_dir="b", sidecars={}
    )
    assert step["request"]["headers"] == {"Content-Type": "application/x-www-form-urlencoded"}
    as_json = Request("POST", "https://slack.example/api/x", {"Content-Type": "a/json"}, {"a": 1})
    step = recorded_step(
        1, as_json, Response(200, {}), scrubber=SecretScrubber(), sidecar_dir="b", sidecars={}
    )
    assert "headers" not in step["request"]


def test_an_empty_segment_after_the_base_path_routes_as_graph_serves_it() -> None:
    service = {
        "service": "graph",
        "hosts": [HOST],
        "routing": {"base_paths": ["/v1.0"], "case_insensitive": True},
        "scopes": {"User.Read": None},
        "operations": [
            {"id": "users.list", "method": "GET", "path": "/users", "requires": "User.Read"}
        ],
    }
    workspace = workspace_from_data([service], [])
    index = RouteIndex(workspace.services[0])
    assert index.normalise("/v1.0//users") == "/users"
    assert index.normalise("/v1.0/users") == "/users"
    assert index.normalise("/v2.0/users") is None
    sandbox = Sandbox(workspace)
    answer = sandbox.handle(Request("GET", f"https://{HOST}/v1.0//users", {}), CallContext("f", 0))
    assert answer.status == 401  # routed: refused for want of a token, not a 404
