"""The `http` transport: the sandbox's mock services served over real HTTP on loopback.

Each HTTP service gets its own port (`http://127.0.0.1:PORT` stands for all of its
hosts); a request whose `Host` header names a mocked host is routed by that host
instead, so one port can also serve every service. Requests end in
`Sandbox.handle`, like every transport, so the decisions are those of the direct
transport. The ports are served by `server.HttpServer`: one loop thread owns every
connection and is the only thread that calls the sandbox. Nothing listens on anything
but a loopback address. The replay client (`http_transport`) speaks to that server
with a lean keep-alive client of its own.
"""

from __future__ import annotations

import contextlib
import http.client
import ipaddress
import json
import socket
import threading
from collections import Counter
from collections.abc import Callable, Iterable, Mapping
from typing import Any
from urllib.parse import quote, urlsplit

from harness.calls import CallContext, Request, Response, header, response_headers, to_request
from harness.decisions import ALLOWED, BLOCKED, DENIED, Decision, Exchange
from harness.errors import SandboxError, UsageError
from harness.model import Service
from harness.replay import recorded_response
from harness.routing import split_url
from harness.sandbox import Sandbox
from harness.transports import wire
from harness.transports.http11 import Limits, ParsedRequest, header_lines
from harness.transports.server import JSON_FIELDS, Answer, HttpServer, Timeouts

ExchangeListener = Callable[[Exchange], None]  # told of every call, after the sandbox decided
# Framing is the server's to write; a recorded answer's own framing headers would break it.
_FRAMING_HEADERS = wire.SERVER_HEADERS | {"transfer-encoding"}


def http_services(sandbox: Sandbox) -> tuple[Service, ...]:
    """The services of the workspace that answer HTTP (a database service has no hosts)."""
    return tuple(service for service in sandbox.workspace.services if service.hosts)


def check_loopback(address: str) -> None:
    """Refuse to listen anywhere but on loopback: the sandbox is not a network service."""
    try:
        loopback = address == "localhost" or ipaddress.ip_address(address).is_loopback
    except ValueError:
        loopback = False
    if not loopback:
        raise UsageError(
            f"the sandbox only listens on loopback, not on {address!r}; "
            "use 127.0.0.1 (or ::1) and reach it from containers through the host network"
        )


