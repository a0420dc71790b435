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
    emit,
    run_workspace_check,
)
from harness.options import options_for
from harness.render.jsonfmt import render_json
from harness.render.markdown import render_markdown
from harness.render.style import Style, wants_colour
from harness.render.text import render_text


class CheckCommand:
    name = "check"
    help = "replay every flow under every binding; exit 1 when a binding fails the gate"

    def add_arguments(self, parser: argparse.ArgumentParser) -> None:
        add_workspace_argument(parser)
        add_options(parser, options_for(self.name))

    def run(self, args: argparse.Namespace) -> int:
        checked = run_workspace_check(args)
        report = checked.report
        if args.log is not None:
            count = write_log(Path(args.log), checked.sandbox.decisions)
            print(f"decision log written to {args.log}: {count} decisions", file=sys.stderr)
        if args.format == "json":
            text = render_json(report.to_data())
        elif args.format == "markdown":
            text = render_markdown(report)
        else:
            text = render_text(report, Style(args.output is None and wants_colour(sys.stdout)))
        emit(text, args.output)
        if args.output is not None:
            verdict = "pass" if report.passed else f"{len(report.failed)} binding(s) fail the gate"
            print(f"report written to {args.output}: {verdict}", file=sys.stderr)
        return EXIT_PASS if report.passed else EXIT_FINDINGS
