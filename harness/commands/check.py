"""`connector-harness check`: the deployment gate."""

from __future__ import annotations

import argparse
import sys

from harness.audit import log_key, run_header
from harness.commands._common import (
    EXIT_FINDINGS,
    EXIT_PASS,
    CheckRun,
    add_options,
    add_workspace_argument,
    command_options,
    run_workspace_check,
    write_decision_log,
    write_outputs,
    written,
)
from harness.errors import UsageError
from harness.options import RunOptions, options_for, output_targets
from harness.render.formats import render_report
from harness.render.style import part_of


class CheckCommand:
    name = "check"
    help = "replay every flow under every binding; exit 1 when a binding fails the gate"

    def add_arguments(self, parser: argparse.ArgumentParser) -> None:
        add_workspace_argument(parser)
        add_options(parser, options_for(self.name))

    def run(self, args: argparse.Namespace) -> int:
        options = command_options(args, self.name)
        if options.anchor is not None and options.log is None:
            raise UsageError("--anchor FILE stores the final hash of --log: give --log FILE too")
        if options.log is not None:
            log_key()  # a blank key is refused before the run, not after
        # The decisions are needed afterwards only for the log (the HTML heat map reads the
        # report's cells).
        keep = options.log is not None
        checked = run_workspace_check(options, keep_decisions=keep)
        report = checked.report
        if options.log is not None:
            _write_log(options, options.log, checked)
        targets = (
            *output_targets(options, self.name),
            *((kind, str(path)) for kind, path in checked.settings_reports),
        )
        write_outputs(
            targets,
            lambda kind, style: render_report(
                kind, report, decisions=checked.sandbox.decisions, style=style
            ),
        )
        files = written(targets)
        if files and not options.quiet:
            total = len(report.results)
            verdict = (
                "every binding passes"
                if report.passed
                else f"{part_of(len(report.failed), total, 'binding', 'fail')} the gate"
            )
            print(f"report written to {files}: {verdict}", file=sys.stderr)
        return EXIT_PASS if report.passed else EXIT_FINDINGS


def _write_log(options: RunOptions, path: str, checked: CheckRun) -> None:
    """Write the decision log, print its anchor (and write it to --anchor FILE)."""
    selection = (("env", options.env or "*"), ("binding", options.binding or "*"))
    header = run_header(checked.sandbox.workspace, selection)
    write_decision_log(path, options.anchor, checked.sandbox.decisions, header, quiet=options.quiet)
