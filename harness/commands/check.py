"""`connector-harness check`: the deployment gate."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from pathlib import Path

from harness.audit import write_log
from harness.commands._common import (
    EXIT_FINDINGS,
    EXIT_PASS,
    CheckRun,
    add_options,
    add_workspace_argument,
    emit,
    run_workspace_check,
)
from harness.inventory import build_inventory
from harness.options import options_for
from harness.render.html import render_html
from harness.render.jsonfmt import render_json
from harness.render.junit import render_junit
from harness.render.markdown import render_markdown
from harness.render.sarif import render_sarif
from harness.render.style import Style, wants_colour
from harness.render.text import render_text


def _text(checked: CheckRun, output: str | None) -> str:
    return render_text(checked.report, Style(output is None and wants_colour(sys.stdout)))


def _html(checked: CheckRun, output: str | None) -> str:
    report = checked.report
    return render_html(report, build_inventory(report.workspace, report, checked.sandbox.decisions))


# --format -> renderer of the run (the report, and the decisions for the need-to-know matrix)
RENDERERS: dict[str, Callable[[CheckRun, str | None], str]] = {
    "text": _text,
    "json": lambda checked, _: render_json(checked.report.to_data()),
    "markdown": lambda checked, _: render_markdown(checked.report),
    "sarif": lambda checked, _: render_sarif(checked.report),
    "junit": lambda checked, _: render_junit(checked.report),
    "html": _html,
}


class CheckCommand:
    name = "check"
    help = "replay every flow under every binding; exit 1 when a binding fails the gate"

    def add_arguments(self, parser: argparse.ArgumentParser) -> None:
        add_workspace_argument(parser)
        add_options(parser, options_for(self.name))

    def run(self, args: argparse.Namespace) -> int:
        # The decisions are needed afterwards only for the log and the HTML heat map.
        checked = run_workspace_check(args, keep_decisions=bool(args.log) or args.format == "html")
        report = checked.report
        if args.log is not None:
            count = write_log(Path(args.log), checked.sandbox.decisions)
            print(f"decision log written to {args.log}: {count} decisions", file=sys.stderr)
        emit(RENDERERS[args.format](checked, args.output), args.output)
        if args.output is not None:
            verdict = "pass" if report.passed else f"{len(report.failed)} binding(s) fail the gate"
            print(f"report written to {args.output}: {verdict}", file=sys.stderr)
        return EXIT_PASS if report.passed else EXIT_FINDINGS
