"""`connector-harness baseline`: write the lockfile of each binding's approved grants."""

from __future__ import annotations

import argparse
import sys

from harness.baseline import render_baseline
from harness.commands._common import (
    EXIT_PASS,
    add_options,
    add_workspace_argument,
    emit,
    run_workspace_check,
)
from harness.options import options_for
from harness.render.style import plural
from harness.workspace.units import format_instant


class BaselineCommand:
    name = "baseline"
    help = "write the approved grants of every binding (its least-privilege role) as a lockfile"

    def add_arguments(self, parser: argparse.ArgumentParser) -> None:
        add_workspace_argument(parser)
        add_options(parser, options_for(self.name))

    def run(self, args: argparse.Namespace) -> int:
        report = run_workspace_check(args).report
        text = render_baseline(report.results, format_instant(report.workspace.settings.clock))
        emit(text, args.output)
        if args.output is not None:
            print(
                f"baseline written to {args.output}: {plural(len(report.results), 'binding')}; "
                "review it, "
                f"commit it, then gate with `connector-harness check --baseline {args.output}`",
                file=sys.stderr,
            )
        return EXIT_PASS
