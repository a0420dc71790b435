"""Transports: how a replayed call reaches the sandbox. Every one ends in `Sandbox.handle`.

direct     straight into the sandbox, no HTTP (the default; the fastest)
responses  through `requests`, intercepted by responses
httpx      through an `httpx.Client`, intercepted at its transport
http       over real HTTP to loopback servers (`loopback.LoopbackServer`)
docker     over real HTTP to services running in containers (`docker_transport`)

`open_transport(name, sandbox)` is a context manager giving the replay callable.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

from harness.errors import UsageError

if TYPE_CHECKING:  # the options table reads TRANSPORTS without loading the sandbox
    from harness.replay import Transport
    from harness.sandbox import Sandbox

TRANSPORTS = ("direct", "responses", "httpx", "http", "docker")


@contextmanager
def open_transport(name: str, sandbox: Sandbox, **options: Any) -> Iterator[Transport]:
    """The replay transport `name` over `sandbox`, with its servers or containers running."""
    if name == "direct":
        yield sandbox.handle
    elif name == "responses":
        from harness.transports.clients import requests_transport

        with requests_transport(sandbox) as transport:
            yield transport
    elif name == "httpx":
        from harness.transports.clients import httpx_transport

        with httpx_transport(sandbox) as transport:
            yield transport
    elif name == "http":
        from harness.transports.loopback import LoopbackServer, http_transport

        with LoopbackServer(sandbox, **options) as server:
            client = http_transport(server)
            try:
                yield client
            finally:
                client.close()
    elif name == "docker":
        from harness.transports.docker_transport import docker_transport

        with docker_transport(sandbox, **options) as transport:
            yield transport
    else:
        raise UsageError(f"unknown transport {name!r}; transports: {', '.join(TRANSPORTS)}")


__all__ = ["TRANSPORTS", "open_transport"]
