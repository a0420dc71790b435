"""End-to-end runs of the CLI on the example workspace."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import pytest

from harness.cli import main
from harness.demo import run as run_demo
from harness.workspace.validation import load_schema

ROOT = Path(__file__).resolve().parents[2]


def _run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


@pytest.fixture(autouse=True)
def _in_project_root(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(ROOT)
    monkeypatch.delenv("FORCE_COLOR", raising=False)


def test_check_fails_the_gate_on_the_deliberate_flaws(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = _run(capsys, "check", ".", "--format", "json")
    assert code == 1
    report = json.loads(out)
    verdicts = {b["binding"]: b["verdict"] for b in report["bindings"]}
    assert verdicts["deal-alerts@prod"] == "pass"
    findings = {
        (b["binding"], f["kind"], f["subject"]) for b in report["bindings"] for f in b["findings"]
    }
    assert {
        ("storage-backup@prod", "over-broad", "storage.*"),
        ("support-digest@prod", "missing", "chat:conversations.history"),
        ("crm-sync@prod", "over-broad", "crm.contacts.write"),
        ("report-publisher@prod", "excessive", "files:write"),
        ("lead-intake@prod", "egress", "hooks.partner.example"),
    } <= findings


def test_the_json_report_follows_its_schema_and_is_byte_identical(
    capsys: pytest.CaptureFixture[str],
) -> None:
    _, first, _ = _run(capsys, "check", ".", "--format", "json")
    _, second, _ = _run(capsys, "check", ".", "--format", "json")
    assert first == second
    jsonschema.validate(json.loads(first), load_schema("report"))
    assert "eyJ" not in first  # no sandbox token (a JWT) leaks into the report


def test_text_output_has_a_verdict_per_binding_and_a_next_step(
    capsys: pytest.CaptureFixture[str],
) -> None:
    code, out, _ = _run(capsys, "check", ".", "--env", "prod")
    assert code == 1
    lines = out.splitlines()
    assert lines[0] == "connector-harness check (env prod): 9 bindings, 9 flows, 38 calls replayed"
    verdicts = [line for line in lines if line.startswith(("PASS", "FAIL"))]
    assert len(verdicts) == 9
    assert len({line.index("coverage") for line in verdicts}) == 1  # aligned columns
    assert "\x1b[" not in out  # no colour when not on a terminal
    assert lines[-2].startswith("7 of 9 bindings fail the gate: 1 missing, 2 excessive")
    assert lines[-1].startswith("Next: apply each 'write instead'")


def test_a_clean_binding_passes_with_exit_0(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = _run(capsys, "check", ".", "--binding", "deal-alerts@prod")
    assert code == 0
    assert out.splitlines()[-2] == "The binding holds least privilege (no findings)."


def test_markdown_and_output_file(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    target = tmp_path / "report.md"
    code, out, err = _run(capsys, "check", ".", "--format", "markdown", "--output", str(target))
    assert (code, out) == (1, "")
    assert err == f"report written to {target}: 8 of 17 bindings fail the gate\n"
    text = target.read_text()
    assert text.startswith("# connector-harness: least-privilege check\n")
    assert "| verdict | binding | missing | excessive | over-broad | other | coverage |" in text


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--env", "staging"], "no binding in environment 'staging'; environments: dev, prod"),
        (
            ["--binding", "deal-alert@prod"],
            "no binding named 'deal-alert@prod'; did you mean 'deal-alerts@prod'?",
        ),
    ],
)
def test_a_selection_that_matches_nothing_is_a_usage_error(
    capsys: pytest.CaptureFixture[str], args: list[str], message: str
) -> None:
    code, _, err = _run(capsys, "check", ".", *args)
    assert code == 2
    assert err == f"connector-harness: error: {message}\n"


def test_inventory_in_every_format(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = _run(capsys, "inventory", ".")
    assert code == 0
    assert out.startswith("Connectors (9)\n")
    assert "Need-to-know matrix (binding x grant)" in out
    code, out, _ = _run(capsys, "inventory", ".", "--format", "csv", "--env", "prod")
    rows = out.splitlines()
    assert rows[0] == "binding,service,grant,state,operations"
    assert (
        "support-digest@prod,chat,channels:history@channel=C0SUPPORT,missing,conversations.history"
        in rows
    )
    assert all(row.split(",")[0].endswith("@prod") for row in rows[1:])
    code, out, _ = _run(capsys, "inventory", ".", "--format", "json")
    data = json.loads(out)
    assert data["schema"] == "connector-harness/inventory"
    assert {c["name"] for c in data["connectors"]} >= {"crm-sync", "deal-alerts"}
    code, out, _ = _run(capsys, "inventory", ".", "--format", "markdown")
    assert "## Need-to-know matrix" in out


def test_the_demo_exits_0_and_says_the_findings_are_the_point(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert run_demo(".") == 0
    out = capsys.readouterr().out
    assert "The FAIL lines below are the point of the demo" in out
    assert "FAIL  storage-backup@prod" in out
