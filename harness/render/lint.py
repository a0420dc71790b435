"""The lint report: aligned text for people, versioned JSON for tools (docs/lint.md)."""

from __future__ import annotations

import hashlib
import json
import os
from collections import Counter
from collections.abc import Sequence
from datetime import date
from typing import Any

from harness import __version__
from harness.lint.rules import ERROR, RULES, WARNING, LintFinding, Rule
from harness.render.jsonfmt import render_json
from harness.render.sarif import BASE_ID, help_uri, sarif_document, uri_path
from harness.render.style import Style, plural, printable, visible_width

LINT_SCHEMA = "connector-harness/lint-report"
LINT_VERSION = 1
LINT_FINGERPRINT = "connectorHarnessLint/v1"
RULE_IDS = tuple(rule.id for rule in RULES)
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
        f"connector-harness lint {printable(workspace)}: {plural(len(findings), 'finding')}{where} "
        f"(reviews judged on {today})",
        "",
    ]
    cells = [
        (
            finding.rule,
            finding.severity,
            printable(str(finding.location)),
            printable(finding.message),
        )
        for finding in findings
    ]
    widths = [max((visible_width(row[i]) for row in cells), default=0) for i in range(3)]
    indent = " " * (sum(widths) + 2 * len(widths))
    for finding, (rule, severity, where, message) in zip(findings, cells, strict=True):
        shown = style(severity.ljust(widths[1]), *_SEVERITY_STYLE[severity])
        lines.append(f"{rule.ljust(widths[0])}  {shown}  {where.ljust(widths[2])}  {message}")
        lines.append(f"{indent}{style('fix:', 'dim')} {printable(finding.fix)}")
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


# GitHub code scanning shows a rule's `security-severity` as Critical (9.0+), High (7.0-8.9),
# Medium (4.0-6.9) or Low; docs/lint.md says why each rule sits where it does.
LINT_SECURITY_SEVERITY: dict[str, str] = {
    "CH100": "4.0",  # a disable without a reason can hide any other rule
    "CH101": "8.5",  # a wildcard or all-implying grant held by a machine identity
    "CH102": "7.5",  # a credential that lives or goes unrotated past the policy
    "CH103": "5.0",  # prod access that never has to be re-approved
    "CH104": "4.0",  # nobody accountable
    "CH105": "4.0",  # a review that is overdue
    "CH106": "8.0",  # one identity both deploys and approves, or holds conflicting scopes
    "CH107": "9.5",  # a secret in the repository
    "CH108": "5.0",  # prod access nothing proves least
    "CH109": "5.5",  # a legacy scope, broader than the one that replaced it
    "CH110": "3.0",  # a value nobody confirmed yet
}


def lint_sarif(findings: Sequence[LintFinding], workspace: str) -> dict[str, Any]:
    """The lint findings as a SARIF 2.1.0 log: one rule per lint rule, one result per finding
    at its place (relative to the workspace, as the check's SARIF)."""
    results = []
    for finding in findings:
        where = finding.location
        physical: dict[str, Any] = {
            "artifactLocation": {
                "uri": uri_path(os.path.relpath(where.file, workspace)),
                "uriBaseId": BASE_ID,
            }
        }
        if where.line:
            physical["region"] = {"startLine": where.line} | (
                {"startColumn": where.column} if where.column else {}
            )
        identity = "\n".join((finding.rule, str(where), finding.message))
        results.append(
            {
                "ruleId": finding.rule,
                "ruleIndex": RULE_IDS.index(finding.rule),
                "level": "error" if finding.severity == ERROR else "warning",
                "message": {
                    "text": finding.message,
                    "markdown": f"{finding.message}\n\nFix: {finding.fix}",
                },
                "locations": [{"physicalLocation": physical}],
                "partialFingerprints": {
                    LINT_FINGERPRINT: hashlib.sha256(identity.encode()).hexdigest()
                },
                "properties": {"fix": finding.fix},
            }
        )
    errors, _ = _counts(findings)
    return sarif_document(
        [_lint_rule(rule) for rule in RULES], results, workspace, exit_code=1 if errors else 0
    )


def _lint_rule(rule: Rule) -> dict[str, Any]:
    return {
        "id": rule.id,
        "name": rule.name,
        "shortDescription": {"text": rule.what},
        "fullDescription": {"text": f"{rule.what}. Fix: {rule.fix}."},
        "helpUri": help_uri("lint", rule.id.lower()),
        "help": {"text": rule.fix, "markdown": rule.fix},
        "defaultConfiguration": {"level": "error" if rule.severity == ERROR else "warning"},
        "properties": {
            "tags": ["security", "least-privilege"],
            "security-severity": LINT_SECURITY_SEVERITY[rule.id],
        },
    }


def render_lint_sarif(findings: Sequence[LintFinding], workspace: str) -> str:
    return render_json(lint_sarif(findings, workspace))