class Gateway:
    """Turns HTTP requests into sandbox calls; shared by every port of one server.

    Only the server's loop thread calls it, one request at a time. With `retain` set,
    the sandbox keeps only the last `retain` to `2 * retain` decisions (a long-running
    server must not grow with every call; listeners see each decision, numbered from 1
    across the whole run); without it every decision stays, as a replay needs.
    """

    def __init__(
        self,
        sandbox: Sandbox,
        *,
        follow_client: bool = False,
        listeners: tuple[ExchangeListener, ...] = (),
        retain: int | None = None,
    ) -> None:
        self.sandbox = sandbox
        self.follow_client = (
            follow_client  # a sandbox in a container: follow clock, export decisions
        )
        self.listeners = listeners
        self.retain = retain
        self.calls = 0
        self.outcomes: Counter[str] = Counter()
        self._generation = -1
        self._hosts: dict[str, str] = {}  # Host header -> the host it names ("": this machine)
        # (response headers, JSON body?, outcome) -> the answer's field lines
        self._formatted: dict[tuple[tuple[tuple[str, str], ...], bool, str], bytes] = {}
        self._steps = {
            (flow.name, step.index): step for flow in sandbox.workspace.flows for step in flow.steps
        }

    def context_for(self, harness: Mapping[str, str]) -> CallContext:
        """The replay context the harness headers name (keys lowercase)."""
        flow = harness.get(_FLOW)
        step_text = harness.get(_STEP)
        if not flow or step_text is None or not _is_integer(step_text):
            return CallContext()
        step = self._steps.get((flow, int(step_text)))
        if step is None:
            return CallContext(flow, int(step_text), "")
        return CallContext(flow, step.index, step.name, recorded_response(step))

    def serve(
        self, method: str, host: str, target: str, headers: Mapping[str, str], body: bytes
    ) -> tuple[Response, Decision]:
        """Decide one call that came over a wire: `host` is the service's, `target` the
        path and query, `headers` as sent (transport and harness headers are taken out)."""
        flow_headers, harness = _split_headers(headers.items())
        return self._decide(method, host, target, flow_headers, harness, body)

    def _decide(
        self,
        method: str,
        host: str,
        target: str,
        headers: dict[str, str],
        harness: dict[str, str],
        body: bytes,
    ) -> tuple[Response, Decision]:
        context = self.context_for(harness) if harness else _NO_CONTEXT
        request = to_request(method, f"https://{host}{target}", headers, body)
        if self.follow_client:
            self._follow(harness)
        response = self.sandbox.handle(request, context)
        decisions = self.sandbox.decisions
        decision = decisions[-1]
        self.calls += 1
        self.outcomes[decision.outcome] += 1
        if self.retain is not None:
            if decision.sequence != self.calls:
                # The sandbox numbers a decision by the length of its (trimmed) list. This one
                # was made by this call and nobody holds it yet: give it its place in the run
                # (built as a tuple: `_replace` goes through a keyword per field, 2 us).
                decision = Decision._make((self.calls, *decision[1:]))
                decisions[-1] = decision
            if len(decisions) > 2 * self.retain:
                del decisions[: len(decisions) - self.retain]
        if self.listeners:
            exchange = Exchange(request, response, decision)
            for listener in self.listeners:
                listener(exchange)
        return response, decision

    def answer(self, request: ParsedRequest, default_host: str) -> Answer:
        """The HTTP answer to one parsed request: status, field lines and body."""
        headers, harness = _split_headers(request.headers)
        host = self._hosts.get(request.host)
        if host is None:
            host = _target_host(request.host)
            if len(self._hosts) >= 256:  # hosts are few; a client inventing them gets no cache
                self._hosts.clear()
            self._hosts[request.host] = host
        response, decision = self._decide(
            request.method, host or default_host, request.target, headers, harness, request.body
        )
        if response.blocked:
            payload = f'{{"error":"egress_blocked","detail":{json.dumps(decision.reason)}}}'
            status, body = wire.BLOCKED_STATUS, payload.encode()
            fields = JSON_FIELDS + _OUTCOME_FIELDS[decision.outcome]
        else:
            status, body = response.status, response.body_bytes()
            fields = self._fields_of(response, decision.outcome)
        if self.follow_client:
            fields += f"{wire.DECISION}: {wire.encode_decision(decision)}\r\n".encode()
        return status, fields, body

    def _fields_of(self, response: Response, outcome: str) -> bytes:
        """A response's own header lines and the outcome's; mocks answer with few distinct
        sets, so each is formatted and encoded once."""
        key = (response.headers, response.content is None and response.json is not None, outcome)
        fields = self._formatted.get(key)
        if fields is None:
            kept = [
                (name, value)
                for name, value in response_headers(response).items()
                if name.lower() not in _FRAMING_HEADERS
            ]
            kept.append((wire.OUTCOME, outcome))
            fields = header_lines(kept).encode("latin-1", "replace")
            if len(self._formatted) >= 1024:
                self._formatted.clear()
            self._formatted[key] = fields
        return fields

    def _follow(self, harness: Mapping[str, str]) -> None:
        generation = harness.get(_GENERATION)
        if (
            generation is not None
            and _is_integer(generation)
            and int(generation) != self._generation
        ):
            self._generation = int(generation)
            self.sandbox.reset()
        for token_id in (harness.get(_REVOKED) or "").split(","):
            if token_id:
                self.sandbox.tokens.revoke(token_id)
        clock = harness.get(_CLOCK)
        if clock is not None and _is_integer(clock):
            self.sandbox.clock.now = int(clock)


_PREFIX = wire.PREFIX.lower()
_FLOW, _STEP = wire.FLOW.lower(), wire.STEP.lower()
_GENERATION, _REVOKED, _CLOCK = wire.GENERATION.lower(), wire.REVOKED.lower(), wire.CLOCK.lower()
_NO_CONTEXT = CallContext()
_OUTCOME_FIELDS = {
    outcome: f"{wire.OUTCOME}: {outcome}\r\n".encode() for outcome in (ALLOWED, DENIED, BLOCKED)
}


