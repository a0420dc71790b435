"""The loopback server against malformed, oversized, slow and concurrent clients: each bad
request gets its status and a short JSON body, then a clean close; never a traceback."""

from __future__ import annotations

import json
import socket
import threading
from collections.abc import Iterator

import pytest
from workspaces import HOST, build, policy, service

from harness.decisions import Exchange
from harness.sandbox import Sandbox
from harness.transports.http11 import Limits
from harness.transports.loopback import LoopbackServer

MAX_BODY = 4096
LIMITS = Limits(max_body=MAX_BODY)


@pytest.fixture
def served() -> Iterator[tuple[LoopbackServer, str]]:
    sandbox = Sandbox(build([service()], [policy(["svc.write"], [("GET", "/items")])]))
    token = sandbox.issue_token(sandbox.workspace.bindings[0])
    with LoopbackServer(sandbox, limits=LIMITS) as server:
        yield server, token


def _port(server: LoopbackServer) -> int:
    return int(server.base_urls["svc"].rsplit(":", 1)[1])


class _Answer:
    def __init__(self, raw: bytes, reset: bool) -> None:
        head, _, self.body = raw.partition(b"\r\n\r\n")
        lines = head.decode("latin-1").split("\r\n")
        self.status = int(lines[0].split(" ")[1]) if lines[0].startswith("HTTP/1.1 ") else 0
        self.headers = {k.lower(): v.strip() for k, _, v in (x.partition(":") for x in lines[1:])}
        self.reset = reset
        self.raw = raw


def _send(port: int, data: bytes, *, pause: bool = False) -> _Answer:
    """Send `data`, then read until the server closes; a reset is recorded, not raised."""
    with socket.create_connection(("127.0.0.1", port), timeout=10) as client:
        client.sendall(data)
        received, reset = b"", False
        try:
            while chunk := client.recv(65536):
                received += chunk
        except ConnectionResetError:
            reset = True
    return _Answer(received, reset)


def _good(token: str) -> bytes:
    return (
        f"GET /items HTTP/1.1\r\nHost: {HOST}\r\nAuthorization: Bearer {token}\r\n"
        "Connection: close\r\n\r\n"
    ).encode()


def _post(headers: str, body: bytes) -> bytes:
    return f"POST /items HTTP/1.1\r\nHost: {HOST}\r\n{headers}\r\n".encode("latin-1") + body


