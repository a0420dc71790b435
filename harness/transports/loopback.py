"""The `http` transport: the sandbox's mock services served over real HTTP on loopback.

Each HTTP service gets its own port (`http://127.0.0.1:PORT` stands for all of its
hosts); a request whose `Host` header names a mocked host is routed by that host
instead, so one port can also serve every service. Requests end in
`Sandbox.handle`, like every transport, so the decisions are those of the direct
transport. Servers are the standard library's ThreadingHTTPServer speaking
HTTP/1.1 with keep-alive; nothing listens on anything but a loopback address.
"""

from __future__ import annotations

import contextlib
import http.client
import ipaddress
import json
import socket
import threading
from collections.abc import Callable, Mapping
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import urlsplit

from harness.calls import (
    METHODS,
    CallContext,
    Request,
    Response,
    header,
    response_headers,
    to_request,
)
from harness.decisions import Decision, Exchange
from harness.errors import UsageError
from harness.model import Service
from harness.replay import recorded_response
from harness.routing import split_url
from harness.sandbox import Sandbox
from harness.transports import wire

ExchangeListener = Callable[[Exchange], None]  # told of every call, after the sandbox decided


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
    """Turns HTTP requests into sandbox calls; shared by every port of one server."""

    def __init__(
        self,
        sandbox: Sandbox,
        *,
        follow_client: bool = False,
        listeners: tuple[ExchangeListener, ...] = (),
    ) -> None:
        self.sandbox = sandbox
        self.follow_client = (
            follow_client  # a sandbox in a container: follow clock, export decisions
        )
        self.listeners = listeners
        self.lock = threading.Lock()
        self._generation = -1
        self._steps = {
            (flow.name, step.index): step for flow in sandbox.workspace.flows for step in flow.steps
        }

    def context_for(self, headers: Mapping[str, str]) -> CallContext:
        flow = header(headers, wire.FLOW)
        step_text = header(headers, wire.STEP)
        if not flow or step_text is None or not step_text.lstrip("-").isdigit():
            return CallContext()
        step = self._steps.get((flow, int(step_text)))
        if step is None:
            return CallContext(flow, int(step_text), "")
        return CallContext(flow, step.index, step.name, recorded_response(step))

    def serve(
        self, method: str, host: str, target: str, headers: Mapping[str, str], body: bytes
    ) -> tuple[Response, Decision]:
        context = self.context_for(headers)
        request = to_request(method, f"https://{host}{target}", wire.sandbox_headers(headers), body)
        with self.lock:
            if self.follow_client:
                self._follow(headers)
            response = self.sandbox.handle(request, context)
            decision = self.sandbox.decisions[-1]
        if self.listeners:
            exchange = Exchange(request, response, decision)
            for listener in self.listeners:
                listener(exchange)
        return response, decision

    def _follow(self, headers: Mapping[str, str]) -> None:
        generation = header(headers, wire.GENERATION)
        if generation is not None and generation.isdigit() and int(generation) != self._generation:
            self._generation = int(generation)
            self.sandbox.reset()
        for token_id in (header(headers, wire.REVOKED) or "").split(","):
            if token_id:
                self.sandbox.tokens.revoke(token_id)
        clock = header(headers, wire.CLOCK)
        if clock is not None and clock.isdigit():
            self.sandbox.clock.now = int(clock)


