"""import-n8n end to end: the examples, the verdict, updates that keep edits, bad input.

These run n8n's real node code under Node.js (skipped only when Node.js or npm is missing).
"""

from __future__ import annotations

import itertools
import json
import shutil
from pathlib import Path
from typing import Any

import pytest

from harness.workspace.loader import load_workspace

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "docs" / "examples" / "n8n"
RunCli = Any  # the run_cli fixture of conftest.py
CANARIES = (
    "CANARY-client-secret-0d9f2a",
    "CANARY-refresh-token-77ab3c",
    "CANARY-access-token-51e0ff",
)


@pytest.fixture
def examples(tmp_path: Path, n8n_packages: Path) -> Path:
    """A copy of the example exports, in the test's directory."""
    target = tmp_path / "exports"
    shutil.copytree(EXAMPLES, target)
    return target


def _export(path: Path, nodes: list[dict[str, Any]], name: str = "Bad input") -> Path:
    connections = {}
    for first, second in itertools.pairwise(nodes):
        connections[first["name"]] = {
            "main": [[{"node": second["name"], "type": "main", "index": 0}]]
        }
    path.write_text(
        json.dumps(
            {"name": name, "id": path.stem, "nodes": nodes, "connections": connections}, indent=2
        )
    )
    return path


def _slack(name: str, **changes: Any) -> dict[str, Any]:
    node = {
        "name": name,
        "type": "n8n-nodes-base.slack",
        "typeVersion": 2.3,
        "position": [200, 0],
        "parameters": {
            "select": "channel",
            "channelId": {"__rl": True, "mode": "id", "value": "C1"},
            "text": "hi",
        },
        "credentials": {"slackApi": {"id": "slack-1", "name": "Slack bot"}},
    }
    node.update(changes)
    return node


def _sheets(name: str, **changes: Any) -> dict[str, Any]:
    node = json.loads((EXAMPLES / "sheets-append.n8n.json").read_text())["nodes"][1]
    node["name"] = name
    node.update(changes)
    return node


def test_the_examples_become_a_workspace_whose_verdict_points_at_the_nodes(
    examples: Path, run_cli: RunCli
) -> None:
    result = run_cli(
        "import-n8n",
        *sorted(str(p.name) for p in examples.glob("*.n8n.json")),
        "-o",
        "ws",
        cwd=examples,
    )
    assert result.code == 0, result.stderr
    lines = result.stdout.splitlines()
    assert (
        lines[0]
        == "connector-harness import-n8n: 7 workflows, 17 nodes (11 service), n8n-nodes-base 2.41.2"
    )
    assert (
        "  Append sign-up          sheets-append.n8n.json:25               5 calls  google-sheets"
        in lines
    )
    assert (
        "  code-node.n8n.json:19:5: not run: 'Summarise failures' (n8n-nodes-base.code): a code node runs "
        "code written in the workflow, which the import never runs" in lines
    )
    assert "service nodes that produced calls: 10 of 11 (90%)" in lines
    assert lines[-1].startswith("Next: set each connector's owner and confirm its lifetime")
    workspace = load_workspace(examples / "ws")
    assert {b.name for b in workspace.bindings} == {
        "github-support-bot@prod",
        "gmail-finance-inbox@prod",
        "google-drive-finance@prod",
        "google-sheets-events-team@prod",
        "outlook-reports-mailbox@prod",
        "slack-ops-workspace@prod",
    }
    github = run_cli("check", "ws", "--binding", "github-support-bot@prod", cwd=examples)
    assert (
        "            github: [repo]" in github.stdout
    )  # not admin:org: creating issues needs repo
    outlook = run_cli("check", "ws", "--binding", "outlook-reports-mailbox@prod", cwd=examples)
    assert "            msgraph: [Mail.Send]" in outlook.stdout
    check = run_cli("check", "ws", "--binding", "google-sheets-events-team@prod", cwd=examples)
    assert check.code == 1
    assert 'google-sheets: ["https://www.googleapis.com/auth/spreadsheets"]' in check.stdout
    drive = run_cli("check", "ws", "--binding", "google-drive-finance@prod", cwd=examples)
    assert (
        "seen in file-invoice-attachments-in-the-finance-drive.google-drive-finance step 1 "
        "(Upload to Invoices (gmail-attachments-to-drive.n8n.json:20): POST /upload/drive/v3/files)"
    ) in drive.stdout
    assert (
        '            google-drive: ["https://www.googleapis.com/auth/drive.file"]' in drive.stdout
    )


