"""Conditional requirements: what a call needs depends on its arguments and on the replay.

The services here are small copies of the vendors' real cases (Gmail's `format` and `q`,
Slack's `types`, Drive's `drive.file`), so each rule is checked where it is decided: in the
sandbox's decision for the call, and in the analysis that suggests a role.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from workspaces import build, policy

from harness.calls import CallContext, Request
from harness.conditions import MAX_ALTERNATIVES
from harness.cover import BreadthMeter
from harness.engine import run_check
from harness.errors import InputErrors
from harness.sandbox import Sandbox
from harness.scopes import Grant, Requirement

MAIL = "api.mail.example"
CHAT = "api.chat.example"
FILES = "api.files.example"


def mail_service() -> dict[str, Any]:
    """Gmail's rules: metadata only with format metadata|minimal (default full), never with q."""
    return {
        "service": "mail",
        "hosts": [MAIL],
        "scopes": {"mail.readonly": None, "mail.metadata": None},
        "operations": [
            {
                "id": "messages.get",
                "method": "GET",
                "path": "/messages/{id}",
                "arguments": {
                    "format": {
                        "in": "query",
                        "default": "full",
                        "values": ["minimal", "full", "raw", "metadata"],
                    }
                },
                "requires": {
                    "any_of": [
                        "mail.readonly",
                        {"when": {"format": ["minimal", "metadata"]}, "then": "mail.metadata"},
                    ]
                },
            },
            {
                "id": "messages.list",
                "method": "GET",
                "path": "/messages",
                "arguments": {"q": {"in": "query"}},
                "requires": {
                    "any_of": ["mail.readonly", {"when": {"q": "absent"}, "then": "mail.metadata"}]
                },
            },
        ],
    }


def chat_service() -> dict[str, Any]:
    """Slack's rule: the read scope of every listed channel type, default public_channel."""
    types = ["public_channel", "private_channel", "mpim", "im"]
    return {
        "service": "chat",
        "hosts": [CHAT],
        "scopes": {name: None for name in ("channels:read", "groups:read", "mpim:read", "im:read")},
        "value_maps": {
            "types-read": {
                "public_channel": "channels:read",
                "private_channel": "groups:read",
                "mpim": "mpim:read",
                "im": "im:read",
            }
        },
        "operations": [
            {
                "id": "conversations.list",
                "method": ["GET", "POST"],
                "path": "/api/conversations.list",
                "arguments": {
                    "types": {
                        "in": "any",
                        "list": True,
                        "default": ["public_channel"],
                        "values": types,
                    }
                },
                "requires": {"each": "types", "of": "types-read"},
            }
        ],
    }


def files_service() -> dict[str, Any]:
    """Drive's rules: `files.file` reaches files the app created or was given; `files.appdata`
    the application-data folder, into which a create with that parent puts a file."""
    return {
        "service": "files",
        "hosts": [FILES],
        "scopes": {"files.all": None, "files.file": None, "files.appdata": None},
        "upload_sessions": {"param": "upload_id", "opens": {"uploadType": "resumable"}},
        "operations": [
            {
                "id": "files.create",
                "method": "POST",
                "path": "/upload/files",
                "arguments": {"parents": {"in": "body", "list": True, "default": ["root"]}},
                "requires": {
                    "any_of": [
                        "files.all",
                        "files.file",
                        {"when": {"parents": ["appDataFolder"]}, "then": "files.appdata"},
                    ]
                },
                "creates": {
                    "resource": "file",
                    "id": "response.json.id",
                    "classes": {"appdata": {"parents": ["appDataFolder"]}},
                },
            },
            {
                "id": "files.get",
                "method": "GET",
                "path": "/files/{fileId}",
                "arguments": {"fileId": {"in": "path", "resource": "file"}},
                "requires": {
                    "any_of": [
                        "files.all",
                        {"when": {"fileId": {"class": ["created", "given"]}}, "then": "files.file"},
                        {"when": {"fileId": {"class": ["appdata"]}}, "then": "files.appdata"},
                    ]
                },
            },
        ],
    }


