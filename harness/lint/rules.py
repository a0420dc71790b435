"""The lint rules: each with a stable id (`CH101`), a name, a severity, what it catches
and the fix; and the LintFinding a broken rule gives."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Final, Literal

from harness.errors import Location

Severity = Literal["error", "warning"]  # an error fails `connector-harness lint`
ERROR: Final = "error"
WARNING: Final = "warning"


@dataclass(frozen=True, slots=True)
class Rule:
    """One lint rule: its stable id, its name, how severe it is, what it catches and the fix."""

    id: str
    name: str
    severity: Severity
    what: str
    fix: str


RULES: tuple[Rule, ...] = (
    Rule(
        "CH100",
        "bad-disable-comment",
        ERROR,
        "a `# connector-harness: disable=...` comment without a reason, with an unknown "
        "rule id, or not on a line of its own",
        'write `# connector-harness: disable=CH107 reason="why it is safe here"` on its own line',
    ),
    Rule(
        "CH101",
        "system-account-wildcard-grant",
        ERROR,
        "a wildcard grant (`storage.*`) or one implying every scope of its service "
        "(`crm.admin`) held by a service account, bot, API key or OAuth app",
        "grant the specific scopes the flows need; `connector-harness check` prints them",
    ),
    Rule(
        "CH102",
        "long-lived-credential",
        ERROR,
        "a credential lifetime above `policy.max_credential_lifetime` (24h), a rotation above "
        "`policy.max_rotation` (90d), or no rotation for an api-key or service-account-key",
        "use short-lived tokens and set `credential.rotation` within the policy",
    ),
    Rule(
        "CH103",
        "prod-binding-without-expiry",
        WARNING,
        "a binding in a `policy.prod_environments` environment (prod) without `expires:`",
        "add `expires: YYYY-MM-DD`, the date by which the access must be re-approved",
    ),
    Rule(
        "CH104",
        "missing-owner",
        ERROR,
        "a role or waiver without an owner, or a connector, role or waiver whose owner "
        "is a placeholder (`TODO`, `tbd`, empty)",
        "set `owner:` to the accountable team or person",
    ),
    Rule(
        "CH105",
        "review-overdue",
        WARNING,
        "a role whose `last_reviewed` + `review_every` is before today, or that has "
        "`review_every` but no `last_reviewed`",
        "review the role's grants, then set `last_reviewed:` to the review date",
    ),
    Rule(
        "CH106",
        "separation-of-duties",
        ERROR,
        "one identity in both `policy.duties.deploy` and `policy.duties.approve`, or a binding "
        "holding two scopes of a `policy.conflicting_scopes` entry (implication counts)",
        "split the duties between different identities or bindings",
    ),
    Rule(
        "CH107",
        "secret-in-workspace",
        ERROR,
        "a known token format or a high-entropy string in a workspace file or sidecar body",
        "delete it, rotate the credential, and record with secrets scrubbed to `<secret-N>`",
    ),
    Rule(
        "CH108",
        "untested-prod-binding",
        WARNING,
        "a prod binding whose connector has no flow, so nothing proves its least privilege",
        "record a flow for the connector, or remove the binding",
    ),
    Rule(
        "CH109",
        "legacy-scope",
        WARNING,
        "a binding holds a scope its service marks as legacy (Slack's pre-granular "
        "`chat:write:bot`), which the vendor has replaced",
        "grant the current scope the warning names instead",
    ),
    Rule(
        "CH110",
        "unconfirmed-value",
        WARNING,
        "a value in a policy document marked `# TODO` (import-n8n marks each connector's "
        "lifetime so until someone confirms it)",
        "check the value, correct it if needed, and delete the `# TODO` mark",
    ),
)
RULES_BY_ID = {rule.id: rule for rule in RULES}
UNDISABLEABLE = frozenset({"CH100"})


@dataclass(frozen=True, slots=True)
class LintFinding:
    """One rule broken at one place, with what to do about it."""

    rule: str
    name: str
    severity: Severity
    location: Location
    message: str
    fix: str

    def sort_key(self) -> tuple[str, int, int, str, str]:
        where = self.location
        return (where.file, where.line, where.column, self.rule, self.message)

    def to_data(self) -> dict[str, Any]:
        return {
            "rule": self.rule,
            "name": self.name,
            "severity": self.severity,
            "location": str(self.location),
            "file": self.location.file,
            "line": self.location.line,
            "column": self.location.column,
            "message": self.message,
            "fix": self.fix,
        }


def finding(rule_id: str, location: Location, message: str, fix: str) -> LintFinding:
    rule = RULES_BY_ID[rule_id]
    return LintFinding(rule.id, rule.name, rule.severity, location, message, fix)
