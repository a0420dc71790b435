"""Transports side by side, in one run: calls per second of the direct transport, the
responses interception and the loopback HTTP transport (keep-alive); the loopback server
against a bare `http.server` doing the same sandbox work, with 1, 2 and 4 keep-alive
clients; container start to first response; PostgreSQL statements replayed per second.

Run: .venv/bin/python bench/transports.py [--calls N] [--rounds R] [--only loopback]
[--clients-in processes|threads] [--baseline DIR].
Docker and PostgreSQL parts run when DOCKER_HOST / CONNECTOR_HARNESS_POSTGRES are set
(see DEVELOPERS.md), and are skipped with a note otherwise. Only ratios from the same
run are meaningful.
"""

from __future__ import annotations

import argparse
import os
import re
import socket
import statistics
import subprocess
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from harness.calls import CallContext, Request, response_headers  # noqa: E402
from harness.sandbox import Sandbox  # noqa: E402
from harness.transports import open_transport, wire  # noqa: E402
from harness.transports.loopback import Gateway, LoopbackServer  # noqa: E402
from harness.workspace.loader import load_workspace  # noqa: E402

CRM_HOST = "api.crm.example"
STACKS = ("http.server", "connector-harness")
CLIENT_COUNTS = (1, 2, 4)


def calls_per_second(transport: str, calls: int) -> float:
    workspace = load_workspace(ROOT)
    sandbox = Sandbox(workspace)
    binding = next(b for b in workspace.bindings if b.name == "crm-sync@dev")
    token = sandbox.issue_token(binding)
    request = Request(
        "GET", "https://api.crm.example/v1/contacts", {"Authorization": f"Bearer {token}"}
    )
    context = CallContext()
    with open_transport(transport, sandbox) as send:
        for _ in range(50):  # warm-up: connections, caches
            send(request, context)
        start = time.perf_counter()
        for _ in range(calls):
            response = send(request, context)
        elapsed = time.perf_counter() - start
    assert response.status == 200
    return calls / elapsed


def container_first_response() -> str:
    if not os.environ.get("DOCKER_HOST") and not Path("/var/run/docker.sock").exists():
        return "skipped (no Docker engine: set DOCKER_HOST)"
    from harness.transports.mock_image import build_mock_image

    workspace = load_workspace(ROOT)
    sandbox = Sandbox(workspace)
    image = build_mock_image()
    binding = next(b for b in workspace.bindings if b.name == "crm-sync@dev")
    start = time.perf_counter()
    with open_transport("docker", sandbox, default_image=image) as send:
        token = sandbox.issue_token(binding)
        request = Request(
            "GET", "https://api.crm.example/v1/contacts", {"Authorization": f"Bearer {token}"}
        )
        assert send(request, CallContext()).status == 200
        first = time.perf_counter() - start
    removed = time.perf_counter() - start - first
    services = sum(1 for s in workspace.services if s.hosts)
    return f"{first:.2f} s for {services} container services (removal {removed:.2f} s)"


def postgres_statements_per_second(rounds: int) -> str:
    dsn = os.environ.get("CONNECTOR_HARNESS_POSTGRES")
    if not dsn:
        return "skipped (set CONNECTOR_HARNESS_POSTGRES to a server's connection string)"
    from harness.engine import replay_binding
    from harness.transports.postgres import PostgresDatabase

    workspace = load_workspace(ROOT / "docs" / "examples" / "postgres")
    results = []
    for real in (False, True):
        sandbox = Sandbox(workspace)
        start = time.perf_counter()
        if real:
            with PostgresDatabase(sandbox, dsn):
                for _ in range(rounds):
                    for binding in workspace.bindings:
                        replay_binding(sandbox, binding)
        else:
            for _ in range(rounds):
                for binding in workspace.bindings:
                    replay_binding(sandbox, binding)
        results.append(len(sandbox.decisions) / (time.perf_counter() - start))
    return (
        f"{results[1]:,.0f} statements/s on the real server; "
        f"modelled without a server {results[0]:,.0f}/s ({results[0] / results[1]:.0f}x)"
    )


