"""Renderers for the inventory: text, markdown, csv and json."""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence

from harness.cells import (
    EXCESSIVE_CELL,
    INSTEAD,
    MEANINGS,
    MISSING_CELL,
    NEEDED,
    OVER_BROAD_CELL,
    STATES,
    UNJUDGED,
    Cell,
)
from harness.inventory import Inventory
from harness.render.jsonfmt import render_json
from harness.render.style import Style, plural, table

_COLOUR = {
    NEEDED: "green",
    OVER_BROAD_CELL: "yellow",
    EXCESSIVE_CELL: "yellow",
    UNJUDGED: "dim",
    MISSING_CELL: "red",
    INSTEAD: "cyan",
}


Grid = tuple[list[str], list[tuple[str, str]], dict[tuple[str, str, str], Cell]]


def grid(cells: Sequence[Cell]) -> Grid:
    """Columns (bindings, in report order), rows (service, grant) and the cell at each crossing."""
    bindings = list(dict.fromkeys(cell.binding for cell in cells))
    rows = sorted({(cell.service, cell.grant) for cell in cells})
    return bindings, rows, {(cell.binding, cell.service, cell.grant): cell for cell in cells}


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
    lines += ["", "Need-to-know matrix (binding x grant)", ""]
    lines += table([[state, MEANINGS[state]] for state in STATES], indent="  ")
    lines += [""]
    bindings, scopes, cells = grid(inventory.cells)
    rows = [["service", "grant", *bindings]]
    for service, scope in scopes:
        row = [service, scope]
        for binding in bindings:
            cell = cells.get((binding, service, scope))
            row.append(style(cell.state, _COLOUR[cell.state]) if cell else ".")
        rows.append(row)
    lines += table(rows, indent="  ")
    lines += ["", "Operations behind each cell", ""]
    rows = [
        ["binding", "service", "grant", "state", "operations"],
        *(
            [
                cell.binding,
                cell.service,
                cell.grant,
                cell.state,
                ", ".join(cell.operations) or "-",
            ]
            for cell in inventory.cells
        ),
    ]
    lines += table(rows, indent="  ")
    counts = {state: sum(1 for cell in inventory.cells if cell.state == state) for state in STATES}
    lines += [
        "",
        f"{plural(len(inventory.connectors), 'connector')}: {counts[MISSING_CELL]} missing, "
        f"{counts[EXCESSIVE_CELL]} excessive and {counts[OVER_BROAD_CELL]} over-broad grants. "
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
    lines += ["", *markdown_matrix(inventory.cells)]
    return "\n".join(lines) + "\n"


def markdown_matrix(cells: Sequence[Cell]) -> list[str]:
    """The need-to-know matrix as a Markdown table: a row per grant, a column per binding."""
    bindings, rows, found = grid(cells)
    lines = [
        "## Need-to-know matrix",
        "",
        *(f"- `{state}`: {MEANINGS[state]}" for state in STATES),
        "",
        "| service | grant | " + " | ".join(f"`{b}`" for b in bindings) + " |",
        "|---|---|" + "---|" * len(bindings),
    ]
    for service, grant in rows:
        marks = []
        for binding in bindings:
            cell = found.get((binding, service, grant))
            if cell is None:
                marks.append("")
            else:
                operations = f": {', '.join(cell.operations)}" if cell.operations else ""
                marks.append(cell.state + operations)
        lines.append(f"| {service} | `{grant}` | " + " | ".join(marks) + " |")
    return lines


def render_inventory_csv(inventory: Inventory) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(["binding", "service", "grant", "state", "operations"])
    for cell in inventory.cells:
        writer.writerow(
            [cell.binding, cell.service, cell.grant, cell.state, " ".join(cell.operations)]
        )
    return buffer.getvalue()


def render_inventory_json(inventory: Inventory) -> str:
    return render_json(inventory.to_data())