def test_importing_again_gives_the_same_bytes(examples: Path, run_cli: RunCli) -> None:
    names = sorted(str(p.name) for p in examples.glob("*.n8n.json"))
    assert run_cli("import-n8n", *names, "-o", "one", cwd=examples).code == 0
    assert run_cli("import-n8n", *names, "-o", "two", cwd=examples).code == 0
    files = sorted(
        p.relative_to(examples / "one") for p in (examples / "one").rglob("*") if p.is_file()
    )
    assert files == sorted(
        p.relative_to(examples / "two") for p in (examples / "two").rglob("*") if p.is_file()
    )
    for name in files:
        assert (examples / "one" / name).read_bytes() == (examples / "two" / name).read_bytes(), (
            name
        )
    again = run_cli("import-n8n", *names, "-o", "one", cwd=examples)
    assert f"wrote one: {len(files) - 1} unchanged" in again.stdout  # all but the manifest


def test_an_updated_export_updates_the_files_and_keeps_the_users_edits(
    examples: Path, run_cli: RunCli
) -> None:
    assert run_cli("import-n8n", "sheets-append.n8n.json", "-o", "ws", cwd=examples).code == 0
    connector = (
        examples / "ws" / "scenarios" / "n8n" / "connectors" / "google-sheets-events-team.yaml"
    )
    text = connector.read_text().replace(
        "owner: TODO  # the team or person accountable for this credential",
        "owner: events@example.com  # per ticket OPS-12",
    )
    connector.write_text(text.replace("  # TODO: confirm how long its token lives", ""))
    export = json.loads((examples / "sheets-append.n8n.json").read_text())
    export["nodes"].append(_sheets("Append to archive", position=[440, 0]))
    export["connections"]["Append sign-up"] = {
        "main": [[{"node": "Append to archive", "type": "main", "index": 0}]]
    }
    (examples / "sheets-append.n8n.json").write_text(json.dumps(export, indent=2))
    again = run_cli("import-n8n", "sheets-append.n8n.json", "-o", "ws", cwd=examples)
    assert again.code == 0
    assert (
        "  merged scenarios/n8n/connectors/google-sheets-events-team.yaml: your owner and lifetime"
        in again.stdout
    )
    assert "owner: events@example.com  # per ticket OPS-12" in connector.read_text()
    flows = load_workspace(examples / "ws").flows
    assert [step.name.split(" (")[0] for step in flows[0].steps].count("Append to archive") == 5


