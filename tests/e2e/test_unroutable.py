"""A call no operation matches is a finding that fails the gate, in every report format, and
every other binding is still checked."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest

CORPUS = Path(__file__).resolve().parent.parent / "corpus"
RunCli = Any  # the run_cli fixture of conftest.py


@pytest.fixture
def workspace(tmp_path: Path) -> Path:
    """The corpus base workspace, with a second connector whose flow calls `/v1/contact`."""
    root = tmp_path / "ws"
    shutil.copytree(CORPUS / "_base", root)
    (root / "scenarios" / "typo.yaml").write_text(
        """connectors:
  - name: crm-typo
    owner: revops@example.com
    credential: {type: oauth2-client-credentials, lifetime: 1h}
    allowed_hosts: [api.crm.example]
bindings:
  - {connector: crm-typo, env: prod, roles: [crm-reader]}
flows:
  - name: typo
    connector: crm-typo
    steps:
      - name: list contacts
        request: {method: GET, url: "https://api.crm.example/v1/contact?limit=5"}
      - name: list them again
        request: {method: GET, url: "https://api.crm.example/v1/contacts"}
""",
        "utf-8",
    )
    return root


def test_an_unroutable_step_fails_its_binding_and_the_others_are_still_checked(
    workspace: Path, run_cli: RunCli
) -> None:
    result = run_cli("check", "ws", "--format", "json", cwd=workspace.parent)
    assert result.code == 1, result.stderr
    report = json.loads(result.stdout)
    verdicts = {b["binding"]: b["verdict"] for b in report["bindings"]}
    assert verdicts == {"crm-sync@prod": "pass", "crm-typo@prod": "fail"}
    assert report["summary"]["findings"]["unroutable"] == 1
    (typo,) = [b for b in report["bindings"] if b["binding"] == "crm-typo@prod"]
    (finding,) = typo["findings"]
    assert finding["kind"] == "unroutable"
    assert finding["subject"] == "GET api.crm.example/v1/contact"
    assert finding["location"] == "ws/scenarios/typo.yaml:12:9"
    assert finding["replacement"] == ["GET /v1/contacts (crm:contacts.list)"]
    assert finding["message"].startswith(
        "no operation of crm matches GET /v1/contact; nearest: GET /v1/contacts (crm:contacts.list)"
    )
    assert typo["calls"] == {"total": 2, "allowed": 1, "denied": 1, "blocked": 0}


@pytest.mark.parametrize("format", ["text", "markdown", "sarif", "junit", "html"])
def test_every_report_format_shows_the_unroutable_finding(
    workspace: Path, run_cli: RunCli, format: str
) -> None:
    result = run_cli("check", "ws", "--format", format, cwd=workspace.parent)
    assert result.code == 1
    assert "unroutable" in result.stdout or "UnroutableCall" in result.stdout
    assert "no operation of crm matches GET /v1/contact" in result.stdout


def test_the_sandbox_answers_404_naming_the_nearest_operations(workspace: Path) -> None:
    from harness.calls import Request
    from harness.sandbox import Sandbox
    from harness.workspace.loader import load_workspace

    loaded = load_workspace(workspace)
    sandbox = Sandbox(loaded)
    token = sandbox.issue_token(loaded.bindings[0])
    response = sandbox.handle(
        Request("GET", "https://api.crm.example/v2/contacts", {"Authorization": f"Bearer {token}"})
    )
    assert response.status == 404
    assert response.json == {
        "error": "no_route",
        "detail": "no operation of crm matches GET /v2/contacts",
        "nearest": ["GET /v1/contacts"],
    }


GITHUB_FLOW = """connectors:
  - name: repo-bot
    owner: dev@example.com
    credential: {type: oauth2-refresh-token, lifetime: 1h}
    allowed_hosts: [api.github.com]
roles:
  - name: issue-reader
    grants: {github: ["issues:read"]}
bindings:
  - {connector: repo-bot, env: prod, roles: [issue-reader]}
flows:
  - name: issues
    connector: repo-bot
    vars: {full_name: acme/widgets}
    steps:
      - name: list the issues
        request: {method: GET, url: "https://api.github.com/repos/{{ full_name }}/issues"}
        capture: {number: "response.json.number"}
        response: {status: 200, json: {number: 7, repository: acme/widgets}}
      - name: one issue
        request:
          method: GET
          url: "https://api.github.com/repos/{{ full_name }}/issues/{{ number }}"
      - name: a typo
        request: {method: GET, url: "https://api.github.com/repos/{{ full_name }}/issuez"}
"""


def test_flow_variables_route_with_their_values_and_the_nearest_are_few(
    tmp_path: Path, run_cli: RunCli
) -> None:
    """`{{ full_name }}` holding `acme/widgets` is two segments of GitHub's
    /repos/{owner}/{repo}/issues, so issues:read is all the flow needs; the typo's finding
    names three operations, the closest first, in one short message."""
    root = tmp_path / "ws"
    (root / "scenarios").mkdir(parents=True)
    (root / "connector-harness.yaml").write_text("packs: [github]\n", "utf-8")
    (root / "scenarios" / "repo-bot.yaml").write_text(GITHUB_FLOW, "utf-8")
    result = run_cli("check", "ws", "--format", "json", cwd=tmp_path)
    assert result.code == 1, result.stderr
    (binding,) = json.loads(result.stdout)["bindings"]
    assert [(f["kind"], f["subject"]) for f in binding["findings"]] == [
        ("unroutable", "GET api.github.com/repos/acme/widgets/issuez")
    ]
    (finding,) = binding["findings"]
    assert finding["message"] == (
        "no operation of github matches GET /repos/acme/widgets/issuez; nearest: "
        "GET /repos/{owner}/{repo}/issues; GET /repos/{owner}/{repo}/license; "
        "GET /repos/{owner}/{repo}/assignees; the vendor would answer 404, and the "
        "binding's github grants are not judged until it routes"
    )
    assert binding["calls"] == {"total": 3, "allowed": 2, "denied": 1, "blocked": 0}
