"""The text of what the analysis suggests: a role's `grants:` to write instead, and the
least-privilege role of a binding, with GRANT statements for its PostgreSQL services.

Findings and results carry this text (the JSON report's `instead` and `suggested_role`),
so the analysis writes it through these functions; they read only the model.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence

from harness.model import Binding, Role
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
