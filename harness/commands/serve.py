"""`connector-harness serve`: the mock services on loopback HTTP for manual use and for
flow code in other languages; prints base URLs and tokens, a line per decision (and,
with --log, streams every decision to a hash-chained log), stops on Ctrl-C (or SIGTERM).

A server may run for days: it keeps only a window of recent decisions in memory, and
the log on disk is the record of every call.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import signal
import sys
import threading
from collections.abc import Callable
from pathlib import Path
from types import FrameType

from harness.audit import ANCHOR_LABEL, LogWriter, RunHeader, run_header
from harness.commands._common import (
    EXIT_PASS,
    add_workspace_argument,
    replacing,
    seconds,
    workspace_of,
    write_file,
)
from harness.decisions import Exchange
from harness.errors import HarnessError, UsageError
from harness.sandbox import Sandbox
from harness.transports.loopback import LoopbackServer, http_services
from harness.transports.wire import SIGNING_KEY_VARIABLE
from harness.workspace.loader import load_workspace

RETAINED_DECISIONS = 1000  # kept in memory; the log holds all of them


class ServeCommand:
    name = "serve"
    help = "serve the mock services on loopback HTTP ports until Ctrl-C (for any language)"

    def add_arguments(self, parser: argparse.ArgumentParser) -> None:
        add_workspace_argument(parser)
        parser.add_argument(
            "--bind",
            default="127.0.0.1",
            metavar="ADDRESS",
            help="loopback address to listen on (default: 127.0.0.1)",
        )
        parser.add_argument(
            "--port",
            type=int,
            default=0,
            metavar="PORT",
            help="first port: services get PORT, PORT+1, ... in name order (default: any free)",
        )
        parser.add_argument(
            "--service",
            action="append",
            metavar="NAME",
            help="serve only this service (repeatable; default: every HTTP service)",
        )
        parser.add_argument(
            "--quiet", action="store_true", help="do not print a line for each call"
        )
        parser.add_argument(
            "--log",
            metavar="FILE",
            help="write every decision to FILE as a hash-chained JSON-lines log, sealed on "
            "stop (check it with `connector-harness audit verify FILE`)",
        )
        parser.add_argument(
            "--anchor",
            metavar="FILE",
            help="with --log: write the log's final hash to FILE when the server stops",
        )
        parser.add_argument(
            "--read-timeout",
            type=seconds,
            default=30.0,
            metavar="SECONDS",
            help="close a connection silent this long, idle or mid-request (default: 30)",
        )
        # Used by the harness's own mock-server image; not for manual use.
        parser.add_argument("--in-container", action="store_true", help=argparse.SUPPRESS)

    def run(self, args: argparse.Namespace) -> int:
        workspace = load_workspace(workspace_of(args))
        sandbox = Sandbox(workspace, signing_key=_signing_key())
        names = sorted(s.name for s in http_services(sandbox))
        chosen = tuple(args.service) if args.service else tuple(names)
        if not 0 <= args.port <= 65535 - len(chosen):
            raise UsageError(f"--port {args.port} is not a usable port; pick one in 1024-65000")
        ports = {name: args.port + i for i, name in enumerate(sorted(chosen))} if args.port else {}
        stopped = threading.Event()
        if args.anchor is not None and args.log is None:
            raise UsageError("--anchor FILE stores the final hash of --log: give --log FILE too")
        header = run_header(workspace, (("services", ",".join(sorted(chosen))),))
        # The log is written beside its path and renamed into place once sealed (as `-o`
        # writes): a crash, a failed write or a killed server never leaves a log at FILE
        # that looks complete, and a previous log there stays intact until then.
        with contextlib.ExitStack() as files:
            log = _DecisionLog.open(Path(args.log), header, stopped, files) if args.log else None
            listeners: tuple[Callable[[Exchange], None], ...] = (log.record,) if log else ()
            if not args.quiet:
                listeners += (_print_call,)
            server = LoopbackServer(
                sandbox,
                address=args.bind,
                ports=ports,
                services=chosen,
                follow_client=args.in_container,
                listeners=listeners,
                inside_container=args.in_container,
                read_timeout=args.read_timeout,
                retain=RETAINED_DECISIONS,
            )
            previous = signal.signal(signal.SIGTERM, _stop_on(stopped))
            try:
                with server:
                    try:  # Ctrl-C may come while the banner is still being written
                        _print_banner(sandbox, server)
                        while not stopped.wait(0.5):
                            pass
                    except KeyboardInterrupt:
                        pass
            finally:
                signal.signal(signal.SIGTERM, previous)
            outcomes = server.gateway.outcomes
            print(
                f"stopped after {server.gateway.calls} call(s): {outcomes['allowed']} allowed, "
                f"{outcomes['denied']} denied, {outcomes['blocked']} blocked",
                flush=True,
            )
            if log is not None:
                log.seal()  # a HarnessError leaves no file at --log (the with removes it)
        if log is not None:
            print(f"decision log written to {args.log}: {log.writer.count} decisions", flush=True)
            print(f"{ANCHOR_LABEL} {log.writer.anchor}", flush=True)
            if args.anchor is not None:
                write_file(Path(args.anchor), log.writer.anchor + "\n")
        return EXIT_PASS


class _DecisionLog:
    """Streams each decision to the hash-chained log; a write that fails stops the server."""

    def __init__(self, path: Path, writer: LogWriter, stopped: threading.Event) -> None:
        self.path = path
        self.writer = writer
        self.stopped = stopped
        self.failure = ""

    @classmethod
    def open(
        cls, path: Path, header: RunHeader, stopped: threading.Event, files: contextlib.ExitStack
    ) -> _DecisionLog:
        """The log of a server about to start, its header written (so that a path that
        cannot be written is refused before anything is served)."""
        try:
            target = files.enter_context(replacing(path, what="the decision log"))
            writer = LogWriter(target, header, flush_each=True)
            files.callback(writer.abandon)  # closed before the file is renamed or removed
        except HarnessError as err:  # replacing's own: "cannot write the decision log PATH: ..."
            raise UsageError(str(err)) from err
        except OSError as err:
            raise UsageError(
                f"cannot write the decision log {path}: {err.strerror or err}; "
                "name a file in a writable directory"
            ) from err
        return cls(path, writer, stopped)

    def record(self, exchange: Exchange) -> None:
        if self.failure:
            return
        try:
            self.writer.write(exchange.decision)
        except OSError as err:
            self.failure = (
                f"writing the decision log {self.path} failed after {self.writer.count - 1} "
                f"decisions: {err.strerror or err}; the server stopped and no log was written"
            )
            self.stopped.set()

    def seal(self) -> None:
        """Write the seal; HarnessError when a decision or the seal could not be written."""
        if self.failure:
            self.writer.abandon()
            raise HarnessError(self.failure)
        try:
            self.writer.close()
        except OSError as err:
            raise HarnessError(
                f"sealing the decision log {self.path} failed: {err.strerror or err}; "
                "no log was written"
            ) from err


def _signing_key() -> bytes | None:
    text = os.environ.get(SIGNING_KEY_VARIABLE)
    if not text:
        return None
    try:
        return bytes.fromhex(text)
    except ValueError as err:
        raise UsageError(f"{SIGNING_KEY_VARIABLE} must be hexadecimal") from err


def _stop_on(stopped: threading.Event) -> Callable[[int, FrameType | None], None]:
    def handler(signum: int, frame: FrameType | None) -> None:
        stopped.set()

    return handler


def _print_banner(sandbox: Sandbox, server: LoopbackServer) -> None:
    out = sys.stdout
    urls = server.base_urls
    width = max(len(name) for name in urls) if urls else 0
    out.write(f"connector-harness sandbox: {len(urls)} service(s) on loopback; Ctrl-C stops it\n")
    for service in server.services:
        hosts = ", ".join(service.hosts)
        out.write(f"  {service.name:<{width}}  {urls[service.name]}  (stands for {hosts})\n")
    out.write('tokens, sent as "Authorization: Bearer TOKEN" (valid on the sandbox clock):\n')
    bindings = sandbox.workspace.bindings
    bwidth = max((len(b.name) for b in bindings), default=0)
    for binding in bindings:
        out.write(f"  {binding.name:<{bwidth}}  {sandbox.issue_token(binding)}\n")
    out.write("environment for flow code:\n")
    for name, url in urls.items():
        out.write(f"  {name.upper().replace('-', '_')}_BASE_URL={url}\n")
    out.flush()


def _print_call(exchange: Exchange) -> None:
    decision = exchange.decision
    what = f"{decision.service}:{decision.operation}" if decision.operation else decision.host
    who = decision.binding or "anonymous"
    line = (
        f"{decision.outcome:<8} {decision.method} {decision.host}{decision.path}  {what}  "
        f"({who}: {decision.reason})\n"
    )
    # One write per line: concurrent clients' lines never interleave.
    sys.stdout.write(line)
    sys.stdout.flush()


__all__ = ["ServeCommand"]
