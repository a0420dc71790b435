"""Findings: what the analysis reports about a binding, each pointing at a file and line."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from typing import Any, Final, Literal, get_args

# What a finding is about, in report order (a workspace's `fail_on` lists them too).
FindingKind = Literal[
    "missing",
    "excessive",
    "over-broad",
    "egress",
    "cross-region",
    "credential",
    "unexpected-allow",
    "escalation",
    "token-lifetime",
    "volume",
    "waiver",
    "unroutable",
]

MISSING: Final = "missing"
EXCESSIVE: Final = "excessive"
OVER_BROAD: Final = "over-broad"
EGRESS: Final = "egress"
CROSS_REGION: Final = "cross-region"  # a call to a host of a region the connector may not use
CREDENTIAL: Final = "credential"
UNEXPECTED_ALLOW: Final = "unexpected-allow"
ESCALATION: Final = "escalation"  # a grant that is not in the binding's baseline
TOKEN_LIFETIME: Final = "token-lifetime"  # a flow passes only because tokens outlive the policy
VOLUME: Final = "volume"  # a flow moves more calls or data than the policy expects
WAIVER: Final = "waiver"  # a waiver that expired or was approved by the connector's own owner
UNROUTABLE: Final = "unroutable"  # a call no operation of the host's service accepts as sent

# A waiver as the gate judges it on the day of the check.
WaiverState = Literal["active", "expired", "rejected"]

KINDS: tuple[FindingKind, ...] = get_args(FindingKind)  # in report order
ALERT_KINDS: tuple[FindingKind, ...] = (ESCALATION, EGRESS, CROSS_REGION, VOLUME)
KIND_WIDTH = max(map(len, KINDS)) + 2  # the kind column of text reports, kinds aligned


_LOCATION = re.compile(r"(?P<file>.+?)(?::(?P<line>\d+))?(?::(?P<column>\d+))?")


def split_location(location: str) -> tuple[str, int, int]:
    """`file:line:column` -> (file, line, column); a missing line or column is 0."""
    match = _LOCATION.fullmatch(location)
    if match is None:
        return "", 0, 0
    return match["file"], int(match["line"] or 0), int(match["column"] or 0)


def location_data(location: str) -> dict[str, Any]:
    """A location as the JSON report gives it: the text, then `path`, `line` and `column`
    as fields (line and column null when the location has none)."""
    path, line, column = split_location(location)
    return {"location": location, "path": path, "line": line or None, "column": column or None}


@dataclass(frozen=True, slots=True)
class Finding:
    """One problem with one binding, where it is written, and what to write instead."""

    kind: FindingKind
    binding: str
    service: str
    subject: str  # the grant or the operation it concerns
    message: str
    location: str  # file:line:column of the grant or step
    instead: str = ""  # YAML to write instead
    replacement: tuple[str, ...] = ()
    evidence: tuple[str, ...] = ()  # flow/step references that show it
    waived_by: str = ""  # why it does not fail the gate: an active waiver, or the baseline

    def sort_key(self) -> tuple[int, str, str, str]:
        return (KINDS.index(self.kind), self.service, self.subject, self.location)

    def to_data(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "binding": self.binding,
            "service": self.service,
            "subject": self.subject,
            "message": self.message,
            **location_data(self.location),
            "instead": self.instead,
            "replacement": list(self.replacement),
            "evidence": list(self.evidence),
            "waived_by": self.waived_by,
        }


@dataclass(frozen=True, slots=True)
class WaiverStatus:
    """A waiver of a binding as the gate judged it on the day of the check."""

    binding: str
    ticket: str
    grants: tuple[str, ...]  # service:grant
    reason: str
    owner: str
    approved_by: str
    expires: date
    days_left: int
    status: WaiverState
    location: str

    def to_data(self) -> dict[str, Any]:
        return {
            "binding": self.binding,
            "ticket": self.ticket,
            "grants": list(self.grants),
            "reason": self.reason,
            "owner": self.owner,
            "approved_by": self.approved_by,
            "expires": self.expires.isoformat(),
            "days_left": self.days_left,
            "status": self.status,
            **location_data(self.location),
        }
