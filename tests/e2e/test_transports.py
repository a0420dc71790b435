"""One workspace, every transport: the same decisions and the same findings.

The example workspace is replayed under every binding through the direct
transport, requests (responses), httpx, loopback HTTP and, when a Docker engine
is reachable, containers; decisions and reports must be identical.
"""

from __future__ import annotations

import json
import socket
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml
from workspaces import HOST, build, policy, service

from harness.calls import CallContext, Request, Response
from harness.engine import run_check
from harness.errors import SandboxError
from harness.model import Workspace
from harness.render.jsonfmt import render_json
from harness.sandbox import Sandbox
from harness.transports import containers, open_transport
from harness.transports.mock_image import runtime_mounts
from harness.transports.reaping import LABEL_RUN, LABEL_SERVICE, new_run_id
from harness.workspace.loader import load_workspace

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def example() -> Workspace:
    return load_workspace(ROOT)


def _check(
    workspace: Workspace,
    transport: str,
    on_call: Callable[[Request, CallContext], None] | None = None,
    **options: Any,
) -> tuple[list[Any], str]:
    sandbox = Sandbox(workspace)
    with open_transport(transport, sandbox, **options) as send:

        def observed(request: Request, context: CallContext) -> Response:
            if on_call is not None:
                on_call(request, context)
            return send(request, context)

        report = run_check(workspace, sandbox=sandbox, transport=observed)
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
@pytest.mark.parametrize("share", [True, False], ids=["shared container", "one per service"])
def test_the_docker_transport_decides_and_finds_as_the_direct_one(
    example: Workspace,
    direct: tuple[list[Any], str],
    docker_engine: Any,
    mock_image: str,
    share: bool,
) -> None:
    run = f"test-{new_run_id()}"
    seen: list[list[str]] = []

    def containers_of_the_run(request: Request, context: CallContext) -> None:
        if not seen:
            found = docker_engine.containers.list(filters={"label": f"{LABEL_RUN}={run}"})
            seen.extend(sorted(c.labels[LABEL_SERVICE].split(",")) for c in found)

    options = {"client": docker_engine, "default_image": mock_image, "share": share, "run_id": run}
    decisions, report = _check(example, "docker", on_call=containers_of_the_run, **options)
    for expected, got in zip(direct[0], decisions, strict=True):
        assert got == expected
    assert len(decisions) == len(direct[0])
    assert report == direct[1]
    services = sorted(s.name for s in example.services if s.hosts)
    assert len(services) == 9
    assert sorted(seen) == ([services] if share else [[name] for name in services])
    assert not docker_engine.containers.list(all=True, filters={"label": f"{LABEL_RUN}={run}"})


@pytest.mark.docker
def test_a_shared_container_on_the_host_network_decides_as_the_direct_one(
    example: Workspace,
    direct: tuple[list[Any], str],
    docker_engine: Any,
    mock_image: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # an engine without a bridge network: the container listens on free host ports
    monkeypatch.setattr(containers, "_bridge_available", lambda client: False)
    run = f"test-{new_run_id()}"
    options = {"client": docker_engine, "default_image": mock_image, "run_id": run}
    decisions, report = _check(example, "docker", **options)
    assert decisions == direct[0]
    assert report == direct[1]


@pytest.mark.docker
def test_a_shared_container_that_fails_names_every_service_it_carries(
    docker_engine: Any, mock_image: str, tmp_path: Path
) -> None:
    # a Python that cannot start: the container exits before any of its ports answers
    broken = {"image": mock_image, "role": "mock", "environment": {"PYTHONHOME": "/nowhere"}}
    (tmp_path / "mocks").mkdir()
    (tmp_path / "scenarios").mkdir()
    for name in ("alpha", "beta"):
        spec = service(service=name, hosts=[f"{name}.example"], container=broken)
        (tmp_path / "mocks" / f"{name}.yaml").write_text(yaml.safe_dump(spec))
    document = policy(["svc.read"], [("GET", "/items")], service_name="alpha", host="alpha.example")
    document["connectors"][0]["allowed_hosts"] = ["alpha.example"]
    (tmp_path / "scenarios" / "policy.yaml").write_text(yaml.safe_dump(document))
    run = f"test-{new_run_id()}"
    sandbox = Sandbox(load_workspace(tmp_path))
    with (
        pytest.raises(SandboxError) as failure,
        open_transport("docker", sandbox, client=docker_engine, run_id=run),
    ):
        pass
    message = str(failure.value)
    assert "the container shared by 2 services (alpha, beta) exited with code" in message
    assert message.startswith(f"{tmp_path / 'mocks' / 'alpha.yaml'}:")
    assert not docker_engine.containers.list(all=True, filters={"label": f"{LABEL_RUN}={run}"})


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
