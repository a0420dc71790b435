"""Containers started in parallel: the time from opening the docker transport to the first
answer, for the example workspace's nine services (nine containers) against a workspace of
one service (one container), interleaved round by round in one run.

Run: DOCKER_HOST=unix:///tmp/dockerd/docker.sock .venv/bin/python bench/containers.py
     [--rounds 5] [--phases]

The mock-server image is built (or found) once before the first round, as a check does;
every round then starts the containers, sends one authorized GET to the CRM service and
removes them. `--phases` also prints when each container was created, started and ready,
for the last nine-container round. Only the ratio of the same run is meaningful: the
machine's load moves both figures.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from harness.calls import CallContext, Request  # noqa: E402
from harness.sandbox import Sandbox  # noqa: E402
from harness.transports import open_transport  # noqa: E402
from harness.transports.docker_transport import docker_transport  # noqa: E402
from harness.transports.mock_image import build_mock_image  # noqa: E402
from harness.workspace.loader import load_workspace  # noqa: E402

TARGET = 2.0  # nine containers within twice the time of one

ONE_SERVICE = """\
connectors:
  - name: crm-reader
    owner: revops@example.com
    kind: service-account
    credential: {type: oauth2-client-credentials, lifetime: 1h, audience: [crm]}
    allowed_hosts: [api.crm.example]

roles:
  - name: crm-contacts-reader
    owner: revops@example.com
    grants:
      crm: [crm.contacts.read]

bindings:
  - connector: crm-reader
    env: dev
    roles: [crm-contacts-reader]
"""


def one_service_workspace(directory: Path) -> Path:
    """The CRM service of the example workspace alone, with one connector that reads it."""
    (directory / "mocks").mkdir(parents=True)
    (directory / "scenarios").mkdir()
    shutil.copy(ROOT / "mocks" / "crm.yaml", directory / "mocks" / "crm.yaml")
    (directory / "scenarios" / "crm.yaml").write_text(ONE_SERVICE)
    return directory


def first_response(root: Path, binding_name: str, image: str) -> tuple[float, int]:
    """Seconds from opening the docker transport to the first answer; the containers run."""
    sandbox = Sandbox(load_workspace(root))
    binding = next(b for b in sandbox.workspace.bindings if b.name == binding_name)
    start = time.perf_counter()
    with open_transport("docker", sandbox, default_image=image) as send:
        token = sandbox.issue_token(binding)
        request = Request(
            "GET", "https://api.crm.example/v1/contacts", {"Authorization": f"Bearer {token}"}
        )
        status = send(request, CallContext()).status
        elapsed = time.perf_counter() - start
    if status != 200:
        raise SystemExit(f"the first call answered {status}, not 200")
    return elapsed, sum(1 for s in sandbox.workspace.services if s.hosts)


def phases(root: Path, binding_name: str, image: str) -> None:
    """When each container of one start was created, started and answered its health check."""
    from harness.transports import containers

    marks: list[tuple[float, str, str]] = []
    start = time.perf_counter()
    original_start = containers.Containers.start

    def timed(self: containers.Containers, service, spec):  # type: ignore[no-untyped-def]
        marks.append((time.perf_counter() - start, service.name, "start requested"))
        running = original_start(self, service, spec)
        marks.append((time.perf_counter() - start, service.name, "healthy"))
        return running

    containers.Containers.start = timed  # type: ignore[method-assign]
    try:
        sandbox = Sandbox(load_workspace(root))
        with docker_transport(sandbox, default_image=image):
            marks.append((time.perf_counter() - start, "-", "transport open"))
    finally:
        containers.Containers.start = original_start  # type: ignore[method-assign]
    for at, service, what in sorted(marks):
        print(f"  {at:6.2f} s  {service:<14} {what}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--phases", action="store_true")
    args = parser.parse_args()
    if not os.environ.get("DOCKER_HOST") and not Path("/var/run/docker.sock").exists():
        raise SystemExit("no Docker engine: set DOCKER_HOST (see DEVELOPERS.md)")
    load = os.getloadavg()[0]
    print(f"load average {load:.2f} on {os.cpu_count()} CPUs")
    image = build_mock_image()
    with tempfile.TemporaryDirectory(prefix="harness-containers-") as tmp:
        one = one_service_workspace(Path(tmp) / "one")
        samples: dict[int, list[float]] = {}
        for number in range(args.rounds):
            order = [(one, "crm-reader@dev"), (ROOT, "crm-sync@dev")]
            for root, binding in order if number % 2 == 0 else order[::-1]:
                seconds, count = first_response(root, binding, image)
                samples.setdefault(count, []).append(seconds)
        if args.phases:
            print("phases of one start of the example workspace's containers:")
            phases(ROOT, "crm-sync@dev", image)
    (single,), (many,) = sorted(samples.items())[:1], sorted(samples.items())[1:]
    median_one, median_many = statistics.median(single[1]), statistics.median(many[1])
    ratios = [m / o for o, m in zip(single[1], many[1], strict=True)]
    print(
        f"container start to first response, medians of {args.rounds} interleaved rounds "
        f"(the image built once before):"
    )
    print(f"  {single[0]} container    {median_one:6.2f} s   rounds: " + _seconds(single[1]))
    print(f"  {many[0]} containers   {median_many:6.2f} s   rounds: " + _seconds(many[1]))
    ratio = median_many / median_one
    verdict = "PASS" if ratio <= TARGET else "MISS"
    print(
        f"  ratio {ratio:.2f}x (per round {min(ratios):.2f}x to {max(ratios):.2f}x)   "
        f"[target <= {TARGET:.0f}x: {verdict}]"
    )
    print(f"load average after the run {os.getloadavg()[0]:.2f}")


def _seconds(values: list[float]) -> str:
    return " ".join(f"{value:.2f}" for value in values)


if __name__ == "__main__":
    main()
