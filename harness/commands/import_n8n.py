"""`connector-harness import-n8n`: exported n8n workflows become a least-privilege workspace."""

from __future__ import annotations

import argparse
import re
import sys
from datetime import UTC, datetime
from pathlib import Path

from harness.commands._common import EXIT_INPUT, EXIT_PASS
from harness.errors import UsageError
from harness.n8n.documents import plan_documents
from harness.n8n.importer import Progress, no_workflow_error
from harness.n8n.pipeline import import_exports, scope_sources
from harness.n8n.runner import NODE_BUDGET_MS
from harness.n8n.summary import render_json, render_text
from harness.n8n.writer import WorkspaceWriter
from harness.render.style import Style, redraw, wants_colour

_ENV = re.compile(r"^[a-z0-9][a-z0-9_.-]*$")
DEFAULT_CLOCK = datetime(2026, 1, 1, tzinfo=UTC)  # the workspace default: reproducible flows


class ImportN8nCommand:
    name = "import-n8n"
    help = "turn exported n8n workflows into connectors, bindings and flows (no YAML to write)"

    def add_arguments(self, parser: argparse.ArgumentParser) -> None:
        parser.add_argument(
            "workflows", nargs="+", metavar="WORKFLOW.json", help="exported n8n workflows"
        )
        parser.add_argument(
            "--output", "-o", required=True, metavar="DIR", help="the workspace to write or update"
        )
        parser.add_argument(
            "--env",
            action="append",
            metavar="ENV",
            help="an environment to bind each connector in (repeat; default: prod)",
        )
        parser.add_argument(
            "--credentials",
            metavar="EXPORT.json",
            help="an `n8n export:credentials` file: its scopes are read, its secrets never",
        )
        parser.add_argument(
            "--scopes",
            metavar="MAPPING.yaml",
            help="the scopes of credentials whose scopes n8n does not choose (tokens, custom scopes)",
        )
        parser.add_argument(
            "--format", choices=("text", "json"), default="text", help="the summary's format"
        )
        parser.add_argument(
            "--node-budget",
            type=float,
            default=NODE_BUDGET_MS / 1000,
            metavar="SECONDS",
            help=f"time one node may run before it is stopped (default: {NODE_BUDGET_MS // 1000})",
        )

    def run(self, args: argparse.Namespace) -> int:
        envs = tuple(dict.fromkeys(args.env or ["prod"]))
        for env in envs:
            if not _ENV.match(env):
                raise UsageError(
                    f"--env {env!r}: use lower-case letters, digits, `-`, `_` and `.`, e.g. --env prod"
                )
        if not 0.1 <= args.node_budget <= 120:
            raise UsageError("--node-budget: give between 0.1 and 120 seconds")
        sources = scope_sources(
            Path(args.credentials) if args.credentials else None,
            Path(args.scopes) if args.scopes else None,
        )
        output = Path(args.output)
        writer = WorkspaceWriter(output)
        imported = import_exports(
            [Path(p) for p in args.workflows],
            shown=list(args.workflows),
            clock=DEFAULT_CLOCK,
            sources=sources,
            envs=envs,
            previous_names=writer.previous_names(),
            budget_ms=int(args.node_budget * 1000),
            progress=_progress() if args.format == "text" else None,
        )
        run, plan = imported.run, imported.plan
        if not run.workflows:
            for error in run.errors:
                print(error.render(), file=sys.stderr)
            print(no_workflow_error(run.errors, len(args.workflows)), file=sys.stderr)
            return EXIT_INPUT
        for document in plan_documents(plan):
            writer.document(document, run.versions)
        writer.packs(plan.packs)
        writer.settings(plan.packs)
        writer.finish(plan.names)
        if args.format == "json":
            sys.stdout.write(render_json(run, plan, writer.report, str(output)))
        else:
            sys.stdout.write(
                render_text(run, plan, writer.report, str(output), Style(wants_colour(sys.stdout)))
            )
        return EXIT_PASS if run.workflows else EXIT_INPUT


def _progress() -> Progress | None:
    if not sys.stderr.isatty():
        return None

    def show(number: int, total: int, workflow: str) -> None:
        end = "\n" if number == total else ""
        redraw(sys.stderr, f"[{number}/{total}] running the nodes of {workflow[:50]}{end}")
        sys.stderr.flush()

    return show
