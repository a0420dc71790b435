"""The lint report: aligned text for people, versioned JSON for tools (docs/lint.md)."""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Sequence
from datetime import date
from typing import Any

from harness import __version__
from harness.lint.rules import ERROR, RULES, WARNING, LintFinding
from harness.render.style import Style, plural, visible_width

LINT_SCHEMA = "connector-harness/lint-report"
LINT_VERSION = 1
_SEVERITY_STYLE = {ERROR: ("red", "bold"), WARNING: ("yellow",)}


def _counts(findings: Sequence[LintFinding]) -> tuple[int, int]:
    errors = sum(1 for finding in findings if finding.severity == ERROR)
    return errors, len(findings) - errors


def render_lint_text(
    findings: Sequence[LintFinding], workspace: str, today: date, style: Style
) -> str:
    """One aligned row per finding (rule, severity, location, message), its fix below it."""
    files = len({finding.location.file for finding in findings})
    where = f" in {plural(files, 'file')}" if findings else ""
    lines = [
        f"connector-harness lint {workspace}: {plural(len(findings), 'finding')}{where} "
        f"(reviews judged on {today})",
        "",
    ]
    cells = [
        (finding.rule, finding.severity, str(finding.location), finding.message)
        for finding in findings
    ]
    widths = [max((visible_width(row[i]) for row in cells), default=0) for i in range(3)]
    indent = " " * (sum(widths) + 2 * len(widths))
    for finding, (rule, severity, where, message) in zip(findings, cells, strict=True):
        shown = style(severity.ljust(widths[1]), *_SEVERITY_STYLE[severity])
        lines.append(f"{rule.ljust(widths[0])}  {shown}  {where.ljust(widths[2])}  {message}")
        lines.append(f"{indent}{style('fix:', 'dim')} {finding.fix}")
    if findings:
        lines.append("")
    lines.append(_summary(findings))
    return "\n".join(lines) + "\n"


def _summary(findings: Sequence[LintFinding]) -> str:
    errors, warnings = _counts(findings)
    by_rule = ", ".join(
        f"{count} {rule}" for rule, count in sorted(Counter(f.rule for f in findings).items())
    )
    if errors:
        return (
            f"{plural(errors, 'error')}, {plural(warnings, 'warning')} ({by_rule}). Next: apply "
            "each fix and run `connector-harness lint` again; a rule that truly does not apply "
            "to a file is disabled there with "
            '`# connector-harness: disable=CH1NN reason="..."`.'
        )
    if warnings:
        return (
            f"No errors, {plural(warnings, 'warning')} ({by_rule}). Next: plan the fixes, then "
            "run `connector-harness check` to replay the flows."
        )
    return "No findings. Next: run `connector-harness check` to replay the flows."


def lint_data(findings: Sequence[LintFinding], workspace: str, today: date) -> dict[str, Any]:
    """The JSON lint report: fixed key order, findings sorted by file and line."""
    errors, warnings = _counts(findings)
    counts = Counter(finding.rule for finding in findings)
    return {
        "schema": LINT_SCHEMA,
        "version": LINT_VERSION,
        "tool": {"name": "connector-harness", "version": __version__},
        "workspace": workspace,
        "today": today.isoformat(),
        "passed": errors == 0,
        "summary": {
            "errors": errors,
            "warnings": warnings,
            "rules": {rule.id: counts[rule.id] for rule in RULES},
        },
        "rules": [{"id": rule.id, "name": rule.name, "severity": rule.severity} for rule in RULES],
        "findings": [finding.to_data() for finding in findings],
    }


def render_lint_json(findings: Sequence[LintFinding], workspace: str, today: date) -> str:
    return json.dumps(lint_data(findings, workspace, today), indent=2, ensure_ascii=False) + "\n"