# -- the loopback server against a bare http.server ---------------------------------------------
#
# Each server runs in a process of its own over the example workspace, as `serve` does,
# and both end every request in the same `Gateway.serve` (request conversion,
# `Sandbox.handle`: token, scope, decision log). Each client is a process of its own (this
# script with --client-worker) holding one keep-alive connection and sending a mix of
# four calls with a minimal HTTP/1.1 client, so that the client costs little beside either
# server and no two clients share an interpreter lock; `--clients-in threads` runs them as
# threads of this process instead, as the bench did before, to compare.


def _mix(token: str) -> list[tuple[bytes, int]]:
    """The calls each client repeats, with the status each must get."""
    auth = f"Host: {CRM_HOST}\r\nAuthorization: Bearer {token}\r\n"
    search = b'{"query": "a"}'
    return [
        (f"GET /v1/contacts HTTP/1.1\r\n{auth}\r\n".encode(), 200),
        (f"GET /v1/contacts/c_1 HTTP/1.1\r\n{auth}\r\n".encode(), 200),
        (
            f"POST /v1/contacts/search HTTP/1.1\r\n{auth}Content-Type: application/json\r\n"
            f"Content-Length: {len(search)}\r\n\r\n".encode()
            + search,
            200,
        ),
        (f"DELETE /v1/contacts/c_1 HTTP/1.1\r\n{auth}\r\n".encode(), 403),  # denied
    ]


def _statuses(mix: list[tuple[bytes, int]]) -> list[int]:
    return [status for _, status in mix]


class _KeepAliveClient:
    """One connection; sends a request, reads its answer by Content-Length."""

    _LENGTH = re.compile(rb"\r\ncontent-length: *([0-9]+)", re.IGNORECASE)

    def __init__(self, port: int) -> None:
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=60)
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.buffer = b""

    def call(self, request: bytes) -> int:
        self.sock.sendall(request)
        while True:
            end = self.buffer.find(b"\r\n\r\n")
            if end >= 0:
                length = self._LENGTH.search(self.buffer, 0, end + 2)
                total = end + 4 + (int(length[1]) if length else 0)
                if len(self.buffer) >= total:
                    status = int(self.buffer[9:12])
                    self.buffer = self.buffer[total:]
                    return status
            chunk = self.sock.recv(65536)
            if not chunk:
                raise ConnectionError("the server closed the connection")
            self.buffer += chunk

    def close(self) -> None:
        self.sock.close()


def _run_mix(client: _KeepAliveClient, mix: list[tuple[bytes, int]], calls: int) -> None:
    """`calls` calls of the mix in turn, each answer's status checked."""
    requests, expected = [request for request, _ in mix], _statuses(mix)
    size = len(requests)
    for number in range(calls):
        status = client.call(requests[number % size])
        if status != expected[number % size]:
            raise RuntimeError(
                f"call {number} answered {status}, expected {expected[number % size]}"
            )


def client_worker() -> None:
    """Child process: one keep-alive client, driven line by line on stdin.

    `connect PORT TOKEN CALLS` opens the connection (answers `ready`), `go` makes the calls
    (answers `done CPU_SECONDS`, this process's CPU time for them), EOF ends it.
    """
    client: _KeepAliveClient | None = None
    mix: list[tuple[bytes, int]] = []
    calls = 0
    for line in sys.stdin:
        words = line.split()
        try:
            if words[0] == "connect":
                client, mix, calls = _KeepAliveClient(int(words[1])), _mix(words[2]), int(words[3])
                print("ready", flush=True)
            elif words[0] == "go" and client is not None:
                began = time.process_time()
                _run_mix(client, mix, calls)
                spent = time.process_time() - began
                client.close()
                client = None
                print(f"done {spent:.6f}", flush=True)
        except Exception as err:  # reported to the bench, which stops
            print(f"error {type(err).__name__}: {err}".replace("\n", " "), flush=True)


