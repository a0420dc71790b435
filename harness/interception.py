"""Live flow code inside the sandbox: `requests` through responses, `httpx` through its
transports, and every other socket connection to a non-loopback address refused.

This is the `responses` / `httpx` transport of the design: a live call becomes a
harness Request, goes through `Sandbox.handle` like a replayed step, and its
Response goes back to the client. A call the sandbox blocks (an unknown host, a
host outside the connector's allowlist) raises EgressBlocked, which is a
ConnectionError, naming the host.
"""

from __future__ import annotations

import ipaddress
import re
import socket
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from typing import Any
from unittest import mock

from harness.calls import METHODS, CallContext, Request, Response, response_headers, to_request
from harness.decisions import Exchange
from harness.errors import HarnessError, SandboxError
from harness.sandbox import Sandbox


class EgressBlocked(HarnessError, ConnectionError):
    """A live call tried to leave the sandbox; nothing was sent."""


def _address(host: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    """The IP address `host` spells, or None for a name (one that needs a lookup)."""
    try:
        return ipaddress.ip_address(host.split("%")[0])
    except ValueError:
        return None


def _is_loopback(host: str) -> bool:
    if host in ("localhost", ""):
        return True
    address = _address(host)
    return address is not None and address.is_loopback


class Interceptor:
    """Routes live calls into a sandbox while active (a context manager)."""

    def __init__(self, sandbox: Sandbox, context: Callable[[], CallContext] | None = None) -> None:
        self.sandbox = sandbox
        self.context = context or CallContext
        self.exchanges: list[Exchange] = []
        self._stack = ExitStack()

    def handle(self, request: Request) -> Response:
        """Send one live call through the sandbox; raise EgressBlocked when it may not leave."""
        response = self.sandbox.handle(request, self.context())
        decision = self.sandbox.decisions[-1]
        self.exchanges.append(Exchange(request, response, decision))
        if response.blocked:
            raise EgressBlocked(
                f"connector-harness sandbox blocked a call to {decision.host}: {decision.reason}"
            )
        return response

    def __enter__(self) -> Interceptor:
        self._stack.__enter__()
        try:
            self._stack.enter_context(_guard_sockets())
            self._stack.enter_context(_intercept_requests(self))
            self._stack.enter_context(_intercept_httpx(self))
        except BaseException:
            self._stack.close()
            raise
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._stack.close()


@contextmanager
def _guard_sockets() -> Iterator[None]:
    """Refuse socket connections to anything but loopback: the sandbox never reaches a network."""
    real_connect = socket.socket.connect
    real_connect_ex = socket.socket.connect_ex

    def check(sock: socket.socket, address: Any) -> None:
        if sock.family in (socket.AF_INET, socket.AF_INET6):
            host, port = str(address[0]), address[1]
            if not _is_loopback(host):
                raise EgressBlocked(
                    f"connector-harness sandbox blocked a real network connection to {host}:{port}; "
                    "only calls through requests or httpx reach the mocked services"
                )

    def connect(sock: socket.socket, address: Any) -> None:
        check(sock, address)
        real_connect(sock, address)

    def connect_ex(sock: socket.socket, address: Any) -> int:
        check(sock, address)
        return real_connect_ex(sock, address)

    real_getaddrinfo = socket.getaddrinfo

    def getaddrinfo(host: Any, *args: Any, **kwargs: Any) -> Any:
        # A name lookup is itself a network call (and tells a resolver where the flow goes).
        name = host.decode() if isinstance(host, bytes) else host
        if name is not None and not _is_loopback(name) and _address(name) is None:
            raise EgressBlocked(
                f"connector-harness sandbox blocked a DNS lookup of {name}; "
                "only calls through requests or httpx reach the mocked services"
            )
        return real_getaddrinfo(host, *args, **kwargs)

    with (
        mock.patch.object(socket.socket, "connect", connect),
        mock.patch.object(socket.socket, "connect_ex", connect_ex),
        mock.patch.object(socket, "getaddrinfo", getaddrinfo),
    ):
        yield


@contextmanager
def _intercept_requests(interceptor: Interceptor) -> Iterator[None]:
    try:
        import requests
    except ImportError:  # requests is optional: nothing to intercept
        yield
        return
    try:
        import responses
    except ImportError as missing:  # calls through requests would go out unseen
        raise SandboxError(
            "the sandbox routes requests through the `responses` library, which is not "
            "installed: pip install responses (a dependency of connector-harness)"
        ) from missing

    def callback(prepared: requests.PreparedRequest) -> tuple[int, dict[str, str], bytes]:
        body = prepared.body.encode() if isinstance(prepared.body, str) else prepared.body
        request = to_request(
            prepared.method or "GET", prepared.url or "", dict(prepared.headers), body
        )
        try:
            response = interceptor.handle(request)
        except EgressBlocked as blocked:
            raise requests.ConnectionError(str(blocked)) from blocked
        return response.status, response_headers(response), response.body_bytes()

    with responses.RequestsMock(assert_all_requests_are_fired=False) as mocked:
        for method in METHODS:
            mocked.add_callback(method, re.compile(r".*"), callback=callback)
        yield


@contextmanager
def _intercept_httpx(interceptor: Interceptor) -> Iterator[None]:
    try:
        import httpx
    except ImportError:  # httpx is optional: nothing to intercept
        yield
        return

    def respond(request: httpx.Request, body: bytes) -> httpx.Response:
        harness_request = to_request(request.method, str(request.url), dict(request.headers), body)
        try:
            response = interceptor.handle(harness_request)
        except EgressBlocked as blocked:
            raise httpx.ConnectError(str(blocked), request=request) from blocked
        return httpx.Response(
            response.status,
            headers=response_headers(response),
            content=response.body_bytes(),
            request=request,
        )

    def handle_request(transport: httpx.HTTPTransport, request: httpx.Request) -> httpx.Response:
        return respond(request, request.read())

    async def handle_async_request(
        transport: httpx.AsyncHTTPTransport, request: httpx.Request
    ) -> httpx.Response:
        return respond(request, await request.aread())

    with (
        mock.patch.object(httpx.HTTPTransport, "handle_request", handle_request),
        mock.patch.object(httpx.AsyncHTTPTransport, "handle_async_request", handle_async_request),
    ):
        yield
