"""Transports side by side, in one run: calls per second of the direct transport, the
responses interception and the loopback HTTP transport (keep-alive); container start
to first response; PostgreSQL statements replayed per second.

Run: .venv/bin/python bench/transports.py [--calls N]. Docker and PostgreSQL parts run
when DOCKER_HOST / CONNECTOR_HARNESS_POSTGRES are set (see DEVELOPERS.md), and are
skipped with a note otherwise. Only ratios from the same run are meaningful.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from harness.calls import CallContext, Request  # noqa: E402
from harness.sandbox import Sandbox  # noqa: E402
from harness.transports import open_transport  # noqa: E402
from harness.workspace.loader import load_workspace  # noqa: E402


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
    return f"{first:.2f} s for {services} containers started in parallel (removal {removed:.2f} s)"


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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=3000)
    args = parser.parse_args()
    rates = {name: calls_per_second(name, args.calls) for name in ("direct", "responses", "http")}
    print(f"one GET per call, {args.calls} calls each, one run:")
    for name, rate in rates.items():
        print(
            f"  {name:<10} {rate:>10,.0f} calls/s   "
            f"direct/{name} = {rates['direct'] / rate:5.1f}x   "
            f"{name}/responses = {rate / rates['responses']:4.2f}x"
        )
    print(f"container start to first response: {container_first_response()}")
    print(f"PostgreSQL replay: {postgres_statements_per_second(200)}")


if __name__ == "__main__":
    main()
