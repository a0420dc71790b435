"""One workspace, every transport: the same decisions and the same findings.

The example workspace is replayed under every binding through the direct
transport, requests (responses), httpx, loopback HTTP and, when a Docker engine
is reachable, containers; decisions and reports must be identical.
"""

from __future__ import annotations

import json
import socket
import sys
from pathlib import Path
from typing import Any

import pytest
from workspaces import HOST, build, policy, service

from harness.calls import CallContext, Request
from harness.engine import run_check
from harness.model import Workspace
from harness.render.jsonfmt import render_json
from harness.sandbox import Sandbox
from harness.transports import open_transport
from harness.transports.mock_image import runtime_mounts
from harness.workspace.loader import load_workspace

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def example() -> Workspace:
    return load_workspace(ROOT)


def _check(workspace: Workspace, transport: str, **options: Any) -> tuple[list[Any], str]:
    sandbox = Sandbox(workspace)
    with open_transport(transport, sandbox, **options) as send:
        report = run_check(workspace, sandbox=sandbox, transport=send)
    decisions = [decision.to_data() for decision in sandbox.decisions]
    return decisions, render_json(report.to_data())


@pytest.fixture(scope="module")
def direct(example: Workspace) -> tuple[list[Any], str]:
    return _check(example, "direct")


@pytest.mark.parametrize("transport", ["responses", "httpx", "http"])
def test_every_transport_decides_and_finds_as_the_direct_one(
    example: Workspace, direct: tuple[list[Any], str], transport: str
) -> None:
    decisions, report = _check(example, transport)
    assert len(decisions) == len(direct[0]) > 40
    for expected, got in zip(direct[0], decisions, strict=True):
        assert got == expected
    assert report == direct[1]
    assert json.loads(report)["bindings"]  # a real report, not two empty ones


@pytest.mark.docker
def test_the_docker_transport_decides_and_finds_as_the_direct_one(
    example: Workspace, direct: tuple[list[Any], str], docker_engine: Any, mock_image: str
) -> None:
    decisions, report = _check(example, "docker", client=docker_engine, default_image=mock_image)
    for expected, got in zip(direct[0], decisions, strict=True):
        assert got == expected
    assert len(decisions) == len(direct[0])
    assert report == direct[1]


@pytest.mark.docker
def test_an_upstream_container_answers_only_the_calls_the_sandbox_allowed(
    docker_engine: Any, mock_image: str, tmp_path: Path
) -> None:
    # third-party software stands in as Python's http.server, serving one file
    (tmp_path / "items").write_text("the upstream's own answer")
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    python = str(Path(sys.base_prefix).resolve() / "bin" / f"python{sys.version_info[0]}")
    container = {
        "image": mock_image,
        "role": "upstream",
        "port": port,
        "command": [python, "-m", "http.server", str(port), "--directory", "/srv"],
        "mounts": {**runtime_mounts(), str(tmp_path): "/srv"},
        "health": {"tcp": True},
    }
    operations = [
        {"id": "items.list", "method": "GET", "path": "/items", "requires": "svc.read"},
        {"id": "items.create", "method": "POST", "path": "/items", "requires": "svc.write"},
    ]
    workspace = build(
        [service(operations=operations, container=container)],
        [policy(["svc.read"], [("GET", "/items")])],
    )
    sandbox = Sandbox(workspace)
    headers = {"Authorization": f"Bearer {sandbox.issue_token(workspace.bindings[0])}"}
    url = f"https://{HOST}/items"
    with open_transport("docker", sandbox, client=docker_engine) as send:
        allowed = send(Request("GET", url, headers), CallContext())
        refused = send(Request("POST", url, headers, {"name": "x"}), CallContext())
    assert (allowed.status, allowed.body_bytes()) == (200, b"the upstream's own answer")
    assert refused.status == 403  # decided here; http.server never saw it (it would say 501)
    assert [d.outcome for d in sandbox.decisions] == ["allowed", "denied"]
