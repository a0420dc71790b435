"""The deployment gate on top of the analysis: baseline escalations, waivers, policy findings.

The analysis says what a binding needs; the gate decides what fails: a grant
outside the approved baseline is an escalation, an active waiver lets a known
excess pass until it expires, and the workspace policy adds findings for tokens
that outlive it and flows that move unusual volumes.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import date

from harness.analysis import BindingResult
from harness.baseline import Baseline
from harness.decisions import Decision
from harness.findings import (
    ESCALATION,
    EXCESSIVE,
    OVER_BROAD,
    TOKEN_LIFETIME,
    VOLUME,
    WAIVER,
    Finding,
    WaiverState,
    WaiverStatus,
)
from harness.model import Binding, Waiver, Workspace
from harness.scopes import Grant
from harness.workspace.units import format_duration

WAIVABLE = frozenset({EXCESSIVE, OVER_BROAD, ESCALATION})


@dataclass(frozen=True, slots=True)
class GateContext:
    """What the gate needs beyond the workspace: the date waivers are judged on, a baseline."""

    today: date
    baseline: Baseline | None = None


def apply_gate(
    workspace: Workspace,
    binding: Binding,
    result: BindingResult,
    fail_on: Iterable[str],
    context: GateContext,
    policy_findings: Sequence[Finding] = (),
) -> BindingResult:
    """The result with baseline, waiver and policy findings applied and its verdict decided."""
    findings = [*result.findings, *policy_findings]
    if context.baseline is not None:
        findings = _against_baseline(workspace, binding, findings, context.baseline)
    statuses: list[WaiverStatus] = []
    owner = workspace.connector(binding.connector).owner
    for waiver in (w for w in workspace.waivers if w.binding == binding.name):
        status = _status(waiver, owner, context.today)
        statuses.append(status)
        if status.status == "rejected":
            findings.append(
                _waiver_finding(
                    waiver,
                    f"the waiver {_name(waiver)} is rejected: it was approved "
                    f"by {waiver.approved_by}, the connector's own owner "
                    "(separation of duties)",
                    "have someone other than the owner approve it",
                )
            )
        elif status.status == "expired":
            findings.append(
                _waiver_finding(
                    waiver,
                    f"the waiver {_name(waiver)} expired on {waiver.expires}; "
                    "the grants it covered fail the gate again",
                    "remove the excess, or renew the waiver with a new expiry and approval",
                )
            )
        else:
            findings = [_waive(f, waiver, status.days_left) for f in findings]
    failing = set(fail_on)
    findings.sort(key=Finding.sort_key)
    passed = not any(f.kind in failing and not f.waived_by for f in findings)
    return replace(result, findings=tuple(findings), passed=passed, waivers=tuple(statuses))


def _name(waiver: Waiver) -> str:
    return waiver.ticket or str(waiver.location)


def _status(waiver: Waiver, owner: str, today: date) -> WaiverStatus:
    days_left = (waiver.expires - today).days
    status: WaiverState
    if waiver.approved_by.strip().lower() == owner.strip().lower():
        status = "rejected"
    elif days_left < 0:
        status = "expired"
    else:
        status = "active"
    return WaiverStatus(
        waiver.binding,
        waiver.ticket,
        tuple(f"{s}:{g}" for s, g in waiver.grants),
        waiver.reason,
        waiver.owner,
        waiver.approved_by,
        waiver.expires,
        days_left,
        status,
        str(waiver.location),
    )


def _waiver_finding(waiver: Waiver, message: str, instead: str) -> Finding:
    return Finding(
        WAIVER, waiver.binding, "-", _name(waiver), message, str(waiver.location), instead
    )


def _waive(finding: Finding, waiver: Waiver, days_left: int) -> Finding:
    if finding.kind not in WAIVABLE or finding.waived_by:
        return finding
    if not waiver.covers(finding.service, Grant.parse(finding.subject)):
        return finding
    note = f"waiver {_name(waiver)} until {waiver.expires} ({days_left} days left)"
    return replace(finding, waived_by=note)


def _against_baseline(
    workspace: Workspace, binding: Binding, findings: list[Finding], baseline: Baseline
) -> list[Finding]:
    """Grants outside the baseline become escalations; findings on approved grants are waived."""
    result = []
    for finding in findings:
        if finding.kind in (EXCESSIVE, OVER_BROAD) and baseline.approves(
            binding.name, finding.service, Grant.parse(finding.subject)
        ):
            finding = replace(finding, waived_by=f"approved in the baseline {baseline.path}")
        result.append(finding)
    known = binding.name in baseline.approved
    seen: set[tuple[str, Grant]] = set()
    for source in workspace.binding_grants(binding):
        key = (source.service, source.grant)
        if key in seen or baseline.approves(binding.name, *key):
            continue
        seen.add(key)
        approved = sorted(
            str(g) for s, g in baseline.approved.get(binding.name, ()) if s == source.service
        )
        why = (
            f"approved for {source.service}: {', '.join(approved) or 'nothing'}"
            if known
            else "the binding is not in the baseline"
        )
        result.append(
            Finding(
                ESCALATION,
                binding.name,
                source.service,
                str(source.grant),
                f"`{source.grant}` (role `{source.role}`) is granted but not in the baseline ({why})",
                str(source.location),
                "remove the grant, or approve it by adding it to the baseline in a reviewed change",
            )
        )
    return result


def policy_findings(
    workspace: Workspace,
    binding: Binding,
    decisions: Sequence[Decision],
    short_lived: Sequence[Decision],
    response_bytes: dict[tuple[str, str], int],
) -> list[Finding]:
    """Token-lifetime and volume findings; `short_lived` are the decisions of a replay with
    tokens that live only as long as the policy allows."""
    policy = workspace.policy
    findings = []
    connector = workspace.connector(binding.connector)
    expired = [d for d in short_lived if d.rule == "token" and "expired" in d.reason]
    by_flow: dict[str, Decision] = {}
    for decision in expired:
        by_flow.setdefault(decision.flow, decision)
    for flow_name, decision in sorted(by_flow.items()):
        step = next(
            s
            for f in workspace.flows_of(binding.connector)
            if f.name == flow_name
            for s in f.steps
            if s.index == decision.step
        )
        findings.append(
            Finding(
                TOKEN_LIFETIME,
                binding.name,
                decision.service,
                flow_name,
                f"flow {flow_name} passes only because tokens live "
                f"{format_duration(connector.credential.lifetime_seconds)}; with the policy maximum of "
                f"{format_duration(policy.max_credential_lifetime_seconds)} step {decision.step + 1} "
                f"({decision.step_name}) is refused: {decision.reason}",
                str(step.location),
                "add a refresh step (`- action: refresh`) before it, or shorten the flow; then set "
                f"`lifetime: {format_duration(policy.max_credential_lifetime_seconds)}` on the connector",
                evidence=(f"{flow_name} step {decision.step + 1} ({decision.step_name})",),
            )
        )
    for flow in workspace.flows_of(binding.connector):
        calls = [d for d in decisions if d.flow == flow.name]
        received = response_bytes.get((binding.name, flow.name), 0)
        problems = []
        if len(calls) > policy.max_calls_per_flow:
            problems.append(f"{len(calls)} calls (policy maximum {policy.max_calls_per_flow})")
        if received > policy.max_response_bytes:
            problems.append(
                f"{received:,} bytes received (policy maximum {policy.max_response_bytes:,})"
            )
        if problems:
            findings.append(
                Finding(
                    VOLUME,
                    binding.name,
                    "-",
                    flow.name,
                    f"flow {flow.name} moves an unusual volume: {', '.join(problems)}",
                    str(flow.location),
                    "check the flow is not exporting more than it should; raise `policy.volume` if intended",
                    evidence=(f"{flow.name} step 1 (volume)",),
                )
            )
    return findings
