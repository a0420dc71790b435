"""The check report for people: a verdict line per binding, its findings, a summary line."""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from harness.analysis import BindingResult
from harness.findings import (
    EGRESS,
    EXCESSIVE,
    KIND_WIDTH,
    KINDS,
    MISSING,
    OVER_BROAD,
    UNROUTABLE,
    Finding,
)
from harness.render.style import Style, part_of, plural, printable, table
from harness.report import Report
from harness.scopes import Grant

_KIND_STYLE = {
    MISSING: "red",
    EXCESSIVE: "yellow",
    OVER_BROAD: "yellow",
    EGRESS: "red",
    UNROUTABLE: "red",
}


def render_text(report: Report, style: Style) -> str:
    lines = [_headline(report), ""]
    rows = [_verdict_row(result, style) for result in report.results]
    verdicts = table(rows)
    for result, verdict in zip(report.results, verdicts, strict=True):
        lines.append(verdict)
        if result.findings:
            lines.extend(_findings(result, style))
            lines.append("")
    if lines[-1] != "":
        lines.append("")
    lines.extend(_summary(report, style))
    return "\n".join(lines) + "\n"


def _headline(report: Report) -> str:
    flows = {flow for result in report.results for flow in result.flows}
    scope = []
    if report.env:
        scope.append(f"env {report.env}")
    if report.binding:
        scope.append(f"binding {report.binding}")
    where = f" ({', '.join(scope)})" if scope else ""
    return (
        f"connector-harness check{where}: {plural(len(report.results), 'binding')}, "
        f"{plural(len(flows), 'flow')}, {plural(report.calls, 'call')} replayed"
    )


def verdict_cells(binding: str, passed: bool, counts: Mapping[str, int], style: Style) -> list[str]:
    """PASS/FAIL, the binding, the three main counts, then any other kind that occurred."""
    verdict = style("PASS", "green", "bold") if passed else style("FAIL", "red", "bold")
    main = [f"{counts[kind]} {kind}" for kind in (MISSING, EXCESSIVE, OVER_BROAD)]
    extra = ", ".join(f"{counts[kind]} {kind}" for kind in KINDS[3:] if counts[kind])
    return [verdict, printable(binding), *main, extra]


def _verdict_row(result: BindingResult, style: Style) -> list[str]:
    counts: dict[str, int] = {kind: result.count(kind) for kind in KINDS}
    cells = verdict_cells(result.binding, result.passed, counts, style)
    return [*cells, f"coverage {result.exercised}/{result.granted}"]


def finding_lines(
    findings: Iterable[Finding], style: Style, *, indent: int = 2, evidence: int = 0
) -> list[str]:
    """Each finding: its kind and where (a live call has no YAML step: the call it saw),
    the message, up to `evidence` places that show it, and the YAML to write instead."""
    lines: list[str] = []
    margin = " " * indent
    pad = " " * (indent + KIND_WIDTH)  # under the finding, past its kind
    for finding in findings:
        kind = style(f"{finding.kind:<{KIND_WIDTH}}", _KIND_STYLE.get(finding.kind, "yellow"))
        where = printable(finding.location or (finding.evidence[0] if finding.evidence else ""))
        lines.append(f"{margin}{kind}{where}".rstrip())
        lines.append(f"{pad}{printable(finding.message)}")
        for seen in finding.evidence[:evidence]:
            lines.append(f"{pad}{style('seen in ' + printable(seen), 'dim')}")
        if len(finding.evidence) > evidence > 0:
            lines.append(f"{pad}{style(f'... and {len(finding.evidence) - evidence} more', 'dim')}")
        if finding.instead:
            lines.append(f"{pad}write instead:")
            lines.extend(f"{pad}  {line}" for line in printable(finding.instead).splitlines())
    return lines


def _findings(result: BindingResult, style: Style) -> list[str]:
    lines = finding_lines(result.findings, style, indent=4, evidence=3)
    changed = [s for s in result.services if s.suggested != s.granted]
    if changed:
        granted = sum(s.granted_breadth for s in result.services)
        suggested = sum(s.suggested_breadth for s in result.services)
        narrowed = any(
            Grant.parse(grant).narrowing
            for s in changed
            for grant in s.suggested
            if grant not in s.granted
        )
        if suggested < granted:
            change = f"breadth {suggested} instead of {granted} (risk-weighted operations allowed; "
        elif suggested > granted:
            change = f"breadth {suggested} instead of {granted}: it adds what denied calls need ("
        elif narrowed:
            change = f"same breadth {granted}, narrowed to the resources used ("
        else:
            change = f"same breadth {granted}, other grants ("
        lines.append(f"    {style('suggested role', 'cyan')}  {change}{result.method} minimum):")
        lines.extend(f"      {line}" for line in printable(result.suggested_role).splitlines())
    return lines


def _summary(report: Report, style: Style) -> list[str]:
    total = len(report.results)
    counts = [f"{report.count(kind)} {kind}" for kind in KINDS if report.count(kind)]
    found = ", ".join(counts) if counts else "no findings"
    if report.passed:
        return [
            style(f"{_all(total)} least privilege ({found}).", "green"),
            "Next: nothing to change; keep this check in CI to catch drift.",
        ]
    failed = len(report.failed)
    return [
        style(f"{part_of(failed, total, 'binding', 'fail')} the gate: {found}.", "red", "bold"),
        "Next: apply each 'write instead' above (or adopt the suggested roles), then run "
        "`connector-harness check` again.",
    ]


def _all(total: int) -> str:
    return "The binding holds" if total == 1 else f"All {total} bindings hold"
