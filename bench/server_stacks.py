"""The server stacks the loopback transport could be built on, side by side in one run.

Every contender runs in a process of its own over the example workspace and ends each
request in the same `Gateway` (request conversion, `Sandbox.handle`, the decision
log); only the HTTP side differs:

  http.server     ThreadingHTTPServer, a thread per connection, a lock around the sandbox
  threads         a thread per connection, blocking reads, this project's parser, a lock
  asyncio         an asyncio Protocol on the standard loop, this project's parser
  selectors       the loopback server as shipped (its own epoll loop, this parser)
  h11             an asyncio Protocol with h11 parsing and writing
  httptools       an asyncio Protocol with httptools' parser (when installed)
  uvloop          the asyncio Protocol on uvloop (when installed)

Run: .venv/bin/python bench/server_stacks.py [--rounds 3] [--calls 10000]. The
clients are bench/transports.py's: a process each, one keep-alive connection each.
Only ratios from the same run mean anything.
"""

from __future__ import annotations

import argparse
import asyncio
import importlib.util
import os
import socket
import statistics
import sys
import threading
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

import transports as bench  # noqa: E402

from harness.calls import response_headers  # noqa: E402
from harness.sandbox import Sandbox  # noqa: E402
from harness.transports.http11 import ParsedRequest, RequestParser  # noqa: E402
from harness.transports.loopback import Gateway  # noqa: E402
from harness.transports.server import JSON_FIELDS  # noqa: E402
from harness.workspace.loader import load_workspace  # noqa: E402

CANDIDATES = ("http.server", "threads", "asyncio", "selectors", "h11", "httptools", "uvloop")


def _available(stack: str) -> bool:
    module = {"httptools": "httptools", "uvloop": "uvloop", "h11": "h11"}.get(stack)
    return module is None or importlib.util.find_spec(module) is not None


def _head(status: int, fields: bytes, body: bytes) -> bytes:
    return (
        f"HTTP/1.1 {status} X\r\nServer: connector-harness\r\n".encode()
        + fields
        + f"Content-Length: {len(body)}\r\n\r\n".encode()
        + body
    )


def _listening() -> socket.socket:
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen(128)
    return sock


def _threads(gateway: Gateway, sock: socket.socket) -> None:
    lock = threading.Lock()

    def connection(client: socket.socket) -> None:
        client.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        parser = RequestParser()
        while data := client.recv(65536):
            parser.feed(data)
            while isinstance(request := parser.next(), ParsedRequest):
                with lock:
                    answer = gateway.answer(request, bench.CRM_HOST)
                client.sendall(_head(*answer))
        client.close()

    while True:
        client, _ = sock.accept()
        threading.Thread(target=connection, args=(client,), daemon=True).start()


class _OwnParser(asyncio.Protocol):
    def __init__(self, gateway: Gateway) -> None:
        self.gateway = gateway
        self.parser = RequestParser()

    def connection_made(self, transport: Any) -> None:
        self.transport = transport
        transport.get_extra_info("socket").setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def data_received(self, data: bytes) -> None:
        self.parser.feed(data)
        while isinstance(request := self.parser.next(), ParsedRequest):
            self.transport.write(_head(*self.gateway.answer(request, bench.CRM_HOST)))


class _H11(_OwnParser):
    def __init__(self, gateway: Gateway) -> None:
        import h11

        self.h11 = h11
        self.gateway = gateway
        self.connection = h11.Connection(h11.SERVER)
        self.body: list[bytes] = []

    def data_received(self, data: bytes) -> None:
        h11 = self.h11
        self.connection.receive_data(data)
        while (event := self.connection.next_event()) is not h11.NEED_DATA:
            if isinstance(event, h11.Request):
                self.request, self.body = event, []
            elif isinstance(event, h11.Data):
                self.body.append(bytes(event.data))
            elif isinstance(event, h11.EndOfMessage):
                headers = {k.decode(): v.decode("latin-1") for k, v in self.request.headers}
                response, _ = self.gateway.serve(
                    self.request.method.decode(),
                    bench.CRM_HOST,
                    self.request.target.decode(),
                    headers,
                    b"".join(self.body),
                )
                body = response.body_bytes()
                fields = [*response_headers(response).items(), ("Content-Length", str(len(body)))]
                out = self.connection.send(
                    h11.Response(status_code=response.status, headers=fields)
                )
                out += self.connection.send(h11.Data(data=body)) or b""
                out += self.connection.send(h11.EndOfMessage()) or b""
                self.transport.write(out)
                self.connection.start_next_cycle()


