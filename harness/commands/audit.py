"""`connector-harness audit verify LOG`: check a decision log's hash chain, its keying, its
anchor and the workspace it belongs to.

Exit codes: 0 intact, 1 tampered (or not the anchored log, or another workspace's),
2 cannot verify (a keyed log and no key, an unreadable file) or a usage error.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from harness.audit import KEY_VARIABLE, LogVerdict, read_anchor, verify_log
from harness.commands._common import EXIT_FINDINGS, EXIT_INPUT, EXIT_PASS
from harness.workspace.digest import workspace_digest
from harness.workspace.settings import load_settings


class AuditCommand:
    name = "audit"
    help = "verify a decision log written by `check --log` (exit 1 when it was tampered with)"

    def add_arguments(self, parser: argparse.ArgumentParser) -> None:
        actions = parser.add_subparsers(dest="action", required=True, metavar="ACTION")
        verify = actions.add_parser(
            "verify", help="recompute the hash chain and name the first bad line"
        )
        verify.add_argument("log", help=f"the log file (keyed logs need {KEY_VARIABLE})")
        verify.add_argument(
            "--anchor",
            metavar="HASH|FILE",
            help="the log's final hash as `check --log` printed it (or the file --anchor "
            "wrote): the log must end in it",
        )
        verify.add_argument(
            "--workspace",
            metavar="DIR",
            help="the workspace the run judged: its files must be those the log's header names",
        )

    def run(self, args: argparse.Namespace) -> int:
        path = Path(args.log)
        if not path.is_file():
            print(f"connector-harness: error: {path}: no such log file", flush=True)
            return EXIT_INPUT
        anchor = read_anchor(args.anchor) if args.anchor is not None else None
        verdict = verify_log(path, anchor=anchor)
        if verdict.status == "unverifiable":
            print(f"{path}:{verdict.line}: CANNOT VERIFY: {verdict.problem}")
            return EXIT_INPUT
        if not verdict.ok:
            print(f"{path}:{verdict.line}: TAMPERED: {verdict.problem}")
            print(
                f"  the {verdict.line - 1} lines before it verify; do not trust line "
                f"{verdict.line} or later"
            )
            return EXIT_FINDINGS
        if args.workspace is not None:
            root = Path(args.workspace)
            found = workspace_digest(root, load_settings(root)) if root.is_dir() else ""
            if found != verdict.run.get("workspace"):
                print(
                    f"{path}:1: OTHER WORKSPACE: the log's run judged workspace "
                    f"{verdict.run.get('workspace') or '(none)'}; {root} is {found or '(none)'}"
                )
                return EXIT_FINDINGS
        _print_intact(path, verdict, anchored=anchor is not None, workspace=args.workspace)
        return EXIT_PASS


def _print_intact(
    path: Path, verdict: LogVerdict, *, anchored: bool, workspace: str | None
) -> None:
    keying = "keyed" if verdict.keyed else "unkeyed"
    checks = ["chain and seal verified", keying]
    if anchored:
        checks.append("anchor matches")
    if workspace is not None:
        checks.append(f"workspace {workspace} matches")
    print(f"{path}: intact, {verdict.decisions} decisions, {', '.join(checks)}")
    run = verdict.run
    selection = run.get("selection")
    chosen = (
        ", ".join(f"{key} {value}" for key, value in selection.items())
        if isinstance(selection, dict)
        else "?"
    )
    print(
        f"  run: connector-harness {run.get('harness')}, workspace {run.get('workspace') or '-'}, "
        f"clock {run.get('clock')}, {chosen}"
    )
    print(f"  final hash: {verdict.anchor}")
    if not verdict.keyed and not anchored:
        print(
            "  note: an unkeyed log can be rewritten with a new chain by anyone; to prove it "
            "unchanged, verify it against the anchor stored when it was written (--anchor), "
            f"or write keyed logs ({KEY_VARIABLE})"
        )
