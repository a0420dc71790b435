"""What a decision is: the authorization outcome of one call, and the rule that decided it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Final, Literal

from harness.calls import Request, Response
from harness.workspace.units import format_instant

Outcome = Literal["allowed", "denied", "blocked"]
ALLOWED: Final = "allowed"
DENIED: Final = "denied"
BLOCKED: Final = "blocked"  # the sandbox refused to let the call leave (egress)

# The rule that decided a call (harness.authorization says when each applies).
Rule = Literal[
    "route",
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
class Decision:
    """One authorization outcome for one call, and the rule that decided it."""

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

    @property
    def allowed(self) -> bool:
        return self.outcome == ALLOWED

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
        }


@dataclass(frozen=True, slots=True)
class Exchange:
    """One live call as the sandbox saw it, for recording and for assertion messages."""

    request: Request
    response: Response
    decision: Decision
