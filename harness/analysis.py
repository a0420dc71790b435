"""Least-privilege analysis of one binding over the decisions of all its flows.

missing     the requirements of denied calls, with the least broad grants to add;
excessive   granted minus the least broad subset of the grants that still allows every call;
over-broad  a kept grant that a narrower scope, or narrowing to resources, could replace;
suggested   the least broad cover of every call over the service's whole scope universe.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

from harness.cover import (
    EXACT,
    GREEDY,
    BreadthMeter,
    Cover,
    CoverMethod,
    Demand,
    minimum_breadth_cover,
    preferred,
)
from harness.decisions import ALLOWED, BLOCKED, DENIED, Decision
from harness.findings import (
    CREDENTIAL,
    CROSS_REGION,
    EGRESS,
    EXCESSIVE,
    MISSING,
    OVER_BROAD,
    UNEXPECTED_ALLOW,
    UNROUTABLE,
    Finding,
    FindingKind,
    WaiverStatus,
)
from harness.fixes import OwnRole, RoleFix, fix_text, role_fixes
from harness.model import Binding, GrantSource, Operation, Service, Step, Workspace
from harness.permission_models import service_for
from harness.render.suggestions import first_and_more, reach_change, suggested_role
from harness.scopes import Grant, Requirement, needs_text

MAX_NARROWED_VALUES = 3
MAX_FIX_ROUNDS = 4  # rounds of replacing over-broad grants in the light of each other
IMPLIED_SHOWN = 10  # implied scopes an over-broad finding names; the count of the rest follows
_GLOB = frozenset("*?[")


@dataclass(frozen=True, slots=True)
class ServiceAnalysis:
    """The grants of a binding on one service, before and after analysis."""

    service: str
    granted: tuple[str, ...]
    kept: tuple[str, ...]
    suggested: tuple[str, ...]
    granted_breadth: int
    suggested_breadth: int
    method: CoverMethod
    needed_for: tuple[tuple[str, tuple[str, ...]], ...] = ()  # suggested grant -> operations
    model: str = ""  # the permission model the grants are in ("": the service has one)
    target: tuple[str, ...] = ()  # the grants after every fix of the findings is applied
    used_for: tuple[tuple[str, tuple[str, ...]], ...] = ()  # granted grant -> operations allowed

    def to_data(self) -> dict[str, Any]:
        """The fields the JSON report and a shard report both give (each adds its own)."""
        return {
            "service": self.service,
            "model": self.model,
            "granted": list(self.granted),
            "kept": list(self.kept),
            "suggested": list(self.suggested),
            "granted_breadth": self.granted_breadth,
            "suggested_breadth": self.suggested_breadth,
            "method": self.method,
        }


@dataclass(frozen=True, slots=True)
class BindingResult:
    binding: str
    connector: str
    env: str
    flows: tuple[str, ...]
    calls: int
    allowed: int
    denied: int
    blocked: int
    services: tuple[ServiceAnalysis, ...]
    findings: tuple[Finding, ...]
    exercised: int  # granted scopes that allowed at least one call
    granted: int
    passed: bool
    suggested_role: str  # YAML
    waivers: tuple[WaiverStatus, ...] = ()  # as judged by the gate
    fixes: tuple[RoleFix, ...] = ()  # the roles' lines that make the binding pass
    own_roles: tuple[OwnRole, ...] = ()  # roles of its own, where a shared role must stay
    settled: bool = False  # fixes judged against the other bindings sharing its roles

    @property
    def coverage(self) -> float:
        return self.exercised / self.granted if self.granted else 1.0

    @property
    def method(self) -> str:
        return GREEDY if any(s.method == GREEDY for s in self.services) else EXACT

    def count(self, kind: str) -> int:
        return sum(1 for finding in self.findings if finding.kind == kind)


def analyse_binding(
    workspace: Workspace, binding: Binding, decisions: Sequence[Decision], fail_on: Iterable[str]
) -> BindingResult:
    """Findings, kept and suggested grants for `binding` from the decisions of its flows."""
    steps = {
        (flow.name, step.index): step
        for flow in workspace.flows_of(binding.connector)
        for step in flow.steps
    }
    sources = workspace.binding_grants(binding)
    findings: list[Finding] = []
    analyses: list[ServiceAnalysis] = []
    service_names = sorted(
        {s.service for s in sources} | {d.service for d in decisions if d.operation}
    )
    for name in service_names:
        service = service_for(workspace, binding.connector, name)
        service_sources = [s for s in sources if s.service == name]
        service_decisions = [d for d in decisions if d.service == name and d.operation]
        # A call that cannot be judged might need any grant: judge none of them unused.
        unjudged = any(
            d.service == name and d.rule in ("route", "argument") and d.outcome == DENIED
            for d in decisions
        )
        analysis, service_findings = _ServiceCheck(
            workspace, binding, service, service_sources, service_decisions, steps
        ).run(judge_excess=not unjudged)
        analyses.append(analysis)
        findings.extend(service_findings)
    fixes = tuple(
        fix
        for analysis in analyses
        for fix in role_fixes(
            workspace,
            analysis.service,
            [s for s in sources if s.service == analysis.service],
            [Grant.parse(g) for g in analysis.target],
            _home_role(workspace, binding, analysis.service),
        )
    )
    findings = with_fixes(workspace, binding, findings, fixes)
    findings.extend(_call_findings(binding, decisions, steps))
    findings.sort(key=Finding.sort_key)
    granted = {(s.service, s.grant) for s in sources}
    exercised = {
        (d.service, Grant.parse(text)) for d in decisions if d.allowed for text in d.satisfied_by
    }
    failing = set(fail_on)
    return BindingResult(
        binding=binding.name,
        connector=binding.connector,
        env=binding.env,
        flows=tuple(flow.name for flow in workspace.flows_of(binding.connector)),
        calls=len(decisions),
        allowed=sum(1 for d in decisions if d.outcome == ALLOWED),
        denied=sum(1 for d in decisions if d.outcome == DENIED),
        blocked=sum(1 for d in decisions if d.outcome == BLOCKED),
        services=tuple(analyses),
        findings=tuple(findings),
        exercised=len(granted & exercised),
        granted=len(granted),
        passed=not any(finding.kind in failing for finding in findings),
        suggested_role=suggested_role(
            binding,
            [(analysis.service, analysis.suggested) for analysis in analyses],
            {s.name for s in workspace.services if s.kind == "postgres"},
        ),
        fixes=fixes,
    )


FIXED_KINDS: tuple[FindingKind, ...] = (MISSING, EXCESSIVE, OVER_BROAD)  # what `fixes` fix


def with_fixes(
    workspace: Workspace,
    binding: Binding,
    findings: Iterable[Finding],
    fixes: Sequence[RoleFix],
    own_roles: Sequence[OwnRole] = (),
    notes: Mapping[str, str] | None = None,
) -> list[Finding]:
    """The findings, each missing, excessive or over-broad one saying what to write instead:
    the final line of every role the binding's fixes change on its service (one line per
    role, the same in every finding), and the binding's own roles if it needs any."""
    texts: dict[str, str] = {}
    result = []
    for finding in findings:
        if finding.kind == MISSING and not finding.replacement:
            pass  # no grant allows the call: its message says what would
        elif finding.kind in FIXED_KINDS:
            text = texts.get(finding.service)
            if text is None:
                on_service = [fix for fix in fixes if fix.service == finding.service]
                text = (
                    fix_text(workspace, binding, on_service, own_roles, notes) if on_service else ""
                )
                texts[finding.service] = text
            finding = replace(finding, instead=text)
        result.append(finding)
    return result


