"""`connector-harness reap`: remove the mock-service containers that runs left behind.

Every container the docker transport starts carries the labels of the process
that started it; a run that ends normally removes its own, and each new run
removes those of processes on this host that are gone. This command does the
same on demand (after a crash, or before a disk fills), and with `--all` also
removes those of runs still going. `--run ID` limits either to the containers of one
run (their `connector-harness.run` label), leaving those of every other run alone.
"""

from __future__ import annotations

import argparse

from harness.commands._common import EXIT_PASS


class ReapCommand:
    name = "reap"
    help = "remove mock-service containers left behind by runs that ended abruptly"

    def add_arguments(self, parser: argparse.ArgumentParser) -> None:
        parser.add_argument(
            "--all",
            action="store_true",
            help="also remove the containers of runs that are still going",
        )
        parser.add_argument(
            "--run",
            metavar="ID",
            help="only the containers of this run (their connector-harness.run label)",
        )

    def run(self, args: argparse.Namespace) -> int:
        from harness.transports.reaping import reap

        removed = reap(everything=args.all, run=args.run)
        for name in removed:
            print(f"removed {name}")
        if args.run is not None:
            kind = f"container of run {args.run}" + ("" if args.all else " whose process is gone")
        else:
            kind = "connector-harness container" if args.all else "container of a finished run"
        if removed:
            plural = kind.replace("container", "containers", 1) if len(removed) != 1 else kind
            print(f"Removed {len(removed)} {plural}.")
        else:
            print(f"Nothing to remove: no {kind} is left.")
        return EXIT_PASS
