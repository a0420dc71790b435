"""What several subcommands share: options from the table, running a check, writing output."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol, TextIO

from harness.audit import ANCHOR_LABEL, RunHeader, write_log
from harness.baseline import load_baseline
from harness.decisions import Decision
from harness.engine import Progress, Selection, run_check
from harness.errors import HarnessError, UsageError
from harness.gate import GateContext
from harness.model import Binding
from harness.options import OPTIONS, Option, RunOptions, flag_layer, options_for, resolve_options
from harness.report import Report
from harness.sandbox import Sandbox
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


def seconds(text: str) -> float:
    """An argument that is a number of seconds, more than 0 and at most a day."""
    try:
        value = float(text)
    except ValueError:
        value = -1.0
    if not 0 < value <= 86400:
        raise argparse.ArgumentTypeError(
            f"{text!r} is not a number of seconds between 0 and 86400, e.g. 30 or 0.5"
        )
    return value


def write_decision_log(
    path: str, anchor: str | None, decisions: Sequence[Decision], header: RunHeader
) -> None:
    """Write the decision log, print its anchor on standard error (and write it to the
    anchor file when one is named)."""
    try:
        log = write_log(Path(path), decisions, header)
    except OSError as err:
        raise UsageError(
            f"cannot write the decision log {path}: {err.strerror or err}; "
            "name a file in an existing, writable directory"
        ) from err
    print(f"decision log written to {path}: {log.count} decisions", file=sys.stderr)
    print(f"{ANCHOR_LABEL} {log.anchor}", file=sys.stderr)
    if anchor is not None:
        try:
            Path(anchor).write_text(log.anchor + "\n", "ascii")
        except OSError as err:
            raise UsageError(f"cannot write the anchor {anchor}: {err.strerror or err}") from err


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
