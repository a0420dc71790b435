"""Reading n8n exports: nodes, credentials, the order n8n runs them in, and bad input."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from harness.errors import InputError
from harness.n8n.workflow import read_workflows


def _node(
    name: str, kind: str = "n8n-nodes-base.set", x: float = 0, y: float = 0, **extra: Any
) -> dict[str, Any]:
    return {
        "name": name,
        "type": kind,
        "typeVersion": 1,
        "position": [x, y],
        "parameters": {},
        **extra,
    }


def _link(*targets: str) -> list[dict[str, Any]]:
    return [{"node": t, "type": "main", "index": 0} for t in targets]


def _write(tmp_path: Path, data: Any, name: str = "flow.n8n.json") -> Path:
    path = tmp_path / name
    path.write_text(json.dumps(data, indent=2))
    return path


def _export(
    nodes: list[dict[str, Any]], connections: dict[str, Any], **extra: Any
) -> dict[str, Any]:
    return {"name": "Demo", "id": "w1", "nodes": nodes, "connections": connections, **extra}


def test_a_workflow_names_its_nodes_credentials_and_lines(tmp_path: Path) -> None:
    credentials = {"githubOAuth2Api": {"id": "c1", "name": "GitHub bot"}}
    data = _export(
        [
            _node("Hook", "n8n-nodes-base.webhook"),
            _node("Issue", "n8n-nodes-base.github", 200, 0, credentials=credentials),
        ],
        {"Hook": {"main": [_link("Issue")]}},
    )
    (workflow,) = read_workflows(_write(tmp_path, data), "flow.n8n.json")
    assert [n.name for n in workflow.nodes] == ["Hook", "Issue"]
    issue = workflow.nodes[1]
    assert [(c.type, c.id, c.name) for c in issue.credentials] == [
        ("githubOAuth2Api", "c1", "GitHub bot")
    ]
    text = (tmp_path / "flow.n8n.json").read_text().splitlines()
    assert '"name": "Issue"' in "".join(text[issue.location.line - 1 : issue.location.line + 1])
    assert str(issue.location).startswith("flow.n8n.json:")


def test_v1_order_runs_each_branch_to_its_end_top_branch_first(tmp_path: Path) -> None:
    nodes = [
        _node("Trigger", "n8n-nodes-base.manualTrigger"),
        _node("Low", x=200, y=300),
        _node("High", x=200, y=-100),
        _node("After high", x=400, y=-100),
        _node("After low", x=400, y=300),
    ]
    connections = {
        "Trigger": {"main": [_link("Low", "High")]},
        "High": {"main": [_link("After high")]},
        "Low": {"main": [_link("After low")]},
    }
    (workflow,) = read_workflows(_write(tmp_path, _export(nodes, connections)))
    assert [n.name for n in workflow.nodes] == ["Trigger", "High", "After high", "Low", "After low"]
    (legacy,) = read_workflows(
        _write(tmp_path, _export(nodes, connections, settings={"executionOrder": "v0"}), "v0.json")
    )
    assert [n.name for n in legacy.nodes] == ["Trigger", "High", "Low", "After high", "After low"]


def test_nodes_no_trigger_reaches_come_last_and_are_named(tmp_path: Path) -> None:
    nodes = [
        _node("Start", "n8n-nodes-base.scheduleTrigger"),
        _node("Used", x=200),
        _node("Orphan", x=0, y=400),
    ]
    (workflow,) = read_workflows(
        _write(tmp_path, _export(nodes, {"Start": {"main": [_link("Used")]}}))
    )
    assert [n.name for n in workflow.nodes] == ["Start", "Used", "Orphan"]
    assert workflow.unreached == ("Orphan",)


def test_a_list_export_holds_several_workflows(tmp_path: Path) -> None:
    data = [
        _export([_node("A")], {}),
        {"id": "x", "name": "not a workflow"},
        _export([_node("B")], {}),
    ]
    assert [w.nodes[0].name for w in read_workflows(_write(tmp_path, data))] == ["A", "B"]


@pytest.mark.parametrize(
    ("content", "problem"),
    [
        ('{"nodes": [', "the JSON document ends before it is complete"),
        ('{"nodes": [}', "invalid JSON"),
        ("[1, 2]", "a list with no workflow in it"),
        (
            '{"name": "x", "connections": {}}',
            "an object with connections, name but no `nodes` list",
        ),
        ('"text"', "a JSON string"),
        (
            '[{"type": "githubApi", "name": "GitHub", "id": "1", "data": "U2FsdGVkX1"}]',
            "it is a credentials export",
        ),
        (
            '{"type": "githubApi", "name": "GitHub", "id": "1", "data": "U2FsdGVkX1"}',
            "it is a credentials export",
        ),
    ],
)
def test_a_file_that_is_no_workflow_is_one_clear_error(
    tmp_path: Path, content: str, problem: str
) -> None:
    path = tmp_path / "bad.json"
    path.write_text(content)
    with pytest.raises(InputError) as raised:
        read_workflows(path, "bad.json")
    assert raised.value.location.file == "bad.json"
    assert problem in raised.value.problem
    assert raised.value.hint


def test_bad_nodes_are_skipped_one_by_one_with_their_place(tmp_path: Path) -> None:
    nodes = [
        _node("Good"),
        "not a node",
        {"name": "No type"},
        _node("Bad version", typeVersion="two"),
        _node("Bad parameters", parameters=["x"]),
        _node("Good"),
        _node("Bad credential", x=200, credentials={"githubApi": "id-only"}),
    ]
    (workflow,) = read_workflows(_write(tmp_path, _export(nodes, {})), "w.json")
    assert [n.name for n in workflow.nodes] == ["Good", "Bad credential"]
    assert workflow.nodes[1].credentials == ()
    problems = [skip.render() for skip in workflow.skipped]
    assert len(problems) == 6
    assert any("nodes[1] is not a node object" in p for p in problems)
    assert any("node 'Bad version': `typeVersion` is not a number" in p for p in problems)
    assert any("a second node with this name" in p for p in problems)
    assert all(p.startswith("w.json:") for p in problems)


def test_sizes_are_bounded(tmp_path: Path) -> None:
    big = tmp_path / "big.json"
    with big.open("w") as out:
        out.write('{"nodes": [], "pad": "')
        out.write("x" * (17 * 1024 * 1024))
        out.write('"}')
    with pytest.raises(InputError, match="over the import limit"):
        read_workflows(big)
    many = _export([_node(f"N{i}") for i in range(2_050)], {})
    (workflow,) = read_workflows(_write(tmp_path, many))
    assert len(workflow.nodes) == 2_000
    assert "only the first 2000 are read" in workflow.skipped[0].problem


def test_names_are_bounded_and_values_never_executed(tmp_path: Path) -> None:
    nodes = [_node("x" * 500), _node("ok", parameters={"code": "={{ process.exit(1) }}"})]
    (workflow,) = read_workflows(_write(tmp_path, _export(nodes, {})))
    assert [n.name for n in workflow.nodes] == ["ok"]
    assert workflow.nodes[0].parameters == {"code": "={{ process.exit(1) }}"}
