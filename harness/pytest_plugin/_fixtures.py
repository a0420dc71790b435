"""Fixtures for running live flow code (requests, httpx) inside the sandbox: thin wrappers
of the engine's LiveSandbox and HttpSandbox (harness.live).

Kept light: the sandbox machinery is imported when a test first asks for it, so a
pytest run that uses none of these pays nothing for them.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING

import pytest

from harness.pytest_plugin._items import harness_session

if TYPE_CHECKING:
    from harness.boundary import BoundarySandbox
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
    """Mock services up for this test: requests and httpx reach them, any other way out fails."""
    from harness.live import LiveSandbox
    from harness.pytest_plugin._recording import RecordMark, finish_recording

    try:
        RecordMark.of(request.node)  # a misspelled argument fails before the test runs
    except TypeError as wrong:
        pytest.fail(str(wrong), pytrace=False)
    with LiveSandbox(harness_workspace, name=request.node.nodeid) as live:
        yield live
    _fail_on_unasserted_blocks(request, live)
    finish_recording(request, live)


def _fail_on_unasserted_blocks(request: pytest.FixtureRequest, live: LiveSandbox) -> None:
    """Fail a passing test whose code tried to leave the sandbox unless it said it expects
    that: flow code that swallowed the refusal must not pass for it."""
    from harness.pytest_plugin._recording import CALL_REPORT

    report = request.node.stash.get(CALL_REPORT, None)
    if report is not None and report.passed and live.unasserted_blocks():
        pytest.fail(
            "\n".join(
                [
                    "the test's code tried to leave the sandbox; each attempt was refused:",
                    live.blocked_text(),
                    "if the test expects it, say so with assert_blocked(...) "
                    "(or assert_denied(...))",
                ]
            ),
            pytrace=False,
        )


@pytest.fixture
def assert_blocked(sandbox: LiveSandbox) -> Callable[..., Decision]:
    """Fail, listing every call, unless a matching attempt to leave the sandbox was blocked."""
    return sandbox.assert_blocked


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
    from harness.live import HttpSandbox

    with HttpSandbox(harness_workspace, name=request.node.nodeid) as served:
        yield served


@pytest.fixture
def boundary_sandbox(
    request: pytest.FixtureRequest, harness_workspace: Workspace
) -> Iterator[BoundarySandbox]:
    """Mock services in a network namespace with no route out; run(...) starts programs there."""
    from harness.boundary import BoundarySandbox, boundary_unavailable

    unavailable = boundary_unavailable()
    if unavailable is not None:
        pytest.skip(f"no network boundary on this machine: {unavailable}")
    with BoundarySandbox(harness_workspace, name=request.node.nodeid) as bounded:
        yield bounded
    _fail_on_unasserted_blocks(request, bounded)