def _home_role(workspace: Workspace, binding: Binding, service: str) -> str:
    """The role a missing grant belongs in: one that already grants the service, else the first."""
    for role in binding.roles:
        if any(s.service == service for s in workspace.role_grants(role)):
            return role
    return binding.roles[0] if binding.roles else ""


def _evidence(decision: Decision, steps: dict[tuple[str, int], Step]) -> tuple[str, str]:
    step = steps.get((decision.flow, decision.step))
    where = str(step.location) if step else ""
    return where, f"{decision.flow} step {decision.step + 1} ({decision.step_name})"


def _call_findings(
    binding: Binding, decisions: Sequence[Decision], steps: dict[tuple[str, int], Step]
) -> list[Finding]:
    """Egress, credential and unexpected-allow findings, one per distinct problem."""
    found: dict[tuple[str, str, str], Finding] = {}
    key: tuple[str, str, str]
    for decision in decisions:
        step = steps.get((decision.flow, decision.step))
        if decision.outcome == BLOCKED and step is not None and step.expect == DENIED:
            continue  # a refusal the flow expects, as a denied call it expects is no finding
        where, evidence = _evidence(decision, steps)
        if decision.outcome == BLOCKED and decision.rule not in ("egress.host", "egress.region"):
            # a way out that is not an HTTP call (harness.egress_guard): no allowlist opens it
            key = (EGRESS, decision.host, decision.rule)
            finding = Finding(
                EGRESS,
                binding.name,
                decision.service or "-",
                decision.host,
                f"blocked {decision.reason}",
                where,
                evidence=(evidence,),
            )
        elif decision.outcome == BLOCKED:
            region = decision.rule == "egress.region"
            kind: FindingKind = CROSS_REGION if region else EGRESS
            key = (kind, decision.host, decision.rule)
            finding = Finding(
                kind,
                binding.name,
                decision.service or "-",
                decision.host,
                f"blocked {'cross-region ' if region else ''}call to {decision.host}: "
                f"{decision.reason}",
                where,
                "call a host of an allowed region, or add the region to the connector's `regions:`"
                if region
                else f"allowed_hosts: [..., {decision.host}]  # only if this host is intended",
                evidence=(evidence,),
            )
        elif decision.outcome == DENIED and decision.rule == "token":
            key = (CREDENTIAL, decision.operation, "")  # one finding per operation refused
            finding = Finding(
                CREDENTIAL,
                binding.name,
                decision.service,
                decision.operation,
                f"{decision.service}:{decision.operation} was refused: {decision.reason}",
                where,
                "",
                evidence=(evidence,),
            )
        elif decision.outcome == DENIED and decision.rule in ("route", "argument"):
            key = (UNROUTABLE, decision.method + " " + decision.path, decision.reason)
            finding = Finding(
                UNROUTABLE,
                binding.name,
                decision.service or "-",
                f"{decision.method} {decision.host}{decision.path}",
                _unroutable_message(decision),
                where,
                "",
                _nearest(decision.reason),
                evidence=(evidence,),
            )
        elif decision.outcome == ALLOWED and step is not None and step.expect == DENIED:
            key = (UNEXPECTED_ALLOW, decision.operation, "")
            finding = Finding(
                UNEXPECTED_ALLOW,
                binding.name,
                decision.service,
                decision.operation,
                f"{decision.service}:{decision.operation} was allowed, but the flow expects "
                f"it to be denied (granted by {', '.join(decision.satisfied_by) or 'a public rule'})",
                where,
                "",
                evidence=(evidence,),
            )
        else:
            continue
        if key in found:
            previous = found[key]
            if evidence not in previous.evidence:
                found[key] = Finding(
                    previous.kind,
                    previous.binding,
                    previous.service,
                    previous.subject,
                    previous.message,
                    previous.location,
                    previous.instead,
                    previous.replacement,
                    (*previous.evidence, evidence),
                )
        else:
            found[key] = finding
    return list(found.values())


