"""Findings: what the analysis reports about a binding, each pointing at a file and line."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

MISSING = "missing"
EXCESSIVE = "excessive"
OVER_BROAD = "over-broad"
EGRESS = "egress"
CREDENTIAL = "credential"
UNEXPECTED_ALLOW = "unexpected-allow"

KINDS = (MISSING, EXCESSIVE, OVER_BROAD, EGRESS, CREDENTIAL, UNEXPECTED_ALLOW)


@dataclass(frozen=True, slots=True)
class Finding:
    """One problem with one binding, where it is written, and what to write instead."""

    kind: str
    binding: str
    service: str
    subject: str  # the grant or the operation it concerns
    message: str
    location: str  # file:line:column of the grant or step
    instead: str = ""  # YAML to write instead
    replacement: tuple[str, ...] = ()
    evidence: tuple[str, ...] = ()  # flow/step references that show it

    def sort_key(self) -> tuple[int, str, str, str]:
        return (KINDS.index(self.kind), self.service, self.subject, self.location)

    def to_data(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "binding": self.binding,
            "service": self.service,
            "subject": self.subject,
            "message": self.message,
            "location": self.location,
            "instead": self.instead,
            "replacement": list(self.replacement),
            "evidence": list(self.evidence),
        }
