"""What several subcommands share: options from the table, running a check, writing output."""

from __future__ import annotations

import argparse
import sys
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Protocol, TextIO

from harness.baseline import load_baseline
from harness.engine import Progress, Selection, run_check
from harness.errors import HarnessError, UsageError
from harness.gate import GateContext
from harness.model import Binding
from harness.options import Option
from harness.report import Report
from harness.sandbox import Sandbox
from harness.transports import open_transport
from harness.workspace.loader import load_workspace

EXIT_PASS, EXIT_FINDINGS, EXIT_INPUT = 0, 1, 2


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
            default=option.default,
            help=option.help,
            choices=option.choices or None,
            metavar=option.metavar,
        )


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


def parse_today(text: str | None) -> date:
    if text is None:
        return date.today()
    try:
        return date.fromisoformat(text)
    except ValueError as err:
        raise UsageError(
            f"--today {text!r} is not a date; write YYYY-MM-DD, e.g. 2027-01-31"
        ) from err


def gate_context(args: argparse.Namespace) -> GateContext:
    """The date and baseline the gate judges by, from --today and --baseline."""
    baseline_path = getattr(args, "baseline", None)
    baseline = load_baseline(Path(baseline_path)) if baseline_path else None
    return GateContext(parse_today(getattr(args, "today", None)), baseline)


def run_workspace_check(args: argparse.Namespace, *, keep_decisions: bool = True) -> CheckRun:
    """Load the workspace named on the command line and check the selected bindings."""
    workspace = load_workspace(Path(args.workspace))
    sandbox = Sandbox(workspace)
    selection = Selection(getattr(args, "env", None), getattr(args, "binding", None))
    context = gate_context(args)
    with open_transport(getattr(args, "transport", None) or "direct", sandbox) as transport:
        report = run_check(
            workspace,
            selection,
            progress_on(sys.stderr),
            sandbox,
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
