"""The HTML renderer: every workspace text escaped, waivers with days left, the fix."""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from html.parser import HTMLParser

from workspaces import waived_excess

from harness.engine import run_check
from harness.gate import GateContext
from harness.render.html import render_html
from harness.report import Report

SCRIPT = "<script>alert(1)</script>"


def _report() -> Report:
    workspace = waived_excess(reason="migration <img src=x onerror=alert(3)> in progress")
    return run_check(workspace, context=GateContext(today=date(2026, 6, 1)))


class _Tags(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tags: list[str] = []
        self.cells: list[dict[str, str | None]] = []
        self.text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)
        if tag == "td" and any(name == "data-state" for name, _ in attrs):
            self.cells.append(dict(attrs))

    def handle_data(self, data: str) -> None:
        self.text.append(data)


def test_html_escapes_every_workspace_text() -> None:
    report = _report()
    (result,) = report.results
    (analysis,) = result.services
    excessive = next(f for f in result.findings if f.kind == "excessive")
    hostile = replace(
        result,
        findings=(
            *(replace(f, message=f"{f.message} {SCRIPT}") for f in result.findings),
            replace(excessive, subject=SCRIPT),
        ),
        services=(
            replace(
                analysis,
                granted=(*analysis.granted, SCRIPT),
                used_for=(*analysis.used_for, (SCRIPT, ('x" onmouseover="alert(2)',))),
            ),
        ),
    )
    report = replace(report, results=(hostile,))
    page = render_html(report)
    parser = _Tags()
    parser.feed(page)
    assert "script" not in parser.tags
    assert "img" not in parser.tags  # the waiver reason's <img> stays text
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "migration &lt;img src=x onerror=alert(3)&gt; in progress" in page
    # svc.read needed, svc.delete and svc.write excessive, svc.admin missing, and the hostile one
    assert len(parser.cells) == 5
    hostile_cell = next(c for c in parser.cells if c["data-grant"] == SCRIPT)
    assert set(hostile_cell) == {  # no injected attribute
        "class",
        "data-binding",
        "data-service",
        "data-grant",
        "data-state",
        "title",
    }
    assert hostile_cell["title"] == (
        f'bot@prod: svc {SCRIPT} is excessive; operations: x" onmouseover="alert(2)'
    )


def test_html_shows_verdict_waivers_with_days_left_and_the_fix() -> None:
    page = render_html(_report())
    assert "<title>connector-harness: least-privilege check: FAIL</title>" in page
    assert '<td class="status-active">active</td><td>29 days left</td>' in page
    assert "<pre># role `role` at &lt;policy 0&gt;:1:1\ngrants:\n" in page
    assert (
        '<td class="cell s-missing" data-binding="bot@prod" data-service="svc" '
        'data-grant="svc.admin" data-state="missing"'
    ) in page
    assert "http://" not in page  # self-contained: nothing to fetch
    assert "https://" not in page
