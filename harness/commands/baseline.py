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
    run_workspace_check,
    write_outputs,
    written,
)
from harness.options import options_for, output_targets
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
        targets = output_targets(options, self.name)
        write_outputs(targets, lambda _, __: text)
        if written(targets) and not options.quiet:
            print(
                f"baseline written to {written(targets)}: "
                f"{plural(len(report.results), 'binding')}; review it, commit it, then gate "
                f"with `connector-harness check --baseline {options.outputs[0]}`",
                file=sys.stderr,
            )
        return EXIT_PASS
