"""The `connector-harness` command: a thin adapter over the engine.

Exit codes: 0 every binding passes, 1 findings fail the gate, 2 usage or input error,
3 internal error (a bug in connector-harness: never reported as a failing gate).
"""

from __future__ import annotations

import argparse
import os
import sys
import traceback
from collections.abc import Sequence
from typing import TextIO, cast

from harness import __version__
from harness.commands._common import (
    EXIT_FINDINGS,
    EXIT_INPUT,
    EXIT_INTERNAL,
    EXIT_PASS,
    Command,
)
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
from harness.commands.run import RunCommand
from harness.commands.serve import ServeCommand
from harness.errors import HarnessError, InputError, InputErrors
from harness.render.style import PrintableStream, redraw

COMMANDS: tuple[Command, ...] = (
    CheckCommand(),
    InventoryCommand(),
    LintCommand(),
    BaselineCommand(),
    MergeCommand(),
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
    "EXIT_INTERNAL",
    "EXIT_INTERRUPTED",
    "EXIT_PASS",
    "build_parser",
    "main",
]

EXIT_INTERRUPTED = 130  # 128 + SIGINT, as shells report a command stopped by Ctrl-C
DEBUG_VARIABLE = "CONNECTOR_HARNESS_DEBUG"
REPORT_TO = "the connector-harness issue tracker"


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="connector-harness",
        description="Prove that automation connectors hold least privilege.",
    )
    parser.add_argument("--version", action="version", version=f"connector-harness {__version__}")
    parser.add_argument(
        "--debug",
        action="store_true",
        help=f"on an internal error, print the traceback (or set {DEBUG_VARIABLE}=1)",
    )
    subcommands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for command in COMMANDS:
        sub = subcommands.add_parser(command.name, help=command.help, description=command.help)
        command.add_arguments(sub)
        sub.add_argument(
            "--debug", action="store_true", default=argparse.SUPPRESS, help=argparse.SUPPRESS
        )
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
    # Messages quote inputs (recorded URLs, file names, node names): none of them may act on
    # the terminal, whichever of the commands prints them.
    terminal, sys.stderr = sys.stderr, cast(TextIO, PrintableStream(sys.stderr))
    try:
        return _main(argv)
    finally:
        sys.stderr = terminal


def _main(argv: Sequence[str] | None) -> int:
    args = parse(argv)
    try:
        return _run(args)
    except KeyboardInterrupt:
        # one line, no traceback; files being written were left as they were (write_file)
        if sys.stderr.isatty():
            redraw(sys.stderr, "")  # end a progress counter being drawn
        print("connector-harness: interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
    except Exception as error:  # the one place every other exception ends
        return _internal_error(error, debug=args.debug or _debug_from_environment())


def _run(args: argparse.Namespace) -> int:
    """Run the subcommand; every input problem becomes exit 2 with its message."""
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
    except OSError as error:
        if error.filename is None:
            raise
        # A path the user named could not be read or written: an input problem, not a bug.
        names = " -> ".join(
            _shorten(str(name)) for name in (error.filename, error.filename2) if name
        )
        print(
            f"connector-harness: error: {names}: {error.strerror or error}\n"
            "  check that the path exists, is of the right kind and is readable or writable",
            file=sys.stderr,
        )
        return EXIT_INPUT
    return code


def _shorten(text: str, limit: int = 160) -> str:
    """A path fit for one line: its start and end around `...` when it is too long."""
    return text if len(text) <= limit else f"{text[: limit // 2]}...{text[-limit // 2 :]}"


def _debug_from_environment() -> bool:
    return os.environ.get(DEBUG_VARIABLE, "").strip().lower() not in ("", "0", "false", "no")


def _internal_error(error: BaseException, *, debug: bool) -> int:
    """Exit 3 with one line saying where it happened, where to report it and what to attach.

    The exception's own message is never printed: it may quote the input it failed on (a
    recorded header, a token in a URL). The traceback, printed on request, has every value
    of a secret's shape replaced first (harness/secrets.py)."""
    if debug:
        from harness.secrets import SecretScrubber

        text = "".join(traceback.format_exception(error))
        print(SecretScrubber().text(text), end="", file=sys.stderr)
    frames = traceback.extract_tb(error.__traceback__)
    package = os.path.dirname(os.path.abspath(__file__))
    ours = [frame for frame in frames if frame.filename.startswith(package)] or frames
    where = ""
    if ours:
        relative = os.path.relpath(ours[-1].filename, os.path.dirname(package))
        where = f" at {relative}:{ours[-1].lineno}"
    print(
        f"connector-harness: internal error: {type(error).__name__}{where}; this is a bug: "
        f"please report it to {REPORT_TO} with the command you ran, the version "
        f"({__version__}) and "
        + (
            "the traceback above (secrets of known shapes are masked; check it for others)"
            if debug
            else f"the traceback of the same run with --debug (or {DEBUG_VARIABLE}=1)"
        ),
        file=sys.stderr,
    )
    return EXIT_INTERNAL


if __name__ == "__main__":
    sys.exit(main())
