"""`connector-harness run`: one flow program, in any language, run behind the network
boundary as a binding, then judged: its calls to the mocks, every attempt it made to
leave (blocked), and whether the binding holds least privilege for what it did.

    connector-harness run --binding crm-sync@prod -- ./sync.sh --full

The program sees `HARNESS_TOKEN`, `HARNESS_BINDING` and `<SERVICE>_BASE_URL` in its
environment; its own output passes through. Needs root (a network namespace).
"""

from __future__ import annotations

import argparse
import subprocess
import sys
from pathlib import Path

from harness.audit import log_key, run_header
from harness.boundary import BoundarySandbox
from harness.commands._common import EXIT_FINDINGS, EXIT_PASS, seconds, write_decision_log
from harness.errors import UsageError
from harness.workspace.loader import load_workspace


class RunCommand:
    name = "run"
    help = "run a flow program (any language) as a binding behind a network boundary, and judge it"

    def add_arguments(self, parser: argparse.ArgumentParser) -> None:
        parser.usage = (
            "%(prog)s --binding NAME [--workspace DIR] [--timeout SECONDS] -- PROGRAM [ARG ...]"
        )
        parser.add_argument(
            "--binding",
            required=True,
            metavar="NAME",
            help="the binding the program acts as: CONNECTOR@ENV, or CONNECTOR when it has one",
        )
        parser.add_argument(
            "--workspace", default=".", metavar="DIR", help="workspace directory (default: .)"
        )
        parser.add_argument(
            "--timeout",
            type=seconds,
            default=300.0,
            metavar="SECONDS",
            help="stop the program after this long (default: 300)",
        )
        parser.add_argument(
            "--user",
            metavar="NAME",
            help="run the program as this user (a name or a uid), not as the one running "
            "the harness: it then opens only what that user may",
        )
        parser.add_argument(
            "--log",
            metavar="FILE",
            help="write every decision to FILE as a hash-chained JSON-lines log "
            "(check it with `connector-harness audit verify FILE`)",
        )
        parser.add_argument(
            "--anchor",
            metavar="FILE",
            help="with --log: also write the log's final hash to FILE",
        )
        parser.add_argument(
            "program",
            nargs=argparse.REMAINDER,
            metavar="-- PROGRAM [ARG ...]",
            help="the program and its arguments, after --",
        )

    def run(self, args: argparse.Namespace) -> int:
        program = list(args.program)
        if program[:1] == ["--"]:
            program = program[1:]
        if not program:
            raise UsageError(
                "name the program to run after --, e.g. "
                "connector-harness run --binding crm-sync@prod -- ./sync.sh"
            )
        if args.anchor is not None and args.log is None:
            raise UsageError("--anchor FILE stores the final hash of --log: give --log FILE too")
        if args.log is not None:
            log_key()  # a blank key is refused before the run, not after
        workspace = load_workspace(Path(args.workspace))
        with BoundarySandbox(workspace, name=Path(program[0]).name) as sandbox:
            try:
                handle = sandbox.binding(args.binding)
            except LookupError as err:
                raise UsageError(f"--binding {args.binding}: {err.args[0]}") from err
            sys.stdout.flush()
            try:
                finished = sandbox.run(
                    program,
                    binding=handle,
                    timeout=args.timeout,
                    capture_output=False,
                    user=args.user,
                )
            except FileNotFoundError as err:
                raise UsageError(
                    f"no program {program[0]!r} to run: {err.strerror}; give its path or a "
                    "name on PATH"
                ) from err
            except PermissionError as err:
                raise UsageError(f"cannot run {program[0]!r}: {err.strerror}") from err
            except subprocess.TimeoutExpired:
                failure = f"{program[0]} did not finish within {args.timeout:g} s and was stopped"
            else:
                code = finished.returncode
                failure = f"{program[0]} exited with status {code}" if code else ""
            problems = sandbox.least_privilege_problems([handle.name])
            blocked = sum(1 for d in sandbox.decisions if d.outcome == "blocked")
            if args.log is not None:
                selection = (("binding", handle.name), ("program", Path(program[0]).name))
                header = run_header(workspace, selection)
                write_decision_log(args.log, args.anchor, sandbox.decisions, header)
            lines = [
                f"calls made by {program[0]} as {handle.name} behind the network boundary:",
                sandbox.calls_text(),
            ]
        if problems:
            lines += problems
        if failure:
            lines.append(failure)
        if problems or failure:
            attempts = f"; {blocked} attempt(s) to leave were blocked" if blocked else ""
            lines.append(
                f"FAILED{attempts}: fix the program or the binding's grants as shown, and run again"
            )
            print("\n".join(lines), flush=True)
            return EXIT_FINDINGS
        lines.append(f"{handle.name} holds least privilege for what {program[0]} did")
        print("\n".join(lines), flush=True)
        return EXIT_PASS