def _sandbox(service: dict[str, Any], grants: list[str], host: str, **flow: Any) -> Any:
    placeholder = [("GET", "/")]  # a flow needs a step; these tests call the sandbox directly
    document = policy(
        grants, placeholder, service_name=service["service"], host=host, allowed_hosts=[host]
    )
    document["flows"][0].update(flow)
    workspace = build([service], [document])
    sandbox = Sandbox(workspace)
    return sandbox, sandbox.issue_token(workspace.bindings[0])


def _call(sandbox: Sandbox, token: str, method: str, url: str, **extra: Any) -> Any:
    headers = {"Authorization": f"Bearer {token}", **extra.pop("headers", {})}
    response = sandbox.handle(Request(method, url, headers, **extra), CallContext("flow", 0, "s"))
    return response, sandbox.decisions[-1]


# -- arguments with a default -----------------------------------------------------------------


def test_gmail_metadata_is_refused_for_the_default_full_format_and_allowed_for_metadata() -> None:
    sandbox, token = _sandbox(mail_service(), ["mail.metadata"], MAIL)
    _, full = _call(sandbox, token, "GET", f"https://{MAIL}/messages/m1")
    assert (full.outcome, full.status) == ("denied", 403)
    assert full.requirement == Requirement.single("mail.readonly")
    assert full.condition == "format=full (default)"
    _, metadata = _call(sandbox, token, "GET", f"https://{MAIL}/messages/m1?format=metadata")
    assert metadata.outcome == "allowed"
    assert metadata.requirement is not None
    assert metadata.requirement.to_data() == [["mail.readonly"], ["mail.metadata"]]
    assert metadata.to_data()["condition"] == "format=metadata"


def test_a_value_the_vendor_does_not_accept_is_refused_as_the_vendor_would() -> None:
    sandbox, token = _sandbox(mail_service(), ["mail.readonly"], MAIL)
    response, decision = _call(sandbox, token, "GET", f"https://{MAIL}/messages/m1?format=html")
    assert (response.status, decision.rule, decision.outcome) == (400, "argument", "denied")
    assert "`format=html` is not a value the vendor accepts" in decision.reason


def test_q_makes_metadata_insufficient_whatever_its_value() -> None:
    sandbox, token = _sandbox(mail_service(), ["mail.metadata"], MAIL)
    assert _call(sandbox, token, "GET", f"https://{MAIL}/messages")[1].outcome == "allowed"
    searched = _call(sandbox, token, "GET", f"https://{MAIL}/messages?q=invoice")[1]
    assert searched.outcome == "denied"
    assert searched.condition == "q=invoice"


# -- list arguments, wherever they are sent ---------------------------------------------------


@pytest.mark.parametrize(
    "request_parts",
    [
        {"url": f"https://{CHAT}/api/conversations.list?types=public_channel,im"},
        {"url": f"https://{CHAT}/api/conversations.list?types=public_channel&types=im"},
        {
            "url": f"https://{CHAT}/api/conversations.list",
            "method": "POST",
            "headers": {"Content-Type": "application/x-www-form-urlencoded"},
            "content": b"types=public_channel%2Cim&limit=20",
        },
        {
            "url": f"https://{CHAT}/api/conversations.list",
            "method": "POST",
            "json": {"types": ["public_channel", "im"]},
        },
    ],
    ids=["comma-separated", "repeated", "form-body", "json-body"],
)
def test_every_listed_channel_type_needs_its_read_scope(request_parts: dict[str, Any]) -> None:
    method = request_parts.pop("method", "GET")
    url = request_parts.pop("url")
    sandbox, token = _sandbox(chat_service(), ["channels:read"], CHAT)
    _, decision = _call(sandbox, token, method, url, **request_parts)
    assert decision.outcome == "denied"
    assert decision.requirement == Requirement((frozenset({"channels:read", "im:read"}),))
    sandbox, token = _sandbox(chat_service(), ["channels:read", "im:read"], CHAT)
    assert _call(sandbox, token, method, url, **request_parts)[1].outcome == "allowed"


def test_the_default_channel_type_needs_only_channels_read() -> None:
    sandbox, token = _sandbox(chat_service(), ["channels:read"], CHAT)
    _, decision = _call(sandbox, token, "GET", f"https://{CHAT}/api/conversations.list")
    assert (decision.outcome, decision.condition) == ("allowed", "types=public_channel (default)")


