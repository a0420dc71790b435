"""The loopback HTTP transport: real sockets, the same decisions as the direct transport."""

from __future__ import annotations

import http.client
import json
import select
import socket
import time

import pytest
from workspaces import HOST, build, policy, service

from harness.calls import CallContext, Request
from harness.errors import SandboxError, UsageError
from harness.sandbox import Sandbox
from harness.transports import wire
from harness.transports.loopback import LoopbackServer, http_transport


def _sandbox(grants: list[str]) -> Sandbox:
    return Sandbox(build([service()], [policy(grants, [("GET", "/items")])]))


def _get(port: int, path: str, headers: dict[str, str]) -> tuple[int, dict[str, str], bytes]:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
    connection.request("GET", path, headers=headers)
    answer = connection.getresponse()
    body = answer.read()
    connection.close()
    return answer.status, dict(answer.getheaders()), body


def test_a_port_per_service_serves_its_operations_with_the_sandbox_deciding() -> None:
    sandbox = _sandbox(["svc.read"])
    token = sandbox.issue_token(sandbox.workspace.bindings[0])
    with LoopbackServer(sandbox) as server:
        port = int(server.base_urls["svc"].rsplit(":", 1)[1])
        status, headers, _ = _get(port, "/items", {"Authorization": f"Bearer {token}"})
        denied = _get(port, "/settings", {"Authorization": f"Bearer {token}"})
    assert status == 200
    assert headers[wire.OUTCOME] == "allowed"
    assert sandbox.decisions[0].host == HOST
    assert sandbox.decisions[0].operation == "items.list"
    assert denied[0] == 404  # PUT-only route: GET /settings matches no operation
    assert server.base_urls == {}  # stopped


def test_a_host_header_naming_a_mocked_host_routes_by_host() -> None:
    sandbox = _sandbox(["svc.read"])
    token = sandbox.issue_token(sandbox.workspace.bindings[0])
    with LoopbackServer(sandbox) as server:
        port = int(server.base_urls["svc"].rsplit(":", 1)[1])
        _get(port, "/items", {"Authorization": f"Bearer {token}", "Host": HOST})
        status, headers, body = _get(
            port, "/items", {"Authorization": f"Bearer {token}", "Host": "evil.example"}
        )
    assert sandbox.decisions[0].host == HOST
    assert status == wire.BLOCKED_STATUS
    assert headers[wire.OUTCOME] == "blocked"
    assert json.loads(body)["error"] == "egress_blocked"
    assert sandbox.decisions[1].outcome == "blocked"


def test_one_keep_alive_connection_carries_many_calls() -> None:
    sandbox = _sandbox(["svc.read"])
    token = sandbox.issue_token(sandbox.workspace.bindings[0])
    with LoopbackServer(sandbox) as server:
        port = int(server.base_urls["svc"].rsplit(":", 1)[1])
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
        connection.connect()
        first = connection.sock
        for _ in range(20):
            connection.request("GET", "/items", headers={"Authorization": f"Bearer {token}"})
            assert connection.getresponse().read() is not None
        assert connection.sock is first
        connection.close()
    assert len(sandbox.decisions) == 20


@pytest.mark.parametrize("missing", [("epoll",), ("epoll", "poll")])
def test_where_epoll_or_poll_is_missing_the_loop_waits_the_same_way(
    monkeypatch: pytest.MonkeyPatch, missing: tuple[str, ...]
) -> None:
    """The loop waits on epoll on Linux, poll(2) on other POSIX systems, `selectors` where
    neither exists (Windows): each serves keep-alive calls and sees a client leave."""
    for name in missing:
        monkeypatch.delattr(select, name)
    sandbox = _sandbox(["svc.read"])
    token = sandbox.issue_token(sandbox.workspace.bindings[0])
    with LoopbackServer(sandbox) as server:
        port = int(server.base_urls["svc"].rsplit(":", 1)[1])
        for _ in range(2):
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
            for _ in range(3):
                connection.request("GET", "/items", headers={"Authorization": f"Bearer {token}"})
                answer = connection.getresponse()
                assert answer.read() is not None
                assert answer.status == 200
            connection.close()
        deadline = time.monotonic() + 5
        while server.open_connections and time.monotonic() < deadline:
            time.sleep(0.01)
        assert server.open_connections == 0
    assert [d.outcome for d in sandbox.decisions] == ["allowed"] * 6


