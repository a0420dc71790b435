"""The connector inventory and the need-to-know matrix (connector x scope -> operations)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from harness.analysis import BindingResult
from harness.decisions import DENIED, Decision
from harness.model import Binding, Workspace
from harness.report import Report
from harness.scopes import Grant
from harness.workspace.units import format_duration

# Cell states: what a binding holds of one scope, compared with what its flows need.
NEEDED = "needed"  # granted, kept, and part of the suggested role
OVER_BROAD = "over-broad"  # granted and used, but a narrower scope would do
EXCESSIVE = "excessive"  # granted, never needed
MISSING = "missing"  # needed by a denied call, not granted
INSTEAD = "instead"  # not granted; the narrower scope to use instead of an over-broad one
STATES = (NEEDED, OVER_BROAD, EXCESSIVE, MISSING, INSTEAD)


@dataclass(frozen=True, slots=True)
class Cell:
    binding: str
    service: str
    scope: str
    state: str
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
                    "binding": c.binding,
                    "service": c.service,
                    "scope": c.scope,
                    "state": c.state,
                    "operations": list(c.operations),
                }
                for c in self.cells
            ],
        }


def build_inventory(
    workspace: Workspace, report: Report, decisions: Sequence[Decision]
) -> Inventory:
    """Every connector with its credential, bindings and operations, plus the matrix cells."""
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
    cells: list[Cell] = []
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
        for binding in bindings:
            cells.extend(_cells(results[binding.name], by_binding.get(binding.name, [])))
    return Inventory(tuple(connectors), tuple(cells))


def _cells(result: BindingResult, decisions: list[Decision]) -> list[Cell]:
    """One cell per scope the binding holds or needs, with the operations behind it."""
    cells = []
    for service in result.services:
        granted = {Grant.parse(g).scope for g in service.granted}
        kept = {Grant.parse(g).scope for g in service.kept}
        suggested: dict[str, set[str]] = {}
        for grant, needed_for in service.needed_for:
            suggested.setdefault(Grant.parse(grant).scope, set()).update(needed_for)
        served: dict[str, set[str]] = {}
        denied: set[str] = set()
        for decision in decisions:
            if decision.service != service.service:
                continue
            if decision.outcome == DENIED and decision.rule == "scope":
                denied.add(decision.operation)
            for text in decision.satisfied_by if decision.allowed else ():
                served.setdefault(Grant.parse(text).scope, set()).add(decision.operation)
        operations: set[str]
        for scope in sorted(granted | set(suggested)):
            if scope in granted:
                state = (
                    EXCESSIVE
                    if scope not in kept
                    else (NEEDED if scope in suggested else OVER_BROAD)
                )
                operations = served.get(scope, set())
            else:
                operations = suggested[scope]
                state = MISSING if operations & denied else INSTEAD
            cells.append(
                Cell(result.binding, service.service, scope, state, tuple(sorted(operations)))
            )
    return cells
