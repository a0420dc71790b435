"""`connector-harness inventory`: connectors, credentials, operations, need-to-know matrix."""

from __future__ import annotations

import argparse
import sys

from harness.commands._common import (
    EXIT_PASS,
    add_options,
    add_workspace_argument,
    command_options,
    emit,
    run_workspace_check,
)
from harness.inventory import build_inventory
from harness.options import options_for
from harness.render.inventory import (
    render_inventory_csv,
    render_inventory_json,
    render_inventory_markdown,
    render_inventory_text,
)
from harness.render.style import Style, wants_colour


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
        if options.format == "json":
            text = render_inventory_json(inventory)
        elif options.format == "csv":
            text = render_inventory_csv(inventory)
        elif options.format == "markdown":
            text = render_inventory_markdown(inventory)
        else:
            text = render_inventory_text(
                inventory, Style(options.output is None and wants_colour(sys.stdout))
            )
        emit(text, options.output)
        return EXIT_PASS
