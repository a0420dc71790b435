"""`connector-harness lint`: static checks of the workspace before anything is replayed."""

from __future__ import annotations

import argparse
import sys

from harness.commands._common import (
    EXIT_FINDINGS,
    EXIT_PASS,
    add_options,
    add_workspace_argument,
    command_options,
    write_outputs,
    written,
)
from harness.lint.linter import lint_workspace
from harness.lint.rules import ERROR
from harness.options import options_for, output_targets
from harness.render.lint import render_lint_json, render_lint_sarif, render_lint_text
from harness.render.style import Style, plural
from harness.workspace.loader import load_workspace


class LintCommand:
    name = "lint"
    help = "static checks (wildcard grants, long-lived credentials, secrets, ...); exit 1 on errors"

    def add_arguments(self, parser: argparse.ArgumentParser) -> None:
        add_workspace_argument(parser)
        add_options(parser, options_for(self.name))

    def run(self, args: argparse.Namespace) -> int:
        options = command_options(args, self.name)
        today, root = options.today, options.workspace
        workspace = load_workspace(root)
        findings = lint_workspace(workspace, root, today)
        targets = output_targets(options, self.name)

        def render(kind: str, style: Style) -> str:
            if kind == "json":
                return render_lint_json(findings, str(root), today)
            if kind == "sarif":
                return render_lint_sarif(findings, str(root))
            return render_lint_text(findings, str(root), today, style)

        write_outputs(targets, render)
        errors = sum(1 for finding in findings if finding.severity == ERROR)
        if written(targets) and not options.quiet:
            print(
                f"lint report written to {written(targets)}: {plural(errors, 'error')}, "
                f"{plural(len(findings) - errors, 'warning')}",
                file=sys.stderr,
            )
        return EXIT_FINDINGS if errors else EXIT_PASS
