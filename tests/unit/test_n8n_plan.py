"""From recorded node calls to connectors, grants, bindings and flows (no Node.js needed)."""

from __future__ import annotations

from n8n_builders import call, node, run, token_call, workflow

from harness.n8n.documents import connector_document, flow_documents
from harness.n8n.grants import KnownScopes, ScopeSources
from harness.n8n.plan import plan_workspace
from harness.n8n.workflow import CredentialRef

SHEETS = CredentialRef("googleSheetsOAuth2Api", "cred-1", "Sheets (events)")
GITHUB = CredentialRef("githubOAuth2Api", "cred-2", "GitHub bot")
SLACK = CredentialRef("slackApi", "cred-3", "Slack bot")
SERVICE = CredentialRef("googleApi", "cred-4", "Service account")
NOTHING = ScopeSources({}, {})
SPREADSHEET = "https://sheets.googleapis.com/v4/spreadsheets/S1"
DRIVE = "https://www.googleapis.com/auth/drive"
SCOPE = "https://www.googleapis.com/auth/"


def test_one_flow_per_workflow_and_credential_named_after_both() -> None:
    append = node("Append row", 12, SHEETS)
    issue = node("Open issue", 30, GITHUB, kind="n8n-nodes-base.github")
    flow = workflow("Sign-ups to sheet", append, issue)
    plan = plan_workspace(
        run(
            (flow, append, "ok", (call("GET", SPREADSHEET, "googleSheetsOAuth2Api"),)),
            (
                flow,
                issue,
                "ok",
                (
                    call(
                        "POST",
                        "https://api.github.com/repos/o/r/issues",
                        "githubOAuth2Api",
                        {"title": "t"},
                    ),
                ),
            ),
        ),
        NOTHING,
    )
    assert [c.name for c in plan.connectors] == ["github-bot", "sheets-events"]
    assert [f.name for f in plan.flows] == [
        "sign-ups-to-sheet.github-bot",
        "sign-ups-to-sheet.sheets-events",
    ]
    (sheets_flow,) = [d for d in flow_documents(plan)]
    steps = sheets_flow.data["flows"][1]["steps"]
    assert steps[0]["name"] == "Append row (demo.n8n.json:12): GET /v4/spreadsheets/S1"
    assert sheets_flow.marks[("flows", 1, "steps", 0)].line == 12


def test_the_default_scopes_are_split_over_the_packs_that_know_them() -> None:
    append = node("Append row", 12, SHEETS)
    plan = plan_workspace(
        run(
            (
                workflow("W", append),
                append,
                "ok",
                (call("GET", SPREADSHEET, "googleSheetsOAuth2Api"),),
            )
        ),
        NOTHING,
    )
    (sheets,) = plan.connectors
    assert sheets.grants == {
        "google-drive": [f"{SCOPE}drive.file", f"{SCOPE}drive.metadata"],
        "google-sheets": [f"{SCOPE}drive.file", f"{SCOPE}spreadsheets"],
    }
    assert "default scopes" in (sheets.held.source if sheets.held else "")
    assert not sheets.unbound
    assert sheets.hosts == {"sheets.googleapis.com"}
    document = connector_document(sheets, plan)
    assert document.data["bindings"] == [
        {"connector": "sheets-events", "env": "prod", "roles": ["sheets-events-granted"]}
    ]
    assert document.data["connectors"][0]["owner"] == "TODO"
    assert document.data["connectors"][0]["credential"] == {
        "type": "oauth2-refresh-token",
        "lifetime": "1h",
        "audience": ["google-drive", "google-sheets"],
    }


def test_scopes_a_user_states_win_over_the_defaults() -> None:
    append = node("Append row", 12, SHEETS)
    sources = ScopeSources({"Sheets (events)": KnownScopes((DRIVE,), "n8n-scopes.yaml:2")}, {})
    plan = plan_workspace(
        run(
            (
                workflow("W", append),
                append,
                "ok",
                (call("GET", SPREADSHEET, "googleSheetsOAuth2Api"),),
            )
        ),
        sources,
    )
    assert plan.connectors[0].grants == {"google-drive": [DRIVE], "google-sheets": [DRIVE]}
    assert plan.connectors[0].held is not None
    assert plan.connectors[0].held.source == "n8n-scopes.yaml:2"


