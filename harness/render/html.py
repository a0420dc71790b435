"""The check report as one self-contained HTML page: summary, need-to-know heat map, bindings.

Inline CSS only, no script and no external resource, so the file can be
attached to a CI run or mailed and still render. Every text from the workspace
(names, scopes, messages, YAML) is escaped.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from html import escape
from typing import Any

from harness.analysis import BindingResult
from harness.findings import KINDS, Finding, WaiverStatus
from harness.inventory import EXCESSIVE, INSTEAD, MISSING, NEEDED, OVER_BROAD, STATES, Inventory
from harness.render.style import plural
from harness.report import Report

# state -> (short mark shown in the cell, legend text)
_STATE_LABELS = {
    NEEDED: ("need", "granted and needed"),
    OVER_BROAD: ("broad", "granted and used; a narrower scope would do"),
    EXCESSIVE: ("unused", "granted, never needed"),
    MISSING: ("missing", "needed by a denied call, not granted"),
    INSTEAD: ("use", "not granted: the narrower scope to grant instead"),
}

_CSS = """
:root { --fg: #1d232b; --muted: #5b6775; --line: #d9dee4; --bg: #f6f7f9; --card: #fff;
  --pass: #1e7a3c; --fail: #b3261e; --warn: #8a5a00;
  --needed: #b9e4c4; --needed-fg: #124d26; --over-broad: #ffe08a; --over-broad-fg: #5e4300;
  --excessive: #ffb199; --excessive-fg: #6e1f07; --missing: #d93a30; --missing-fg: #fff;
  --instead: #a9d2f5; --instead-fg: #0b3556; }
* { box-sizing: border-box; }
body { margin: 0; font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif;
  color: var(--fg); background: var(--bg); }
main { max-width: 1280px; margin: 0 auto; padding: 24px; }
h1 { font-size: 22px; margin: 0 0 4px; }
h2 { font-size: 18px; margin: 32px 0 12px; }
h3 { font-size: 15px; margin: 18px 0 8px; }
code, pre { font: 12.5px/1.4 ui-monospace, "SFMono-Regular", Menlo, Consolas, monospace; }
pre { background: #f0f2f5; border: 1px solid var(--line); border-radius: 6px; padding: 10px 12px;
  overflow-x: auto; margin: 6px 0; white-space: pre; }
.card { background: var(--card); border: 1px solid var(--line); border-radius: 8px; padding: 16px; }
header.card { display: flex; gap: 20px; align-items: center; border-left: 6px solid var(--fail); }
header.card.pass { border-left-color: var(--pass); }
.badge { display: inline-block; border-radius: 4px; padding: 1px 8px; font-weight: 700;
  font-size: 12px; letter-spacing: .04em; color: #fff; background: var(--fail); }
.badge.pass { background: var(--pass); }
header .badge { font-size: 18px; padding: 6px 14px; }
.muted { color: var(--muted); }
.stats { display: flex; flex-wrap: wrap; gap: 12px; margin: 16px 0; }
.stat { background: var(--card); border: 1px solid var(--line); border-radius: 8px;
  padding: 10px 16px; min-width: 110px; }
.stat b { display: block; font-size: 22px; }
.chips { display: flex; flex-wrap: wrap; gap: 6px; }
.chip { border: 1px solid var(--line); border-radius: 999px; padding: 1px 10px; background: #fff;
  font-size: 12.5px; }
.chip.hot { border-color: var(--fail); color: var(--fail); font-weight: 600; }
.chip.zero { color: #9aa4af; }
dl.meta { display: grid; grid-template-columns: max-content 1fr; gap: 4px 16px; margin: 0; }
dl.meta dt { color: var(--muted); }
dl.meta dd { margin: 0; }
.alerts { border-left: 6px solid var(--warn); }
.alerts li { margin: 4px 0; }
.legend { display: flex; flex-wrap: wrap; gap: 14px; margin: 0 0 10px; font-size: 12.5px; }
.legend span.sw { display: inline-block; min-width: 52px; text-align: center; border-radius: 3px;
  margin-right: 6px; font-size: 11px; padding: 1px 6px; }
.scroll { overflow-x: auto; }
table { border-collapse: collapse; }
table.heatmap { font-size: 12px; }
table.heatmap th, table.heatmap td { border: 1px solid #fff; }
table.heatmap thead th { vertical-align: bottom; padding: 4px 2px; font-weight: 600; }
table.heatmap thead th:not(.binding) { text-align: left; padding: 4px 10px 4px 4px; }
table.heatmap thead th.binding { writing-mode: vertical-rl; transform: rotate(180deg);
  white-space: nowrap; text-align: left; max-height: 220px; }
table.heatmap thead th.binding a { color: var(--fg); text-decoration: none; }
table.heatmap thead th.binding.fail a { color: var(--fail); }
table.heatmap tbody th { text-align: left; font-weight: normal; padding: 2px 10px 2px 4px;
  white-space: nowrap; background: var(--card); }
table.heatmap tbody th.service { font-weight: 600; vertical-align: top; }
table.heatmap tbody tr.group th, table.heatmap tbody tr.group td { border-top: 3px solid #fff; }
td.cell { width: 44px; min-width: 44px; height: 24px; text-align: center; font-size: 10.5px;
  background: #eceff2; }
td.s-needed, .sw.s-needed { background: var(--needed); color: var(--needed-fg); }
td.s-over-broad, .sw.s-over-broad { background: var(--over-broad); color: var(--over-broad-fg); }
td.s-excessive, .sw.s-excessive { background: var(--excessive); color: var(--excessive-fg); }
td.s-missing, .sw.s-missing { background: var(--missing); color: var(--missing-fg);
  font-weight: 700; }
td.s-instead, .sw.s-instead { background: var(--instead); color: var(--instead-fg); }
.sw.s-empty { background: #eceff2; }
details.binding { background: var(--card); border: 1px solid var(--line); border-radius: 8px;
  margin: 10px 0; border-left: 6px solid var(--pass); }
details.binding.fail { border-left-color: var(--fail); }
details.binding > summary { cursor: pointer; padding: 10px 14px; display: flex; gap: 12px;
  align-items: center; flex-wrap: wrap; }
details.binding > summary .name { font-weight: 700; font-size: 15px; }
details.binding > div { padding: 0 16px 14px; }
.finding { border-top: 1px solid var(--line); padding: 10px 0; }
.finding .head { display: flex; gap: 10px; align-items: baseline; flex-wrap: wrap; }
.kind { font-weight: 700; font-size: 12px; padding: 1px 8px; border-radius: 4px;
  background: #fde3e1; color: var(--fail); }
.kind.waived { background: #eceff2; color: var(--muted); }
.finding ul { margin: 4px 0; padding-left: 20px; color: var(--muted); }
table.plain { font-size: 13px; margin: 6px 0; }
table.plain th, table.plain td { border-bottom: 1px solid var(--line); padding: 4px 10px 4px 0;
  text-align: left; vertical-align: top; }
table.plain th { color: var(--muted); font-weight: 600; }
.status-active { color: var(--pass); font-weight: 600; }
.status-expired, .status-rejected { color: var(--fail); font-weight: 600; }
footer { margin: 32px 0 8px; color: var(--muted); font-size: 12px; }
"""


def _e(value: object) -> str:
    return escape(str(value), quote=True)


def _anchor(index: int, binding: str) -> str:
    return f"binding-{index}-" + re.sub(r"[^A-Za-z0-9_-]+", "-", binding).strip("-")


def render_html(report: Report, inventory: Inventory) -> str:
    """The whole page; `inventory` supplies the need-to-know matrix of the same run."""
    anchors = {
        result.binding: _anchor(i, result.binding) for i, result in enumerate(report.results)
    }
    data = report.to_data()
    verdict = "PASS" if report.passed else "FAIL"
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en">',
        "<head>",
        '<meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>connector-harness: least-privilege check: {verdict}</title>",
        f"<style>{_CSS}</style>",
        "</head>",
        "<body>",
        "<main>",
        *_header(report),
        *_summary(report, data),
        *_alerts(data["alerts"], anchors),
        *_matrix(report, inventory, anchors),
        *_bindings(report, data["alerts"], anchors),
        f"<footer>Written by connector-harness {_e(data['tool']['version'])}; "
        "the JSON report (<code>--format json</code>) is the versioned contract.</footer>",
        "</main>",
        "</body>",
        "</html>",
    ]
    return "\n".join(parts) + "\n"


def _header(report: Report) -> list[str]:
    failed = len(report.failed)
    outcome = "pass" if report.passed else "fail"
    line = (
        f"{len(report.results) - failed} of {plural(len(report.results), 'binding')} pass; "
        f"{plural(report.calls, 'call')} replayed."
    )
    return [
        f'<header class="card {outcome}">',
        f'<span class="badge {outcome}">{outcome.upper()}</span>',
        "<div>",
        "<h1>connector-harness: least-privilege check</h1>",
        f'<div class="muted">{_e(line)}</div>',
        "</div>",
        "</header>",
    ]


def _summary(report: Report, data: dict[str, Any]) -> list[str]:
    summary = data["summary"]
    stats = [
        ("bindings", summary["bindings"]),
        ("pass", summary["passed"]),
        ("fail", summary["failed"]),
        ("calls replayed", summary["calls"]),
        ("findings", sum(summary["findings"].values())),
    ]
    failing = set(report.workspace.settings.fail_on)
    chips = []
    for kind in KINDS:
        count = summary["findings"][kind]
        css = "chip" + (" hot" if count and kind in failing else "" if count else " zero")
        chips.append(f'<span class="{css}">{count} {_e(kind)}</span>')
    filters = ", ".join(f"{key} {value}" for key, value in data["filters"].items() if value)
    meta = [
        ("workspace", data["workspace"]),
        ("clock", data["clock"]),
        ("selection", filters or "all bindings"),
        ("baseline", data["baseline"] or "none"),
        ("fails the gate", ", ".join(data["fail_on"]) or "nothing"),
    ]
    return [
        '<section id="summary">',
        '<div class="stats">',
        *(f'<div class="stat"><b>{value}</b>{_e(label)}</div>' for label, value in stats),
        "</div>",
        f'<div class="chips">{"".join(chips)}</div>',
        '<div class="card" style="margin-top:12px">',
        '<dl class="meta">',
        *(f"<dt>{_e(key)}</dt><dd><code>{_e(value)}</code></dd>" for key, value in meta),
        "</dl>",
        "</div>",
        "</section>",
    ]


def _alerts(alerts: list[dict[str, Any]], anchors: dict[str, str]) -> list[str]:
    if not alerts:
        return []
    items = [
        f'<li><span class="kind">{_e(alert["kind"])}</span> '
        f'<a href="#{anchors[alert["binding"]]}">{_e(alert["binding"])}</a> '
        f"<code>{_e(alert['location'])}</code>: {_e(alert['message'])}</li>"
        for alert in alerts
    ]
    return [
        '<section id="alerts">',
        "<h2>Alerts</h2>",
        '<div class="card alerts"><ul>',
        *items,
        "</ul></div>",
        "</section>",
    ]


def _matrix(report: Report, inventory: Inventory, anchors: dict[str, str]) -> list[str]:
    bindings = list(report.results)
    rows = sorted({(cell.service, cell.scope) for cell in inventory.cells})
    cells = {(cell.binding, cell.service, cell.scope): cell for cell in inventory.cells}
    legend = [
        f'<span><span class="sw s-{state}">{_e(_STATE_LABELS[state][0])}</span>'
        f"{_e(_STATE_LABELS[state][1])}</span>"
        for state in STATES
    ]
    legend.append('<span><span class="sw s-empty">&nbsp;</span>not granted, not needed</span>')
    head = ['<th scope="col">service</th>', '<th scope="col">scope</th>']
    for result in bindings:
        css = "binding" + ("" if result.passed else " fail")
        head.append(
            f'<th scope="col" class="{css}">'
            f'<a href="#{anchors[result.binding]}">{_e(result.binding)}</a></th>'
        )
    body = []
    spans = {service: sum(1 for s, _ in rows if s == service) for service, _ in rows}
    previous = None
    for service, scope in rows:
        row = []
        starts_group = service != previous
        if starts_group:
            row.append(
                f'<th scope="rowgroup" class="service" rowspan="{spans[service]}">{_e(service)}</th>'
            )
            previous = service
        row.append(f'<th scope="row"><code>{_e(scope)}</code></th>')
        for result in bindings:
            cell = cells.get((result.binding, service, scope))
            if cell is None:
                row.append('<td class="cell"></td>')
                continue
            operations = ", ".join(cell.operations) or "none"
            title = f"{cell.binding}: {service} {scope} is {cell.state}; operations: {operations}"
            row.append(
                f'<td class="cell s-{cell.state}" data-state="{cell.state}" title="{_e(title)}">'
                f"{_e(_STATE_LABELS[cell.state][0])}</td>"
            )
        body.append(('<tr class="group">' if starts_group else "<tr>") + "".join(row) + "</tr>")
    if not rows:
        return [
            '<section id="matrix">',
            "<h2>Need-to-know matrix</h2>",
            '<p class="muted">No binding holds or needs a scope.</p>',
            "</section>",
        ]
    return [
        '<section id="matrix">',
        "<h2>Need-to-know matrix</h2>",
        '<p class="muted">Each cell is what a binding holds of one scope, compared with what its '
        "flows need; hover a cell for the operations behind it.</p>",
        f'<div class="legend">{"".join(legend)}</div>',
        '<div class="card scroll">',
        '<table class="heatmap" id="need-to-know">',
        "<thead><tr>" + "".join(head) + "</tr></thead>",
        "<tbody>",
        *body,
        "</tbody>",
        "</table>",
        "</div>",
        "</section>",
    ]


def _bindings(report: Report, alerts: list[dict[str, Any]], anchors: dict[str, str]) -> list[str]:
    failing = set(report.workspace.settings.fail_on)
    parts = ['<section id="bindings">', "<h2>Bindings</h2>"]
    for result in report.results:
        own = [alert for alert in alerts if alert["binding"] == result.binding]
        parts += _binding(result, own, anchors[result.binding], failing)
    parts.append("</section>")
    return parts


def _binding(
    result: BindingResult, alerts: list[dict[str, Any]], anchor: str, failing: set[str]
) -> list[str]:
    outcome = "pass" if result.passed else "fail"
    counts = [f"{result.count(kind)} {kind}" for kind in KINDS if result.count(kind)] or [
        "no findings"
    ]
    opened = "" if result.passed else " open"
    parts = [
        f'<details class="binding {outcome}" id="{anchor}"{opened}>',
        "<summary>",
        f'<span class="badge {outcome}">{outcome.upper()}</span>',
        f'<span class="name">{_e(result.binding)}</span>',
        f'<span class="muted">{_e(", ".join(counts))}</span>',
        "</summary>",
        "<div>",
        '<dl class="meta">',
        f"<dt>connector</dt><dd>{_e(result.connector)}</dd>",
        f"<dt>environment</dt><dd>{_e(result.env)}</dd>",
        f"<dt>flows</dt><dd>{_e(', '.join(result.flows) or 'none')}</dd>",
        f"<dt>calls</dt><dd>{result.calls} ({result.allowed} allowed, {result.denied} denied, "
        f"{result.blocked} blocked)</dd>",
        f"<dt>coverage</dt><dd>{result.exercised} of {plural(result.granted, 'grant')} "
        "allowed at least one call</dd>",
        "</dl>",
    ]
    if alerts:
        parts += ["<h3>Alerts</h3>", '<ul class="alert-list">']
        parts += [
            f'<li><span class="kind">{_e(a["kind"])}</span> {_e(a["message"])}</li>' for a in alerts
        ]
        parts.append("</ul>")
    parts += _services(result)
    if result.findings:
        parts.append("<h3>Findings</h3>")
        parts += [line for finding in result.findings for line in _finding(finding, failing)]
    parts += _waivers(result.waivers)
    parts += [
        f'<h3>Suggested role <span class="muted">({_e(result.method)} minimum)</span></h3>',
        f"<pre>{_e(result.suggested_role)}</pre>",
        "</div>",
        "</details>",
    ]
    return parts


def _services(result: BindingResult) -> list[str]:
    if not result.services:
        return []
    rows = [
        "<tr>"
        f"<td>{_e(s.service)}</td>"
        f"<td><code>{_e(_listing(s.granted))}</code></td>"
        f"<td><code>{_e(_listing(s.suggested))}</code></td>"
        f"<td>{s.granted_breadth} &rarr; {s.suggested_breadth}</td>"
        "</tr>"
        for s in result.services
    ]
    return [
        "<h3>Grants</h3>",
        '<table class="plain">',
        "<thead><tr><th>service</th><th>granted</th><th>suggested</th><th>breadth</th></tr></thead>",
        "<tbody>",
        *rows,
        "</tbody></table>",
    ]


def _listing(values: Iterable[str]) -> str:
    return ", ".join(values) or "-"


def _finding(finding: Finding, failing: set[str]) -> list[str]:
    waived = bool(finding.waived_by)
    css = "kind waived" if waived or finding.kind not in failing else "kind"
    parts = [
        '<div class="finding">',
        '<div class="head">',
        f'<span class="{css}">{_e(finding.kind)}</span>',
        f"<code>{_e(finding.location or 'no location')}</code>",
        "</div>",
        f"<div>{_e(finding.message)}</div>",
    ]
    if waived:
        parts.append(f'<div class="muted">waived: {_e(finding.waived_by)}</div>')
    if finding.evidence:
        parts.append("<ul>")
        parts += [f"<li>seen in {_e(evidence)}</li>" for evidence in finding.evidence]
        parts.append("</ul>")
    if finding.instead:
        parts += ['<div class="muted">write instead:</div>', f"<pre>{_e(finding.instead)}</pre>"]
    parts.append("</div>")
    return parts


def _waivers(waivers: Sequence[WaiverStatus]) -> list[str]:
    if not waivers:
        return []
    rows = []
    for waiver in waivers:
        if waiver.status == "active":
            left = f"{plural(waiver.days_left, 'day')} left"
        elif waiver.status == "expired":
            left = f"expired {plural(-waiver.days_left, 'day')} ago"
        else:
            left = "rejected: approved by the connector's owner"
        rows.append(
            "<tr>"
            f"<td>{_e(waiver.ticket or '-')}</td>"
            f"<td><code>{_e(', '.join(waiver.grants))}</code></td>"
            f'<td class="status-{_e(waiver.status)}">{_e(waiver.status)}</td>'
            f"<td>{_e(left)}</td>"
            f"<td>{_e(waiver.expires.isoformat())}</td>"
            f"<td>{_e(waiver.approved_by)}</td>"
            f"<td>{_e(waiver.reason)}</td>"
            f"<td><code>{_e(waiver.location)}</code></td>"
            "</tr>"
        )
    return [
        "<h3>Waivers</h3>",
        '<table class="plain">',
        "<thead><tr><th>ticket</th><th>grants</th><th>status</th><th>days left</th>"
        "<th>expires</th><th>approved by</th><th>reason</th><th>where</th></tr></thead>",
        "<tbody>",
        *rows,
        "</tbody></table>",
    ]
