"""Hostile n8n exports: whatever their text, they become data, never YAML structure or paths.

Names, ids, URLs and bodies are drawn from any text (newlines, quotes, YAML syntax, flow
templates, `..`, unicode); the generated workspace must load with exactly the values the
calls held, every file must land inside the output directory, and the reader of exports
must answer any JSON with workflows or one InputError.
"""

from __future__ import annotations

import json
from pathlib import Path
from tempfile import TemporaryDirectory
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from n8n_builders import call, node, run, workflow

from harness.errors import InputError
from harness.n8n.documents import plan_documents
from harness.n8n.grants import ScopeSources
from harness.n8n.plan import plan_workspace, slug
from harness.n8n.workflow import CredentialRef, Workflow, read_workflows
from harness.n8n.writer import WorkspaceWriter
from harness.workspace.loader import load_workspace

TEXT = st.text(st.characters(blacklist_categories=("Cs",)), max_size=40)
NASTY = st.sampled_from(
    [
        "{{ name }}",
        "x: [y]",
        "'\"",
        "\n- injected: true\n",
        "../../etc",
        "# comment",
        "&anchor *alias",
        "!!python/object",
    ]
)
LABEL = st.one_of(TEXT, NASTY, st.builds(lambda a, b: a + b, TEXT, NASTY))
JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | TEXT,
    lambda children: st.lists(children, max_size=4) | st.dictionaries(TEXT, children, max_size=4),
    max_leaves=20,
)


@given(LABEL)
def test_names_are_always_safe(text: str) -> None:
    name = slug(text, "fallback")
    assert name
    assert all(c.isascii() and (c.isalnum() or c == "-") for c in name)
    assert not name.startswith("-")
    assert len(name) <= 48


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    credential=LABEL,
    workflow_name=LABEL,
    node_name=LABEL,
    segment=LABEL,
    query=LABEL,
    body=st.dictionaries(LABEL, JSON, max_size=3),
)
def test_export_text_stays_data_in_the_generated_workspace(
    credential: str,
    workflow_name: str,
    node_name: str,
    segment: str,
    query: str,
    body: dict[str, Any],
) -> None:
    reference = CredentialRef("googleSheetsOAuth2Api", credential[:100], credential)
    append = node(node_name or "n", 7, reference)
    from urllib.parse import quote

    url = f"https://sheets.googleapis.com/v4/spreadsheets/{quote(segment, safe='')}/values/A1?note={quote(query)}"
    made = run(
        (
            workflow(workflow_name, append),
            append,
            "ok",
            (call("GET", url, "googleSheetsOAuth2Api", body or None),),
        )
    )
    plan = plan_workspace(made, ScopeSources({}, {}))
    with TemporaryDirectory() as scratch:
        root = Path(scratch) / "out"
        writer = WorkspaceWriter(root)
        for document in plan_documents(plan):
            writer.document(document, {"n8n-nodes-base": "2.41.2"})
        writer.packs(plan.packs)
        writer.settings(plan.packs)
        writer.finish(plan.names)
        for written in root.rglob("*"):
            assert root.resolve() in written.resolve().parents
        workspace = load_workspace(root)
        (connector,) = workspace.connectors
        assert connector.description.startswith("n8n credential ")
        flows = workspace.flows
        if flows:
            (flow,) = flows
            (step,) = flow.steps
            assert step.name.startswith((node_name or "n")[:50].replace("\n", "\n"))
            assert step.url.startswith("https://sheets.googleapis.com/v4/spreadsheets/")
            assert set(dict(flow.variables)) <= {f"n8n_literal_{i}" for i in range(1, 100)}


def _read(data: Any) -> list[Workflow] | InputError:
    with TemporaryDirectory() as scratch:
        path = Path(scratch) / "export.json"
        path.write_text(json.dumps(data))
        try:
            return read_workflows(path, "export.json")
        except InputError as error:
            return error


@settings(max_examples=150, deadline=None)
@given(JSON)
def test_any_json_is_workflows_or_one_clear_error(data: Any) -> None:
    outcome = _read(data)
    if isinstance(outcome, InputError):
        assert outcome.location.file == "export.json"
        assert outcome.hint
    else:
        assert outcome
        assert all(w.source == "export.json" for w in outcome)


@settings(max_examples=60, deadline=None)
@given(
    st.lists(
        st.dictionaries(
            st.sampled_from(
                ["name", "type", "typeVersion", "parameters", "credentials", "position"]
            ),
            JSON,
        ),
        max_size=6,
    )
)
def test_any_node_list_reads_without_crashing(nodes: list[dict[str, Any]]) -> None:
    with TemporaryDirectory() as scratch:
        path = Path(scratch) / "export.json"
        path.write_text(json.dumps({"name": "x", "nodes": nodes, "connections": {}}))
        (found,) = read_workflows(path, "export.json")
        assert len(found.nodes) + len(found.skipped) >= 0
        for item in found.nodes:
            assert isinstance(item.parameters, dict)
