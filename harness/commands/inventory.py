"""`connector-harness inventory`: connectors, credentials, operations, need-to-know matrix."""

from __future__ import annotations

import argparse
import sys

from harness.commands._common import (
    EXIT_PASS,
    add_options,
    add_workspace_argument,
    command_options,
    run_workspace_check,
    write_outputs,
    written,
)
from harness.inventory import build_inventory
from harness.options import options_for, output_targets
from harness.render.inventory import (
    render_inventory_csv,
    render_inventory_json,
    render_inventory_markdown,
    render_inventory_text,
)
from harness.render.style import Style


class InventoryCommand:
    name = "inventory"
    help = "list connectors, credentials and operations, and the need-to-know matrix"

    def add_arguments(self, parser: argparse.ArgumentParser) -> None:
        add_workspace_argument(parser)
        add_options(parser, options_for(self.name))

    def run(self, args: argparse.Namespace) -> int:
        options = command_options(args, self.name)
        checked = run_workspace_check(options, require_bindings=False)
        inventory = build_inventory(
            checked.report.workspace, checked.report, checked.sandbox.decisions
        )

        def render(kind: str, style: Style) -> str:
            if kind == "json":
                return render_inventory_json(inventory)
            if kind == "csv":
                return render_inventory_csv(inventory)
            if kind == "markdown":
                return render_inventory_markdown(inventory)
            return render_inventory_text(inventory, style)

        targets = output_targets(options, self.name)
        write_outputs(targets, render)
        if written(targets) and not options.quiet:
            print(f"inventory written to {written(targets)}", file=sys.stderr)
        return EXIT_PASS