def _unroutable_message(decision: Decision) -> str:
    if decision.rule == "argument":
        return (
            f"{decision.service}:{decision.operation} cannot be judged: {decision.reason}; "
            "the vendor refuses the call whatever the grants (and the excess of the binding's "
            f"{decision.service} grants is not judged until it is fixed)"
        )
    return (
        f"{decision.reason}; the vendor would answer 404, and the binding's "
        f"{decision.service} grants are not judged until it routes"
    )


def _nearest(reason: str) -> tuple[str, ...]:
    """The nearest operations named in an unroutable call's reason."""
    _, found, listed = reason.partition("; nearest: ")
    return tuple(item.strip() for item in listed.split("; ")) if found and listed else ()


class _ServiceCheck:
    """The analysis of one binding on one service."""

    def __init__(
        self,
        workspace: Workspace,
        binding: Binding,
        service: Service,
        sources: list[GrantSource],
        decisions: list[Decision],
        steps: dict[tuple[str, int], Step],
    ) -> None:
        self.workspace = workspace
        self.binding = binding
        self.service = service
        self.sources = sources
        self.steps = steps
        self.meter = BreadthMeter(service)
        # What to suggest: never a scope the vendor replaced (legacy), unless nothing else will do.
        legacy = dict(service.legacy)
        self.everything = tuple(Grant(name) for name in service.universe.names)
        self.universe = tuple(grant for grant in self.everything if grant.scope not in legacy)
        self.granted = tuple(sorted({source.grant for source in sources}))
        operations = {op.id: op for op in (*service.operations, *service.statements)}
        allowed: dict[Demand, None] = {}  # distinct calls, in order: repeats add no information
        self.denied: dict[Demand, list[Decision]] = {}
        for decision in decisions:
            step = steps.get((decision.flow, decision.step))
            if step is not None and step.expect == DENIED:
                continue
            demand = Demand(
                operations[decision.operation], decision.resources, decision.requirement
            )
            if decision.rule == "token":
                # Refused for its credential, not its scopes: judge the scopes as the
                # sandbox would have, so the grant it needs is neither excessive nor lost.
                would_allow = self.meter.satisfied_alternative(self.granted, demand) is not None
                outcome = ALLOWED if would_allow else DENIED
            elif decision.rule == "scope":
                outcome = decision.outcome
            else:
                continue
            if outcome == ALLOWED:
                allowed[demand] = None
            else:
                self.denied.setdefault(demand, []).append(decision)
        self.allowed = list(allowed)
        self.used_by: dict[Grant, list[str]] = {}  # grant -> evidence of the calls it allowed
        self.used_for: dict[Grant, set[str]] = {}  # grant -> the operations it allowed
        for decision in decisions:
            for text in decision.satisfied_by if decision.allowed else ():
                self.used_for.setdefault(Grant.parse(text), set()).add(decision.operation)
                evidence = _evidence(decision, steps)[1]
                uses = self.used_by.setdefault(Grant.parse(text), [])
                if evidence not in uses:
                    uses.append(evidence)

    def run(self, *, judge_excess: bool = True) -> tuple[ServiceAnalysis, list[Finding]]:
        kept_cover = minimum_breadth_cover(self.meter, self.allowed, self.granted)
        kept = kept_cover.grants
        every_call = [*self.allowed, *self.denied]
        suggested_cover = self._cover(preferred(every_call))
        suggested = narrow(self.meter, suggested_cover.grants, preferred(every_call))
        added = self._additions(kept)
        findings = [*self._missing(kept, added)]
        if judge_excess:
            findings.extend([*self._excessive(kept), *self._over_broad(kept)])
        methods = {kept_cover.method, suggested_cover.method}
        target = (
            self._target(kept, added, suggested)
            if findings
            else tuple(sorted({*self.granted, *added}))
        )
        if not judge_excess:  # nothing may be dropped until every call can be judged
            target = tuple(dict.fromkeys((*self.granted, *added)))
        else:
            target = (*target, *self._automatic_beside(target))
        analysis = ServiceAnalysis(
            service=self.service.name,
            granted=tuple(str(g) for g in self.granted),
            kept=tuple(str(g) for g in kept),
            suggested=tuple(str(g) for g in suggested),
            granted_breadth=self.meter.breadth(self.granted),
            suggested_breadth=self.meter.breadth(suggested),
            method=GREEDY if GREEDY in methods else EXACT,
            model=self.service.model,
            needed_for=tuple(
                (
                    str(grant),
                    tuple(
                        sorted(
                            {
                                d.operation.id
                                for d in every_call
                                if self._serves(grant, suggested, d)
                            }
                        )
                    ),
                )
                for grant in suggested
            ),
            target=tuple(str(g) for g in target),
            used_for=tuple(
                (str(grant), tuple(sorted(self.used_for.get(grant, ())))) for grant in self.granted
            ),
        )
        return analysis, findings

    def _target(
        self, kept: tuple[Grant, ...], added: tuple[Grant, ...], suggested: tuple[Grant, ...]
    ) -> tuple[Grant, ...]:
        """The grants the binding should end with: every finding's fix applied at once.

        Each over-broad grant is replaced in the light of the others' replacements, and what
        is left redundant is dropped, until nothing changes; the result is kept only when the
        next run would find nothing to fix in it, else the suggested grants (which pass).
        """
        demands = [*self.allowed, *self.denied]
        target = tuple(sorted({*kept, *added}))
        for _ in range(MAX_FIX_ROUNDS):
            changed = False
            for grant in target:
                if grant not in target:
                    continue
                replacement, _ = self._replacement(grant, target, demands)
                if replacement:
                    rest = [g for g in target if g != grant]
                    target = tuple(sorted({*rest, *replacement}))
                    changed = True
            covered = minimum_breadth_cover(self.meter, demands, target).grants
            changed = changed or set(covered) != set(target)
            target = covered
            if not changed:
                break
        return target if self._settled(target, demands) else suggested

    def _settled(self, grants: tuple[Grant, ...], demands: Sequence[Demand]) -> bool:
        """True when a run under `grants` would report nothing missing, excessive or over-broad."""
        possible = [d for d in demands if self.meter.satisfied_alternative(self.everything, d)]
        if not self.meter.allows_all(grants, possible):
            return False
        if set(minimum_breadth_cover(self.meter, demands, grants).grants) != set(grants):
            return False
        return not any(self._replacement(grant, grants, demands)[0] for grant in grants)

    def _cover(self, demands: Sequence[Demand], fixed: Sequence[Grant] = ()) -> Cover:
        """The least broad cover from the current scopes; legacy ones only if it needs them."""
        cover = minimum_breadth_cover(self.meter, demands, self.universe, fixed=fixed)
        if cover.unsatisfiable and len(self.universe) < len(self.everything):
            return minimum_breadth_cover(self.meter, demands, self.everything, fixed=fixed)
        return cover

    def _serves(self, grant: Grant, grants: Sequence[Grant], demand: Demand) -> bool:
        """True when `grant` takes part in allowing `demand` under `grants`."""
        alternative = self.meter.satisfied_alternative(grants, demand)
        return bool(
            alternative
            and self.meter.closure(grant) & alternative
            and grant.matches_resources(demand.resource_map)
        )

    # -- finding builders -----------------------------------------------------------------

    def _additions(self, kept: tuple[Grant, ...]) -> tuple[Grant, ...]:
        """The least broad grants that, added to the kept ones, allow every denied call."""
        if not self.denied:
            return ()
        wanted = preferred(self.denied)
        additions = self._cover(wanted, kept)
        return narrow(self.meter, additions.grants, wanted, fixed=kept)

    def _missing(self, kept: tuple[Grant, ...], added: tuple[Grant, ...]) -> list[Finding]:
        by_operation: dict[Operation, list[Decision]] = {}
        for demand, decisions in sorted(self.denied.items(), key=lambda item: item[0].sort_key()):
            by_operation.setdefault(demand.operation, []).extend(decisions)
        findings = []
        for operation, decisions in by_operation.items():
            demands = [d for d in self.denied if d.operation == operation]
            needed = tuple(
                g for g in added if any(self._serves(g, (*kept, *added), d) for d in demands)
            )
            where, _ = _evidence(decisions[0], self.steps)
            evidence = tuple(dict.fromkeys(_evidence(d, self.steps)[1] for d in decisions))
            findings.append(
                Finding(
                    MISSING,
                    self.binding.name,
                    self.service.name,
                    operation.qualified,
                    f"{operation.qualified} was denied: it "
                    f"{_needs(operation, decisions, self.service.model)}"
                    + ("" if _unavailable(operation, decisions) else self._in_model())
                    + (f"; grant {', '.join(map(str, needed))}" if needed else "")
                    + ("" if needed else self._elsewhere(operation)),
                    where,
                    "",  # the binding's fixes, written once every service is analysed
                    tuple(str(g) for g in needed),
                    evidence,
                )
            )
        return findings

    def _automatic_beside(self, grants: Sequence[Grant]) -> tuple[Grant, ...]:
        """The held grants the vendor gives with one of `grants` whether they are listed or
        not (GitHub's metadata read): never excessive, so never dropped by a fix either."""
        automatic = set(self.service.automatic)
        return tuple(
            grant
            for grant in self.granted
            if grant.scope in automatic
            and grant not in grants
            and any(grant.scope in self.meter.closure(other) for other in grants)
        )

    def _excessive(self, kept: tuple[Grant, ...]) -> list[Finding]:
        findings = []
        beside = self._automatic_beside(kept)
        for grant in self.granted:
            if grant in kept or grant in beside:
                continue
            source = self._source(grant)
            if grant in self.used_by:
                why = f"every call it allowed is also allowed by {', '.join(map(str, kept))}"
            else:
                why = "no call of the binding's flows needed it"
            findings.append(
                Finding(
                    EXCESSIVE,
                    self.binding.name,
                    self.service.name,
                    str(grant),
                    f"`{grant}` (role `{source.role}`) is unused: {why}",
                    str(source.location),
                    "",
                    evidence=tuple(self.used_by.get(grant, ())),
                )
            )
        return findings

    def _replacement(
        self,
        grant: Grant,
        kept: Sequence[Grant],
        demands: Sequence[Demand],
        *,
        explain: bool = False,
    ) -> tuple[tuple[Grant, ...], str]:
        """What could replace `grant` among the `kept` grants for these calls, and why;
        nothing when the grant is as narrow as they allow."""
        rest = tuple(g for g in kept if g != grant)
        alternative = self._cover(preferred(demands), rest)
        if alternative.unsatisfiable:
            return (), ""
        replacement = narrow(self.meter, alternative.grants, preferred(demands), fixed=rest)
        if alternative.breadth < self.meter.breadth(kept) and not self._vendor_equal(
            grant, replacement
        ):
            if not explain:
                return replacement, ""
            return replacement, (
                f"{', '.join(map(str, replacement))} {'is' if len(replacement) == 1 else 'are'} "
                "enough for every call it is used for, "
                f"and {self._less(grant, rest, replacement)}"
            )
        if self.meter.order_key((*rest, *alternative.grants))[:2] < self.meter.order_key(kept)[
            :2
        ] and not self._vendor_equal(grant, alternative.grants):
            # The same operations of this service, but the grant implies scopes that
            # reach further (`drive` includes `spreadsheets`, and all of Drive besides).
            replacement = narrow(self.meter, alternative.grants, demands, fixed=rest)
            implied = sorted(self.meter.closure(grant) - {grant.scope})
            shown = first_and_more([f"`{s}`" for s in implied], IMPLIED_SHOWN)
            return replacement, (
                f"it implies {shown}; "
                f"{', '.join(map(str, replacement))} allows the same operations of "
                f"`{self.service.name}` and implies less"
            )
        beyond = self._beyond_least(grant, kept, demands)
        if beyond and grant not in replacement:
            # The vendor names the least privileged permission for these calls (Graph's
            # `least=` marks), and the grant is not it, whatever breadth says.
            return replacement, (
                f"the vendor names {', '.join(map(str, replacement))} least privileged for "
                f"{', '.join(beyond)}"
            )
        if not grant.narrowing:
            narrowed = narrow(self.meter, (grant,), demands, fixed=rest)
            if narrowed != (grant,):
                values = ", ".join(str(g) for g in narrowed)
                return narrowed, (
                    f"every call it allows touches the same resources; {values} "
                    f"{'is' if len(narrowed) == 1 else 'are'} narrowed to them"
                )
        return (), ""

    def _less(self, grant: Grant, rest: Sequence[Grant], replacement: Sequence[Grant]) -> str:
        """What the narrower grants stop allowing, in operations a reader can check."""
        return reach_change(self.service, (*rest, grant), (*rest, *replacement))

    def _over_broad(self, kept: tuple[Grant, ...]) -> list[Finding]:
        findings = []
        for grant in kept:
            replacement, why = self._replacement(grant, kept, self.allowed, explain=True)
            if not replacement:
                continue
            source = self._source(grant)
            findings.append(
                Finding(
                    OVER_BROAD,
                    self.binding.name,
                    self.service.name,
                    str(grant),
                    f"`{grant}` (role `{source.role}`) is broader than needed: {why}",
                    str(source.location),
                    "",
                    tuple(str(g) for g in replacement),
                    tuple(self.used_by.get(grant, ())),
                )
            )
        return findings

    def _elsewhere(self, operation: Operation) -> str:
        """For a call no grant of this model allows: the models that allow it, if any."""
        others = [
            model
            for model in self.service.models
            if model != self.service.model
            and any(
                op.id == operation.id and not op.requires.is_unavailable
                for op in self.workspace.service(self.service.name, model).operations
            )
        ]
        if not others:
            return "; no grant allows it, and no change of roles will"
        listed = " or ".join(f"`{model}`" for model in others)
        return (
            f"; no {self.service.model} grant allows it: the connector's credential must hold "
            f"{listed} grants (`models: {{{self.service.name}: {others[0]}}}`)"
        )

    def _vendor_equal(self, grant: Grant, replacement: Sequence[Grant]) -> bool:
        """True when the vendor puts `grant` and every grant of `replacement` in one sensitivity
        class (Google's restricted, say) and neither includes the other: the vendor does not
        rank them, so breadth alone does not make `grant` over-broad (gmail.compose and
        gmail.readonly for listing drafts)."""
        if self.service.models or any(demand.operation.least for demand in self.allowed):
            # Graph's privilegeLevel ranks, and its least= marks say which it prefers; only
            # classes such as Google's (non-sensitive, sensitive, restricted) leave a tie
            return False
        classes = dict(self.service.sensitivity)
        own = classes.get(grant.scope)
        if own is None or grant.narrowing or not replacement:
            return False
        for other in replacement:
            if other.narrowing or classes.get(other.scope) != own:
                return False
            if other.scope in self.meter.closure(grant) or grant.scope in self.meter.closure(other):
                return False
        return True

    def _beyond_least(
        self, grant: Grant, kept: Sequence[Grant], demands: Sequence[Demand]
    ) -> list[str]:
        """The operations `grant` serves where the vendor marks other permissions least
        privileged and `kept` holds none of them (empty: the grant is what the vendor says)."""
        found: list[str] = []
        for demand in demands:
            wanted = demand.preferring()
            if wanted is demand or not self._serves(grant, kept, demand):
                continue
            if self.meter.satisfied_alternative(kept, wanted) is None:
                found.append(demand.operation.qualified)
        return list(dict.fromkeys(found))

    def _in_model(self) -> str:
        service = self.service
        return (
            f" (in {service.name}'s `{service.model}` permission model)" if service.models else ""
        )

    # -- YAML to write instead -------------------------------------------------------------

    def _source(self, grant: Grant) -> GrantSource:
        return next(source for source in self.sources if source.grant == grant)


