"""What a decision is: the authorization outcome of one call, and the rule that decided it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Final, Literal, NamedTuple

from harness.calls import Request, Response
from harness.scopes import Requirement
from harness.workspace.units import format_instant

Outcome = Literal["allowed", "denied", "blocked"]
ALLOWED: Final = "allowed"
DENIED: Final = "denied"
BLOCKED: Final = "blocked"  # the sandbox refused to let the call leave (egress)

# The rule that decided a call (harness.authorization says when each applies).
Rule = Literal[
    "route",
    "argument",
    "token",
    "egress.host",
    "egress.region",
    "public",
    "scope",
    "database",
    # a way out that is not an HTTP call, by its channel (harness.egress_guard)
    "egress.dns",
    "egress.tcp",
    "egress.udp",
    "egress.raw",
    "egress.process",
]


@dataclass(frozen=True, slots=True)
class Judgement:
    """What a call was judged by: its requirement with conditions evaluated, the argument
    values and resource classes that decided it, and the permission model of the grants.
    One object per operation serves every call of an operation without conditions."""

    requirement: Requirement
    condition: str = ""
    model: str = ""  # "": the service has one permission model


class Decision(NamedTuple):
    """One authorization outcome for one call, and the rule that decided it.

    A NamedTuple rather than a frozen dataclass, as authorization's Verdict: one is built for
    every call, and a frozen dataclass sets each of its 22 fields through
    `object.__setattr__` (2.1 us against 0.2 us for the tuple; bench/README.md)."""

    sequence: int
    time: int  # sandbox clock, seconds since the epoch
    identity: str
    binding: str
    environment: str
    service: str
    operation: str
    method: str
    host: str
    path: str
    scopes: tuple[str, ...]  # the grants presented for this service
    outcome: Outcome
    rule: Rule
    rule_location: str  # file:line:column of the rule (the operation's requirement, ...)
    reason: str
    satisfied_by: tuple[str, ...] = ()
    resources: tuple[tuple[str, str], ...] = ()
    status: int = 0
    flow: str = ""
    step: int = -1
    step_name: str = ""
    judged: Judgement | None = None  # None: not judged by a requirement (egress, no route)

    @property
    def allowed(self) -> bool:
        return self.outcome == ALLOWED

    @property
    def requirement(self) -> Requirement | None:
        return None if self.judged is None else self.judged.requirement

    @property
    def condition(self) -> str:
        return "" if self.judged is None else self.judged.condition

    @property
    def model(self) -> str:
        return "" if self.judged is None else self.judged.model

    def to_data(self) -> dict[str, Any]:
        return {
            "sequence": self.sequence,
            "time": format_instant(datetime.fromtimestamp(self.time, UTC)),
            "identity": self.identity,
            "binding": self.binding,
            "environment": self.environment,
            "service": self.service,
            "operation": self.operation,
            "method": self.method,
            "host": self.host,
            "path": self.path,
            "scopes": list(self.scopes),
            "outcome": self.outcome,
            "rule": self.rule,
            "rule_location": self.rule_location,
            "reason": self.reason,
            "satisfied_by": list(self.satisfied_by),
            "resources": dict(self.resources),
            "status": self.status,
            "flow": self.flow,
            "step": self.step,
            "step_name": self.step_name,
            "model": self.model,
            # null: no requirement judged the call (not routed, blocked), or none can: the
            # operation is not available in the caller's permission model (see `reason`)
            "requirement": (
                None
                if self.requirement is None or self.requirement.is_unavailable
                else self.requirement.to_data()
            ),
            "condition": self.condition,
        }


@dataclass(frozen=True, slots=True)
class Exchange:
    """One live call as the sandbox saw it, for recording and for assertion messages."""

    request: Request
    response: Response
    decision: Decision
