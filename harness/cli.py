"""The `connector-harness` command: a thin adapter over the engine.

Exit codes: 0 every binding passes, 1 findings fail the gate, 2 usage or input error.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TextIO

from harness import __version__
from harness.engine import Progress, Selection, run_check
from harness.errors import HarnessError, InputError, InputErrors
from harness.inventory import build_inventory
from harness.loader import load_workspace
from harness.model import Binding
from harness.options import options_for
from harness.render.inventory import (
    render_inventory_csv,
    render_inventory_json,
    render_inventory_markdown,
    render_inventory_text,
)
from harness.render.jsonfmt import render_json
from harness.render.markdown import render_markdown
from harness.render.style import Style, wants_colour
from harness.render.text import render_text
from harness.report import Report
from harness.sandbox import Sandbox

EXIT_PASS, EXIT_FINDINGS, EXIT_INPUT = 0, 1, 2


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="connector-harness",
        description="Prove that automation connectors hold least privilege.",
    )
    parser.add_argument("--version", action="version", version=f"connector-harness {__version__}")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    helps = {
        "check": "replay every flow under every binding; exit 1 when a binding fails the gate",
        "inventory": "list connectors, credentials and operations, and the need-to-know matrix",
    }
    for command, help_text in helps.items():
        sub = commands.add_parser(command, help=help_text, description=help_text)
        sub.add_argument(
            "workspace", nargs="?", default=".", help="workspace directory (default: .)"
        )
        for option in options_for(command):
            sub.add_argument(
                option.flag,
                dest=option.name,
                default=option.default,
                help=option.help,
                choices=option.choices or None,
                metavar=option.metavar,
            )
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        if args.command == "check":
            return _check(args)
        return _inventory(args)
    except InputErrors as errors:
        for error in errors.errors:
            print(error.render(), file=sys.stderr)
        count = len(errors.errors)
        print(
            f"\n{count} problem{'s' if count != 1 else ''} in the workspace; fix "
            f"{'them' if count != 1 else 'it'} and run again.",
            file=sys.stderr,
        )
    except InputError as error:
        print(error.render(), file=sys.stderr)
    except HarnessError as error:
        print(f"connector-harness: error: {error}", file=sys.stderr)
    return EXIT_INPUT


def _progress(stream: TextIO) -> Progress | None:
    """A one-line progress counter on a terminal, for runs long enough to need one."""
    if not stream.isatty():
        return None

    def show(number: int, total: int, binding: Binding) -> None:
        if total >= 20:
            end = "\n" if number == total else ""
            stream.write(f"\r\x1b[2K[{number}/{total}] replaying {binding.name}{end}")
            stream.flush()

    return show


def _run(args: argparse.Namespace) -> tuple[Report, Sandbox]:
    workspace = load_workspace(Path(args.workspace))
    sandbox = Sandbox(workspace)
    report = run_check(workspace, Selection(args.env, args.binding), _progress(sys.stderr), sandbox)
    return report, sandbox


def _emit(text: str, output: str | None) -> None:
    if output is None:
        sys.stdout.write(text)
        return
    try:
        Path(output).write_text(text, "utf-8")
    except OSError as err:
        raise HarnessError(f"cannot write {output}: {err.strerror}") from err


def _check(args: argparse.Namespace) -> int:
    report, _ = _run(args)
    colour = args.output is None and wants_colour(sys.stdout)
    if args.format == "json":
        text = render_json(report.to_data())
    elif args.format == "markdown":
        text = render_markdown(report)
    else:
        text = render_text(report, Style(colour))
    _emit(text, args.output)
    if args.output is not None:
        verdict = "pass" if report.passed else f"{len(report.failed)} binding(s) fail the gate"
        print(f"report written to {args.output}: {verdict}", file=sys.stderr)
    return EXIT_PASS if report.passed else EXIT_FINDINGS


def _inventory(args: argparse.Namespace) -> int:
    report, sandbox = _run(args)
    inventory = build_inventory(report.workspace, report, sandbox.decisions)
    if args.format == "json":
        text = render_inventory_json(inventory)
    elif args.format == "csv":
        text = render_inventory_csv(inventory)
    elif args.format == "markdown":
        text = render_inventory_markdown(inventory)
    else:
        text = render_inventory_text(
            inventory, Style(args.output is None and wants_colour(sys.stdout))
        )
    _emit(text, args.output)
    return EXIT_PASS


if __name__ == "__main__":
    sys.exit(main())