def test_a_list_longer_than_the_bound_is_refused_not_expanded() -> None:
    sandbox, token = _sandbox(chat_service(), ["channels:read"], CHAT)
    many = ",".join(f"t{number}" for number in range(100))
    _, decision = _call(
        sandbox, token, "GET", f"https://{CHAT}/api/conversations.list?types={many}"
    )
    assert (decision.rule, decision.status) == ("argument", 400)
    assert "lists 100 values, more than 64" in decision.reason


def test_the_analysis_suggests_the_scopes_of_the_types_the_flow_lists() -> None:
    calls = [
        {
            "request": {
                "method": "GET",
                "url": f"https://{CHAT}/api/conversations.list?types=im,mpim",
            }
        }
    ]
    document = policy(["channels:read", "im:read", "mpim:read"], calls, service_name="chat",
                      host=CHAT, allowed_hosts=[CHAT])  # fmt: skip
    (result,) = run_check(build([chat_service()], [document])).results
    assert result.services[0].suggested == ("im:read", "mpim:read")
    (excessive,) = result.findings
    assert (excessive.kind, excessive.subject) == ("excessive", "channels:read")


# -- how many values a list argument holds ----------------------------------------------------


def dm_service(**users: Any) -> dict[str, Any]:
    """Slack's conversations.open: one user ID in `users` opens a direct message (im:write),
    more than one a multi-person one (mpim:write)."""
    return {
        "service": "chat",
        "hosts": [CHAT],
        "scopes": {"im:write": None, "mpim:write": None},
        "operations": [
            {
                "id": "conversations.open",
                "method": ["GET", "POST"],
                "path": "/api/conversations.open",
                "arguments": {"users": {"in": "any", "list": True, **users}},
                "requires": {
                    "when": {"users": {"count": {"min": 2}}},
                    "then": "mpim:write",
                    "else": "im:write",
                },
            }
        ],
    }


@pytest.mark.parametrize(
    ("request_parts", "needed", "condition"),
    [
        ({"url": "?users=U1"}, "im:write", "users=U1"),
        ({"url": "?users=U1,U2"}, "mpim:write", "users=U1,U2"),
        ({"url": "?users=U1&users=U2"}, "mpim:write", "users=U1,U2"),
        ({"url": "?users=U1,U1"}, "im:write", "users=U1"),  # distinct values are counted
        ({"method": "POST", "json": {"users": ["U1", "U2", "U3"]}}, "mpim:write", "users=U1,U2,U3"),
        (
            {
                "method": "POST",
                "headers": {"Content-Type": "application/x-www-form-urlencoded"},
                "content": b"users=U1%2CU2",
            },
            "mpim:write",
            "users=U1,U2",
        ),
        ({"url": ""}, "im:write", "users absent"),  # absent, no default: 0 values
    ],
    ids=["one", "two", "repeated", "one-twice", "json-list", "form-body", "absent"],
)
def test_a_count_test_tells_one_listed_value_from_several(
    request_parts: dict[str, Any], needed: str, condition: str
) -> None:
    method = request_parts.pop("method", "GET")
    url = f"https://{CHAT}/api/conversations.open" + request_parts.pop("url", "")
    for granted in (["im:write"], ["mpim:write"]):
        sandbox, token = _sandbox(dm_service(), granted, CHAT)
        _, decision = _call(sandbox, token, method, url, **dict(request_parts))
        assert decision.requirement == Requirement.single(needed)
        assert decision.condition == condition
        assert decision.outcome == ("allowed" if granted == [needed] else "denied")


def test_a_count_test_counts_the_default_when_the_argument_is_absent() -> None:
    sandbox, token = _sandbox(dm_service(default=["U1", "U2"]), ["mpim:write"], CHAT)
    _, decision = _call(sandbox, token, "GET", f"https://{CHAT}/api/conversations.open")
    assert (decision.outcome, decision.condition) == ("allowed", "users=U1,U2 (default)")


def test_the_analysis_suggests_what_the_number_of_listed_values_needs() -> None:
    calls = [("GET", "/api/conversations.open?users=U1,U2")]
    document = policy(["im:write"], calls, service_name="chat", host=CHAT, allowed_hosts=[CHAT])
    (result,) = run_check(build([dm_service()], [document])).results
    assert result.services[0].suggested == ("mpim:write",)
    assert {(f.kind, f.subject) for f in result.findings} == {
        ("missing", "chat:conversations.open"),
        ("excessive", "im:write"),
    }


