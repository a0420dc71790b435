"""`connector-harness merge`: the shard reports of `check --shard I/N` joined into the report
a single check gives, in any report format."""

from __future__ import annotations

import argparse
from pathlib import Path

from harness.commands._common import (
    EXIT_FINDINGS,
    EXIT_PASS,
    add_options,
    command_options,
    note_report_written,
    write_outputs,
)
from harness.options import options_for, output_targets
from harness.render.formats import render_report
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
        targets = output_targets(options, self.name)
        write_outputs(targets, lambda kind, style: render_report(kind, report, style=style))
        if not options.quiet:
            note_report_written(targets, report)
        return EXIT_PASS if report.passed else EXIT_FINDINGS