def test_the_replay_transport_maps_recorded_urls_and_blocks_unknown_hosts() -> None:
    sandbox = _sandbox(["svc.read"])
    token = sandbox.issue_token(sandbox.workspace.bindings[0])
    headers = {"Authorization": f"Bearer {token}"}
    with LoopbackServer(sandbox) as server:
        send = http_transport(server)
        allowed = send(Request("GET", f"https://{HOST}/items?x=1", headers), CallContext())
        blocked = send(Request("GET", "https://elsewhere.example/", headers), CallContext())
        created = send(
            Request("POST", f"https://{HOST}/items", headers, {"name": "a"}), CallContext()
        )
        send.close()
    assert allowed.status == 200
    assert blocked.blocked
    assert created.status == 403
    assert [d.outcome for d in sandbox.decisions] == ["allowed", "blocked", "denied"]


def test_stopping_ends_idle_keep_alive_connections() -> None:
    sandbox = _sandbox(["svc.read"])
    token = sandbox.issue_token(sandbox.workspace.bindings[0])
    server = LoopbackServer(sandbox).start()
    port = int(server.base_urls["svc"].rsplit(":", 1)[1])
    with socket.create_connection(("127.0.0.1", port), timeout=5) as client:
        client.sendall(
            f"GET /items HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer {token}\r\n\r\n".encode()
        )
        answer = client.makefile("rb").readline()
        server.stop()
        received = b""
        try:
            while chunk := client.recv(65536):
                received += chunk
        except ConnectionResetError:
            pass
    assert answer.startswith(b"HTTP/1.1 200")
    assert b"HTTP/1.1" not in received  # nothing more came: the server closed the connection


def test_a_chunked_request_body_is_read() -> None:
    sandbox = _sandbox(["svc.write"])
    token = sandbox.issue_token(sandbox.workspace.bindings[0])
    with LoopbackServer(sandbox) as server:
        port = int(server.base_urls["svc"].rsplit(":", 1)[1])
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
        body = iter([b'{"name":', b' "chunked"}'])
        connection.request(
            "POST",
            "/items",
            body=body,
            headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
            encode_chunked=True,
        )
        assert connection.getresponse().status == 200
        connection.close()
    assert sandbox.decisions[-1].outcome == "allowed"


def test_only_loopback_addresses_are_served() -> None:
    with pytest.raises(UsageError, match="only listens on loopback"):
        LoopbackServer(_sandbox([]), address="0.0.0.0")


def test_the_replay_client_reconnects_when_the_server_closed_an_idle_connection() -> None:
    sandbox = _sandbox(["svc.read"])
    token = sandbox.issue_token(sandbox.workspace.bindings[0])
    request = Request("GET", f"https://{HOST}/items", {"Authorization": f"Bearer {token}"})
    with LoopbackServer(sandbox, read_timeout=0.1) as server:
        send = http_transport(server)
        assert send(request, CallContext()).status == 200
        deadline = time.monotonic() + 10
        while server.open_connections and time.monotonic() < deadline:
            time.sleep(0.02)  # the server closes the idle connection after its read timeout
        assert server.open_connections == 0
        assert send(request, CallContext()).status == 200
        send.close()
    assert [d.outcome for d in sandbox.decisions] == ["allowed", "allowed"]


def test_the_replay_client_sends_odd_paths_encoded_and_refuses_headers_that_break_lines() -> None:
    sandbox = _sandbox(["svc.read"])
    token = sandbox.issue_token(sandbox.workspace.bindings[0])
    with LoopbackServer(sandbox) as server:
        send = http_transport(server)
        odd = send(
            Request("GET", f"https://{HOST}/it ems/\u00e9", {"Authorization": f"Bearer {token}"}),
            CallContext(),
        )
        with pytest.raises(SandboxError, match="line break or NUL"):
            send(
                Request("GET", f"https://{HOST}/items", {"X-Evil": "a\r\nHost: other"}),
                CallContext(),
            )
        head = send(Request("HEAD", f"https://{HOST}/items", {}), CallContext())
        send.close()
    direct = Sandbox(sandbox.workspace)
    direct.handle(
        Request("GET", f"https://{HOST}/it ems/\u00e9", {"Authorization": f"Bearer {token}"}),
        CallContext(),
    )
    assert odd.status == 404
    assert sandbox.decisions[0].path == direct.decisions[0].path == "/it%20ems/%C3%A9"
    assert head.status == 404  # no HEAD operation, and no body read for it
    assert len(sandbox.decisions) == 2  # the refused header never left the client
