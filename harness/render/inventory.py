"""Renderers for the inventory: text, markdown, csv and json."""

from __future__ import annotations

import csv
import io

from harness.inventory import EXCESSIVE, INSTEAD, MISSING, NEEDED, OVER_BROAD, Cell, Inventory
from harness.render.jsonfmt import render_json
from harness.render.style import Style, table

_MARK = {
    NEEDED: "need",
    OVER_BROAD: "broad",
    EXCESSIVE: "unused",
    MISSING: "MISSING",
    INSTEAD: "use",
}
_COLOUR = {
    NEEDED: "green",
    OVER_BROAD: "yellow",
    EXCESSIVE: "yellow",
    MISSING: "red",
    INSTEAD: "cyan",
}
_LEGEND = (
    "need: granted and needed; broad: granted, a narrower scope would do; unused: granted, "
    "never needed; MISSING: needed, not granted; use: the narrower scope to grant instead"
)

Grid = tuple[list[str], list[tuple[str, str]], dict[tuple[str, str, str], Cell]]


def _grid(inventory: Inventory) -> Grid:
    """Columns (bindings), rows (service, scope) and the cell at each crossing."""
    bindings = sorted({cell.binding for cell in inventory.cells})
    scopes = sorted({(cell.service, cell.scope) for cell in inventory.cells})
    cells = {(cell.binding, cell.service, cell.scope): cell for cell in inventory.cells}
    return bindings, scopes, cells


def render_inventory_text(inventory: Inventory, style: Style) -> str:
    lines = [f"Connectors ({len(inventory.connectors)})", ""]
    rows = [["connector", "kind", "owner", "credential", "lifetime", "rotation", "bindings"]]
    for c in inventory.connectors:
        credential = c["credential"]
        verdicts = ", ".join(f"{b['env']}:{b['verdict']}" for b in c["bindings"]) or "-"
        rows.append(
            [
                c["name"],
                c["kind"],
                c["owner"],
                credential["type"],
                credential["lifetime"],
                credential["rotation"] or "-",
                verdicts,
            ]
        )
    lines += table(rows, indent="  ")
    lines += ["", "Need-to-know matrix (binding x scope)", f"  {_LEGEND}", ""]
    bindings, scopes, cells = _grid(inventory)
    rows = [["service", "scope", *bindings]]
    for service, scope in scopes:
        row = [service, scope]
        for binding in bindings:
            cell = cells.get((binding, service, scope))
            row.append(style(_MARK[cell.state], _COLOUR[cell.state]) if cell else ".")
        rows.append(row)
    lines += table(rows, indent="  ")
    lines += ["", "Operations behind each cell", ""]
    rows = [
        [
            cell.binding,
            cell.service,
            cell.scope,
            _MARK[cell.state],
            ", ".join(cell.operations) or "-",
        ]
        for cell in inventory.cells
    ]
    lines += table(rows, indent="  ")
    counts = {state: sum(1 for cell in inventory.cells if cell.state == state) for state in _MARK}
    lines += [
        "",
        f"{len(inventory.connectors)} connectors: {counts[MISSING]} missing, "
        f"{counts[EXCESSIVE]} unused and {counts[OVER_BROAD]} over-broad grants. "
        "Next: `connector-harness check` shows the fix for each.",
    ]
    return "\n".join(lines) + "\n"


def render_inventory_markdown(inventory: Inventory) -> str:
    lines = [
        "# Connector inventory",
        "",
        "| connector | kind | owner | credential | lifetime | bindings |",
        "|---|---|---|---|---|---|",
    ]
    for c in inventory.connectors:
        verdicts = ", ".join(f"{b['env']}: {b['verdict']}" for b in c["bindings"]) or "-"
        lines.append(
            f"| `{c['name']}` | {c['kind']} | {c['owner']} | {c['credential']['type']} "
            f"| {c['credential']['lifetime']} | {verdicts} |"
        )
    bindings, scopes, cells = _grid(inventory)
    lines += [
        "",
        "## Need-to-know matrix",
        "",
        _LEGEND,
        "",
        "| service | scope | " + " | ".join(f"`{b}`" for b in bindings) + " |",
        "|---|---|" + "---|" * len(bindings),
    ]
    for service, scope in scopes:
        marks = []
        for binding in bindings:
            cell = cells.get((binding, service, scope))
            if cell is None:
                marks.append("")
            else:
                operations = f": {', '.join(cell.operations)}" if cell.operations else ""
                marks.append(_MARK[cell.state] + operations)
        lines.append(f"| {service} | `{scope}` | " + " | ".join(marks) + " |")
    return "\n".join(lines) + "\n"


def render_inventory_csv(inventory: Inventory) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(["binding", "service", "scope", "state", "operations"])
    for cell in inventory.cells:
        writer.writerow(
            [cell.binding, cell.service, cell.scope, cell.state, " ".join(cell.operations)]
        )
    return buffer.getvalue()


def render_inventory_json(inventory: Inventory) -> str:
    return render_json(inventory.to_data())