def _needs(operation: Operation, decisions: list[Decision], model: str) -> str:
    """What the denied calls of an operation needed (`requires X`, or `is not available to a
    `bot` token`): its requirement, or for a conditional one, each distinct evaluated
    requirement with the argument values that decided it."""
    seen = _seen(operation, decisions)
    return "; ".join(
        needs_text(requirement, model) + (f" (with {condition})" if condition else "")
        for requirement, condition in seen.items()
    )


def _seen(operation: Operation, decisions: list[Decision]) -> dict[Requirement, str]:
    seen: dict[Requirement, str] = {}
    if operation.conditional is not None:
        for decision in decisions:
            if decision.requirement is not None and decision.requirement not in seen:
                seen[decision.requirement] = decision.condition
    return seen or {operation.requires: ""}


def _unavailable(operation: Operation, decisions: list[Decision]) -> bool:
    """Every denied call of the operation needed what no grant of the model can hold."""
    return all(requirement.is_unavailable for requirement in _seen(operation, decisions))


def narrow(
    meter: BreadthMeter,
    grants: Sequence[Grant],
    demands: Sequence[Demand],
    fixed: Sequence[Grant] = (),
) -> tuple[Grant, ...]:
    """Narrow each unrestricted grant to the resources of the calls it serves, when they agree.

    A grant serving calls that all name one channel becomes `scope@channel=C1`;
    calls naming up to three values give one narrowed grant per value. The result
    is kept only when it still allows every demand.
    """
    everything = (*fixed, *grants)
    result: list[Grant] = []
    for grant in grants:
        if grant.narrowing:
            result.append(grant)
            continue
        served = []
        for demand in demands:
            alternative = meter.satisfied_alternative(everything, demand)
            if alternative and meter.closure(grant) & alternative:
                served.append(demand.resource_map)
        result.extend(_narrow_one(grant, served))
    narrowed = tuple(sorted(set(result)))
    if narrowed == tuple(sorted(grants)) or not meter.allows_all((*fixed, *narrowed), demands):
        return tuple(sorted(grants))
    return narrowed


def _narrow_one(grant: Grant, served: list[dict[str, str]]) -> list[Grant]:
    if not served:
        return [grant]
    common = set(served[0])
    for resources in served[1:]:
        common &= set(resources)
    values = {key: sorted({r[key] for r in served}) for key in sorted(common)}
    values = {key: found for key, found in values.items() if not any(_GLOB & set(v) for v in found)}
    single = tuple((key, found[0]) for key, found in values.items() if len(found) == 1)
    if single:
        return [Grant(grant.scope, single)]
    for key, found in values.items():
        if len(found) <= MAX_NARROWED_VALUES:
            return [Grant(grant.scope, ((key, value),)) for value in found]
    return [grant]


__all__ = ["BindingResult", "Cover", "ServiceAnalysis", "analyse_binding", "narrow"]
