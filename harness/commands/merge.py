"""`connector-harness merge`: the shard reports of `check --shard I/N` joined into the report
a single check gives, in any report format."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from harness.commands._common import EXIT_FINDINGS, EXIT_PASS, add_options, command_options, emit
from harness.options import options_for
from harness.render.formats import render_report
from harness.render.style import Style, part_of, wants_colour
from harness.sharding import merge_shards


class MergeCommand:
    name = "merge"
    help = (
        "join the shard reports of `check --shard I/N` into one report; exit 1 on a failing binding"
    )

    def add_arguments(self, parser: argparse.ArgumentParser) -> None:
        parser.add_argument(
            "shards", nargs="+", metavar="SHARD", help="the shard reports, one of each 1/N ... N/N"
        )
        add_options(parser, options_for(self.name))

    def run(self, args: argparse.Namespace) -> int:
        options = command_options(args, self.name)
        merged = merge_shards([Path(name) for name in args.shards])
        report = merged.report
        # every format, the HTML matrix included, is read from the merged report's findings
        colour = options.output is None and wants_colour(sys.stdout)
        text = render_report(options.format, report, style=Style(colour))
        emit(text, options.output)
        if options.output is not None:
            total = len(report.results)
            verdict = (
                "every binding passes"
                if report.passed
                else f"{part_of(len(report.failed), total, 'binding', 'fail')} the gate"
            )
            print(f"report written to {options.output}: {verdict}", file=sys.stderr)
        return EXIT_PASS if report.passed else EXIT_FINDINGS