def test_github_oauth_scopes_are_judged_in_the_oauth_model() -> None:
    issue = node("Open issue", 30, GITHUB, kind="n8n-nodes-base.github")
    calls = (call("POST", "https://api.github.com/repos/o/r/issues", "githubOAuth2Api", {}),)
    plan = plan_workspace(run((workflow("W", issue), issue, "ok", calls)), NOTHING)
    (github,) = plan.connectors
    assert not github.unbound
    assert github.models == {"github": "oauth"}
    assert github.grants == {"github": ["repo", "admin:org"]}
    document = connector_document(github, plan)
    assert document.data["connectors"][0]["credential"]["models"] == {"github": "oauth"}


def test_a_model_the_pack_lacks_leaves_the_credential_unbound_with_its_needs() -> None:
    issue = node("Open issue", 30, GITHUB, kind="n8n-nodes-base.github")
    calls = (call("POST", "https://api.github.com/repos/o/r/issues", "githubOAuth2Api", {}),)
    stated = KnownScopes(("repo",), "n8n-scopes.yaml:3", model="application")
    plan = plan_workspace(
        run((workflow("W", issue), issue, "ok", calls)), ScopeSources({"GitHub bot": stated}, {})
    )
    (github,) = plan.connectors
    assert "`application` permission model" in github.unbound
    assert github.needs == {
        "github post:/repos/:owner/:repo/issues": {"issues:write"}
    }  # the default model's
    document = connector_document(github, plan)
    assert "roles" not in document.data
    assert "bindings" not in document.data


def test_a_token_whose_scopes_n8n_does_not_choose_needs_the_mapping_file() -> None:
    post = node("Post", 8, SLACK, kind="n8n-nodes-base.slack")
    plan = plan_workspace(
        run(
            (
                workflow("W", post),
                post,
                "ok",
                (
                    call(
                        "POST",
                        "https://slack.com/api/chat.postMessage",
                        "slackApi",
                        {"channel": "C1"},
                    ),
                ),
            )
        ),
        NOTHING,
    )
    assert "list them in the mapping file" in plan.connectors[0].unbound


def test_a_service_account_holds_what_its_token_requests_ask_for() -> None:
    read = node("Read", 5, SERVICE)
    calls = (
        token_call(f"{SCOPE}spreadsheets {SCOPE}drive.file"),
        call("GET", f"{SPREADSHEET}/values/A1", None),
    )
    plan = plan_workspace(run((workflow("W", read), read, "ok", calls)), NOTHING)
    (account,) = plan.connectors
    assert account.token_scopes == [f"{SCOPE}spreadsheets", f"{SCOPE}drive.file"]
    assert account.held is not None
    assert account.held.scopes == (
        f"{SCOPE}spreadsheets",
        f"{SCOPE}drive.file",
    )
    assert [s.call.url for f in plan.flows for s in f.steps] == [f"{SPREADSHEET}/values/A1"]
    assert account.type.kind() == ("service-account", "service-account-key")


def test_calls_no_pack_judges_are_left_out_with_the_reason() -> None:
    node_ = node("Fetch", 3, SHEETS, kind="n8n-nodes-base.httpRequest")
    calls = (
        call("GET", "https://api.unknown.example/v1/things", "googleSheetsOAuth2Api"),
        call("GET", "https://n8n-dynamic.invalid/json.url", "googleSheetsOAuth2Api"),
        call("GET", "https://sheets.googleapis.com/v9/nothing/here", "googleSheetsOAuth2Api"),
        call("GET", SPREADSHEET, "githubApi"),
    )
    anonymous = node("Anonymous", 9, SHEETS, GITHUB, kind="n8n-nodes-base.httpRequest")
    plan = plan_workspace(
        run(
            (workflow("W", node_, anonymous), node_, "ok", calls),
            (workflow("W", node_, anonymous), anonymous, "ok", (call("GET", SPREADSHEET, None),)),
        ),
        NOTHING,
    )
    reasons = [(item.host, item.reason) for item in plan.left_out]
    assert ("api.unknown.example", "no bundled pack covers api.unknown.example") in reasons
    assert (
        "n8n-dynamic.invalid",
        "its URL comes from the run's data, so its host is not known before the run",
    ) in reasons
    assert (
        "sheets.googleapis.com",
        "no operation of google-sheets matches GET /v9/nothing/here",
    ) in reasons
    assert ("sheets.googleapis.com", "made without a credential") in reasons


