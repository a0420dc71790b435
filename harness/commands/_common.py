"""What several subcommands share: options from the table, running a check, writing output."""

from __future__ import annotations

import argparse
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol, TextIO

from harness.baseline import load_baseline
from harness.engine import Progress, Selection, run_check
from harness.errors import HarnessError
from harness.gate import GateContext
from harness.model import Binding
from harness.options import OPTIONS, Option, RunOptions, flag_layer, options_for, resolve_options
from harness.report import Report
from harness.sandbox import Sandbox
from harness.sharding import shard_selection
from harness.transports import open_transport
from harness.workspace.loader import load_workspace

EXIT_PASS, EXIT_FINDINGS, EXIT_INPUT = 0, 1, 2
WORKSPACE = next(option for option in OPTIONS if option.name == "workspace")


class Command(Protocol):
    name: str
    help: str

    def add_arguments(self, parser: argparse.ArgumentParser) -> None: ...

    def run(self, args: argparse.Namespace) -> int: ...


def add_workspace_argument(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "workspace", nargs="?", default=".", help="workspace directory (default: .)"
    )


def add_options(parser: argparse.ArgumentParser, options: tuple[Option, ...]) -> None:
    for option in options:
        parser.add_argument(
            option.flag,
            dest=option.name,
            default=None,  # unset: resolve_options applies the table's default
            help=option.help,
            choices=option.choices or None,
            metavar=option.metavar,
        )


def command_options(args: argparse.Namespace, command: str) -> RunOptions:
    """The options of `command` from its command line, parsed by the option table."""
    given = {name: value for name, value in vars(args).items() if value is not None}
    return resolve_options([flag_layer(given)], (WORKSPACE, *options_for(command)))


def progress_on(stream: TextIO) -> Progress | None:
    """A one-line progress counter on a terminal, for runs long enough to need one."""
    if not stream.isatty():
        return None

    def show(number: int, total: int, binding: Binding) -> None:
        if total >= 20:
            end = "\n" if number == total else ""
            stream.write(f"\r\x1b[2K[{number}/{total}] replaying {binding.name}{end}")
            stream.flush()

    return show


@dataclass(frozen=True, slots=True)
class CheckRun:
    report: Report
    sandbox: Sandbox


def gate_context(options: RunOptions) -> GateContext:
    """The date and baseline the gate judges by, from --today and --baseline."""
    baseline = load_baseline(options.baseline) if options.baseline is not None else None
    return GateContext(options.today, baseline)


def run_workspace_check(options: RunOptions, *, keep_decisions: bool = True) -> CheckRun:
    """Load the workspace named on the command line and check the selected bindings."""
    workspace = load_workspace(options.workspace)
    sandbox = Sandbox(workspace)
    selection = Selection(options.env, options.binding)
    if options.shard is not None:
        selection = shard_selection(workspace, selection, options.shard)
    context = gate_context(options)
    with open_transport(options.transport, sandbox) as transport:
        report = run_check(
            workspace,
            selection,
            progress=progress_on(sys.stderr),
            sandbox=sandbox,
            context=context,
            transport=transport,
            keep_decisions=keep_decisions,
        )
    return CheckRun(report, sandbox)


def emit(text: str, output: str | None) -> None:
    """Write to standard output, or to the file given with --output."""
    if output is None:
        sys.stdout.write(text)
        return
    try:
        Path(output).write_text(text, "utf-8")
    except OSError as err:
        raise HarnessError(f"cannot write {output}: {err.strerror}") from err
