"""The `connector-harness` command: a thin adapter over the engine.

Exit codes: 0 every binding passes, 1 findings fail the gate, 2 usage or input error.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from harness import __version__
from harness.commands._common import EXIT_FINDINGS, EXIT_INPUT, EXIT_PASS, Command
from harness.commands.audit import AuditCommand
from harness.commands.baseline import BaselineCommand
from harness.commands.check import CheckCommand
from harness.commands.explore import ExploreCommand
from harness.commands.import_flow import ImportFlowCommand
from harness.commands.import_n8n import ImportN8nCommand
from harness.commands.import_service import ImportServiceCommand
from harness.commands.inventory import InventoryCommand
from harness.commands.lint import LintCommand
from harness.commands.merge import MergeCommand
from harness.commands.packs import PacksCommand
from harness.commands.reap import ReapCommand
from harness.commands.serve import ServeCommand
from harness.errors import HarnessError, InputError, InputErrors

COMMANDS: tuple[Command, ...] = (
    CheckCommand(),
    InventoryCommand(),
    LintCommand(),
    BaselineCommand(),
    MergeCommand(),
    AuditCommand(),
    ServeCommand(),
    ExploreCommand(),
    ImportServiceCommand(),
    ImportFlowCommand(),
    ImportN8nCommand(),
    PacksCommand(),
    ReapCommand(),
)

__all__ = ["COMMANDS", "EXIT_FINDINGS", "EXIT_INPUT", "EXIT_PASS", "build_parser", "main"]


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="connector-harness",
        description="Prove that automation connectors hold least privilege.",
    )
    parser.add_argument("--version", action="version", version=f"connector-harness {__version__}")
    subcommands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for command in COMMANDS:
        sub = subcommands.add_parser(command.name, help=command.help, description=command.help)
        command.add_arguments(sub)
        sub.set_defaults(handler=command.run)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        code: int = args.handler(args)
    except InputErrors as errors:
        for error in errors.errors:
            print(error.render(), file=sys.stderr)
        count = len(errors.errors)
        print(
            f"\n{count} problem{'s' if count != 1 else ''} in the workspace; fix "
            f"{'them' if count != 1 else 'it'} and run again.",
            file=sys.stderr,
        )
        return EXIT_INPUT
    except InputError as error:
        print(error.render(), file=sys.stderr)
        return EXIT_INPUT
    except HarnessError as error:
        print(f"connector-harness: error: {error}", file=sys.stderr)
        return EXIT_INPUT
    return code


if __name__ == "__main__":
    sys.exit(main())
