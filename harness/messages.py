"""HTTP requests, responses and authorization decisions: the values that cross a transport."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from harness.scopes import Requirement
from harness.units import format_instant


@dataclass(frozen=True, slots=True)
class Request:
    method: str
    url: str
    headers: dict[str, str] = field(default_factory=dict)
    json: Any = None
    content: bytes | None = None  # a body that is not JSON


@dataclass(frozen=True, slots=True)
class Response:
    status: int
    json: Any = None
    headers: tuple[tuple[str, str], ...] = ()
    blocked: bool = False  # the sandbox refused to let the call leave (egress)
    content: bytes | None = None  # a body that is not JSON

    def body_bytes(self) -> bytes:
        """The body as sent on the wire: raw content, else the JSON text, else nothing."""
        if self.content is not None:
            return self.content
        if self.json is None:
            return b""
        return json.dumps(self.json).encode()

    def header(self, name: str) -> str | None:
        lowered = name.lower()
        return next((value for key, value in self.headers if key.lower() == lowered), None)


@dataclass(frozen=True, slots=True)
class CallContext:
    """Where a call comes from when a recorded flow is replayed."""

    flow: str = ""
    step: int = -1
    step_name: str = ""
    recorded: Response | None = None


ALLOWED, DENIED, BLOCKED = "allowed", "denied", "blocked"


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
    outcome: str  # allowed | denied | blocked
    rule: str  # e.g. "scope", "public", "token", "egress.host", "egress.region", "route"
    rule_location: str  # file:line:column of the rule (the operation's requirement, ...)
    reason: str
    satisfied_by: tuple[str, ...] = ()
    resources: tuple[tuple[str, str], ...] = ()
    status: int = 0
    flow: str = ""
    step: int = -1
    step_name: str = ""
    model: str = ""  # the permission model the grants were judged in ("": the only one)
    requirement: Requirement | None = None  # what this call needed (conditions evaluated)
    condition: str = ""  # the argument values and resources that decided the requirement

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
            "model": self.model,
            "requirement": None if self.requirement is None else self.requirement.to_data(),
            "condition": self.condition,
        }