MALFORMED = [
    # (what, bytes sent, status)
    (
        "chunk size not hexadecimal",
        _post("Transfer-Encoding: chunked\r\n", b"zz\r\nab\r\n0\r\n\r\n"),
        400,
    ),
    (
        "chunk size negative",
        _post("Transfer-Encoding: chunked\r\n", b"-5\r\nabcde\r\n0\r\n\r\n"),
        400,
    ),
    (
        "chunk longer than its size",
        _post("Transfer-Encoding: chunked\r\n", b"2\r\nabcdef\r\n0\r\n\r\n"),
        400,
    ),
    (
        "chunk size line with LF only",
        _post("Transfer-Encoding: chunked\r\n", b"2\nab\r\n0\r\n\r\n"),
        400,
    ),
    (
        "chunk size of 5,000 digits",
        _post("Transfer-Encoding: chunked\r\n", b"f" * 5000 + b"\r\n"),
        400,
    ),
    (
        "chunk size of 17 hex digits",
        _post("Transfer-Encoding: chunked\r\n", b"1" * 17 + b"\r\n"),
        413,
    ),
    (
        "chunked body over the limit",
        _post("Transfer-Encoding: chunked\r\n", b"1001\r\n" + b"x" * 4097 + b"\r\n0\r\n\r\n"),
        413,
    ),
    ("transfer coding other than chunked", _post("Transfer-Encoding: gzip\r\n", b""), 501),
    (
        "Transfer-Encoding beside Content-Length",
        _post("Transfer-Encoding: chunked\r\nContent-Length: 3\r\n", b"0\r\n\r\n"),
        400,
    ),
    ("Content-Length in superscript digits", _post("Content-Length: \xb2\r\n", b"ab"), 400),
    (
        "Content-Length in Arabic-Indic digits",
        _post("Content-Length: \u0663\r\n".encode().decode("latin-1"), b"abc"),
        400,
    ),
    ("Content-Length negative", _post("Content-Length: -1\r\n", b""), 400),
    ("Content-Length with a sign", _post("Content-Length: +3\r\n", b"abc"), 400),
    ("Content-Length of 4,400 digits", _post("Content-Length: " + "9" * 4400 + "\r\n", b""), 413),
    (
        "Content-Length over the limit",
        _post(f"Content-Length: {MAX_BODY + 1}\r\n", b"x" * (MAX_BODY + 1)),
        413,
    ),
    ("Content-Length huge", _post("Content-Length: 99999999999999999999\r\n", b""), 413),
    (
        "two different Content-Lengths",
        _post("Content-Length: 3\r\nContent-Length: 4\r\n", b"abcd"),
        400,
    ),
    ("Host opening an IPv6 address", b"GET /items HTTP/1.1\r\nHost: [::1\r\n\r\n", 400),
    ("Host with an invalid IPv6 address", b"GET /items HTTP/1.1\r\nHost: [zz::1]\r\n\r\n", 400),
    (
        "Host with a port out of range",
        b"GET /items HTTP/1.1\r\nHost: api.svc.example:99999\r\n\r\n",
        400,
    ),
    ("Host with a non-digit port", b"GET /items HTTP/1.1\r\nHost: api.svc.example:8o\r\n\r\n", 400),
    ("Host with userinfo", b"GET /items HTTP/1.1\r\nHost: user@api.svc.example\r\n\r\n", 400),
    ("two Host headers", b"GET /items HTTP/1.1\r\nHost: a.example\r\nHost: b.example\r\n\r\n", 400),
    ("HTTP/1.1 without Host", b"GET /items HTTP/1.1\r\n\r\n", 400),
    (
        "two Authorization headers",
        b"GET /items HTTP/1.1\r\nHost: x\r\nAuthorization: a\r\nAuthorization: b\r\n\r\n",
        400,
    ),
    (
        "header line over the bound",
        b"GET /items HTTP/1.1\r\nHost: x\r\nX-Big: " + b"a" * 9000 + b"\r\n\r\n",
        431,
    ),
    (
        "header line over the bound, never ended",
        b"GET /items HTTP/1.1\r\nHost: x\r\nX-Big: " + b"a" * 9000,
        431,
    ),
    (
        "too many headers",
        b"GET /items HTTP/1.1\r\nHost: x\r\n" + b"X-A: 1\r\n" * 101 + b"\r\n",
        431,
    ),
    (
        "too many headers, never ended",
        b"GET /items HTTP/1.1\r\nHost: x\r\n" + b"X-A: 1\r\n" * 120,
        431,
    ),
    (
        "head over 64 KiB",
        b"GET /items HTTP/1.1\r\nHost: x\r\n" + (b"X-A: " + b"a" * 8000 + b"\r\n") * 9,
        431,
    ),
    ("space before a colon", b"GET /items HTTP/1.1\r\nHost : x\r\n\r\n", 400),
    ("folded header line", b"GET /items HTTP/1.1\r\nHost: x\r\nX-A: 1\r\n  2\r\n\r\n", 400),
    ("header line without colon", b"GET /items HTTP/1.1\r\nHost: x\r\nnonsense\r\n\r\n", 400),
    ("NUL in a header value", b"GET /items HTTP/1.1\r\nHost: x\r\nX-A: a\x00b\r\n\r\n", 400),
    ("bare CR in a header value", b"GET /items HTTP/1.1\r\nHost: x\r\nX-A: a\rb\r\n\r\n", 400),
    ("request line of one word", b"HELLO\r\n\r\n", 400),
    ("HTTP/0.9 request line", b"GET /items\r\n\r\n", 400),
    ("request line of another protocol", b"GET /items FTP/1.0\r\n\r\n", 400),
    ("two spaces in the request line", b"GET  /items HTTP/1.1\r\nHost: x\r\n\r\n", 400),
    ("lower-case version", b"GET /items http/1.1\r\nHost: x\r\n\r\n", 400),
    ("HTTP/2 request line", b"GET /items HTTP/2.0\r\nHost: x\r\n\r\n", 505),
    ("HTTP/2 connection preface", b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n", 505),
    ("TLS client hello", bytes.fromhex("16030100a5010000a10303") + b"\x00" * 40, 400),
    ("binary garbage", b"\x00\x01\x02\xff\xfe\r\n\r\n", 400),
    ("method with a separator", b"GE(T /items HTTP/1.1\r\nHost: x\r\n\r\n", 400),
    ("target with raw non-ASCII", "GET /it\u00e9ms HTTP/1.1\r\nHost: x\r\n\r\n".encode(), 400),
    ("target with a control byte", b"GET /it\x7fems HTTP/1.1\r\nHost: x\r\n\r\n", 400),
    ("target neither path nor URL", b"GET items HTTP/1.1\r\nHost: x\r\n\r\n", 400),
    (
        "target URL with userinfo",
        b"GET http://u:secret@api.svc.example/items HTTP/1.1\r\nHost: x\r\n\r\n",
        400,
    ),
    ("asterisk target for GET", b"GET * HTTP/1.1\r\nHost: x\r\n\r\n", 400),
    (
        "CONNECT tunnel",
        b"CONNECT api.svc.example:443 HTTP/1.1\r\nHost: api.svc.example:443\r\n\r\n",
        501,
    ),
    ("request line over the bound", b"GET /" + b"a" * 9000 + b" HTTP/1.1\r\nHost: x\r\n\r\n", 414),
    ("request line over the bound, never ended", b"GET /" + b"a" * 9000, 414),
    (
        "unknown expectation",
        b"POST /items HTTP/1.1\r\nHost: x\r\nExpect: teapot\r\nContent-Length: 2\r\n\r\nab",
        417,
    ),
    (
        "Transfer-Encoding in HTTP/1.0",
        b"POST /items HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
        400,
    ),
]


@pytest.mark.parametrize(
    ("data", "status"), [(d, s) for _, d, s in MALFORMED], ids=[w for w, _, _ in MALFORMED]
)
def test_a_malformed_request_is_answered_with_its_status_and_a_clean_close(
    served: tuple[LoopbackServer, str], capfd: pytest.CaptureFixture[str], data: bytes, status: int
) -> None:
    server, token = served
    port = _port(server)
    answer = _send(port, data)
    assert answer.status == status, answer.raw[:300]
    assert not answer.reset  # closed with FIN after the answer, not reset under it
    assert answer.headers["connection"] == "close"
    assert answer.headers["content-type"] == "application/json"
    detail = json.loads(answer.body)
    assert set(detail) == {"error", "detail"}
    assert len(answer.body) == int(answer.headers["content-length"]) < 300
    assert server.sandbox.decisions == []  # nothing reached the sandbox
    assert _send(port, _good(token)).status == 200  # and the server still serves
    assert "Traceback" not in capfd.readouterr().err


def test_a_large_body_is_refused_before_it_is_sent_when_the_client_expects_continue(
    served: tuple[LoopbackServer, str],
) -> None:
    server, _ = served
    head = f"POST /items HTTP/1.1\r\nHost: {HOST}\r\nExpect: 100-continue\r\n"
    answer = _send(_port(server), f"{head}Content-Length: {MAX_BODY * 10}\r\n\r\n".encode())
    assert answer.status == 413
    assert json.loads(answer.body)["error"] == "body_too_large"


def test_an_expected_continue_is_sent_before_the_body(served: tuple[LoopbackServer, str]) -> None:
    server, token = served
    body = b'{"name": "x"}'
    head = (
        f"POST /items HTTP/1.1\r\nHost: {HOST}\r\nAuthorization: Bearer {token}\r\n"
        f"Expect: 100-continue\r\nContent-Type: application/json\r\n"
        f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n"
    )
    with socket.create_connection(("127.0.0.1", _port(server)), timeout=10) as client:
        client.sendall(head.encode())
        interim = client.recv(100)
        client.sendall(body)
        rest = b""
        while chunk := client.recv(65536):
            rest += chunk
    assert interim == b"HTTP/1.1 100 Continue\r\n\r\n"
    assert rest.startswith(b"HTTP/1.1 200 ")
    assert server.sandbox.decisions[-1].operation == "items.create"


def test_chunked_bodies_with_extensions_and_trailers_and_pipelined_requests_are_served(
    served: tuple[LoopbackServer, str],
) -> None:
    server, token = served
    auth = f"Authorization: Bearer {token}\r\n"
    chunked = _post(
        f"{auth}Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n",
        b'5;name=value\r\n{"nam\r\n9\r\ne": "ab"}\r\n0\r\nX-Trailer: 1\r\n\r\n',
    )
    listing = f"GET /items HTTP/1.1\r\nHost: {HOST}\r\n{auth}\r\n".encode()
    head = f"HEAD /items HTTP/1.1\r\nHost: {HOST}\r\n{auth}Connection: close\r\n\r\n".encode()
    answer = _send(_port(server), chunked + listing + head)
    texts = answer.raw.split(b"HTTP/1.1 ")[1:]
    assert [t[:3] for t in texts] == [b"200", b"200", b"404"]  # in the order asked
    assert [(d.method, d.operation) for d in server.sandbox.decisions] == [
        ("POST", "items.create"),
        ("GET", "items.list"),
        ("HEAD", ""),  # the service declares no HEAD operation
    ]
    assert server.sandbox.decisions[0].outcome == "allowed"
    assert b"Content-Length: 0" not in texts[2]
    assert texts[2].endswith(b"\r\n\r\n")  # HEAD: the length of a body, but no body


def test_an_absolute_url_target_is_routed_by_its_host(served: tuple[LoopbackServer, str]) -> None:
    server, token = served
    request = (
        f"GET http://{HOST}/items HTTP/1.1\r\nHost: 127.0.0.1\r\n"
        f"Authorization: Bearer {token}\r\nConnection: close\r\n\r\n"
    )
    elsewhere = (
        "GET http://elsewhere.example/ HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n"
    )
    assert _send(_port(server), request.encode()).status == 200
    assert _send(_port(server), elsewhere.encode()).status == 502
    assert [d.host for d in server.sandbox.decisions] == [HOST, "elsewhere.example"]


def test_an_http_1_0_request_is_answered_and_closed(served: tuple[LoopbackServer, str]) -> None:
    server, token = served
    answer = _send(
        _port(server), f"GET /items HTTP/1.0\r\nAuthorization: Bearer {token}\r\n\r\n".encode()
    )
    assert answer.status == 200
    assert answer.headers["connection"] == "close"


# -- slow and silent clients ----------------------------------------------------------------------


@pytest.fixture
def impatient() -> Iterator[tuple[LoopbackServer, str]]:
    sandbox = Sandbox(build([service()], [policy(["svc.read"], [("GET", "/items")])]))
    token = sandbox.issue_token(sandbox.workspace.bindings[0])
    with LoopbackServer(sandbox, read_timeout=0.2) as server:
        yield server, token


def test_an_idle_keep_alive_connection_is_closed_after_the_read_timeout(
    impatient: tuple[LoopbackServer, str],
) -> None:
    server, token = impatient
    request = f"GET /items HTTP/1.1\r\nHost: {HOST}\r\nAuthorization: Bearer {token}\r\n\r\n"
    answer = _send(_port(server), request.encode())  # keep-alive: only the timeout ends it
    assert answer.status == 200
    assert answer.raw.count(b"HTTP/1.1 ") == 1
    assert not answer.reset


@pytest.mark.parametrize(
    "partial",
    [
        b"GET /items HTTP/1.1\r\nHost: x",
        b"GET /ite",
        b"POST /items HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n\r\nabc",
        b"POST /items HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nab",
    ],
    ids=["head", "request line", "body", "chunked body"],
)
def test_a_half_sent_request_is_answered_408_after_the_read_timeout(
    impatient: tuple[LoopbackServer, str], partial: bytes
) -> None:
    server, _ = impatient
    answer = _send(_port(server), partial)
    assert answer.status == 408
    assert json.loads(answer.body)["error"] == "request_timeout"
    assert not answer.reset
    assert server.sandbox.decisions == []


def test_a_client_that_never_reads_its_answers_does_not_grow_the_server(
    impatient: tuple[LoopbackServer, str],
) -> None:
    server, token = impatient
    request = (
        f"GET /items HTTP/1.1\r\nHost: {HOST}\r\nAuthorization: Bearer {token}\r\n\r\n".encode()
    )
    with socket.create_connection(("127.0.0.1", _port(server)), timeout=10) as client:
        client.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        client.settimeout(0.5)
        sent = 0
        try:
            for _ in range(100_000):  # pipelined, never read: the server must stop reading
                client.sendall(request)
                sent += 1
        except (TimeoutError, OSError):
            pass
    assert sent < 100_000
    # the server read only what fits in a few socket and transport buffers, and answered those
    assert len(server.sandbox.decisions) < sent


# -- many clients at once ---------------------------------------------------------------------------


def test_concurrent_keep_alive_clients_lose_no_decision_and_memory_stays_bounded() -> None:
    sandbox = Sandbox(build([service()], [policy(["svc.read"], [("GET", "/items")])]))
    token = sandbox.issue_token(sandbox.workspace.bindings[0])
    seen: list[Exchange] = []
    clients, calls = 32, 20
    with LoopbackServer(sandbox, listeners=(seen.append,), retain=50) as server:
        port = _port(server)
        errors: list[BaseException] = []

        def client() -> None:
            import http.client

            try:
                connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
                for _ in range(calls):
                    connection.request(
                        "GET", "/items", headers={"Authorization": f"Bearer {token}"}
                    )
                    answer = connection.getresponse()
                    answer.read()
                    assert answer.status == 200
                connection.close()
            except BaseException as err:  # reported below, in the test's thread
                errors.append(err)

        threads = [threading.Thread(target=client) for _ in range(clients)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    assert errors == []
    assert [exchange.decision.sequence for exchange in seen] == list(range(1, clients * calls + 1))
    assert len(sandbox.decisions) <= 100  # a window, not every call
    assert sandbox.decisions[-1].sequence == clients * calls
