"""LiveSandbox.assert_least_privilege: a refused call always fails it, whatever refused it
(no token, an expired, revoked or foreign token, a token for another service), and the
message names the call and why."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import requests
from workspaces import HOST, build, policy, service

from harness.live import LiveSandbox
from harness.tokens import TokenAuthority

ITEMS = f"https://{HOST}/items"


@pytest.fixture
def live() -> Iterator[LiveSandbox]:
    workspace = build([service()], [policy(["svc.read"], [("GET", "/items")])])
    with LiveSandbox(workspace, name="t") as sandbox:
        yield sandbox


def _fails(live: LiveSandbox, *lines: str) -> str:
    with pytest.raises(AssertionError) as failed:
        live.assert_least_privilege()
    message = str(failed.value)
    for line in lines:
        assert line in message.splitlines(), message
    return message


def test_the_calls_of_a_binding_that_hold_least_privilege_pass(live: LiveSandbox) -> None:
    bot = live.binding("bot@prod")
    assert requests.get(ITEMS, headers=bot.headers).status_code == 200
    live.assert_least_privilege()


def test_a_call_without_a_token_fails_it_though_no_binding_made_it(live: LiveSandbox) -> None:
    bot = live.binding("bot@prod")
    requests.get(ITEMS, headers=bot.headers)
    assert requests.get(ITEMS).status_code == 401
    _fails(
        live,
        "refused calls:",
        "  2. GET api.svc.example/items -> denied (svc:items.list: no bearer token was sent)",
    )


def test_an_expired_token_fails_it(live: LiveSandbox) -> None:
    bot = live.binding("bot@prod", lifetime=60)
    live.sandbox.clock.advance(120)
    assert requests.get(ITEMS, headers=bot.headers).status_code == 401
    _fails(
        live,
        "  credential        t step 1 (call 1)",
        "                    svc:items.list was refused: the token expired 60s ago",
    )


def test_a_revoked_token_fails_it(live: LiveSandbox) -> None:
    bot = live.binding("bot@prod")
    claims = live.sandbox.tokens.identify(bot.token)
    assert claims is not None
    live.sandbox.tokens.revoke(claims.token_id)
    assert requests.get(ITEMS, headers=bot.headers).status_code == 401
    _fails(live, "                    svc:items.list was refused: the token has been revoked")


def test_a_foreign_token_fails_it(live: LiveSandbox) -> None:
    live.binding("bot@prod")
    foreign = TokenAuthority(b"another signer's key, not the sandbox's").mint(
        subject="bot",
        binding="bot@prod",
        environment="prod",
        grants={"svc": ("svc.read",)},
        issued_at=live.sandbox.clock.now,
        lifetime=3600,
        audience=(),
    )
    headers = {"Authorization": f"Bearer {foreign}"}
    assert requests.get(ITEMS, headers=headers).status_code == 401
    message = _fails(live, "refused calls:")
    assert "  1. GET api.svc.example/items -> denied (svc:items.list: " in message


def test_a_refused_call_fails_it_whatever_kinds_are_asked_for(live: LiveSandbox) -> None:
    bot = live.binding("bot@prod")
    requests.get(ITEMS, headers=bot.headers)  # svc.read is needed: nothing excessive
    requests.get(ITEMS)
    with pytest.raises(AssertionError, match="no bearer token was sent"):
        live.assert_least_privilege(kinds=("excessive",))


def test_without_a_binding_a_refused_call_is_still_listed(live: LiveSandbox) -> None:
    requests.get(ITEMS)
    with pytest.raises(AssertionError) as failed:
        live.assert_least_privilege()
    assert "no binding was used; call binding(...) first" in str(failed.value)
    assert "  1. GET api.svc.example/items -> denied" in str(failed.value)
