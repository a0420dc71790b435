"""Every view shows the same binding x grant cells, and they agree with the check's findings:
the inventory (text, CSV, JSON, Markdown), the HTML matrix, and the JSON, Markdown, SARIF
and JUnit reports, over generated workspaces and over the example workspace."""

from __future__ import annotations

import csv
import io
import json
import re
import xml.etree.ElementTree as ET
from html.parser import HTMLParser
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from harness.engine import run_check
from harness.inventory import build_inventory
from harness.render.formats import render_report
from harness.render.inventory import (
    render_inventory_csv,
    render_inventory_json,
    render_inventory_markdown,
    render_inventory_text,
)
from harness.render.style import Style
from harness.report import Report
from harness.strategies import policies, service_specs
from harness.workspace.loader import load_workspace, workspace_from_data

ROOT = Path(__file__).resolve().parents[2]
Cells = set[tuple[str, str, str, str]]  # (binding, service, grant, state)


def _from_findings(report: Report) -> Cells:
    """The cells as the check's findings and the JSON report's grants say them, by the rules
    docs/report.md gives (written here apart from harness.cells)."""
    cells: Cells = set()
    for binding in report.to_data()["bindings"]:
        name = binding["binding"]
        for service in binding["services"]:
            findings = [f for f in binding["findings"] if f["service"] == service["service"]]
            of = {(f["kind"], f["subject"]) for f in findings}
            unjudged = any(f["kind"] == "unroutable" for f in findings)
            state: dict[str, str] = {}
            for grant in service["granted"]:
                if ("excessive", grant) in of:
                    state[grant] = "excessive"
                elif ("over-broad", grant) in of:
                    state[grant] = "over-broad"
                else:
                    state[grant] = "unjudged" if unjudged else "needed"
            for kind, cell in (("missing", "missing"), ("over-broad", "instead")):
                for finding in findings:
                    if finding["kind"] == kind:
                        for grant in finding["replacement"]:
                            state.setdefault(grant, cell)
            cells |= {(name, service["service"], g, s) for g, s in state.items()}
    return cells


def _json_report(report: Report) -> Cells:
    data = json.loads(render_report("json", report))
    return {
        (b["binding"], c["service"], c["grant"], c["state"])
        for b in data["bindings"]
        for c in b["cells"]
    }


def _sarif(report: Report) -> Cells:
    data = json.loads(render_report("sarif", report))
    run = data["runs"][0]
    cells = {
        (c["binding"], c["service"], c["grant"], c["state"]) for c in run["properties"]["cells"]
    }
    for result in run["results"]:  # each excessive or over-broad result is its cell
        props = result["properties"]
        if result["ruleId"] in ("excessive", "over-broad"):
            key = (props["binding"], props["service"], props["subject"], result["ruleId"])
            assert key in cells, key
    return cells


def _junit(report: Report) -> Cells:
    root = ET.fromstring(render_report("junit", report))
    cells: Cells = set()
    for case in root.iter("testcase"):
        for prop in case.iterfind("properties/property"):
            _, service, grant = prop.attrib["name"].split(" ", 2)
            cells.add((case.attrib["name"], service, grant, prop.attrib["value"]))
    return cells


class _HtmlCells(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.cells: Cells = set()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = dict(attrs)
        if tag == "td" and "data-state" in found:
            self.cells.add(
                (
                    found["data-binding"] or "",
                    found["data-service"] or "",
                    found["data-grant"] or "",
                    found["data-state"] or "",
                )
            )


def _html(report: Report) -> Cells:
    parser = _HtmlCells()
    parser.feed(render_report("html", report))
    return parser.cells


def _markdown_matrix(text: str) -> Cells:
    lines = text[text.index("## Need-to-know matrix") :].splitlines()
    header = next(line for line in lines if line.startswith("| service | grant |"))
    bindings = [b.strip().strip("`") for b in header.strip("|").split("|")[2:]]
    cells: Cells = set()
    for line in lines[lines.index(header) + 2 :]:
        if not line.startswith("|"):
            break
        service, grant, *marks = (part.strip() for part in line.strip("|").split("|"))
        for binding, mark in zip(bindings, marks, strict=True):
            if mark:
                cells.add((binding, service, grant.strip("`"), mark.split(":")[0]))
    return cells


def _inventory_views(report: Report) -> dict[str, Cells]:
    inventory = build_inventory(report.workspace, report, ())
    data = json.loads(render_inventory_json(inventory))
    rows = list(csv.DictReader(io.StringIO(render_inventory_csv(inventory))))
    text = render_inventory_text(inventory, Style(False))
    table = text[text.index("Operations behind each cell") :].splitlines()[3:]
    return {
        "inventory json": {
            (c["binding"], c["service"], c["grant"], c["state"]) for c in data["matrix"]
        },
        "inventory csv": {(r["binding"], r["service"], r["grant"], r["state"]) for r in rows},
        "inventory text": {
            (parts[0], parts[1], parts[2], parts[3])
            for line in table
            if len(parts := re.split(r"\s{2,}", line.strip())) >= 4
        },
        "inventory markdown": _markdown_matrix(render_inventory_markdown(inventory)),
    }


def _assert_views_agree(report: Report) -> None:
    truth = _from_findings(report)
    views = {
        "json": _json_report(report),
        "sarif": _sarif(report),
        "junit": _junit(report),
        "html": _html(report),
        **_inventory_views(report),
    }
    if truth:
        views["markdown"] = _markdown_matrix(render_report("markdown", report))
    for name, cells in views.items():
        assert cells == truth, (name, sorted(cells ^ truth))


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.data())
def test_every_view_shows_the_cells_the_findings_say_on_generated_workspaces(
    data: st.DataObject,
) -> None:
    spec = data.draw(service_specs(conditions=True), label="spec")
    policy = data.draw(policies(spec), label="policy")
    _assert_views_agree(run_check(workspace_from_data([spec], [policy])))


def test_every_view_shows_the_cells_the_findings_say_on_the_example_workspace() -> None:
    report = run_check(load_workspace(ROOT))
    states = {state for *_, state in _from_findings(report)}
    assert states >= {"needed", "over-broad", "excessive", "missing", "instead"}
    _assert_views_agree(report)
