"""The connector inventory and the need-to-know matrix (connector x scope -> operations)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from harness.messages import Decision
from harness.model import Workspace
from harness.report import Report
from harness.scopes import Grant
from harness.units import format_duration

NEEDED, UNUSED, MISSING = "needed", "unused", "missing"


@dataclass(frozen=True, slots=True)
class Cell:
    connector: str
    service: str
    scope: str
    state: str  # needed (granted and needed) | unused (granted only) | missing (needed only)
    operations: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Inventory:
    connectors: tuple[dict[str, Any], ...]
    cells: tuple[Cell, ...]

    def to_data(self) -> dict[str, Any]:
        return {
            "schema": "connector-harness/inventory",
            "version": 1,
            "connectors": list(self.connectors),
            "matrix": [
                {
                    "connector": c.connector,
                    "service": c.service,
                    "scope": c.scope,
                    "state": c.state,
                    "operations": list(c.operations),
                }
                for c in self.cells
            ],
        }


def build_inventory(workspace: Workspace, report: Report, decisions: list[Decision]) -> Inventory:
    """Every connector with its credential, bindings and operations, plus the matrix cells."""
    results = {result.binding: result for result in report.results}
    connectors = []
    cells: list[Cell] = []
    for connector in workspace.connectors:
        bindings = [
            b for b in workspace.bindings if b.connector == connector.name and b.name in results
        ]
        if not bindings and (report.env or report.binding):
            continue
        calls: dict[tuple[str, str], list[int]] = {}
        for decision in decisions:
            if decision.identity == connector.name and decision.operation:
                counts = calls.setdefault((decision.service, decision.operation), [0, 0])
                counts[0 if decision.allowed else 1] += 1
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
        cells.extend(_cells(connector.name, [results[b.name] for b in bindings]))
    return Inventory(tuple(connectors), tuple(cells))


def _cells(connector: str, results: list[Any]) -> list[Cell]:
    granted: set[tuple[str, str]] = set()
    needed: dict[tuple[str, str], set[str]] = {}
    for result in results:
        for service in result.services:
            granted.update((service.service, Grant.parse(g).scope) for g in service.granted)
            for grant, operations in service.needed_for:
                needed.setdefault((service.service, Grant.parse(grant).scope), set()).update(
                    operations
                )
    cells = []
    for service, scope in sorted(granted | set(needed)):
        operations = tuple(sorted(needed.get((service, scope), ())))
        if (service, scope) not in needed:
            state = UNUSED
        else:
            state = NEEDED if (service, scope) in granted else MISSING
        cells.append(Cell(connector, service, scope, state, operations))
    return cells