def _split_headers(
    items: Iterable[tuple[str, str]],
) -> tuple[dict[str, str], dict[str, str]]:
    """The flow's own headers (as sent; repeated ones joined with commas, RFC 9110 5.3) and
    the harness's (keys lowercase); what the connection itself needed goes to neither."""
    headers: dict[str, str] = {}
    harness: dict[str, str] = {}
    for name, value in items:
        lowered = name.lower()
        if lowered in wire.TRANSPORT_HEADERS:
            continue
        if lowered.startswith(_PREFIX):
            harness[lowered] = value
        elif name in headers:
            headers[name] = f"{headers[name]}, {value}"
        else:
            headers[name] = value
    return headers, harness


def _is_integer(text: str) -> bool:
    """ASCII digits, an optional minus, and few enough to convert (str.isdigit takes any script)."""
    digits = text[1:] if text.startswith("-") else text
    return 0 < len(digits) <= 18 and digits.isascii() and digits.isdigit()


def _target_host(named: str) -> str:
    """The host a request names; "" when it names this machine (the port's service answers)."""
    if not named:
        return ""
    bare = named[1 : named.index("]")] if named.startswith("[") else named.partition(":")[0]
    if bare == "localhost" or _is_ip_loopback(bare):
        return ""
    return named


def _is_ip_loopback(text: str) -> bool:
    try:
        return ipaddress.ip_address(text).is_loopback
    except ValueError:
        return False


class LoopbackServer:
    """Serves a sandbox's HTTP services on loopback ports while active (a context manager).

    `ports` maps service names to fixed ports (0 or absent: any free port);
    `base_urls` maps each service to `http://127.0.0.1:PORT` once started.
    `read_timeout` closes connections silent that long (idle, or mid-request: 408);
    `retain` bounds the decisions kept in the sandbox (see `Gateway`); `readers` are
    other sockets the server's loop reads, with what to call when one has data (their
    callbacks may call the sandbox: the loop's thread is the only one that does).
    """

    def __init__(
        self,
        sandbox: Sandbox,
        *,
        address: str = "127.0.0.1",
        ports: Mapping[str, int] | None = None,
        services: tuple[str, ...] | None = None,
        follow_client: bool = False,
        listeners: tuple[ExchangeListener, ...] = (),
        inside_container: bool = False,
        read_timeout: float = 30.0,
        limits: Limits | None = None,
        retain: int | None = None,
        readers: tuple[tuple[socket.socket, Callable[[], None]], ...] = (),
    ) -> None:
        if not inside_container:  # in a container, 0.0.0.0 is the container's own network
            check_loopback(address)
        if not read_timeout > 0:
            raise UsageError(
                f"the read timeout must be a positive number of seconds, not {read_timeout}"
            )
        self.sandbox = sandbox
        self.address = address
        self.gateway = Gateway(
            sandbox, follow_client=follow_client, listeners=listeners, retain=retain
        )
        chosen = http_services(sandbox)
        if services is not None:
            known = {s.name for s in chosen}
            unknown = [name for name in services if name not in known]
            if unknown:
                raise UsageError(
                    f"no HTTP service named {unknown[0]!r}; services: {', '.join(sorted(known))}"
                )
            chosen = tuple(s for s in chosen if s.name in services)
        self.services = chosen
        self.limits = limits or Limits()
        self.timeouts = Timeouts(read=read_timeout, linger=min(2.0, read_timeout))
        self._ports = dict(ports or {})
        self._addresses: dict[str, tuple[str, int]] = {}
        self._server: HttpServer | None = None
        self._readers = readers

    @property
    def base_urls(self) -> dict[str, str]:
        return {name: _url(address) for name, address in self._addresses.items()}

    @property
    def open_connections(self) -> int:
        return self._server.connections if self._server is not None else 0

    def endpoint(self, host: str) -> tuple[str, int]:
        """The (address, port) that serves `host`; an unknown host goes to the first port
        with its Host header kept, so the sandbox blocks it as it would directly."""
        for service in self.services:
            if host in service.hosts:
                return self._addresses[service.name]
        return next(iter(self._addresses.values()))

    def start(self) -> LoopbackServer:
        server = HttpServer(limits=self.limits, timeouts=self.timeouts)
        try:
            for service in self.services:
                sock = self._listen(service)
                address, port = sock.getsockname()[:2]
                self._addresses[service.name] = (str(address), int(port))
                server.add(sock, self._responder(service.hosts[0]))
            for sock, on_readable in self._readers:
                server.add_reader(sock, on_readable)
            server.start()
        except BaseException:
            server.stop()
            self._addresses.clear()
            raise
        self._server = server
        return self

    def _listen(self, service: Service) -> socket.socket:
        port = self._ports.get(service.name, 0)
        family = socket.AF_INET6 if ":" in self.address else socket.AF_INET
        sock = socket.socket(family, socket.SOCK_STREAM)
        try:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            sock.bind((self.address, port))
            sock.listen(128)
        except OSError as err:
            sock.close()
            raise UsageError(
                f"cannot listen on {self.address}:{port} for service {service.name}: "
                f"{err.strerror}; choose another port"
            ) from err
        return sock

    def _responder(self, default_host: str) -> Callable[[ParsedRequest], Answer]:
        answer = self.gateway.answer

        def respond(request: ParsedRequest) -> Answer:
            return answer(request, default_host)

        return respond

    def stop(self) -> None:
        if self._server is not None:
            self._server.stop()
            self._server = None
        self._addresses.clear()

    def __enter__(self) -> LoopbackServer:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()


