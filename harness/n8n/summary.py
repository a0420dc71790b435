"""What an import did, for people (aligned text) and for tools (versioned JSON).

Every message about a node names its place (file:line), the node, what happened and what
to do. Texts that come from node code are scrubbed of anything secret-looking and
bounded; nothing of a credentials export is ever part of a summary but scope names.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from harness.errors import InputError
from harness.n8n.importer import ImportRun, NodeResult
from harness.n8n.plan import ConnectorPlan, Plan
from harness.n8n.writer import WriteReport
from harness.render.style import Style, plural, table
from harness.secrets import SecretScrubber

SUMMARY_SCHEMA = "connector-harness/n8n-import"
SUMMARY_VERSION = 1
_FAILED = {
    "unknown-credential": "unknown credential type",
    "error": "failed",
    "timeout": "stopped",
    "memory": "stopped",
    "bounded": "cut short",
    "not-runnable": "not run",
    "unknown-type": "unknown type",
    "unknown-version": "unknown version",
}
_FIXES = {
    "error": "check the node's parameters in n8n; if they are right, record its calls with "
    "import-flow from a HAR file",
    "timeout": "the node loops or waits; check its pagination and wait settings",
    "memory": "the node builds very large data; check its parameters",
    "bounded": "the node keeps calling; its first calls are kept",
}


@dataclass(frozen=True, slots=True)
class Line:
    """One node that produced no calls, or not all of them."""

    location: str
    workflow: str
    node: str
    type: str
    status: str
    reason: str
    fix: str


def _clean(text: str, scrubber: SecretScrubber, limit: int = 300) -> str:
    return scrubber.text(" ".join(text.split()))[:limit]


def problem_lines(run: ImportRun) -> list[Line]:
    scrubber = SecretScrubber()
    lines = []
    for result in run.results:
        for reference in result.node.credentials:
            known = run.credential_types.get(reference.type)
            if known is not None and not known.known:
                lines.append(
                    Line(
                        location=str(result.node.location),
                        workflow=result.workflow.label,
                        node=result.node.name,
                        type=result.node.type,
                        status="unknown-credential",
                        reason=f"it uses credential type {reference.type[:80]}, which the pinned "
                        "n8n-nodes-base does not define",
                        fix="check the credential's type in the export, or pin the n8n version it "
                        "was exported from",
                    )
                )
        if result.status in ("ok", "logic", "disabled"):
            continue
        lines.append(
            Line(
                location=str(result.node.location),
                workflow=result.workflow.label,
                node=result.node.name,
                type=result.node.type,
                status=result.status,
                reason=_clean(result.reason, scrubber),
                fix=_clean(result.fix or _FIXES.get(result.status, ""), scrubber),
            )
        )
    return lines


def expression_lines(run: ImportRun) -> list[str]:
    """Expressions that could not be evaluated (their parameter got a placeholder)."""
    scrubber = SecretScrubber()
    found = []
    for result in run.results:
        for note in result.expressions:
            if note.kind == "problem":
                found.append(
                    f"{result.node.location}: node {result.node.name!r}: parameter "
                    f"`{note.parameter}`: {_clean(note.detail, scrubber)}; a placeholder is used"
                )
    return found


def render_text(
    run: ImportRun, plan: Plan, report: WriteReport | None, output: str, style: Style
) -> str:
    services = run.service_nodes()
    with_calls, total = run.share_with_calls()
    versions = run.versions
    head = (
        f"connector-harness import-n8n: {plural(len(run.workflows), 'workflow')}, "
        f"{plural(len(run.results), 'node')} ({total} service), n8n-nodes-base "
        f"{versions.get('n8n-nodes-base', '?')}"
    )
    lines = [head, ""]
    for error in run.errors:
        lines.append(style("skipped file ", "red") + error.render())
    for workflow in run.workflows:
        for skip in workflow.skipped:
            lines.append(style("skipped ", "yellow") + skip.render())
    if run.errors or any(w.skipped for w in run.workflows):
        lines.append("")
    rows = [["node", "at", "result", "services"]]
    for result in services:
        where = result.node.location
        rows.append(
            [
                result.node.name[:40],
                f"{Path(where.file).name}:{where.line}",
                _result_cell(result, style),
                ", ".join(sorted(_services_of(result, plan))) or "-",
            ]
        )
    lines += table(rows, indent="  ")
    lines += ["", "workflows (service nodes that produced calls):"]
    shares = []
    for workflow in run.workflows:
        done, of = run.share_with_calls(workflow)
        shares.append([workflow.label[:60], Path(workflow.source).name, f"{done} of {of}"])
    lines += table(shares, indent="  ", align_right=(2,))
    problems = problem_lines(run)
    if problems:
        its = "its" if len(problems) == 1 else "their"
        lines += ["", f"{plural(len(problems), 'node')} without all {its} calls:"]
        for problem in problems:
            label = _FAILED.get(problem.status, problem.status)
            lines.append(
                f"  {problem.location}: {style(label, 'yellow')}: {problem.node!r} ({problem.type}): {problem.reason}"
            )
            if problem.fix:
                lines.append(f"      {style('fix:', 'dim')} {problem.fix}")
    expressions = expression_lines(run)
    if expressions:
        lines += ["", f"{plural(len(expressions), 'expression')} that could not be evaluated:"]
        lines += [f"  {line}" for line in expressions]
    lines += ["", "connectors (one per n8n credential):"]
    rows = [["connector", "credential", "grants", "binding"]]
    for connector in plan.connectors:
        rows.append(
            [
                connector.name,
                f"{connector.credential.name or '(unnamed)'} ({connector.credential.type})"[:60],
                _grant_cell(connector),
                style("not bound", "yellow")
                if connector.unbound
                else ", ".join(f"{connector.name}@{e}" for e in plan.envs),
            ]
        )
    lines += table(rows, indent="  ")
    for connector in plan.connectors:
        lines += _connector_notes(connector, style)
    hosts = _left_out_hosts(plan)
    if hosts:
        lines += ["", "calls left out (no bundled pack judges them):"]
        lines += table(
            [[host, reason, ", ".join(nodes)] for host, (reason, nodes) in sorted(hosts.items())],
            indent="  ",
        )
    share = f"{with_calls} of {total}" + (f" ({100 * with_calls // total}%)" if total else "")
    lines += ["", f"service nodes that produced calls: {share}"]
    if report is not None:
        counts = ", ".join(
            f"{report.count(a)} {a}"
            for a in ("created", "updated", "merged", "unchanged", "conflict", "kept")
            if report.count(a)
        )
        lines.append(f"wrote {output}: {counts or 'nothing'}")
        for written in report.files:
            if written.action in ("merged", "conflict", "kept"):
                lines.append(f"  {written.action} {written.path}: {written.detail}")
    lines.append(_next(plan, output, problems))
    return "\n".join(lines) + "\n"


def shown_file(path: str) -> str:
    return Path(path).name


def _result_cell(result: NodeResult, style: Style) -> str:
    calls = sum(1 for call in result.calls if not call.token)
    if result.status == "ok":
        return style(plural(calls, "call"), "green") if calls else "no call"
    label = _FAILED.get(result.status, result.status)
    if calls:
        return style(f"{plural(calls, 'call')}, {label}", "yellow")
    return style(label, "red" if result.status in ("error", "timeout", "memory") else "yellow")


def _services_of(result: NodeResult, plan: Plan) -> set[str]:
    found: set[str] = set()
    for flow in plan.flows:
        for step in flow.steps:
            if step.node is result.node:
                found.add(step.service)
    return found


def _grant_cell(connector: ConnectorPlan) -> str:
    if connector.held is None:
        return "unknown"
    parts = [f"{service} {len(scopes)}" for service, scopes in sorted(connector.grants.items())]
    if connector.unjudged:
        parts.append(f"{len(connector.unjudged)} unjudged")
    return ", ".join(parts) or "none"


def _connector_notes(connector: ConnectorPlan, style: Style) -> list[str]:
    notes = []
    if connector.unbound:
        notes.append(f"  {connector.name}: {style('not bound', 'yellow')}: {connector.unbound}")
        if connector.held is not None:
            notes.append(
                f"      holds: {' '.join(connector.held.scopes)} ({connector.held.source})"
            )
        for operation, needs in sorted(connector.needs.items()):
            shown = sorted(needs)[:3]
            more = f" (or {len(needs) - 3} more)" if len(needs) > 3 else ""
            notes.append(f"      its call {operation} needs: {' or '.join(shown)}{more}")
    elif connector.unjudged:
        notes.append(
            f"  {connector.name}: holds {len(connector.unjudged)} scope(s) no bundled pack knows, "
            f"not judged: {' '.join(connector.unjudged)}"
        )
    if connector.incomplete:
        notes.append(
            f"  {connector.name}: {style('verdict incomplete', 'yellow')}: "
            f"{', '.join(repr(n) for n in connector.incomplete)} did not run to the end, so a grant "
            "its missing calls need may be reported excessive"
        )
    return notes


def _left_out_hosts(plan: Plan) -> dict[str, tuple[str, list[str]]]:
    hosts: dict[str, tuple[str, list[str]]] = {}
    for item in plan.left_out:
        host = item.host or "(no host)"
        _, nodes = hosts.setdefault(host, (item.reason, []))
        if item.node.name not in nodes:
            nodes.append(item.node.name)
    return hosts


def _next(plan: Plan, output: str, problems: list[Line]) -> str:
    steps = ["set each connector's owner and confirm its lifetime (the `# TODO` marks)"]
    if any(c.unbound for c in plan.connectors):
        steps.append("list the scopes of unbound credentials in a mapping file (--scopes)")
    if problems:
        steps.append("fix or record the nodes above")
    return f"Next: {'; '.join(steps)}; then run `connector-harness check {output}`."


# -- JSON ------------------------------------------------------------------------------------


def render_json(run: ImportRun, plan: Plan, report: WriteReport | None, output: str) -> str:
    with_calls, total = run.share_with_calls()
    scrubber = SecretScrubber()
    data: dict[str, Any] = {
        "schema": SUMMARY_SCHEMA,
        "version": SUMMARY_VERSION,
        "output": output,
        "packages": dict(sorted(run.versions.items())),
        "service_nodes": total,
        "service_nodes_with_calls": with_calls,
        "workflows": [
            {
                "name": w.name,
                "id": w.id,
                "file": w.source,
                "service_nodes": run.share_with_calls(w)[1],
                "service_nodes_with_calls": run.share_with_calls(w)[0],
            }
            for w in run.workflows
        ],
        "files_skipped": [_error(e) for e in run.errors],
        "nodes": [
            {
                "location": str(r.node.location),
                "workflow": r.workflow.label,
                "node": r.node.name,
                "type": r.node.type,
                "status": r.status,
                "calls": sum(1 for c in r.calls if not c.token),
                "reason": _clean(r.reason, scrubber),
                "fix": _clean(r.fix or _FIXES.get(r.status, ""), scrubber),
            }
            for r in run.results
        ],
        "connectors": [
            {
                "name": c.name,
                "credential": {
                    "name": c.credential.name,
                    "type": c.credential.type,
                    "id": c.credential.id,
                },
                "held": list(c.held.scopes) if c.held else None,
                "held_from": c.held.source if c.held else None,
                "grants": {k: list(v) for k, v in sorted(c.grants.items())},
                "unjudged": list(c.unjudged),
                "models": dict(sorted(c.models.items())),
                "bound": not c.unbound,
                "unbound_because": c.unbound or None,
                "incomplete": list(c.incomplete),
                "hosts": sorted(c.hosts),
            }
            for c in plan.connectors
        ],
        "flows": [
            {"name": f.name, "connector": f.connector, "steps": len(f.steps)} for f in plan.flows
        ],
        "left_out": [
            {
                "location": str(i.node.location),
                "node": i.node.name,
                "host": i.host,
                "reason": i.reason,
            }
            for i in plan.left_out
        ],
        "files": [{"path": w.path, "action": w.action, "detail": w.detail} for w in report.files]
        if report
        else [],
    }
    return json.dumps(data, indent=2) + "\n"


def _error(error: InputError) -> dict[str, Any]:
    return {"location": str(error.location), "problem": error.problem, "fix": error.hint}
