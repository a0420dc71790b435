"""Live flow code inside the sandbox: `requests` through responses, `httpx` through its
transports, and every other way out of the process refused (harness.egress_guard).

This is the `responses` / `httpx` transport of the design: a live call becomes a
harness Request, goes through `Sandbox.handle` like a replayed step, and its
Response goes back to the client. A call the sandbox blocks (an unknown host, a
host outside the connector's allowlist) raises EgressBlocked, which is a
ConnectionError, naming the host. Any other way out (a name lookup, a socket, a
child process) is refused by the guard, judged by `Sandbox.judge_attempt` into a
blocked Decision, and raises EgressBlocked too.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from unittest import mock

from harness.calls import METHODS, CallContext, Request, Response, response_headers, to_request
from harness.decisions import Exchange
from harness.egress_guard import guarded
from harness.errors import HarnessError, SandboxError
from harness.sandbox import Sandbox


class EgressBlocked(HarnessError, ConnectionError):
    """A live call tried to leave the sandbox; nothing was sent."""


class Interceptor:
    """Routes live calls into a sandbox while active (a context manager)."""

    def __init__(self, sandbox: Sandbox, context: Callable[[], CallContext] | None = None) -> None:
        self.sandbox = sandbox
        self.context = context or CallContext
        self.exchanges: list[Exchange] = []
        self._stack = ExitStack()
        self._lock = threading.RLock()  # calls come from the flow code's threads too

    def handle(self, request: Request) -> Response:
        """Send one live call through the sandbox; raise EgressBlocked when it may not leave."""
        with self._lock:
            response = self.sandbox.handle(request, self.context())
            decision = self.sandbox.decisions[-1]
            self.exchanges.append(Exchange(request, response, decision))
        if response.blocked:
            raise EgressBlocked(
                f"connector-harness sandbox blocked a call to {decision.host}: {decision.reason}"
            )
        return response

    def refuse(self, method: str, host: str, path: str) -> EgressBlocked:
        """Record a way out the guard refused (harness.egress_guard) as a blocked Decision;
        the error the refused call raises."""
        with self._lock:
            decision = self.sandbox.judge_attempt(method, host, path, self.context())
            request = Request(method, f"{host}{path}")
            self.exchanges.append(Exchange(request, Response(0, blocked=True), decision))
        return EgressBlocked(f"connector-harness sandbox blocked {decision.reason}")

    def __enter__(self) -> Interceptor:
        self._stack.__enter__()
        try:
            self._stack.enter_context(guarded(self.refuse))
            self._stack.enter_context(_intercept_requests(self))
            self._stack.enter_context(_intercept_httpx(self))
        except BaseException:
            self._stack.close()
            raise
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._stack.close()


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
