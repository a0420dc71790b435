"""The Microsoft Graph pack: real request URLs route, delegated and application permissions
are different grants, the suggestion is what Graph calls least privileged, AlsoRequires holds."""

from __future__ import annotations

from typing import Any

import pytest
from workspaces import policy

from harness.engine import run_check
from harness.errors import InputErrors
from harness.model import Settings, Workspace
from harness.routing import Router, split_url
from harness.workspace.loader import workspace_from_data

GRAPH = "graph.microsoft.com"
SETTINGS = Settings(packs=(("msgraph", ""),))


@pytest.fixture(scope="module")
def graph() -> Workspace:
    """The Graph pack alone (loaded once: it has eleven thousand operations)."""
    return workspace_from_data([], [], SETTINGS)


# connector -> (model, grants, calls): one workspace, one check, loaded once
CASES: dict[str, tuple[str, list[str], list[tuple[str, str]]]] = {
    "reader": ("delegated", ["Mail.ReadWrite"], [("GET", "/v1.0/me/messages")]),
    "one-message": ("delegated", ["Mail.ReadWrite"], [("GET", "/v1.0/me/messages/AAMk=")]),
    "app-me": ("application", ["Mail.Read"], [("GET", "/v1.0/me/messages")]),
    "app-user": ("application", ["Mail.Read"], [("GET", "/v1.0/users/u1/messages")]),
    # the data gives calendarView as /users/{id}/calendarView only
    "app-me-view": ("application", ["Calendars.ReadBasic"], [("GET", "/v1.0/me/calendarView")]),
    "me-view": ("delegated", ["Calendars.ReadBasic"], [("GET", "/v1.0/me/calendarView")]),
    "agent-alone": (
        "delegated",
        ["AgentCardManifest.Read.All"],
        [("GET", "/v1.0/agentRegistry/agentInstances/A1/agentCardManifest")],
    ),
    "agent-pair": (
        "delegated",
        ["AgentCardManifest.Read.All", "AgentInstance.Read.All"],
        [("GET", "/v1.0/agentRegistry/agentInstances/A1/agentCardManifest")],
    ),
}


@pytest.fixture(scope="module")
def results() -> dict[str, Any]:
    """The check of one workspace holding a connector per case."""
    document: dict[str, list[Any]] = {"connectors": [], "roles": [], "bindings": [], "flows": []}
    for name, (model, grants, calls) in CASES.items():
        document["connectors"].append(
            {
                "name": name,
                "owner": "it@example.com",
                "credential": {
                    "type": "oauth2-refresh-token",
                    "lifetime": "1h",
                    "models": {"msgraph": model},
                },
                "allowed_hosts": [GRAPH],
            }
        )
        document["roles"].append({"name": name, "grants": {"msgraph": grants}})
        document["bindings"].append({"connector": name, "env": "prod", "roles": [name]})
        document["flows"].append(
            {
                "name": name,
                "connector": name,
                "steps": [
                    {"request": {"method": method, "url": f"https://{GRAPH}{path}"}}
                    for method, path in calls
                ],
            }
        )
    report = run_check(workspace_from_data([], [document], SETTINGS))
    return {result.connector: result for result in report.results}


@pytest.mark.parametrize(
    ("method", "url", "operation"),
    [
        ("GET", "/v1.0/me/messages?$select=subject,from&$top=25", "get:/me/messages"),
        ("GET", "/beta/Me/MailFolders('Inbox')/Messages", "get:/me/mailfolders/:id/messages"),
        ("GET", "/v1.0/users/ada@contoso.com/messages/AAMkAGI2=", "get:/users/:id/messages/:id_2"),
        ("POST", "/v1.0/me/sendMail", "post:/me/sendmail"),
        (
            "GET",
            "/v1.0/me/drive/root:/Reports/2026/q1.xlsx:/content",
            "get:/me/drive/root:/:-id:/content",
        ),
        (
            "GET",
            "/v1.0/sites/contoso.sharepoint.com,1,2/lists/L1/items",
            "get:/sites/:id/lists/:id_2/items",
        ),
        ("POST", "/v1.0/teams/T1/channels/C1/messages", "post:/teams/:id/channels/:id_2/messages"),
        # a site's other document library: the data lists the default library's path only
        (
            "DELETE",
            "/v1.0/sites/contoso.sharepoint.com%2C1%2C2/drives/b!x7Hk3/items/01BYE5RZ",
            "delete:/sites/:id/drive/items/:id_2",
        ),
    ],
)
def test_real_request_urls_route_to_their_operation(
    graph: Workspace, method: str, url: str, operation: str
) -> None:
    router = Router(graph.services)
    host, path, _ = split_url(f"https://{GRAPH}{url}")
    found = router.route(method, host, path)
    assert found is not None, url
    assert found.operation.id == operation


def test_delegated_reading_suggests_the_least_privileged_permission(
    results: dict[str, Any],
) -> None:
    result = results["reader"]
    (analysis,) = result.services
    assert (analysis.model, analysis.suggested) == ("delegated", ("Mail.ReadBasic",))
    (broad,) = result.findings
    assert (broad.kind, broad.subject, broad.replacement) == (
        "over-broad",
        "Mail.ReadWrite",
        ("Mail.ReadBasic",),
    )


def test_mail_readwrite_reads_a_message_although_the_data_omits_it(
    results: dict[str, Any],
) -> None:
    # learn.microsoft.com "Get message": Mail.ReadWrite is a higher privileged permission; the
    # data lists only Mail.Read and Mail.ReadBasic, the pack derives it from the description.
    assert [f.kind for f in results["one-message"].findings] == ["over-broad"]


def test_an_app_only_token_cannot_call_me_and_uses_application_permissions(
    results: dict[str, Any],
) -> None:
    (missing,) = [f for f in results["app-me"].findings if f.kind == "missing"]
    assert "is not available to an `application` token" in missing.message
    assert "permission model)" not in missing.message
    assert results["app-user"].services[0].suggested == ("Mail.ReadBasic.All",)
    assert [f.kind for f in results["app-user"].findings] == ["over-broad"]


def test_a_me_path_the_data_lists_only_for_users_is_still_delegated_only(
    results: dict[str, Any],
) -> None:
    # https://learn.microsoft.com/en-us/graph/api/user-list-calendarview: /me needs a signed-in
    # user; routed through the /me alias to /users/{id}, an app-only token was accepted.
    (missing,) = [f for f in results["app-me-view"].findings if f.kind == "missing"]
    assert "is not available to an `application` token" in missing.message
    assert results["me-view"].findings == ()
    assert results["me-view"].services[0].suggested == ("Calendars.ReadBasic",)


def test_also_requires_makes_a_permission_count_only_with_its_partner(
    results: dict[str, Any],
) -> None:
    alone = results["agent-alone"]
    (missing,) = [f for f in alone.findings if f.kind == "missing"]
    assert "AgentInstance.Read.All" in missing.message
    assert results["agent-pair"].findings == ()


def test_a_delegated_only_permission_granted_to_an_app_only_connector_is_an_input_error() -> None:
    document = policy(["User.Read"], [("GET", "/v1.0/me")], service_name="msgraph", host=GRAPH,
                      allowed_hosts=[GRAPH])  # fmt: skip
    document["connectors"][0]["credential"]["models"] = {"msgraph": "application"}
    with pytest.raises(InputErrors) as raised:
        workspace_from_data([], [document], SETTINGS)
    assert "holds msgraph's `application` permission model" in str(raised.value)
