"""`connector-harness serve`: the mock services on loopback HTTP for manual use and for
flow code in other languages; prints base URLs and tokens, logs each decision, stops on
Ctrl-C (or SIGTERM)."""

from __future__ import annotations

import argparse
import os
import signal
import sys
import threading
from collections.abc import Callable
from pathlib import Path
from types import FrameType

from harness.commands._common import EXIT_PASS, add_workspace_argument
from harness.decisions import Exchange
from harness.errors import UsageError
from harness.sandbox import Sandbox
from harness.transports.loopback import LoopbackServer, http_services
from harness.transports.wire import SIGNING_KEY_VARIABLE
from harness.workspace.loader import load_workspace


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
        # Used by the harness's own mock-server image; not for manual use.
        parser.add_argument("--in-container", action="store_true", help=argparse.SUPPRESS)

    def run(self, args: argparse.Namespace) -> int:
        workspace = load_workspace(Path(args.workspace))
        sandbox = Sandbox(workspace, signing_key=_signing_key())
        names = sorted(s.name for s in http_services(sandbox))
        chosen = tuple(args.service) if args.service else tuple(names)
        if not 0 <= args.port <= 65535 - len(chosen):
            raise UsageError(f"--port {args.port} is not a usable port; pick one in 1024-65000")
        ports = {name: args.port + i for i, name in enumerate(sorted(chosen))} if args.port else {}
        stopped = threading.Event()
        previous = signal.signal(signal.SIGTERM, _stop_on(stopped))
        listeners = () if args.quiet else (_print_call,)
        server = LoopbackServer(
            sandbox,
            address=args.bind,
            ports=ports,
            services=chosen,
            follow_client=args.in_container,
            listeners=listeners,
            inside_container=args.in_container,
        )
        try:
            with server:
                _print_banner(sandbox, server)
                try:
                    while not stopped.wait(0.5):
                        pass
                except KeyboardInterrupt:
                    pass
        finally:
            signal.signal(signal.SIGTERM, previous)
        outcomes = [d.outcome for d in sandbox.decisions]
        print(
            f"stopped after {len(outcomes)} call(s): {outcomes.count('allowed')} allowed, "
            f"{outcomes.count('denied')} denied, {outcomes.count('blocked')} blocked",
            flush=True,
        )
        return EXIT_PASS


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
    print(
        f"{decision.outcome:<8} {decision.method} {decision.host}{decision.path}  {what}  "
        f"({who}: {decision.reason})",
        flush=True,
    )


__all__ = ["ServeCommand"]
