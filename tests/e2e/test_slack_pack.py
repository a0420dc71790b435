"""The bundled Slack pack on calls the realism suite cannot state as one minimal grant: methods
a bot token cannot call at all, and calls whose scope depends on what the flow says of a
channel. Each rule cites the method's page on docs.slack.dev (the pages cited in harness/importers/overlays/slack.yaml)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml
from workspaces import build, policy

from harness.engine import run_check

PACK = Path(__file__).resolve().parents[2] / "harness" / "packs" / "slack.yaml"
SPEC = yaml.safe_load(PACK.read_text("utf-8"))


def _check(
    grants: list[str],
    calls: list[tuple[str, str]],
    model: str = "bot",
    given: dict[str, Any] | None = None,
) -> Any:
    document = policy(
        grants, calls, service_name="slack", host="slack.com", allowed_hosts=["slack.com"]
    )
    document["connectors"][0]["credential"]["models"] = {"slack": model}
    if given is not None:
        document["flows"][0]["given"] = {"slack": given}
    (result,) = run_check(build([SPEC], [document])).results
    return result


@pytest.mark.parametrize(
    "method",
    ["files.sharedPublicURL", "files.revokePublicURL"],
)
def test_public_file_links_are_not_available_to_a_bot_token(method: str) -> None:
    # The pages list a user token scope only (files:write, legacy files:write:user).
    # The bot model has no files:write:user (the data's scope, a user scope): no grant to add,
    # and the bot's files:write is no use here.
    result = _check(["files:write"], [("POST", f"/api/{method}?file=F07ABCDEF")])
    missing = [finding for finding in result.findings if finding.kind == "missing"]
    assert [finding.message for finding in missing] == [
        f"slack:{method} was denied: it is not available to a `bot` token; no bot grant "
        "allows it: the connector's credential must hold `user` grants (`models: {slack: user}`)"
    ]
    assert (missing[0].instead, missing[0].replacement) == ("", ())
    assert result.services[0].suggested == ()
    assert [(f.kind, f.subject) for f in result.findings if f.kind != "missing"] == [
        ("excessive", "files:write")
    ]
    user = _check(["files:write"], [("POST", f"/api/{method}?file=F07ABCDEF")], model="user")
    assert user.findings == ()


def test_conversations_open_on_a_channel_the_flow_does_not_class_needs_im_and_mpim_write() -> None:
    # `channel` resumes "an im or mpim"; which one decides the scope, so a conversation the flow
    # does not class is never judged enough with one of them.
    calls = [("POST", "/api/conversations.open?channel=C0123ABCDEF")]
    for granted in (["im:write"], ["mpim:write"]):
        result = _check(granted, calls)
        missing = [finding for finding in result.findings if finding.kind == "missing"]
        assert len(missing) == 1, granted
        assert "requires im:write and mpim:write" in missing[0].message, missing[0].message
    assert _check(["im:write", "mpim:write"], calls).findings == ()
    classed = _check(["mpim:write"], calls, given={"channel": {"mpim": ["C0123ABCDEF"]}})
    assert classed.findings == ()


@pytest.mark.parametrize("model", ["bot", "user"])
def test_migration_exchange_takes_any_token(model: str) -> None:
    # "You can use any existing tokens authorized for the team": no scope, either token type.
    calls = [("POST", "/api/migration.exchange?users=U0123ABCD")]
    assert _check(["users:read"], calls, model=model).findings[0].kind == "excessive"
    result = _check([], calls, model=model)
    assert result.findings == ()


@pytest.mark.parametrize(
    ("method", "grants", "argument"),
    [
        ("files.remote.add", ["remote_files:write"], "external_id=doc-1"),
        ("files.remote.update", ["remote_files:write"], "external_id=doc-1"),
        ("files.remote.remove", ["remote_files:write"], "external_id=doc-1"),
        ("files.remote.remove", ["remote_files:write"], "file=F07ABCDEF"),
        ("views.publish", [], "user_id=U0123ABCD&view=%7B%7D"),
    ],
)
def test_bot_token_methods_are_not_available_to_a_user_token(
    method: str, grants: list[str], argument: str
) -> None:
    # The pages list a bot token and no user token (remote files: "must be added by bots with
    # the bot scope, not by an individual user"; a user token gets `bot_user_required`).
    calls = [("POST", f"/api/{method}?{argument}")]
    result = _check(grants, calls, model="user")
    missing = [finding for finding in result.findings if finding.kind == "missing"]
    assert [finding.message for finding in missing] == [
        f"slack:{method} was denied: it is not available to a `user` token; no user grant "
        "allows it: the connector's credential must hold `bot` grants (`models: {slack: bot}`)"
    ]
    assert (missing[0].instead, missing[0].replacement) == ("", ())  # no scope to add
    assert result.services[0].suggested == ()
    assert _check(grants, calls, model="bot").findings == ()


@pytest.mark.parametrize(
    ("method", "model"),
    [
        ("files.remote.add", "user"),
        ("files.remote.update", "user"),
        ("files.remote.remove", "user"),
        ("views.publish", "user"),
        ("files.sharedPublicURL", "bot"),
        ("files.revokePublicURL", "bot"),
    ],
)
def test_a_method_a_token_type_cannot_call_is_written_as_unavailable(
    method: str, model: str
) -> None:
    # The pack says it in words (`requires_in: {MODEL: unavailable}`), not as a condition no
    # call meets, and the method's page is cited beside it.
    (operation,) = [op for op in SPEC["operations"] if op["id"] == method]
    assert operation["requires_in"][model] == "unavailable"
    assert "arguments" not in operation
    assert operation["source"] == f"https://docs.slack.dev/reference/methods/{method}"


@pytest.mark.parametrize("model", ["bot", "user"])
def test_an_app_level_token_method_is_available_to_no_bot_or_user_token(model: str) -> None:
    # "This scope [authorizations:read] may only be used with an app-level token"
    # (https://api.slack.com/scopes/authorizations:read): no bot or user grant lets a call of
    # apps.event.authorizations.list through, and no model the pack has is named for it.
    calls = [("POST", "/api/apps.event.authorizations.list?event_context=4-eyJldCI6Im1lc3NhZ2U")]
    result = _check(["authorizations:read"] if model == "user" else [], calls, model=model)
    missing = [finding for finding in result.findings if finding.kind == "missing"]
    assert [finding.message for finding in missing] == [
        "slack:apps.event.authorizations.list was denied: it is not available to a "
        f"`{model}` token; no grant allows it, and no change of roles will"
    ]
    assert (missing[0].instead, missing[0].replacement, result.services[0].suggested) == (
        "",
        (),
        (),
    )