class _ServiceServer(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False

    def __init__(self, address: tuple[str, int], gateway: Gateway, default_host: str) -> None:
        self.gateway = gateway
        self.default_host = default_host
        self.connections: set[socket.socket] = set()
        self.connections_lock = threading.Lock()
        family = socket.AF_INET6 if ":" in address[0] else socket.AF_INET
        self.address_family = family
        super().__init__(address, _Handler)

    def process_request(self, request: Any, client_address: Any) -> None:
        with self.connections_lock:
            self.connections.add(request)
        super().process_request(request, client_address)

    def shutdown_request(self, request: Any) -> None:
        with self.connections_lock:
            self.connections.discard(request)
        super().shutdown_request(request)

    def close_connections(self) -> None:
        """End idle keep-alive connections, so their handler threads finish."""
        with self.connections_lock:
            open_connections = list(self.connections)
        for connection in open_connections:
            with contextlib.suppress(OSError):
                connection.shutdown(socket.SHUT_RDWR)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True
    server: _ServiceServer

    def version_string(self) -> str:
        return "connector-harness"

    def log_message(self, format: str, *args: Any) -> None:  # decisions are the log
        pass

    def _serve(self) -> None:
        headers = dict(self.headers.items())
        body = self._body()
        if body is None:
            return
        host = self._target_host(headers)
        response, decision = self.server.gateway.serve(self.command, host, self.path, headers, body)
        if response.blocked:
            payload = (
                f'{{"error":"egress_blocked","detail":{_json_text(decision.reason)}}}'.encode()
            )
            out_headers = {"Content-Type": "application/json"}
            status = wire.BLOCKED_STATUS
        else:
            payload = response.body_bytes()
            out_headers = response_headers(response)
            status = response.status
        lines = [f"HTTP/1.1 {status} {self.responses.get(status, ('',))[0]}"]
        lines.append(f"Server: {self.version_string()}")
        lines.append(f"Date: {self.date_time_string()}")
        for key, value in out_headers.items():
            if key.lower() not in wire.SERVER_HEADERS:
                lines.append(f"{key}: {value}")
        lines.append(f"{wire.OUTCOME}: {decision.outcome}")
        if self.server.gateway.follow_client:
            lines.append(f"{wire.DECISION}: {wire.encode_decision(decision)}")
        lines.append(f"Content-Length: {len(payload)}")
        head = ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1", "replace")
        # Head and body in one write: two small writes on a keep-alive connection cost
        # a packet each and, with delayed ACKs, can stall for milliseconds.
        self.wfile.write(head if self.command == "HEAD" else head + payload)

    def _body(self) -> bytes | None:
        if "chunked" in (self.headers.get("Transfer-Encoding") or "").lower():
            chunks: list[bytes] = []
            while True:
                size = int(self.rfile.readline().split(b";")[0].strip() or b"0", 16)
                if size == 0:
                    while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                        pass
                    return b"".join(chunks)
                chunks.append(self.rfile.read(size))
                self.rfile.readline()
        length = self.headers.get("Content-Length")
        if length is None:
            return b""
        if not length.isdigit():
            self.send_error(400, "bad Content-Length")
            return None
        return self.rfile.read(int(length))

    def _target_host(self, headers: Mapping[str, str]) -> str:
        """The Host header when it names a host other than this server, else the port's service."""
        named = header(headers, "Host") or ""
        host = split_url(f"http://{named}")[0] if named else ""
        bare = host.rsplit(":", 1)[0].strip("[]") if host else ""
        if not host or bare == "localhost" or _is_ip_loopback(bare):
            return self.server.default_host
        return host


for _method in METHODS:  # a do_<METHOD> handler for each method the sandbox serves
    setattr(_Handler, f"do_{_method}", _Handler._serve)


def _is_ip_loopback(text: str) -> bool:
    try:
        return ipaddress.ip_address(text).is_loopback
    except ValueError:
        return False


def _json_text(text: str) -> str:
    return json.dumps(text)


class LoopbackServer:
    """Serves a sandbox's HTTP services on loopback ports while active (a context manager).

    `ports` maps service names to fixed ports (0 or absent: any free port);
    `base_urls` maps each service to `http://127.0.0.1:PORT` once started.
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
    ) -> None:
        if not inside_container:  # in a container, 0.0.0.0 is the container's own network
            check_loopback(address)
        self.sandbox = sandbox
        self.address = address
        self.gateway = Gateway(sandbox, follow_client=follow_client, listeners=listeners)
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
        self._ports = dict(ports or {})
        self._servers: dict[str, _ServiceServer] = {}
        self._threads: list[threading.Thread] = []

    @property
    def base_urls(self) -> dict[str, str]:
        return {name: self._url(server) for name, server in self._servers.items()}

    def _url(self, server: _ServiceServer) -> str:
        host, port = server.server_address[:2]
        text = host.decode() if isinstance(host, bytes) else str(host)
        shown = f"[{text}]" if ":" in text else text
        return f"http://{shown}:{port}"

    def endpoint(self, host: str) -> tuple[str, int]:
        """The (address, port) that serves `host`; an unknown host goes to the first port
        with its Host header kept, so the sandbox blocks it as it would directly."""
        for service in self.services:
            if host in service.hosts:
                address, port = self._servers[service.name].server_address[:2]
                return str(address), int(port)
        first = next(iter(self._servers.values()))
        address, port = first.server_address[:2]
        return str(address), int(port)

    def start(self) -> LoopbackServer:
        try:
            for service in self.services:
                port = self._ports.get(service.name, 0)
                try:
                    server = _ServiceServer((self.address, port), self.gateway, service.hosts[0])
                except OSError as err:
                    raise UsageError(
                        f"cannot listen on {self.address}:{port} for service {service.name}: "
                        f"{err.strerror}; choose another port"
                    ) from err
                self._servers[service.name] = server
                thread = threading.Thread(
                    target=server.serve_forever,
                    kwargs={"poll_interval": 0.1},
                    name=f"connector-harness-{service.name}",
                    daemon=True,
                )
                thread.start()
                self._threads.append(thread)
        except BaseException:
            self.stop()
            raise
        return self

    def stop(self) -> None:
        for server in self._servers.values():
            server.shutdown()
            server.close_connections()
            server.server_close()
        for thread in self._threads:
            thread.join(timeout=5)
        self._servers.clear()
        self._threads.clear()

    def __enter__(self) -> LoopbackServer:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()


class HttpClientTransport:
    """A replay transport over real HTTP connections (keep-alive, one per endpoint and thread).

    `resolve(host)` gives the (address, port) serving a mocked host; the request keeps the
    host in its Host header. `decorate` adds headers (e.g. the clock for a remote sandbox)
    and `on_answer` sees every raw answer (e.g. to import a remote decision).
    """

    def __init__(
        self,
        resolve: Callable[[str], tuple[str, int]],
        *,
        decorate: Callable[[dict[str, str]], None] | None = None,
        on_answer: Callable[[list[tuple[str, str]]], None] | None = None,
        timeout: float = 30.0,
    ) -> None:
        self.resolve = resolve
        self.decorate = decorate
        self.on_answer = on_answer
        self.timeout = timeout
        self._local = threading.local()

    def _connection(self, endpoint: tuple[str, int]) -> http.client.HTTPConnection:
        pool: dict[tuple[str, int], http.client.HTTPConnection] | None = getattr(
            self._local, "pool", None
        )
        if pool is None:
            pool = self._local.pool = {}
        connection = pool.get(endpoint)
        if connection is None:
            connection = http.client.HTTPConnection(*endpoint, timeout=self.timeout)
            pool[endpoint] = connection
        return connection

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
        for attempt in (1, 2):
            connection = self._connection(endpoint)
            try:
                connection.request(request.method, target, body, headers)
                answer = connection.getresponse()
                payload = answer.read()
                break
            except (ConnectionError, http.client.HTTPException):
                # A keep-alive connection the server closed meanwhile: reconnect once.
                connection.close()
                if attempt == 2:
                    raise
        answer_headers = answer.getheaders()
        if self.on_answer is not None:
            self.on_answer(answer_headers)
        return wire.to_response(answer.status, answer_headers, payload)

    def close(self) -> None:
        pool: dict[tuple[str, int], http.client.HTTPConnection] = getattr(self._local, "pool", {})
        for connection in pool.values():
            connection.close()
        pool.clear()


def http_transport(server: LoopbackServer) -> HttpClientTransport:
    """The replay transport that sends every call through `server`."""
    return HttpClientTransport(server.endpoint)


__all__ = [
    "Gateway",
    "HttpClientTransport",
    "LoopbackServer",
    "check_loopback",
    "http_services",
    "http_transport",
]