def test_names_stay_stable_and_never_collide() -> None:
    first = node("A", 1, CredentialRef("googleSheetsOAuth2Api", "id-1", "Sheets"))
    second = node("B", 2, CredentialRef("googleSheetsOAuth2Api", "id-2", "Sheets!"))
    flow = workflow("W", first, second)
    made = run((flow, first, "ok", ()), (flow, second, "ok", ()))
    plan = plan_workspace(made, NOTHING)
    assert [c.name for c in plan.connectors] == ["sheets", "sheets-2"]
    again = plan_workspace(
        made, NOTHING, previous_names={"credential:id-2": "team-sheets"}, taken={"sheets"}
    )
    assert sorted(c.name for c in again.connectors) == ["sheets-2", "team-sheets"]


def test_flow_templates_and_secrets_in_calls_stay_data() -> None:
    token = "ghp_" + "Zq8Lm2Xv7Kc4Tn1Bw9Hy3Jd6Fs0Gp5Ra8Ue"
    append = node("Append row", 12, SHEETS)
    calls = (
        call(
            "POST",
            f"{SPREADSHEET}/values/A1:append?access_token={token}&valueInputOption=RAW",
            "googleSheetsOAuth2Api",
            {"values": [["{{ name }}", "Hi {{ $json.x }}"]], "note": token},
            headers={"X-Api-Key": "plain-key-value", "Authorization": f"Bearer {token}"},
        ),
    )
    plan = plan_workspace(run((workflow("W", append), append, "ok", calls)), NOTHING)
    (document,) = flow_documents(plan)
    (flow,) = document.data["flows"]
    request = flow["steps"][0]["request"]
    assert flow["vars"] == {"n8n_literal_1": "{{ name }}"}
    assert request["json"]["values"] == [["{{ n8n_literal_1 }}", "Hi {{ $json.x }}"]]
    text = repr(document.data)
    assert token not in text
    assert "plain-key-value" not in text
    assert "Authorization" not in text
    assert "valueInputOption=RAW" in request["url"]


def test_nodes_that_did_not_finish_mark_their_connector_incomplete() -> None:
    append = node("Append row", 12, SHEETS)
    failed = node("Update row", 20, SHEETS)
    flow = workflow("W", append, failed)
    plan = plan_workspace(
        run(
            (flow, append, "ok", (call("GET", SPREADSHEET, "googleSheetsOAuth2Api"),)),
            (flow, failed, "error", ()),
        ),
        NOTHING,
    )
    assert plan.connectors[0].incomplete == ["Update row"]


def test_what_a_node_read_of_an_answer_is_the_steps_recorded_answer() -> None:
    upload = node("Upload", 4, SHEETS)
    created = call(
        "POST", "https://www.googleapis.com/upload/drive/v3/files", "googleSheetsOAuth2Api", {}
    )
    created = type(created)(
        **{
            **{f: getattr(created, f) for f in created.__slots__},
            "answer": {"id": "n8n.response.id.*"},
        }
    )
    moved = call(
        "PATCH",
        "https://www.googleapis.com/drive/v3/files/n8n.response.id.*",
        "googleSheetsOAuth2Api",
        {},
    )
    plan = plan_workspace(run((workflow("W", upload), upload, "ok", (created, moved))), NOTHING)
    (document,) = flow_documents(plan)
    first, second = document.data["flows"][0]["steps"]
    assert first["response"] == {"status": 200, "json": {"id": "n8n.response.id.*"}}
    assert "response" not in second
