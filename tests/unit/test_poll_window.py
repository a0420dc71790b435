"""The loopback server's poll window: it grows to cover a client that answers quickly, shrinks
to nothing when requests stop coming, and a quiet server spends no CPU waiting."""

from __future__ import annotations

import socket
import time

from workspaces import HOST, build, policy, service

from harness.sandbox import Sandbox
from harness.transports.loopback import LoopbackServer
from harness.transports.server import _PollWindow

LIMIT = 100e-6


def test_the_window_grows_to_cover_a_client_that_answers_within_the_limit() -> None:
    window = _PollWindow(LIMIT)
    assert window.seconds == 0.0  # polls only once a wait has shown it would pay
    widths = []
    for _ in range(6):
        window.waited(60e-6, woken=True)  # each request came 60 us after the last answer
        widths.append(window.seconds)
    assert widths == [10e-6, 20e-6, 40e-6, 80e-6, 80e-6, 80e-6]  # 80 us covers 60 us: it stays


def test_the_window_never_passes_its_limit() -> None:
    window = _PollWindow(LIMIT)
    for _ in range(10):
        window.waited(LIMIT * 0.99, woken=True)
    assert window.seconds == LIMIT


def test_the_window_halves_when_work_comes_late_or_not_at_all_and_then_closes() -> None:
    window = _PollWindow(LIMIT)
    for _ in range(10):
        window.waited(50e-6, woken=True)
    assert window.seconds == 80e-6
    window.waited(5e-3, woken=True)  # later than the limit: polling could not have caught it
    assert window.seconds == 40e-6
    window.waited(1.0, woken=False)  # the sweep's timeout, nothing came
    assert window.seconds == 20e-6
    window.waited(1.0, woken=False)
    assert window.seconds == 10e-6
    window.waited(1.0, woken=False)
    assert window.seconds == 0.0


def test_a_limit_of_zero_never_polls() -> None:
    window = _PollWindow(0.0)
    for seconds in (1e-6, 50e-6, 1.0):
        window.waited(seconds, woken=True)
        assert window.seconds == 0.0


def test_a_quiet_server_spends_no_cpu_after_a_burst_of_requests() -> None:
    sandbox = Sandbox(build([service()], [policy(["svc.read"], [("GET", "/items")])]))
    token = sandbox.issue_token(sandbox.workspace.bindings[0])
    request = (
        f"GET /items HTTP/1.1\r\nHost: {HOST}\r\nAuthorization: Bearer {token}\r\n\r\n".encode()
    )
    with LoopbackServer(sandbox) as server:
        port = int(server.base_urls["svc"].rsplit(":", 1)[1])
        with socket.create_connection(("127.0.0.1", port), timeout=10) as client:
            for _ in range(200):  # a burst on one keep-alive connection: the window opens
                client.sendall(request)
                answer = b""
                while not answer.endswith(b"}"):
                    answer += client.recv(65536)
                assert answer.startswith(b"HTTP/1.1 200 ")
            before = time.process_time()
            time.sleep(0.5)  # the connection stays open, nothing is sent
            spent = time.process_time() - before
    # Polling stops within a few hundred microseconds; a poll that never stopped spends the
    # whole half second.
    assert spent < 0.05