def _url(address: tuple[str, int]) -> str:
    host, port = address
    shown = f"[{host}]" if ":" in host else host
    return f"http://{shown}:{port}"


class HttpClientTransport:
    """A replay transport over real HTTP connections (keep-alive, one per endpoint and thread).

    `resolve(host)` gives the (address, port) serving a mocked host; the request keeps the
    host in its Host header. `decorate` adds headers (e.g. the clock for a remote sandbox)
    and `on_answer` sees every raw answer (e.g. to import a remote decision). With `lean`,
    the server must be this harness's own (every answer carries a Content-Length): calls
    go over `_LeanConnection` instead of http.client, whose header parsing costs more than
    the server's whole answer.
    """

    def __init__(
        self,
        resolve: Callable[[str], tuple[str, int]],
        *,
        decorate: Callable[[dict[str, str]], None] | None = None,
        on_answer: Callable[[list[tuple[str, str]]], None] | None = None,
        timeout: float = 30.0,
        lean: bool = False,
    ) -> None:
        self.resolve = resolve
        self.decorate = decorate
        self.on_answer = on_answer
        self.timeout = timeout
        self.lean = lean
        self._local = threading.local()

    def _pool(self) -> dict[tuple[str, int], Any]:
        pool: dict[tuple[str, int], Any] | None = getattr(self._local, "pool", None)
        if pool is None:
            pool = self._local.pool = {}
        return pool

    def __call__(self, request: Request, context: CallContext) -> Response:
        host, _, _ = split_url(request.url)
        parts = urlsplit(request.url)
        target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        body, content_type = wire.request_body(request)
        headers = dict(request.headers)
        headers["Host"] = host
        if content_type and header(headers, "Content-Type") is None:
            headers["Content-Type"] = content_type
        headers.update(wire.context_headers(context))
        if self.decorate is not None:
            self.decorate(headers)
        endpoint = self.resolve(host)
        if self.lean:
            status, answer_headers, payload = self._lean(
                endpoint, request.method, target, headers, body
            )
        else:
            status, answer_headers, payload = self._standard(
                endpoint, request.method, target, headers, body
            )
        if self.on_answer is not None:
            self.on_answer(answer_headers)
        return wire.to_response(status, answer_headers, payload)

    def _standard(
        self,
        endpoint: tuple[str, int],
        method: str,
        target: str,
        headers: dict[str, str],
        body: bytes | None,
    ) -> tuple[int, list[tuple[str, str]], bytes]:
        pool = self._pool()
        for attempt in (1, 2):
            connection = pool.get(endpoint)
            if connection is None:
                connection = pool[endpoint] = http.client.HTTPConnection(
                    *endpoint, timeout=self.timeout
                )
            try:
                connection.request(method, target, body, headers)
                answer = connection.getresponse()
                payload = answer.read()
                return answer.status, answer.getheaders(), payload
            except (ConnectionError, http.client.HTTPException):
                # A keep-alive connection the server closed meanwhile: reconnect once.
                connection.close()
                if attempt == 2:
                    raise
        raise AssertionError("unreachable")

    def _lean(
        self,
        endpoint: tuple[str, int],
        method: str,
        target: str,
        headers: dict[str, str],
        body: bytes | None,
    ) -> tuple[int, list[tuple[str, str]], bytes]:
        head = _request_head(method, target, headers, body)
        pool = self._pool()
        for attempt in (1, 2):
            connection = pool.get(endpoint)
            fresh = connection is None
            if connection is None:
                connection = pool[endpoint] = _LeanConnection(endpoint, self.timeout)
            try:
                status, answer_headers, payload, closing = connection.exchange(
                    head, body, head_only=method == "HEAD"
                )
            except ConnectionError:
                # A keep-alive connection the server closed meanwhile (its read timeout):
                # reconnect once; a fresh connection that fails is a real failure.
                connection.close()
                del pool[endpoint]
                if fresh or attempt == 2:
                    raise
                continue
            if closing:
                connection.close()
                del pool[endpoint]
            return status, answer_headers, payload
        raise AssertionError("unreachable")

    def close(self) -> None:
        pool = self._pool()
        for connection in pool.values():
            connection.close()
        pool.clear()


