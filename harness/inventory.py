"""The connector inventory and the need-to-know matrix (connector x scope -> operations)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from harness.cells import Cell, report_cells
from harness.decisions import Decision
from harness.model import Binding, Workspace
from harness.report import Report
from harness.workspace.units import format_duration

# 2: cells name the grant as roles write it (`grant`, narrowing included), in the states of
# harness.cells; 1 named the scope alone and derived its states apart from the findings.
INVENTORY_VERSION = 2


@dataclass(frozen=True, slots=True)
class Inventory:
    connectors: tuple[dict[str, Any], ...]
    cells: tuple[Cell, ...]

    def to_data(self) -> dict[str, Any]:
        return {
            "schema": "connector-harness/inventory",
            "version": INVENTORY_VERSION,
            "connectors": list(self.connectors),
            "matrix": [cell.to_data() for cell in self.cells],
        }


def build_inventory(
    workspace: Workspace, report: Report, decisions: Sequence[Decision]
) -> Inventory:
    """Every connector with its credential, bindings and operations, plus the matrix cells
    (harness.cells: read from the report's findings, as every other view reads them)."""
    results = {result.binding: result for result in report.results}
    # One pass over the decisions, grouped by connector and by binding (a pass per
    # connector made a large workspace's matrix quadratic).
    by_identity: dict[str, dict[tuple[str, str], list[int]]] = {}
    by_binding: dict[str, list[Decision]] = {}
    for decision in decisions:
        by_binding.setdefault(decision.binding, []).append(decision)
        if decision.operation:
            calls = by_identity.setdefault(decision.identity, {})
            counts = calls.setdefault((decision.service, decision.operation), [0, 0])
            counts[0 if decision.allowed else 1] += 1
    of_connector: dict[str, list[Binding]] = {}
    for binding in workspace.bindings:
        if binding.name in results:
            of_connector.setdefault(binding.connector, []).append(binding)
    connectors = []
    for connector in workspace.connectors:
        bindings = of_connector.get(connector.name, [])
        if not bindings and (report.env or report.binding):
            continue
        calls = by_identity.get(connector.name, {})
        credential = connector.credential
        connectors.append(
            {
                "name": connector.name,
                "kind": connector.kind,
                "owner": connector.owner,
                "description": connector.description,
                "credential": {
                    "type": credential.type,
                    "lifetime": format_duration(credential.lifetime_seconds),
                    "rotation": format_duration(credential.rotation_seconds)
                    if credential.rotation_seconds
                    else None,
                    "audience": list(credential.audience),
                },
                "allowed_hosts": list(connector.allowed_hosts),
                "regions": list(connector.regions),
                "bindings": [
                    {
                        "env": b.env,
                        "roles": list(b.roles),
                        "expires": b.expires_at.isoformat() if b.expires_at else None,
                        "verdict": "pass" if results[b.name].passed else "fail",
                    }
                    for b in bindings
                ],
                "operations": [
                    {
                        "service": service,
                        "operation": operation,
                        "allowed": counts[0],
                        "denied": counts[1],
                    }
                    for (service, operation), counts in sorted(calls.items())
                ],
            }
        )
    return Inventory(tuple(connectors), report_cells(report.results))