class _Httptools(_OwnParser):
    def __init__(self, gateway: Gateway) -> None:
        import httptools

        self.gateway = gateway
        self.parser_ = httptools.HttpRequestParser(self)
        self.url, self.headers, self.body = b"", {}, []  # type: ignore[var-annotated]

    def data_received(self, data: bytes) -> None:
        self.parser_.feed_data(data)

    def on_url(self, url: bytes) -> None:
        self.url += url

    def on_header(self, name: bytes, value: bytes) -> None:
        self.headers[name.decode()] = value.decode("latin-1")

    def on_body(self, body: bytes) -> None:
        self.body.append(body)

    def on_message_complete(self) -> None:
        response, _ = self.gateway.serve(
            self.parser_.get_method().decode(),
            bench.CRM_HOST,
            self.url.decode(),
            self.headers,
            b"".join(self.body),
        )
        body = response.body_bytes()
        fields = "".join(f"{k}: {v}\r\n" for k, v in response_headers(response).items()).encode()
        self.transport.write(_head(response.status, fields or JSON_FIELDS, body))
        self.url, self.headers, self.body = b"", {}, []


def serve(stack: str) -> None:
    """Child process: serve the example workspace's crm service; print PORT TOKEN; stop at EOF."""
    if stack in ("http.server", "selectors"):
        bench.serve_stack("http.server" if stack == "http.server" else "connector-harness")
        return
    workspace = load_workspace(ROOT)
    sandbox = Sandbox(workspace)
    binding = next(b for b in workspace.bindings if b.name == "crm-sync@dev")
    token = sandbox.issue_token(binding)
    gateway = Gateway(sandbox, retain=1000)
    sock = _listening()
    if stack == "threads":
        threading.Thread(target=_threads, args=(gateway, sock), daemon=True).start()
    else:
        protocol = {"asyncio": _OwnParser, "uvloop": _OwnParser, "h11": _H11}.get(stack, _Httptools)
        if stack == "uvloop":
            import uvloop

            loop = uvloop.new_event_loop()
        else:
            loop = asyncio.new_event_loop()

        def run() -> None:
            server = loop.run_until_complete(
                loop.create_server(lambda: protocol(gateway), sock=sock)
            )
            loop.run_until_complete(server.serve_forever())

        threading.Thread(target=run, daemon=True).start()
    print(sock.getsockname()[1], token, flush=True)
    sys.stdin.read()


def _stack(stack: str, pool: bench._ClientPool) -> bench._Contender:
    return bench._Contender(stack, [sys.executable, __file__, "--serve", stack], pool=pool)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--calls", type=int, default=10000)
    parser.add_argument("--serve", choices=CANDIDATES, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve:
        serve(args.serve)
        return
    stacks = [stack for stack in CANDIDATES if _available(stack)]
    missing = [stack for stack in CANDIDATES if stack not in stacks]
    print(f"load average {os.getloadavg()[0]:.2f} on {os.cpu_count()} CPUs")
    pool = bench._ClientPool(max(bench.CLIENT_COUNTS))
    contenders = [_stack(stack, pool) for stack in stacks]
    samples: dict[tuple[str, int], list[tuple[float, float | None]]] = {}
    try:
        expected = [status for _, status in contenders[0].mix]
        for contender in contenders:
            if contender.statuses() != expected:
                raise SystemExit(f"{contender.stack} answered the mix differently")
            contender.rate(2, args.calls // 4)
        for number in range(args.rounds):
            for clients in bench.CLIENT_COUNTS:
                order = contenders if number % 2 == 0 else contenders[::-1]
                for contender in order:
                    sample = contender.rate(clients, args.calls)
                    samples.setdefault((contender.stack, clients), []).append(sample)
    finally:
        for contender in contenders:
            contender.stop()
        pool.close()
    print(
        f"server stacks, the same Gateway per call, {args.calls:,} calls per sample, "
        f"medians of {args.rounds} interleaved rounds: calls/s (server CPU us per call)"
    )
    width = max(len(stack) for stack in stacks)
    print(
        f"  {'stack':<{width}}  "
        + "  ".join(f"{f'{c} client(s)':>20}" for c in bench.CLIENT_COUNTS)
    )
    for stack in stacks:
        cells = []
        for clients in bench.CLIENT_COUNTS:
            runs = samples[(stack, clients)]
            rate = statistics.median(r for r, _ in runs)
            cpu = [c for _, c in runs if c is not None]
            cells.append(
                f"{rate:>9,.0f} ({statistics.median(cpu):5.1f} us)" if cpu else f"{rate:>20,.0f}"
            )
        print(f"  {stack:<{width}}  " + "  ".join(cells))
    if missing:
        print(f"  not installed, so not measured: {', '.join(missing)}")


if __name__ == "__main__":
    main()
