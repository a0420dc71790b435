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
from harness.commands.packs import PacksCommand
from harness.commands.reap import ReapCommand
from harness.commands.run import RunCommand
from harness.commands.serve import ServeCommand
from harness.errors import HarnessError, InputError, InputErrors

COMMANDS: tuple[Command, ...] = (
    CheckCommand(),
    InventoryCommand(),
    LintCommand(),
    BaselineCommand(),
    AuditCommand(),
    ServeCommand(),
    RunCommand(),
    ExploreCommand(),
    ImportServiceCommand(),
    ImportFlowCommand(),
    ImportN8nCommand(),
    PacksCommand(),
    ReapCommand(),
)

__all__ = [
    "COMMANDS",
    "EXIT_FINDINGS",
    "EXIT_INPUT",
    "EXIT_INTERRUPTED",
    "EXIT_PASS",
    "build_parser",
    "main",
]


EXIT_INTERRUPTED = 130  # 128 + SIGINT, as shells report a command stopped by Ctrl-C


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
        sub.set_defaults(handler=command.run, parser=sub)
    return parser


def parse(argv: Sequence[str] | None) -> argparse.Namespace:
    """The command line; an argument the subcommand does not take is reported with that
    subcommand's usage (exit 2), not the top-level one."""
    args, unknown = build_parser().parse_known_args(argv)
    if unknown:
        subparser: argparse.ArgumentParser = args.parser
        subparser.error(f"unrecognized arguments: {' '.join(unknown)}")
    return args


def main(argv: Sequence[str] | None = None) -> int:
    try:
        args = parse(argv)
        code: int = args.handler(args)
    except KeyboardInterrupt:
        # one line, no traceback; files being written were left as they were (write_file)
        if sys.stderr.isatty():
            sys.stderr.write("\r\x1b[2K")  # end a progress counter being drawn
        print("connector-harness: interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
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