class _ClientPool:
    """Client processes (`client_worker`), started once and shared by every contender."""

    def __init__(self, size: int) -> None:
        self.workers = [
            subprocess.Popen(
                [sys.executable, __file__, "--client-worker"],
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                text=True,
            )
            for _ in range(size)
        ]

    def _tell(self, worker: subprocess.Popen[str], line: str) -> None:
        assert worker.stdin is not None
        worker.stdin.write(line + "\n")
        worker.stdin.flush()

    def _hear(self, worker: subprocess.Popen[str], expected: str) -> list[str]:
        assert worker.stdout is not None
        words = worker.stdout.readline().split()
        if not words or words[0] != expected:
            raise RuntimeError(f"a client process answered {' '.join(words) or 'nothing'}")
        return words

    def connect(self, clients: int, port: int, token: str, calls: int) -> None:
        for worker in self.workers[:clients]:
            self._tell(worker, f"connect {port} {token} {calls}")
        for worker in self.workers[:clients]:
            self._hear(worker, "ready")

    def go(self, clients: int) -> float:
        """Start the connected clients; wait for all; their CPU seconds together."""
        for worker in self.workers[:clients]:
            self._tell(worker, "go")
        return sum(float(self._hear(worker, "done")[1]) for worker in self.workers[:clients])

    def close(self) -> None:
        for worker in self.workers:
            if worker.stdin is not None:
                worker.stdin.close()
        for worker in self.workers:
            try:
                worker.wait(timeout=10)
            except subprocess.TimeoutExpired:
                worker.kill()
                worker.wait()
            if worker.stdout is not None:
                worker.stdout.close()


