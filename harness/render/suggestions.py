"""The text of what the analysis suggests: a role's `grants:` to write instead, and the
least-privilege role of a binding, with GRANT statements for its PostgreSQL services.

Findings and results carry this text (the JSON report's `instead` and `suggested_role`),
so the analysis writes it through these functions; they read only the model.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence

from harness.breadth import operations_allowed
from harness.model import Binding, Role, Service
from harness.scopes import Grant
from harness.sql import grant_statements
from harness.yaml_text import comment, scalar


def yaml_scalar(text: str) -> str:
    """`text` as a YAML flow scalar: plain when it can be, else double-quoted by the emitter."""
    return scalar(text)


def grants_yaml(role: Role, service: str, grants: Sequence[Grant]) -> str:
    """The `grants:` of `role` on `service` as they should read, pointing at where they are."""
    header = comment(f"role `{role.name}` at {role.grants_location}") + "\ngrants:\n"
    if not grants:
        return header + "  " + comment(f"remove the `{service}:` entry")
    listing = ", ".join(yaml_scalar(str(g)) for g in grants)
    return header + f"  {yaml_scalar(service)}: [{listing}]"


def suggested_role(
    binding: Binding,
    suggested: Sequence[tuple[str, tuple[str, ...]]],
    postgres: Collection[str] = (),
) -> str:
    """The least-privilege role of `binding` (service -> suggested grants) as YAML, then the
    suggested grants on each `postgres` service as minimal GRANT statements (YAML comments)."""
    name = f"{binding.connector}-{binding.env}-least-privilege"
    lines = [
        "roles:",
        f"  - name: {scalar(name, flow=False)}",
        "    description: "
        + scalar(f"Least privilege for {binding.name}, suggested by connector-harness", flow=False),
        "    grants:",
    ]
    granted = [(service, grants) for service, grants in suggested if grants]
    if not granted:
        lines[-1] = "    grants: {}"
    for service, grants in granted:
        listing = ", ".join(yaml_scalar(grant) for grant in grants)
        lines.append(f"      {yaml_scalar(service)}: [{listing}]")
    sql = []
    for service, grants in granted:
        if service in postgres:
            sql.append(comment(f"{service} as SQL:"))
            sql.extend(comment(f"  {line}") for line in grant_statements(name, grants))
    return "\n".join(lines) + ("\n" + "\n".join(sql) if sql else "")


MAX_NAMED_OPERATIONS = 3  # operations named when a change of grants is explained


def first_and_more(names: Sequence[str], shown: int) -> str:
    """The first `shown` of `names` joined with commas, then "and N more" for the rest: a
    note stays one line however many names it has."""
    text = ", ".join(names[:shown])
    rest = len(names) - shown
    return f"{text} and {rest:,} more" if rest > 0 else text


def reach_change(service: Service, before: Sequence[Grant], after: Sequence[Grant]) -> str:
    """What changes when `before` becomes `after`, in operations a reader can look up (the
    riskiest first): "allows 2 fewer operations, namely DELETE /v1/contacts/{id}, ...".
    """
    old, new = operations_allowed(service, before), operations_allowed(service, after)
    lost = sorted(old.keys() - new.keys(), key=lambda op: (-old[op], op))
    gained = sorted(new.keys() - old.keys(), key=lambda op: (-new[op], op))
    parts = [_named("fewer", lost)] if lost else []
    if gained:
        parts.append(_named("more", gained))
    if parts:
        return " and ".join(parts)
    if set(before) == set(after):
        return "allows the same operations, unchanged"
    if any(g.narrowing for g in after if g not in before):
        return "allows the same operations, narrowed to the resources the calls touch"
    return "allows the same operations in fewer cases or at a lower sensitivity"


def _named(change: str, operations: list[str]) -> str:
    shown = ", ".join(operations[:MAX_NAMED_OPERATIONS])
    word = "operation" if len(operations) == 1 else "operations"
    lead = "among them" if len(operations) > MAX_NAMED_OPERATIONS else "namely"
    return f"allows {len(operations)} {change} {word}, {lead} {shown}"