def test_breadth_counts_a_case_for_each_number_of_values_a_count_test_tells_apart() -> None:
    from harness.arguments import Argument
    from harness.conditions import Scope, When, enumerate_cases
    from harness.conditions import Test as ArgumentTest

    users = Argument("users", "any", is_list=True)
    between = When(
        (ArgumentTest("users", "count", at_least=2, at_most=3),), Scope("mpim"), Scope("im")
    )
    cases = enumerate_cases(between, {"users": users})
    # one value, absent, and two, three and four values (each bound and its neighbours)
    assert [case.to_data() if case else None for case in cases] == [
        [["im"]],
        [["im"]],
        [["mpim"]],
        [["mpim"]],
        [["im"]],
    ]
    assert between.tests[0].describe() == "users holds 2 to 3 values"


@pytest.mark.parametrize(
    ("argument", "count", "problem"),
    [
        ({"in": "any"}, {"min": 2}, "`arguments.users` is not a list argument"),
        ({"in": "any", "list": True}, {"min": 3, "max": 2}, "`min: 3` is above `max: 2`"),
        ({"in": "any", "list": True}, {"min": 65}, "whole numbers from 0 to 64"),
        ({"in": "any", "list": True}, {}, "needs `min:` and/or `max:`"),
    ],
    ids=["not-a-list", "min-above-max", "over-the-bound", "no-bound"],
)
def test_a_count_test_that_cannot_hold_or_has_no_list_is_an_input_error(
    argument: dict[str, Any], count: dict[str, Any], problem: str
) -> None:
    service = dm_service()
    operation = service["operations"][0]
    operation["arguments"]["users"] = argument
    operation["requires"]["when"] = {"users": {"count": count}}
    with pytest.raises(InputErrors) as raised:
        build([service], [])
    assert problem in str(raised.value)


# -- a model no grant of which allows an operation --------------------------------------------


def two_model_service(user: Any) -> dict[str, Any]:
    return {
        "service": "chat",
        "hosts": [CHAT],
        "models": {
            "bot": {"scopes": {"remote_files:write": None}},
            "user": {"scopes": {"remote_files:write": None}},
        },
        "operations": [
            {
                "id": "files.remote.add",
                "method": "POST",
                "path": "/api/files.remote.add",
                "requires": "remote_files:write",
                "requires_in": {"user": user},
            }
        ],
    }


def test_unavailable_denies_every_call_in_its_model_and_names_no_grant() -> None:
    calls = [("POST", "/api/files.remote.add?external_id=d1")]
    document = policy(["remote_files:write"], calls, service_name="chat", host=CHAT,
                      allowed_hosts=[CHAT])  # fmt: skip
    document["connectors"][0]["credential"]["models"] = {"chat": "user"}
    (result,) = run_check(build([two_model_service("unavailable")], [document])).results
    (missing, excessive) = result.findings
    assert missing.message == (
        "chat:files.remote.add was denied: it is not available to a `user` token; no user grant "
        "allows it: the connector's credential must hold `bot` grants (`models: {chat: bot}`)"
    )
    assert (missing.instead, missing.replacement, result.services[0].suggested) == ("", (), ())
    assert (excessive.kind, excessive.subject) == ("excessive", "remote_files:write")
    document["connectors"][0]["credential"]["models"] = {"chat": "bot"}
    (bot,) = run_check(build([two_model_service("unavailable")], [document])).results
    assert bot.findings == ()


def test_unavailable_is_only_a_whole_requirement() -> None:
    with pytest.raises(InputErrors) as raised:
        build([two_model_service({"any_of": ["remote_files:write", "unavailable"]})], [])
    assert "`unavailable` (no grant of the permission model allows the operation) can only" in (
        str(raised.value)
    )


# -- resources the app created or was given -----------------------------------------------------


