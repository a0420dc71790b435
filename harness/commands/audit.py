"""`connector-harness audit verify LOG`: check a decision log's hash chain."""

from __future__ import annotations

import argparse
from pathlib import Path

from harness.audit import KEY_VARIABLE, verify_log
from harness.commands._common import EXIT_FINDINGS, EXIT_INPUT, EXIT_PASS


class AuditCommand:
    name = "audit"
    help = "verify a decision log written by `check --log` (exit 1 when it was tampered with)"

    def add_arguments(self, parser: argparse.ArgumentParser) -> None:
        actions = parser.add_subparsers(dest="action", required=True, metavar="ACTION")
        verify = actions.add_parser(
            "verify", help="recompute the hash chain and name the first bad line"
        )
        verify.add_argument("log", help=f"the log file (keyed logs need {KEY_VARIABLE})")

    def run(self, args: argparse.Namespace) -> int:
        path = Path(args.log)
        if not path.is_file():
            print(f"connector-harness: error: {path}: no such log file", flush=True)
            return EXIT_INPUT
        verdict = verify_log(path)
        if verdict.ok:
            print(f"{path}: intact, {verdict.decisions} decisions, chain and seal verified")
            return EXIT_PASS
        print(f"{path}:{verdict.line}: TAMPERED: {verdict.problem}")
        print(
            f"  the {verdict.decisions} lines before it verify; do not trust line {verdict.line} or later"
        )
        return EXIT_FINDINGS
