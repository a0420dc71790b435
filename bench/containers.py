"""Container services started: the time from opening the docker transport to the first
answer, for the example workspace's nine services against a workspace of one service,
interleaved round by round in one run, in both layouts of the nine: the mock services
sharing one container (what the transport does) and one container per service.

Run: DOCKER_HOST=unix:///tmp/dockerd/docker.sock .venv/bin/python bench/containers.py
     [--rounds 5] [--phases]

The mock-server image is built (or found) once before the first round, as a check does;
every round then starts the containers, sends one authorized GET to the CRM service and
removes them. Each line also gives the containers the run started (counted on the engine
by the run's label) and the CPU the Docker engine's own processes (dockerd, containerd)
spent meanwhile. `--phases` also prints when each container was requested and ready, for
one start of the nine in containers of their own. Only the ratios of the same run are
meaningful: the machine's load moves every figure.
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
from typing import NamedTuple

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from harness.calls import CallContext, Request  # noqa: E402
from harness.sandbox import Sandbox  # noqa: E402
from harness.transports import open_transport  # noqa: E402
from harness.transports.docker_transport import docker_transport  # noqa: E402
from harness.transports.mock_image import build_mock_image  # noqa: E402
from harness.transports.reaping import LABEL_RUN, new_run_id  # noqa: E402
from harness.workspace.loader import load_workspace  # noqa: E402

TARGET = 2.0  # nine container services within twice the time of one
ENGINE_PROCESSES = ("dockerd", "containerd")  # whose CPU is the engine's

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


class Start(NamedTuple):
    seconds: float  # from opening the transport to the first answer
    services: int  # HTTP services of the workspace
    containers: int  # containers the run started
    engine_cpu: float | None  # seconds of CPU of the engine's processes meanwhile


def first_response(root: Path, binding_name: str, image: str, *, share: bool = True) -> Start:
    """Open the docker transport on `root`, send one call, close it: the time to the answer."""
    from harness.transports.docker_engine import connect

    client = connect()
    sandbox = Sandbox(load_workspace(root))
    binding = next(b for b in sandbox.workspace.bindings if b.name == binding_name)
    run = f"bench-{new_run_id()}"
    engine_before = engine_cpu()
    start = time.perf_counter()
    options = {"default_image": image, "share": share, "run_id": run, "client": client}
    with open_transport("docker", sandbox, **options) as send:
        token = sandbox.issue_token(binding)
        request = Request(
            "GET", "https://api.crm.example/v1/contacts", {"Authorization": f"Bearer {token}"}
        )
        status = send(request, CallContext()).status
        elapsed = time.perf_counter() - start
        engine_after = engine_cpu()
        started = len(client.api.containers(filters={"label": f"{LABEL_RUN}={run}"}))
    if status != 200:
        raise SystemExit(f"the first call answered {status}, not 200")
    services = sum(1 for s in sandbox.workspace.services if s.hosts)
    used = None if engine_before is None or engine_after is None else engine_after - engine_before
    return Start(elapsed, services, started, used)


def engine_cpu() -> float | None:
    """CPU seconds (user + system) of the engine's processes on this machine, from /proc;
    None where they cannot be read (another kernel, the engine on another host)."""
    ticks = os.sysconf("SC_CLK_TCK")
    total, found = 0, False
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        name = stat[stat.index("(") + 1 : stat.rindex(")")]
        if name in ENGINE_PROCESSES:
            fields = stat[stat.rindex(")") + 2 :].split()
            total += int(fields[11]) + int(fields[12])  # utime, stime
            found = True
    return total / ticks if found else None


def phases(root: Path, binding_name: str, image: str) -> None:
    """When each container of one start was requested and answered its health check."""
    from harness.transports import containers
    from harness.transports.container_groups import ContainerPlan

    marks: list[tuple[float, str, str]] = []
    start = time.perf_counter()
    original_start = containers.Containers.start

    def timed(self: containers.Containers, plan: ContainerPlan) -> list[containers.RunningService]:
        names = ",".join(plan.names)
        marks.append((time.perf_counter() - start, names, "start requested"))
        running = original_start(self, plan)
        marks.append((time.perf_counter() - start, names, "healthy"))
        return running

    containers.Containers.start = timed  # type: ignore[method-assign]
    try:
        sandbox = Sandbox(load_workspace(root))
        with docker_transport(sandbox, default_image=image, share=False):
            marks.append((time.perf_counter() - start, "-", "transport open"))
    finally:
        containers.Containers.start = original_start  # type: ignore[method-assign]
    for at, service, what in sorted(marks):
        print(f"  {at:6.2f} s  {service:<14} {what}")


LAYOUTS = (
    ("1 service", "one", True),
    ("9 services, shared", "nine", True),
    ("9 services, one each", "nine", False),
)


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
    samples: dict[str, list[Start]] = {label: [] for label, _, _ in LAYOUTS}
    with tempfile.TemporaryDirectory(prefix="harness-containers-") as tmp:
        roots = {
            "one": (one_service_workspace(Path(tmp) / "one"), "crm-reader@dev"),
            "nine": (ROOT, "crm-sync@dev"),
        }
        for number in range(args.rounds):
            # the order rotates from round to round, so a slow spell falls on every layout
            turn = number % len(LAYOUTS)
            for label, workspace, share in LAYOUTS[turn:] + LAYOUTS[:turn]:
                root, binding = roots[workspace]
                samples[label].append(first_response(root, binding, image, share=share))
        if args.phases:
            print("phases of one start of the nine services in containers of their own:")
            phases(ROOT, "crm-sync@dev", image)
    print(
        f"container start to first response, medians of {args.rounds} interleaved rounds "
        "(the image built once before):"
    )
    print(
        f"  {'workspace and layout':<22} {'services':>8} {'containers':>10} {'median s':>9} "
        f"{'engine CPU s':>12}   rounds (s)"
    )
    single = samples[LAYOUTS[0][0]]
    median_one = statistics.median(start.seconds for start in single)
    for label, _, _ in LAYOUTS:
        starts = samples[label]
        cpu = [start.engine_cpu for start in starts if start.engine_cpu is not None]
        shown_cpu = f"{statistics.median(cpu):12.2f}" if cpu else f"{'n/a':>12}"
        print(
            f"  {label:<22} {starts[0].services:>8} {_containers(starts):>10} "
            f"{statistics.median(s.seconds for s in starts):9.2f} {shown_cpu}   "
            + _seconds([start.seconds for start in starts])
        )
    for label, _, _ in LAYOUTS[1:]:
        starts = samples[label]
        ratio = statistics.median(s.seconds for s in starts) / median_one
        ratios = [m.seconds / o.seconds for o, m in zip(single, starts, strict=True)]
        verdict = "PASS" if ratio <= TARGET else "MISS"
        target = f"[target <= {TARGET:.0f}x: {verdict}]" if label == LAYOUTS[1][0] else ""
        print(
            f"  {label} / 1 service: {ratio:.2f}x "
            f"(per round {min(ratios):.2f}x to {max(ratios):.2f}x)   {target}".rstrip()
        )
    print(f"load average after the run {os.getloadavg()[0]:.2f}")


def _containers(starts: list[Start]) -> str:
    counts = sorted({start.containers for start in starts})
    return "/".join(str(count) for count in counts)


def _seconds(values: list[float]) -> str:
    return " ".join(f"{value:.2f}" for value in values)


if __name__ == "__main__":
    main()
