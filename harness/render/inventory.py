"""Renderers for the inventory: text, markdown, csv and json."""

from __future__ import annotations

import csv
import io

from harness.inventory import MISSING, NEEDED, UNUSED, Cell, Inventory
from harness.render.jsonfmt import render_json
from harness.render.style import Style, table

_MARK = {NEEDED: "need", UNUSED: "unused", MISSING: "MISSING"}


def _matrix_rows(
    inventory: Inventory,
) -> tuple[list[str], list[tuple[str, str]], dict[tuple[str, str, str], Cell]]:
    names = [c["name"] for c in inventory.connectors]
    scopes = sorted({(cell.service, cell.scope) for cell in inventory.cells})
    cells = {(cell.connector, cell.service, cell.scope): cell for cell in inventory.cells}
    return names, scopes, cells


def render_inventory_text(inventory: Inventory, style: Style) -> str:
    lines = [f"Connectors ({len(inventory.connectors)})", ""]
    rows = [["connector", "kind", "owner", "credential", "lifetime", "rotation", "bindings"]]
    for c in inventory.connectors:
        bindings = ", ".join(f"{b['env']}:{b['verdict']}" for b in c["bindings"]) or "-"
        cred = c["credential"]
        rows.append(
            [
                c["name"],
                c["kind"],
                c["owner"],
                cred["type"],
                cred["lifetime"],
                cred["rotation"] or "-",
                bindings,
            ]
        )
    lines += table(rows, indent="  ")
    lines += [
        "",
        "Need-to-know matrix (need: granted and used; unused: granted, never needed; "
        "MISSING: needed, not granted)",
        "",
    ]
    names, scopes, cells = _matrix_rows(inventory)
    rows = [["service", "scope", *names]]
    for service, scope in scopes:
        row = [service, scope]
        for name in names:
            cell = cells.get((name, service, scope))
            mark = _MARK[cell.state] if cell else "."
            colour = {"MISSING": "red", "unused": "yellow", "need": "green"}.get(mark)
            row.append(style(mark, colour) if colour else mark)
        rows.append(row)
    lines += table(rows, indent="  ")
    lines += ["", "Operations behind each cell", ""]
    rows = []
    for cell in inventory.cells:
        rows.append(
            [
                cell.connector,
                f"{cell.service} {cell.scope}",
                _MARK[cell.state],
                ", ".join(cell.operations) or "-",
            ]
        )
    lines += table(rows, indent="  ")
    unused = sum(1 for cell in inventory.cells if cell.state == UNUSED)
    missing = sum(1 for cell in inventory.cells if cell.state == MISSING)
    lines += [
        "",
        f"{len(inventory.connectors)} connectors, {unused} unused grants, {missing} missing. "
        "Next: `connector-harness check` shows the fix for each.",
    ]
    return "\n".join(lines) + "\n"


def render_inventory_markdown(inventory: Inventory) -> str:
    names, scopes, cells = _matrix_rows(inventory)
    lines = [
        "# Connector inventory",
        "",
        "| connector | kind | owner | credential | lifetime | bindings |",
        "|---|---|---|---|---|---|",
    ]
    for c in inventory.connectors:
        bindings = ", ".join(f"{b['env']}: {b['verdict']}" for b in c["bindings"]) or "-"
        lines.append(
            f"| `{c['name']}` | {c['kind']} | {c['owner']} | {c['credential']['type']} "
            f"| {c['credential']['lifetime']} | {bindings} |"
        )
    lines += [
        "",
        "## Need-to-know matrix",
        "",
        "| service | scope | " + " | ".join(f"`{n}`" for n in names) + " |",
        "|---|---|" + "---|" * len(names),
    ]
    for service, scope in scopes:
        marks = []
        for name in names:
            cell = cells.get((name, service, scope))
            marks.append(
                f"{_MARK[cell.state]}: {', '.join(cell.operations)}"
                if cell and cell.operations
                else (_MARK[cell.state] if cell else "")
            )
        lines.append(f"| {service} | `{scope}` | " + " | ".join(marks) + " |")
    return "\n".join(lines) + "\n"


def render_inventory_csv(inventory: Inventory) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(["connector", "service", "scope", "state", "operations"])
    for cell in inventory.cells:
        writer.writerow(
            [cell.connector, cell.service, cell.scope, cell.state, " ".join(cell.operations)]
        )
    return buffer.getvalue()


def render_inventory_json(inventory: Inventory) -> str:
    return render_json(inventory.to_data())