def test_drive_file_reaches_a_file_the_app_created_in_this_flow_and_no_other() -> None:
    sandbox, token = _sandbox(files_service(), ["files.file"], FILES)
    _, before = _call(sandbox, token, "GET", f"https://{FILES}/files/F1")
    assert before.outcome == "denied"
    assert before.condition == "fileId=F1 [pre-existing, not given]"
    created = CallContext("flow", 1, "upload", recorded=None)
    sandbox.handle(
        Request("POST", f"https://{FILES}/upload/files", {"Authorization": f"Bearer {token}"}, {"name": "a"}),
        created,
    )  # fmt: skip
    # the recorded-less answer is {}: no id, so nothing was created that a later call could use
    assert _call(sandbox, token, "GET", f"https://{FILES}/files/F1")[1].outcome == "denied"


def test_a_replay_remembers_the_file_a_create_returned_and_forgets_it_afterwards() -> None:
    steps = [
        {
            "name": "upload",
            "request": {
                "method": "POST",
                "url": f"https://{FILES}/upload/files",
                "json": {"name": "a"},
            },
            "response": {"status": 200, "json": {"id": "F9"}},
        },
        {"name": "read it back", "request": {"method": "GET", "url": f"https://{FILES}/files/F9"}},
        {"name": "read another", "request": {"method": "GET", "url": f"https://{FILES}/files/F1"}},
    ]
    document = policy(
        ["files.file"], steps, service_name="files", host=FILES, allowed_hosts=[FILES]
    )
    (result,) = run_check(build([files_service()], [document])).results
    missing = [f for f in result.findings if f.kind == "missing"]
    assert [f.evidence for f in missing] == [("flow step 3 (read another)",)]
    assert "(with fileId=F1 [pre-existing, not given])" in missing[0].message
    assert result.services[0].suggested == ("files.all",)


def test_a_flow_can_say_which_pre_existing_files_the_app_was_given() -> None:
    sandbox, token = _sandbox(
        files_service(), ["files.file"], FILES, given={"files": {"file": ["F1"]}}
    )
    _, decision = _call(sandbox, token, "GET", f"https://{FILES}/files/F1")
    assert (decision.outcome, decision.condition) == ("allowed", "fileId=F1 [given]")


def test_a_file_created_in_the_app_data_folder_is_reached_by_appdata_alone() -> None:
    steps = [
        {
            "request": {
                "method": "POST",
                "url": f"https://{FILES}/upload/files",
                "json": {"name": "settings.json", "parents": ["appDataFolder"]},
            },
            "response": {"json": {"id": "A1"}},
        },
        {"request": {"method": "GET", "url": f"https://{FILES}/files/A1"}},
    ]
    document = policy(["files.appdata"], steps, service_name="files", host=FILES,
                      allowed_hosts=[FILES])  # fmt: skip
    (result,) = run_check(build([files_service()], [document])).results
    assert result.findings == ()
    assert result.services[0].suggested == ("files.appdata",)


# -- resumable upload sessions ------------------------------------------------------------------


def test_a_resumable_upload_session_is_judged_by_the_call_that_opened_it() -> None:
    sandbox, token = _sandbox(files_service(), ["files.file"], FILES)
    opened, first = _call(
        sandbox,
        token,
        "POST",
        f"https://{FILES}/upload/files?uploadType=resumable",
        json={"name": "report.pdf"},
    )
    location = opened.header("Location")
    assert first.outcome == "allowed"
    assert (
        location
        == f"https://{FILES}/upload/files?uploadType=resumable&upload_id=connector-harness-upload-1"
    )
    _, second = _call(sandbox, token, "PUT", location, content=b"%PDF-1.7")
    assert (second.operation, second.outcome) == ("files.create", "allowed")
    assert second.condition.startswith("upload session opened by files.create")
    sandbox2, token2 = _sandbox(files_service(), [], FILES)  # a token that may not upload
    _, denied = _call(
        sandbox2, token2, "POST", f"https://{FILES}/upload/files?uploadType=resumable", json={}
    )
    assert denied.outcome == "denied"


def test_a_session_the_replay_never_opened_is_an_unroutable_call() -> None:
    sandbox, token = _sandbox(files_service(), ["files.all"], FILES)
    response, decision = _call(
        sandbox, token, "PUT", f"https://{FILES}/upload/files?uploadType=resumable&upload_id=nope"
    )
    assert (response.status, decision.rule) == (404, "route")


