"""`connector-harness check`: the deployment gate."""

from __future__ import annotations

import argparse
import hashlib
import sys

from harness.audit import log_key, run_header
from harness.cells import report_cells
from harness.commands._common import (
    EXIT_FINDINGS,
    EXIT_PASS,
    CheckRun,
    add_options,
    add_workspace_argument,
    command_options,
    emit,
    note_report_written,
    run_workspace_check,
    write_decision_log,
    write_outputs,
)
from harness.engine import Selection, select_bindings
from harness.errors import UsageError
from harness.options import RunOptions, options_for, output_targets
from harness.render.formats import render_report
from harness.render.jsonfmt import render_json
from harness.sharding import ShardSpec, shard_document


class CheckCommand:
    name = "check"
    help = "replay every flow under every binding; exit 1 when a binding fails the gate"

    def add_arguments(self, parser: argparse.ArgumentParser) -> None:
        add_workspace_argument(parser)
        add_options(parser, options_for(self.name))

    def run(self, args: argparse.Namespace) -> int:
        options = command_options(args, self.name)
        if options.shard is not None and args.format not in (None, "json"):
            raise UsageError(
                f"--shard writes a shard report (JSON), not {args.format}: render the "
                f"merged shards instead, e.g. connector-harness merge shard-*.json "
                f"--format {args.format}"
            )
        if options.anchor is not None and options.log is None:
            raise UsageError("--anchor FILE stores the final hash of --log: give --log FILE too")
        if options.log is not None:
            log_key()  # a blank key is refused before the run, not after
        # The decisions are needed afterwards only for the log (the HTML heat map reads the
        # report's cells).
        keep = options.log is not None or options.shard is not None
        checked = run_workspace_check(options, keep_decisions=keep)
        report = checked.report
        if options.log is not None:
            _write_log(options, options.log, checked)
        if options.shard is not None:
            return _write_shard(options, options.shard, checked)
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
        if not options.quiet:
            note_report_written(targets, report)
        return EXIT_PASS if report.passed else EXIT_FINDINGS


def _write_shard(options: RunOptions, shard: ShardSpec, checked: CheckRun) -> int:
    """Write the shard report: this shard's results and what the merge needs besides."""
    report = checked.report
    workspace = report.workspace
    selected = [b.name for b in select_bindings(workspace, Selection(options.env, options.binding))]
    cells = report_cells(report.results)
    baseline = options.baseline
    digest = hashlib.sha256(baseline.read_bytes()).hexdigest() if baseline is not None else None
    document = shard_document(report, shard, selected, cells, baseline_sha256=digest)
    emit(render_json(document), options.output)
    verdict = "pass" if report.passed else f"{len(report.failed)} fail the gate"
    where = f"written to {options.output}" if options.output is not None else "written"
    print(
        f"shard {shard} {where}: {len(report.results)} of {len(selected)} bindings, {verdict}; "
        f"join the {shard.count} shard reports with `connector-harness merge`",
        file=sys.stderr,
    )
    return EXIT_PASS if report.passed else EXIT_FINDINGS


def _write_log(options: RunOptions, path: str, checked: CheckRun) -> None:
    """Write the decision log, print its anchor (and write it to --anchor FILE)."""
    selection = (("env", options.env or "*"), ("binding", options.binding or "*"))
    header = run_header(checked.sandbox.workspace, selection)
    write_decision_log(path, options.anchor, checked.sandbox.decisions, header, quiet=options.quiet)
