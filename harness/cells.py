"""The need-to-know matrix: one cell per binding and grant, its state read from the findings.

Every view that shows a binding x grant cell (the inventory in every format, the HTML
matrix, the JSON and Markdown reports) reads these cells, so no view can call a grant
`needed` that the check calls over-broad. The states, in the order views list them:

needed      granted, and the check reports nothing against it
over-broad  granted; an over-broad finding names narrower grants to hold instead
excessive   granted; an excessive finding says no call needed it
unjudged    granted; a call on the service could not be judged (an unroutable finding),
            so neither is the excess of the binding's grants on it
missing     not granted; a missing finding names it as the grant a denied call needs
instead     not granted; an over-broad finding names it as the narrower grant to hold
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Final, Literal, get_args

from harness.analysis import BindingResult
from harness.findings import EXCESSIVE, MISSING, OVER_BROAD, UNROUTABLE

CellState = Literal["needed", "over-broad", "excessive", "unjudged", "missing", "instead"]
NEEDED: Final = "needed"
OVER_BROAD_CELL: Final = "over-broad"
EXCESSIVE_CELL: Final = "excessive"
UNJUDGED: Final = "unjudged"
MISSING_CELL: Final = "missing"
INSTEAD: Final = "instead"
STATES: tuple[CellState, ...] = get_args(CellState)

# state -> what it means, for legends (docs/report.md says the same)
MEANINGS: dict[str, str] = {
    NEEDED: "granted, and the check reports nothing against it",
    OVER_BROAD_CELL: "granted; a narrower grant would do",
    EXCESSIVE_CELL: "granted; no call needed it",
    UNJUDGED: "granted; not judged while a call on the service cannot be routed",
    MISSING_CELL: "not granted; a denied call needs it",
    INSTEAD: "not granted; the narrower grant to hold instead",
}


@dataclass(frozen=True, slots=True)
class Cell:
    """What one binding holds, or should hold, of one grant on one service."""

    binding: str
    service: str
    grant: str  # as roles write it: `scope` or `scope@key=value`
    state: CellState
    operations: tuple[str, ...]  # the operations behind it: allowed, denied or to be served

    def to_data(self) -> dict[str, object]:
        return {
            "binding": self.binding,
            "service": self.service,
            "grant": self.grant,
            "state": self.state,
            "operations": list(self.operations),
        }


def binding_cells(result: BindingResult) -> tuple[Cell, ...]:
    """The cells of one binding, from its findings and the analysis of each service."""
    cells: list[Cell] = []
    for analysis in result.services:
        service = analysis.service
        findings = [f for f in result.findings if f.service == service]
        by_subject = {(f.kind, f.subject): f for f in findings}
        unjudged = any(f.kind == UNROUTABLE for f in findings)
        used_for = dict(analysis.used_for)
        states: dict[str, tuple[CellState, set[str]]] = {}
        for grant in analysis.granted:
            operations = set(used_for.get(grant, ()))
            if (EXCESSIVE, grant) in by_subject:
                states[grant] = (EXCESSIVE_CELL, operations)
            elif (OVER_BROAD, grant) in by_subject:
                states[grant] = (OVER_BROAD_CELL, operations)
            else:
                states[grant] = (UNJUDGED if unjudged else NEEDED, operations)
        for finding in findings:
            if finding.kind == MISSING:
                operation = finding.subject.partition(":")[2] or finding.subject
                _add(states, finding.replacement, MISSING_CELL, {operation})
        for finding in findings:
            if finding.kind == OVER_BROAD:
                _add(states, finding.replacement, INSTEAD, set(used_for.get(finding.subject, ())))
        cells.extend(
            Cell(result.binding, service, grant, state, tuple(sorted(operations)))
            for grant, (state, operations) in sorted(states.items())
        )
    return tuple(cells)


def _add(
    states: dict[str, tuple[CellState, set[str]]],
    grants: Iterable[str],
    state: CellState,
    operations: set[str],
) -> None:
    for grant in grants:
        found = states.get(grant)
        if found is None:
            states[grant] = (state, set(operations))
        elif found[0] == state:
            found[1].update(operations)


def report_cells(results: Iterable[BindingResult]) -> tuple[Cell, ...]:
    """Every binding's cells, in report order."""
    return tuple(cell for result in results for cell in binding_cells(result))


__all__ = ["STATES", "Cell", "CellState", "binding_cells", "report_cells"]