def test_each_bad_node_is_a_line_and_the_rest_is_imported(examples: Path, run_cli: RunCli) -> None:
    loop = "={{ (() => { let i = 0; while (i < 1e11) i++; return i })() }}"
    looping = {
        "name": "Loops",
        "type": "n8n-nodes-base.httpRequest",
        "typeVersion": 4.2,
        "position": [0, 0],
        "parameters": {
            "url": "https://api.example.com/",
            "sendQuery": True,
            "queryParameters": {"parameters": [{"name": f"p{i}", "value": loop} for i in range(8)]},
        },
    }
    nodes = [
        _slack("Good"),
        _slack("Unknown type", type="n8n-nodes-base.doesNotExist"),
        _slack("Old version", typeVersion=99),
        _slack("Odd credential", credentials={"acmeMadeUpApi": {"id": "a1", "name": "Acme"}}),
        _slack(
            "Bad expression", parameters={**_slack("x")["parameters"], "text": "={{ $json.a ) }}"}
        ),
        {
            **_slack("Throws"),
            "type": "n8n-nodes-base.discord",
            "typeVersion": 2,
            "parameters": {"resource": "message"},
            "credentials": {"discordBotApi": {"id": "d1", "name": "Discord"}},
        },
        looping,
    ]
    _export(examples / "bad.json", nodes)
    (examples / "broken.json").write_text('{"nodes": [\n  {"name": "x",,}\n]}')
    (examples / "other.json").write_text('{"hello": "world"}')
    result = run_cli(
        "import-n8n",
        "bad.json",
        "broken.json",
        "other.json",
        "-o",
        "ws",
        "--node-budget",
        "0.5",
        cwd=examples,
    )
    assert result.code == 0, result.stderr
    out = result.stdout
    assert (
        "skipped file broken.json:2:16: invalid JSON: Expecting property name enclosed in double quotes"
        in out
    )
    assert (
        "skipped file other.json:1:1: this is not an n8n workflow export: it is an object with hello but no `nodes` list"
        in out
    )
    assert (
        "unknown type: 'Unknown type' (n8n-nodes-base.doesNotExist): n8n-nodes-base.doesNotExist is not a node type of the pinned n8n-nodes-base"
        in out
    )
    assert (
        "unknown version: 'Old version' (n8n-nodes-base.slack): version 99 of n8n-nodes-base.slack is not in the pinned n8n-nodes-base"
        in out
    )
    assert (
        "unknown credential type: 'Odd credential' (n8n-nodes-base.slack): it uses credential type acmeMadeUpApi"
        in out
    )
    assert "node 'Bad expression': parameter `text`: the expression cannot be parsed" in out
    assert "failed: 'Throws' (n8n-nodes-base.discord): Channel ID is required" in out
    assert (
        "stopped: 'Loops' (n8n-nodes-base.httpRequest): it did not finish within 500 ms (a loop, or a wait); it was stopped"
        in out
    )
    for line in [
        row
        for row in out.splitlines()
        if ": failed: " in row or ": stopped: " in row or ": unknown " in row
    ]:
        assert line.lstrip().startswith("bad.json:")
    assert out.count("      fix: ") >= 5
    workspace = load_workspace(examples / "ws")
    assert workspace.flows  # the good node was imported


def test_nothing_to_import_is_exit_2_with_every_file_named(examples: Path, run_cli: RunCli) -> None:
    (examples / "broken.json").write_text("{")
    (examples / "credentials.json").write_text(
        '[{"id": "1", "name": "x", "type": "githubApi", "data": "U2FsdGVk"}]'
    )
    result = run_cli(
        "import-n8n", "broken.json", "credentials.json", "missing.json", "-o", "ws", cwd=examples
    )
    assert result.code == 2
    assert result.stderr.splitlines() == [
        "broken.json:1:2: the JSON document ends before it is complete",
        "  export the workflow again from n8n; the file is not complete, valid JSON",
        "credentials.json:1:1: this is not an n8n workflow export: it is a credentials export",
        "  pass it with --credentials (its scopes are read, its secrets never), and the workflows "
        "that use it as arguments",
        "missing.json: cannot read the file: No such file or directory",
        "  check that the path exists and is readable",
        "",
        "nothing could be imported: none of the 3 file(s) holds an n8n workflow (3 problems above). "
        "Pass files exported from n8n (`n8n export:workflow`), e.g. docs/examples/n8n/*.n8n.json, and run again.",
    ]
    assert not (examples / "ws").exists()


