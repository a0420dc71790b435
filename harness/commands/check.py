"""`connector-harness check`: the deployment gate."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from harness.audit import write_log
from harness.commands._common import (
    EXIT_FINDINGS,
    EXIT_PASS,
    add_options,
    add_workspace_argument,
    command_options,
    emit,
    run_workspace_check,
)
from harness.options import options_for
from harness.render.formats import render_report
from harness.render.style import Style, wants_colour


class CheckCommand:
    name = "check"
    help = "replay every flow under every binding; exit 1 when a binding fails the gate"

    def add_arguments(self, parser: argparse.ArgumentParser) -> None:
        add_workspace_argument(parser)
        add_options(parser, options_for(self.name))

    def run(self, args: argparse.Namespace) -> int:
        options = command_options(args, self.name)
        # The decisions are needed afterwards only for the log and the HTML heat map.
        keep = options.log is not None or options.format == "html"
        checked = run_workspace_check(options, keep_decisions=keep)
        report = checked.report
        if options.log is not None:
            count = write_log(Path(options.log), checked.sandbox.decisions)
            print(f"decision log written to {options.log}: {count} decisions", file=sys.stderr)
        colour = options.output is None and wants_colour(sys.stdout)
        text = render_report(
            options.format, report, decisions=checked.sandbox.decisions, style=Style(colour)
        )
        emit(text, options.output)
        if options.output is not None:
            verdict = "pass" if report.passed else f"{len(report.failed)} binding(s) fail the gate"
            print(f"report written to {options.output}: {verdict}", file=sys.stderr)
        return EXIT_PASS if report.passed else EXIT_FINDINGS
