"""Workspace lookups by name: the index answers as the scans it replaced, and is never
pickled (the workspace cache and the mock containers' workspace file hold the model only)."""

from __future__ import annotations

import pickle
from dataclasses import replace
from pathlib import Path

import pytest

from harness.model import Workspace
from harness.transports.container_server import read_workspace, write_workspace
from harness.workspace.loader import load_workspace

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def example() -> Workspace:
    return load_workspace(ROOT)


def test_lookups_answer_as_a_scan(example: Workspace) -> None:
    for connector in example.connectors:
        assert example.connector(connector.name) is connector
        assert example.flows_of(connector.name) == tuple(
            flow for flow in example.flows if flow.connector == connector.name
        )
    for role in example.roles:
        assert example.role(role.name) is role
    for service in example.services:
        assert example.service(service.name) is service
    assert example.flows_of("no-such-connector") == ()
    with pytest.raises(KeyError):
        example.connector("no-such-connector")
    with pytest.raises(StopIteration):  # as the scan raised: callers rely on it
        example.service("no-such-service")


def test_the_first_of_a_name_wins_as_in_a_scan(example: Workspace) -> None:
    first, *_ = example.roles
    twin = replace(first, description="a later role of the same name")
    doubled = replace(example, roles=(*example.roles, twin))
    assert doubled.role(first.name) is first


def test_the_index_is_rebuilt_not_pickled(example: Workspace, tmp_path: Path) -> None:
    example.connector(example.connectors[0].name)  # builds the index
    data = pickle.dumps(example)
    assert pickle.dumps(replace(example)) == data  # a workspace that never built one
    copy = pickle.loads(data)
    assert copy == example
    assert copy.connector(example.connectors[0].name) == example.connectors[0]
    path = write_workspace(example, tmp_path)
    assert read_workspace(path) == example


def test_a_file_without_a_workspace_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "workspace.pickle"
    path.write_bytes(pickle.dumps({"not": "a workspace"}))
    with pytest.raises(SystemExit, match="does not hold a workspace"):
        read_workspace(path)
