"""`connector-harness baseline`: write the lockfile of each binding's approved grants."""

from __future__ import annotations

import argparse
import sys

from harness.baseline import render_baseline
from harness.commands._common import (
    EXIT_PASS,
    add_options,
    add_workspace_argument,
    command_options,
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
        options = command_options(args, self.name)
        report = run_workspace_check(options).report
        text = render_baseline(report.results, format_instant(report.workspace.settings.clock))
        emit(text, options.output)
        if options.output is not None:
            print(
                f"baseline written to {options.output}: {plural(len(report.results), 'binding')}; "
                "review it, "
                f"commit it, then gate with `connector-harness check --baseline {options.output}`",
                file=sys.stderr,
            )
        return EXIT_PASS