_UNSENDABLE = frozenset("\r\n\x00")
_TARGET_SAFE = "/:@!$&'()*+,;=-._~%?"  # what a request target may hold as it is


def _request_head(method: str, target: str, headers: dict[str, str], body: bytes | None) -> bytes:
    """The bytes of a request head; a header that would break it is refused, as http.client does."""
    if not target.isascii() or any(c <= " " or c == "\x7f" for c in target):
        target = quote(target, safe=_TARGET_SAFE)
    lines = [f"{method} {target} HTTP/1.1"]
    for name, value in headers.items():
        if not _UNSENDABLE.isdisjoint(name) or not _UNSENDABLE.isdisjoint(value) or ":" in name:
            raise SandboxError(
                f"the request header {name!r} holds a line break or NUL; it cannot be sent over HTTP"
            )
        lines.append(f"{name}: {value}")
    if body is not None:
        lines.append(f"Content-Length: {len(body)}")
    try:
        return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")
    except UnicodeEncodeError as err:
        raise SandboxError(
            f"a request header holds {err.object[err.start : err.end]!r}, which HTTP/1.1 "
            "headers cannot carry (latin-1 only); percent-encode it"
        ) from err


class _LeanConnection:
    """One keep-alive connection to this harness's own server; reads answers by Content-Length."""

    MAX_HEAD = 1024 * 1024

    def __init__(self, endpoint: tuple[str, int], timeout: float) -> None:
        self.sock = socket.create_connection(endpoint, timeout=timeout)
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.buffer = bytearray()

    def exchange(
        self, head: bytes, body: bytes | None, *, head_only: bool
    ) -> tuple[int, list[tuple[str, str]], bytes, bool]:
        """Send one request; its status, headers, body, and whether the server closes."""
        self.sock.sendall(head + body if body else head)
        buffer = self.buffer
        while (end := buffer.find(b"\r\n\r\n")) < 0:
            if len(buffer) > self.MAX_HEAD:
                raise SandboxError("the loopback server's answer head never ended")
            self._fill()
        lines = bytes(buffer[:end]).decode("latin-1").split("\r\n")
        del buffer[: end + 4]
        status = int(lines[0][9:12])
        headers = [
            (name, value.strip()) for name, _, value in (x.partition(":") for x in lines[1:])
        ]
        length = closing = None
        for name, value in headers:
            lowered = name.lower()
            if lowered == "content-length":
                length = int(value)
            elif lowered == "connection":
                closing = "close" in value.lower()
        if length is None:
            raise SandboxError("the loopback server answered without a Content-Length")
        if head_only:
            length = 0
        while len(buffer) < length:
            self._fill()
        payload = bytes(buffer[:length])
        del buffer[:length]
        return status, headers, payload, bool(closing)

    def _fill(self) -> None:
        chunk = self.sock.recv(65536)
        if not chunk:
            raise ConnectionResetError("the loopback server closed the connection")
        self.buffer += chunk

    def close(self) -> None:
        with contextlib.suppress(OSError):
            self.sock.close()


def http_transport(server: LoopbackServer) -> HttpClientTransport:
    """The replay transport that sends every call through `server`."""
    return HttpClientTransport(server.endpoint, lean=True)


__all__ = [
    "Gateway",
    "HttpClientTransport",
    "LoopbackServer",
    "check_loopback",
    "http_services",
    "http_transport",
]