def test_a_credentials_export_gives_its_scopes_and_keeps_its_secrets(
    examples: Path, run_cli: RunCli
) -> None:
    export = [
        {
            "id": "kR4tPq8ZbW1nYx3M",
            "name": "Google Sheets (events team)",
            "type": "googleSheetsOAuth2Api",
            "data": {
                "clientId": "1234.apps.googleusercontent.com",
                "clientSecret": CANARIES[0],
                "oauthTokenData": {
                    "access_token": CANARIES[2],
                    "refresh_token": CANARIES[1],
                    "scope": "https://www.googleapis.com/auth/spreadsheets",
                },
            },
        }
    ]
    (examples / "credentials.json").write_text(json.dumps(export))
    outputs = []
    summaries = {}
    for format_ in ("text", "json"):
        result = run_cli(
            "import-n8n",
            "sheets-append.n8n.json",
            "--credentials",
            "credentials.json",
            "-o",
            f"ws-{format_}",
            "--format",
            format_,
            cwd=examples,
        )
        assert result.code == 0
        summaries[format_] = result.stdout
        outputs += [result.stdout, result.stderr]
        outputs += [p.read_text() for p in (examples / f"ws-{format_}").rglob("*") if p.is_file()]
    (connector,) = json.loads(summaries["json"])["connectors"]
    assert connector["held"] == ["https://www.googleapis.com/auth/spreadsheets"]
    assert "the scopes the provider granted" in connector["held_from"]
    for text in outputs:
        assert not any(canary in text for canary in CANARIES)
    check = run_cli("check", "ws-text", "--format", "json", cwd=examples)
    assert not any(canary in check.stdout + check.stderr for canary in CANARIES)
    broken = examples / "broken-credentials.json"
    broken.write_text(json.dumps(export)[:-40])
    failed = run_cli(
        "import-n8n",
        "sheets-append.n8n.json",
        "--credentials",
        broken.name,
        "-o",
        "ws-3",
        cwd=examples,
    )
    assert failed.code == 2
    assert "broken-credentials.json" in failed.stderr
    assert not any(canary in failed.stdout + failed.stderr for canary in CANARIES)


def test_the_json_summary_is_versioned_and_complete(examples: Path, run_cli: RunCli) -> None:
    result = run_cli(
        "import-n8n", "code-node.n8n.json", "-o", "ws", "--format", "json", cwd=examples
    )
    summary = json.loads(result.stdout)
    assert (summary["schema"], summary["version"]) == ("connector-harness/n8n-import", 1)
    assert (summary["service_nodes"], summary["service_nodes_with_calls"]) == (2, 1)
    statuses = {node["node"]: node["status"] for node in summary["nodes"]}
    assert statuses == {
        "Deployment event": "logic",
        "Summarise failures": "not-runnable",
        "Post to #deploys": "ok",
    }
    assert summary["connectors"][0]["unbound_because"].startswith(
        "the scopes its token holds are not in the export"
    )


def test_the_demo_imports_an_example_and_shows_its_verdict(
    n8n_packages: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from harness.demo import n8n_demo

    assert n8n_demo(ROOT) == 0
    out = capsys.readouterr().out
    assert "Importing an n8n workflow" in out
    assert "  Append sign-up  sheets-append.n8n.json:25  5 calls  google-sheets" in out
    assert "FAIL  google-sheets-events-team@prod  0 missing  3 excessive  0 over-broad" in out
    assert 'google-sheets: ["https://www.googleapis.com/auth/spreadsheets"]' in out
    assert out.rstrip().endswith("let pytest collect them (docs/n8n.md).")


def test_each_workflow_says_what_share_of_its_service_nodes_made_calls(
    examples: Path, run_cli: RunCli
) -> None:
    result = run_cli(
        "import-n8n", "code-node.n8n.json", "slack-notify.n8n.json", "-o", "ws", cwd=examples
    )
    assert (
        "  Summarise failed deployments for the channel  code-node.n8n.json     1 of 2"
        in result.stdout
    )
    assert (
        "  Post the daily on-call reminder               slack-notify.n8n.json  1 of 1"
        in result.stdout
    )
    summary = json.loads(
        run_cli(
            "import-n8n", "code-node.n8n.json", "-o", "ws2", "--format", "json", cwd=examples
        ).stdout
    )
    assert summary["workflows"] == [
        {
            "name": "Summarise failed deployments for the channel",
            "id": "C0d3N0d3D3pl0ys5",
            "file": "code-node.n8n.json",
            "service_nodes": 2,
            "service_nodes_with_calls": 1,
        }
    ]