def test_a_multipart_upload_reads_its_metadata_part() -> None:
    body = (
        b"--b1\r\nContent-Type: application/json; charset=UTF-8\r\n\r\n"
        + json.dumps({"name": "x", "parents": ["appDataFolder"]}).encode()
        + b"\r\n--b1\r\nContent-Type: text/plain\r\n\r\nhello\r\n--b1--"
    )
    sandbox, token = _sandbox(files_service(), ["files.appdata"], FILES)
    _, decision = _call(
        sandbox,
        token,
        "POST",
        f"https://{FILES}/upload/files?uploadType=multipart",
        headers={"Content-Type": "multipart/related; boundary=b1"},
        content=body,
    )
    assert (decision.outcome, decision.condition) == ("allowed", "parents=appDataFolder")


# -- breadth and bounds ---------------------------------------------------------------------


def test_a_conditional_operation_counts_once_per_case() -> None:
    workspace = build([mail_service()], [])
    meter = BreadthMeter(workspace.service("mail"))
    # messages.get: four formats; messages.list: q absent or present; all reads (weight 1)
    assert meter.breadth([Grant("mail.readonly")]) == 4 + 2
    assert meter.breadth([Grant("mail.metadata")]) == 2 + 1


def test_a_requirement_that_could_expand_past_the_bound_is_refused_when_it_loads() -> None:
    scopes = {f"s{number}": None for number in range(20)}
    maps = {f"v{number}": {"any_of": ["s0", "s1", "s2", "s3"]} for number in range(5)}
    service = {
        "service": "big",
        "hosts": ["big.example"],
        "scopes": scopes,
        "value_maps": {"m": maps},
        "operations": [
            {
                "id": "op",
                "method": "GET",
                "path": "/op",
                "arguments": {"t": {"in": "query", "list": True, "default": ["v0"]}},
                "requires": {"each": "t", "of": "m"},
            }
        ],
    }
    with pytest.raises(InputErrors) as raised:
        build([service], [])
    assert f"can expand to 1024 alternatives (at most {MAX_ALTERNATIVES})" in str(raised.value)


# -- explore and the decision log use the same evaluated rule --------------------------------


@pytest.mark.parametrize(
    ("url", "least"),
    [("/messages/m1?format=metadata", ("mail.metadata",)), ("/messages/m1", ("mail.readonly",))],
)
def test_explore_finds_the_grant_the_evaluated_rule_needs(url: str, least: tuple[str, ...]) -> None:
    from harness.explore import explore

    document = policy(["mail.readonly", "mail.metadata"], [("GET", url)], service_name="mail",
                      host=MAIL, allowed_hosts=[MAIL])  # fmt: skip
    workspace = build([mail_service()], [document])
    found = explore(workspace, workspace.bindings[0])
    assert found.least_broad is not None
    assert tuple(grant for _, grant in found.least_broad.grants) == least


def test_the_decision_log_records_the_requirement_and_the_condition(tmp_path: Any) -> None:
    from harness.audit import RunHeader, verify_log, write_log

    sandbox, token = _sandbox(mail_service(), ["mail.metadata"], MAIL)
    _call(sandbox, token, "GET", f"https://{MAIL}/messages/m1")
    log = tmp_path / "decisions.jsonl"
    write_log(log, sandbox.decisions, RunHeader("0.1.0", "", "2026-01-01T00:00:00Z", ()))
    entry = json.loads(log.read_text("utf-8").splitlines()[1])["decision"]  # 0: the header
    assert (entry["requirement"], entry["condition"], entry["model"]) == (
        [["mail.readonly"]],
        "format=full (default)",
        "",
    )
    assert verify_log(log).ok


def test_a_decision_crosses_the_wire_with_its_requirement_and_condition() -> None:
    from harness.transports.wire import decode_decision, encode_decision

    sandbox, token = _sandbox(chat_service(), ["channels:read"], CHAT)
    _call(sandbox, token, "GET", f"https://{CHAT}/api/conversations.list?types=im,mpim")
    decision = sandbox.decisions[-1]
    assert decision.requirement == Requirement((frozenset({"im:read", "mpim:read"}),))
    assert decode_decision(encode_decision(decision), decision.sequence) == decision
