"""The check report as Markdown, for a pull-request comment or a review document."""

from __future__ import annotations

from harness.cells import report_cells
from harness.findings import EXCESSIVE, MISSING, OVER_BROAD
from harness.render.inventory import markdown_matrix
from harness.render.style import part_of, plural
from harness.report import Report


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", "<br>")


def render_markdown(report: Report) -> str:
    failed = len(report.failed)
    lines = [
        "# connector-harness: least-privilege check",
        "",
        f"**{'PASS' if report.passed else 'FAIL'}**: "
        f"{part_of(len(report.results) - failed, len(report.results), 'binding', 'pass')}; "
        f"{plural(report.calls, 'call')} replayed.",
        "",
        "| verdict | binding | missing | excessive | over-broad | other | coverage |",
        "|---|---|---:|---:|---:|---:|---:|",
    ]
    for result in report.results:
        other = len(result.findings) - sum(
            result.count(k) for k in (MISSING, EXCESSIVE, OVER_BROAD)
        )
        lines.append(
            f"| {'pass' if result.passed else '**fail**'} | `{result.binding}` | {result.count(MISSING)} "
            f"| {result.count(EXCESSIVE)} | {result.count(OVER_BROAD)} | {other} "
            f"| {result.exercised}/{result.granted} |"
        )
    for result in report.results:
        if not result.findings:
            continue
        lines += ["", f"## `{result.binding}`", "", "| kind | where | finding |", "|---|---|---|"]
        for finding in result.findings:
            lines.append(f"| {finding.kind} | `{finding.location}` | {_cell(finding.message)} |")
        lines += [
            "",
            "<details><summary>Suggested role</summary>",
            "",
            "```yaml",
            result.suggested_role,
            "```",
            "",
            "</details>",
        ]
    cells = report_cells(report.results)
    if cells:
        lines += ["", *markdown_matrix(cells)]
    return "\n".join(lines) + "\n"