def _bare_server(gateway: Gateway) -> ThreadingHTTPServer:
    """The standard library's server, written as its documentation shows, doing the same work."""
    lock = threading.Lock()  # the sandbox is not thread-safe: one request at a time

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"  # keep-alive
        disable_nagle_algorithm = True

        def log_message(self, format: str, *args: Any) -> None:
            pass

        def _serve(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else b""
            with lock:
                response, decision = gateway.serve(
                    self.command, CRM_HOST, self.path, dict(self.headers.items()), body
                )
            payload = response.body_bytes()
            self.send_response(response.status)
            for key, value in response_headers(response).items():
                self.send_header(key, value)
            self.send_header(wire.OUTCOME, decision.outcome)
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

        do_GET = do_POST = do_DELETE = _serve

    class Server(ThreadingHTTPServer):
        daemon_threads = True

    return Server(("127.0.0.1", 0), Handler)


def serve_stack(stack: str) -> None:
    """Child process: serve the example workspace with `stack`; print PORT TOKEN; stop at EOF."""
    workspace = load_workspace(ROOT)
    sandbox = Sandbox(workspace)
    binding = next(b for b in workspace.bindings if b.name == "crm-sync@dev")
    token = sandbox.issue_token(binding)
    if stack == "http.server":
        server = _bare_server(Gateway(sandbox, retain=1000))
        threading.Thread(target=server.serve_forever, daemon=True).start()
        port = server.server_address[1]
    else:
        loopback = LoopbackServer(sandbox, services=("crm",), retain=1000).start()
        port = loopback.endpoint(CRM_HOST)[1]
    print(port, token, flush=True)
    sys.stdin.read()  # the bench closes our stdin when it is done (or dies)


class _Contender:
    """A server in a child process (by default `--serve-stack STACK` of this script)."""

    def __init__(
        self, stack: str, command: list[str] | None = None, pool: _ClientPool | None = None
    ) -> None:
        self.stack = stack
        self.pool = pool  # client processes; None: clients are threads of this process
        self.process = subprocess.Popen(
            command or [sys.executable, __file__, "--serve-stack", stack],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        assert self.process.stdout is not None
        port, token = self.process.stdout.readline().split()
        self.port = int(port)
        self.token = token
        self.mix = _mix(token)

    def statuses(self) -> list[int]:
        client = _KeepAliveClient(self.port)
        try:
            return [client.call(request) for request, _ in self.mix]
        finally:
            client.close()

    def cpu_seconds(self) -> float | None:
        """CPU time the server process has used (all its threads), or None off Linux."""
        try:
            stat = Path(f"/proc/{self.process.pid}/stat").read_text()
        except OSError:
            return None
        fields = stat[stat.rindex(")") + 2 :].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def rate(self, clients: int, calls: int) -> tuple[float, float | None]:
        """Calls per second of `clients` keep-alive clients sharing `calls` calls, and the
        server's CPU microseconds per call."""
        return _Slice(*self.measure(clients, calls)).figures()

    def measure(self, clients: int, calls: int) -> tuple[int, float, float | None]:
        """`clients` keep-alive clients sharing about `calls` calls: the calls made, the
        seconds they took, and the server's CPU seconds for them (None: not measured)."""
        each = max(calls // clients, len(self.mix))
        if self.pool is not None:
            return self._measure_in_processes(self.pool, clients, each)
        connections = [_KeepAliveClient(self.port) for _ in range(clients)]
        start = threading.Barrier(clients + 1, timeout=60)
        failures: list[BaseException] = []

        def run(client: _KeepAliveClient) -> None:
            start.wait()
            try:
                _run_mix(client, self.mix, each)
            except BaseException as err:  # reported after the join
                failures.append(err)

        threads = [threading.Thread(target=run, args=(c,)) for c in connections]
        for thread in threads:
            thread.start()
        cpu_before = self.cpu_seconds()
        start.wait()
        began = time.perf_counter()
        for thread in threads:
            thread.join()
        elapsed = time.perf_counter() - began
        cpu_after = self.cpu_seconds()
        for client in connections:
            client.close()
        if failures:
            raise failures[0]
        return each * clients, elapsed, _spent(cpu_before, cpu_after)

    def _measure_in_processes(
        self, pool: _ClientPool, clients: int, each: int
    ) -> tuple[int, float, float | None]:
        pool.connect(clients, self.port, self.token, each)
        cpu_before = self.cpu_seconds()
        began = time.perf_counter()
        pool.go(clients)
        elapsed = time.perf_counter() - began
        return each * clients, elapsed, _spent(cpu_before, self.cpu_seconds())

    def stop(self) -> None:
        assert self.process.stdin is not None
        self.process.stdin.close()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        if self.process.stdout is not None:
            self.process.stdout.close()


def _spent(before: float | None, after: float | None) -> float | None:
    return None if before is None or after is None else after - before


class _Slice:
    """Calls, seconds and server CPU seconds, summed over the slices of one sample."""

    def __init__(self, calls: int = 0, seconds: float = 0.0, cpu: float | None = 0.0) -> None:
        self.calls, self.seconds, self.cpu = calls, seconds, cpu

    def add(self, calls: int, seconds: float, cpu: float | None) -> None:
        self.calls += calls
        self.seconds += seconds
        self.cpu = None if cpu is None or self.cpu is None else self.cpu + cpu

    def figures(self) -> tuple[float, float | None]:
        """Calls per second, and server CPU microseconds per call."""
        cpu = None if self.cpu is None else self.cpu / self.calls * 1e6
        return self.calls / self.seconds, cpu


Samples = dict[tuple[str, int], list[tuple[float, float | None]]]


BASELINE = "before"  # the stack name of --baseline's server


def loopback_against_http_server(
    rounds: int,
    calls: int,
    *,
    clients_in: str = "processes",
    baseline: Path | None = None,
    slices: int = 10,
) -> Samples:
    """(calls/s, server CPU us per call) per (stack, clients), one sample per round.

    A sample's calls are made in `slices` slices, the contenders taking turns slice by
    slice (the order turning round each slice), and a sample sums its slices: on a machine
    shared with other work, the load then falls alike on every contender instead of on
    whichever ran during a busy second. With `baseline` (a copy of this repository at
    another commit), its server is a third contender, so that before and after are
    measured in the same run."""
    pool = _ClientPool(max(CLIENT_COUNTS)) if clients_in == "processes" else None
    contenders = [_Contender(stack, pool=pool) for stack in STACKS]
    if baseline is not None:
        script = baseline / "bench" / "transports.py"
        command = [sys.executable, str(script), "--serve-stack", "connector-harness"]
        contenders.append(_Contender(BASELINE, command, pool=pool))
    try:
        expected = _statuses(contenders[0].mix)
        for contender in contenders:
            got = contender.statuses()
            if got != expected:
                raise SystemExit(f"{contender.stack} answered the mix {got}, expected {expected}")
            contender.rate(2, calls // 4)  # warm-up: imports, caches, threads
        samples: Samples = {}
        for number in range(rounds):
            for clients in CLIENT_COUNTS:
                sums = {contender.stack: _Slice() for contender in contenders}
                for part in range(slices):
                    turn = contenders if (number + part) % 2 == 0 else contenders[::-1]
                    for contender in turn:
                        sums[contender.stack].add(*contender.measure(clients, calls // slices))
                for stack, total in sums.items():
                    samples.setdefault((stack, clients), []).append(total.figures())
        return samples
    finally:
        for contender in contenders:
            contender.stop()
        if pool is not None:
            pool.close()


def print_loopback_table(
    samples: Samples, rounds: int, calls: int, *, ours: str = STACKS[1], note: str = ""
) -> None:
    bare = STACKS[0]
    print(
        f"loopback server against a bare http.server: the same Sandbox.handle per call, "
        f"{calls:,} calls per sample, medians of {rounds} interleaved rounds{note}"
    )
    columns = [
        ("clients", 7),
        (f"{bare} calls/s", 19),
        (f"{ours} calls/s", 25),
        ("ratio", 6),
        ("per-round ratio min / max", 25),
        ("server CPU us/call: http.server / ours", 38),
        ("ratio", 6),
    ]
    print("  " + "  ".join(name.rjust(width) for name, width in columns))
    print("  " + "  ".join("-" * width for _, width in columns))
    for clients in CLIENT_COUNTS:
        theirs, mine = samples[(bare, clients)], samples[(ours, clients)]
        rates = [m[0] / t[0] for m, t in zip(mine, theirs, strict=True)]
        ratio = statistics.median(m[0] for m in mine) / statistics.median(t[0] for t in theirs)
        cpu_theirs = [t[1] for t in theirs if t[1] is not None]
        cpu_mine = [m[1] for m in mine if m[1] is not None]
        cost_theirs = statistics.median(cpu_theirs) if cpu_theirs else 0.0
        cost_mine = statistics.median(cpu_mine) if cpu_mine else 0.0
        if cost_theirs > 0 and cost_mine > 0:
            cpu, cpu_ratio = (
                f"{cost_theirs:.1f} / {cost_mine:.1f}",
                f"{cost_theirs / cost_mine:.2f}x",
            )
        else:  # no /proc, or too few calls for the clock's ticks
            cpu, cpu_ratio = "(not measured)", ""
        cells = [
            str(clients),
            f"{statistics.median(t[0] for t in theirs):,.0f}",
            f"{statistics.median(m[0] for m in mine):,.0f}",
            f"{ratio:.2f}x",
            f"{min(rates):.2f}x / {max(rates):.2f}x",
            cpu,
            cpu_ratio,
        ]
        print(
            "  "
            + "  ".join(cell.rjust(width) for cell, (_, width) in zip(cells, columns, strict=True))
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=3000)
    parser.add_argument("--rounds", type=int, default=5, help="interleaved loopback rounds")
    parser.add_argument("--server-calls", type=int, default=10000, help="calls per loopback sample")
    parser.add_argument("--only", choices=("loopback",), help="run only this part")
    parser.add_argument(
        "--clients-in",
        choices=("processes", "threads"),
        default="processes",
        help="loopback clients: a process each (default), or threads of the bench",
    )
    parser.add_argument(
        "--baseline",
        type=Path,
        help="a copy of this repository at another commit: its loopback server joins the run",
    )
    parser.add_argument("--serve-stack", choices=STACKS, help=argparse.SUPPRESS)
    parser.add_argument("--client-worker", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve_stack:
        serve_stack(args.serve_stack)
        return
    if args.client_worker:
        client_worker()
        return
    print(f"load average {os.getloadavg()[0]:.2f} on {os.cpu_count()} CPUs")
    if args.only != "loopback":
        rates = {
            name: calls_per_second(name, args.calls) for name in ("direct", "responses", "http")
        }
        print(f"one GET per call, {args.calls} calls each, one run:")
        for name, rate in rates.items():
            print(
                f"  {name:<10} {rate:>10,.0f} calls/s   "
                f"direct/{name} = {rates['direct'] / rate:5.1f}x   "
                f"{name}/responses = {rate / rates['responses']:4.2f}x"
            )
    samples = loopback_against_http_server(
        args.rounds, args.server_calls, clients_in=args.clients_in, baseline=args.baseline
    )
    note = f", clients as {args.clients_in}"
    print_loopback_table(samples, args.rounds, args.server_calls, note=note)
    if args.baseline is not None:
        note += f"; the server of {args.baseline}"
        print_loopback_table(samples, args.rounds, args.server_calls, ours=BASELINE, note=note)
    if args.only == "loopback":
        return
    print(f"container start to first response: {container_first_response()}")
    print(f"PostgreSQL replay: {postgres_statements_per_second(200)}")


if __name__ == "__main__":
    main()
