"""The HTML renderer: every workspace text escaped, waivers with days left, the fix."""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from html.parser import HTMLParser

from workspaces import waived_excess

from harness.engine import run_check
from harness.gate import GateContext
from harness.inventory import Cell, Inventory
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
    hostile = replace(
        result,
        findings=tuple(replace(f, message=f"{f.message} {SCRIPT}") for f in result.findings),
    )
    report = replace(report, results=(hostile,))
    inventory = Inventory(
        (),
        (
            Cell("bot@prod", "svc", SCRIPT, "excessive", ('x" onmouseover="alert(2)',)),
            Cell("bot@prod", "svc", "svc.read", "needed", ("items.list",)),
        ),
    )
    page = render_html(report, inventory)
    parser = _Tags()
    parser.feed(page)
    assert "script" not in parser.tags
    assert "img" not in parser.tags  # the waiver reason's <img> stays text
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "migration &lt;img src=x onerror=alert(3)&gt; in progress" in page
    assert len(parser.cells) == 2
    hostile_cell = next(c for c in parser.cells if c["data-state"] == "excessive")
    assert set(hostile_cell) == {"class", "data-state", "title"}  # no injected attribute
    assert hostile_cell["title"] == (
        f'bot@prod: svc {SCRIPT} is excessive; operations: x" onmouseover="alert(2)'
    )


def test_html_shows_verdict_waivers_with_days_left_and_the_fix() -> None:
    page = render_html(_report(), Inventory((), ()))
    assert "<title>connector-harness: least-privilege check: FAIL</title>" in page
    assert '<td class="status-active">active</td><td>29 days left</td>' in page
    assert "<pre># role `role` at &lt;policy 0&gt;:1:1\ngrants:\n" in page
    assert "No binding holds or needs a scope." in page
    assert "http://" not in page  # self-contained: nothing to fetch
    assert "https://" not in page
