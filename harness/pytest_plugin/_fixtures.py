"""Fixtures for running live flow code (requests, httpx) inside the sandbox.

Kept light: the sandbox machinery (`_live`) is imported when a test first asks for
it, so a pytest run that uses none of these pays nothing for them.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING

import pytest

from harness.pytest_plugin._items import harness_session

if TYPE_CHECKING:
    from harness.decisions import Decision
    from harness.live import BindingHandle, HttpSandbox, LiveSandbox
    from harness.model import Workspace


@pytest.fixture(scope="session")
def harness_workspace(pytestconfig: pytest.Config) -> Workspace:
    """The connector-harness workspace: services, connectors, roles, bindings and flows."""
    session = harness_session(pytestconfig)
    workspace = session.load()
    if workspace is None:
        pytest.fail(
            "\n".join(
                [
                    "the connector-harness workspace does not load:",
                    *(error.render() for error in session.errors),
                ]
            ),
            pytrace=False,
        )
    return workspace


@pytest.fixture
def sandbox(request: pytest.FixtureRequest, harness_workspace: Workspace) -> Iterator[LiveSandbox]:
    """Mock services up for this test: requests and httpx reach them, real network calls fail."""
    from harness.calls import CallContext
    from harness.interception import Interceptor
    from harness.live import LiveSandbox
    from harness.pytest_plugin._recording import finish_recording
    from harness.sandbox import Sandbox

    live_sandbox = Sandbox(harness_workspace)
    counter = iter(range(1_000_000))

    def context() -> CallContext:
        number = next(counter)
        return CallContext(request.node.nodeid, number, f"call {number + 1}")

    with Interceptor(live_sandbox, context) as interceptor:
        live = LiveSandbox(live_sandbox, interceptor, request.node.nodeid)
        yield live
    finish_recording(request, live)


@pytest.fixture
def binding(sandbox: LiveSandbox) -> Callable[..., BindingHandle]:
    """Factory: binding("crm-sync", env="prod") gives the token and client settings for flow code."""
    return sandbox.binding


@pytest.fixture
def assert_least_privilege(sandbox: LiveSandbox) -> Callable[..., None]:
    """Fail, listing findings and calls, when the test's calls were denied or over-granted."""
    return sandbox.assert_least_privilege


@pytest.fixture
def assert_denied(sandbox: LiveSandbox) -> Callable[..., Decision]:
    """Fail, listing every call, unless a matching call was denied."""
    return sandbox.assert_denied


@pytest.fixture
def http_sandbox(
    request: pytest.FixtureRequest, harness_workspace: Workspace
) -> Iterator[HttpSandbox]:
    """Mock services on loopback HTTP ports for this test (any client, any language)."""
    from harness.interception import Interceptor
    from harness.live import HttpSandbox
    from harness.sandbox import Sandbox
    from harness.transports.loopback import LoopbackServer

    served = Sandbox(harness_workspace)
    log = Interceptor(served)  # never entered: patches nothing, only keeps the exchange log
    with LoopbackServer(served, listeners=(log.exchanges.append,)) as server:
        yield HttpSandbox(served, log, request.node.nodeid, server=server)
