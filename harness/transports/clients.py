"""The `responses` and `httpx` transports for replay: each step is sent by the real client
library (requests through responses, httpx through its transport hooks), so a replay
exercises the same interception that live flow code meets in the pytest fixtures.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from harness.calls import CallContext, Request, Response, header
from harness.errors import SandboxError
from harness.interception import Interceptor
from harness.replay import Transport
from harness.sandbox import Sandbox
from harness.transports import wire


class _Current:
    """The replay context of the call in flight, for the interceptor to hand the sandbox."""

    def __init__(self) -> None:
        self.context = CallContext()

    def __call__(self) -> CallContext:
        return self.context


def _prepared(request: Request) -> tuple[dict[str, str], bytes | None]:
    body, content_type = wire.request_body(request)
    headers = dict(request.headers)
    if content_type and header(headers, "Content-Type") is None:
        headers["Content-Type"] = content_type
    return headers, body


def _blocked(interceptor: Interceptor, before: int) -> bool:
    return len(interceptor.exchanges) > before and interceptor.exchanges[-1].response.blocked


@contextmanager
def requests_transport(sandbox: Sandbox) -> Iterator[Transport]:
    """Replay through `requests`, intercepted by `responses` into the sandbox."""
    try:
        import requests
    except ImportError as err:
        raise SandboxError(
            "the responses transport needs requests and responses: "
            "pip install 'connector-harness[test]'"
        ) from err
    current = _Current()
    with Interceptor(sandbox, current) as interceptor, requests.Session() as session:

        def send(request: Request, context: CallContext) -> Response:
            current.context = context
            headers, body = _prepared(request)
            before = len(interceptor.exchanges)
            try:
                answer = session.request(request.method, request.url, data=body, headers=headers)
            except requests.ConnectionError:
                if _blocked(interceptor, before):
                    return Response(0, blocked=True)
                raise
            return wire.to_response(
                answer.status_code, list(answer.headers.items()), answer.content
            )

        yield send


@contextmanager
def httpx_transport(sandbox: Sandbox) -> Iterator[Transport]:
    """Replay through an `httpx.Client`, whose transport is routed into the sandbox."""
    try:
        import httpx
    except ImportError as err:
        raise SandboxError(
            "the httpx transport needs httpx: pip install 'connector-harness[test]'"
        ) from err
    current = _Current()
    with Interceptor(sandbox, current) as interceptor, httpx.Client() as client:

        def send(request: Request, context: CallContext) -> Response:
            current.context = context
            headers, body = _prepared(request)
            before = len(interceptor.exchanges)
            options: dict[str, Any] = {"headers": headers}
            if body is not None:
                options["content"] = body
            try:
                answer = client.request(request.method, request.url, **options)
            except httpx.ConnectError:
                if _blocked(interceptor, before):
                    return Response(0, blocked=True)
                raise
            return wire.to_response(
                answer.status_code, list(answer.headers.multi_items()), answer.content
            )

        yield send
