"""The check report as one self-contained HTML page: summary, need-to-know heat map, bindings.

Inline CSS only, no script and no external resource, so the file can be attached to a
CI run or mailed and still render. The page is the Jinja2 template
templates/report.html with autoescaping on, so every text from the workspace (names,
scopes, messages, YAML) is escaped; the CSS is templates/report.css.
"""

from __future__ import annotations

import functools
import re
from importlib import resources
from typing import TYPE_CHECKING, Any

from harness.analysis import BindingResult
from harness.cells import MEANINGS, STATES, Cell, report_cells
from harness.findings import KINDS, WaiverStatus
from harness.permission_models import service_for
from harness.render.style import part_of, plural
from harness.render.suggestions import reach_change
from harness.report import Report
from harness.scopes import Grant

if TYPE_CHECKING:  # Jinja2 loads with the first HTML report, not with the CLI
    import jinja2


@functools.cache
def _template() -> jinja2.Template:
    import jinja2

    environment = jinja2.Environment(
        loader=jinja2.PackageLoader("harness.render", "templates"),
        autoescape=True,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
        undefined=jinja2.StrictUndefined,
    )
    return environment.get_template("report.html")


@functools.cache
def _css() -> str:
    return resources.files("harness.render").joinpath("templates/report.css").read_text("utf-8")


def _anchor(index: int, binding: str) -> str:
    return f"binding-{index}-" + re.sub(r"[^A-Za-z0-9_-]+", "-", binding).strip("-")


def render_html(report: Report) -> str:
    """The whole page; the need-to-know matrix is the report's cells (harness.cells)."""
    data = report.to_data()
    failing: set[str] = set(report.workspace.settings.fail_on)
    results = list(report.results)
    return _template().render(
        css=_css(),
        verdict="PASS" if report.passed else "FAIL",
        outcome="pass" if report.passed else "fail",
        headline=(
            f"{part_of(len(results) - len(report.failed), len(results), 'binding', 'pass')}; "
            f"{plural(report.calls, 'call')} replayed."
        ),
        stats=_stats(data),
        chips=_chips(data, failing),
        meta=_meta(data),
        alerts=data["alerts"],
        anchors={result.binding: _anchor(i, result.binding) for i, result in enumerate(results)},
        matrix=_matrix(report, report_cells(report.results)),
        results=results,
        bindings=[_binding(report, result, data["alerts"]) for result in results],
        failing=failing,
        version=data["tool"]["version"],
    )


def _stats(data: dict[str, Any]) -> list[tuple[str, int]]:
    summary = data["summary"]
    return [
        ("bindings", summary["bindings"]),
        ("pass", summary["passed"]),
        ("fail", summary["failed"]),
        ("calls replayed", summary["calls"]),
        ("findings", sum(summary["findings"].values())),
    ]


def _chips(data: dict[str, Any], failing: set[str]) -> list[tuple[str, int, str]]:
    chips: list[tuple[str, int, str]] = []
    for kind in KINDS:
        count = data["summary"]["findings"][kind]
        css = "chip" + (" hot" if count and kind in failing else "" if count else " zero")
        chips.append((css, count, kind))
    return chips


def _meta(data: dict[str, Any]) -> list[tuple[str, str]]:
    filters = ", ".join(f"{key} {value}" for key, value in data["filters"].items() if value)
    return [
        ("workspace", data["workspace"]),
        ("clock", data["clock"]),
        ("selection", filters or "all bindings"),
        ("baseline", data["baseline"] or "none"),
        ("fails the gate", ", ".join(data["fail_on"]) or "nothing"),
    ]


def _matrix(report: Report, found: tuple[Cell, ...]) -> dict[str, Any]:
    """The legend, and one row per (service, grant): its cell under each binding, or None."""
    rows_keys = sorted({(cell.service, cell.grant) for cell in found})
    cells = {(cell.binding, cell.service, cell.grant): cell for cell in found}
    spans = {service: sum(1 for s, _ in rows_keys if s == service) for service, _ in rows_keys}
    rows = []
    previous = None
    for service, grant in rows_keys:
        row_cells: list[dict[str, str] | None] = []
        for result in report.results:
            cell = cells.get((result.binding, service, grant))
            if cell is None:
                row_cells.append(None)
                continue
            operations = ", ".join(cell.operations) or "none"
            title = f"{cell.binding}: {service} {grant} is {cell.state}; operations: {operations}"
            row_cells.append(
                {"state": cell.state, "title": title, "binding": cell.binding, "grant": grant}
            )
        span = spans[service] if service != previous else 0  # the service heads its group
        previous = service
        rows.append({"service": service, "grant": grant, "span": span, "cells": row_cells})
    legend = [(state, MEANINGS[state]) for state in STATES]
    return {"legend": legend, "rows": rows}


def _binding(report: Report, result: BindingResult, alerts: list[dict[str, Any]]) -> dict[str, Any]:
    counts = [f"{result.count(kind)} {kind}" for kind in KINDS if result.count(kind)]
    connector = result.connector
    return {
        "reach": {
            s.service: reach_change(
                service_for(report.workspace, connector, s.service),
                [Grant.parse(g) for g in s.granted],
                [Grant.parse(g) for g in s.suggested],
            )
            for s in result.services
        },
        "result": result,
        "outcome": "pass" if result.passed else "fail",
        "counts": ", ".join(counts or ["no findings"]),
        "grants": plural(result.granted, "grant"),
        "alerts": [alert for alert in alerts if alert["binding"] == result.binding],
        "waivers": [(waiver, _days_left(waiver)) for waiver in result.waivers],
    }


def _days_left(waiver: WaiverStatus) -> str:
    if waiver.status == "active":
        return f"{plural(waiver.days_left, 'day')} left"
    if waiver.status == "expired":
        return f"expired {plural(-waiver.days_left, 'day')} ago"
    return "rejected: approved by the connector's owner"
