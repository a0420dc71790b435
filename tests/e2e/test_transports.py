"""One workspace, every transport: the same decisions and the same findings.

The example workspace is replayed under every binding through the direct
transport, requests (responses), httpx, loopback HTTP and, when a Docker engine
is reachable, containers; decisions and reports must be identical.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from harness.engine import run_check
from harness.loader import load_workspace
from harness.model import Workspace
from harness.render.jsonfmt import render_json
from harness.sandbox import Sandbox
from harness.transports import open_transport

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
