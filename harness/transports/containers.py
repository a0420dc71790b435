"""The containers of one docker transport: started with their labels, health-checked
before the first call, and removed when the transport closes.

A container carries one service or, for the harness's own mock server, several
(`container_groups` decides which): its `connector-harness.service` label lists them,
comma-separated, and it is ready when every one of them answers its health check."""

from __future__ import annotations

import http.client
import os
import shutil
import socket
import sysconfig
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from harness.errors import SandboxError
from harness.model import ContainerSpec, HealthCheck
from harness.sandbox import Sandbox
from harness.transports.container_groups import ContainerPlan, describe
from harness.transports.container_server import write_workspace
from harness.transports.docker_engine import first_line
from harness.transports.mock_image import IMAGE_SOURCE, python_in_image, runtime_mounts
from harness.transports.reaping import (
    LABEL,
    LABEL_OWNER,
    LABEL_RUN,
    LABEL_SERVICE,
    owner,
    remove_container,
)
from harness.transports.wire import SIGNING_KEY_VARIABLE

MOCK_PORT = 8080
POLL_SECONDS = 0.05
STATE_SECONDS = 0.5  # how often a container that is not ready yet is asked for its state
MAX_PARALLEL = 32  # containers created, started and awaited at once
TCP_SETTLE_SECONDS = 0.2  # how long a tcp health probe's connection must stay open


@dataclass(frozen=True, slots=True)
class RunningService:
    service: str
    role: str
    container: Any
    endpoint: tuple[str, int]


def _services(names: tuple[str, ...]) -> str:
    return f"service {names[0]}" if len(names) == 1 else f"services {', '.join(names)}"


def _container_name(run_id: str, names: tuple[str, ...]) -> str:
    """`connector-harness-RUN-SERVICE`, or `...-FIRST-and-N-more` for a shared container."""
    base = f"connector-harness-{run_id}-{names[0]}"
    return base if len(names) == 1 else f"{base}-and-{len(names) - 1}-more"


def _bridge_available(client: Any) -> bool:
    return bool(client.networks.list(names=["bridge"]))


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class Containers:
    """Starts, health-checks and removes the containers of one docker transport."""

    def __init__(self, client: Any, sandbox: Sandbox, run_id: str) -> None:
        self.client = client
        self.sandbox = sandbox
        self.run_id = run_id
        self.bridge = _bridge_available(client)
        self.started: list[Any] = []
        self._lock = threading.Lock()
        self._images: set[str] = set()  # found on the engine
        self._directory: Path | None = None  # private: the pickled workspace for mock containers
        self._workspace: Path | None = None

    def _workspace_file(self) -> Path:
        """The sandbox's workspace, pickled once for every mock container of this transport."""
        with self._lock:
            if self._workspace is None:
                self._directory = Path(tempfile.mkdtemp(prefix="connector-harness-"))
                self._directory.chmod(0o755)  # mounted read-only into the containers
                self._workspace = write_workspace(self.sandbox.workspace, self._directory)
            return self._workspace

    def start(self, plan: ContainerPlan) -> list[RunningService]:
        """Start the container of `plan` and wait until every service it carries answers."""
        import docker.errors

        spec, names = plan.spec, plan.names
        what = describe(names)
        if spec.image not in self._images:
            try:
                self.client.images.get(spec.image)
            except docker.errors.ImageNotFound:
                raise SandboxError(
                    f"{spec.location}: image {spec.image!r} of {_services(names)} is not on "
                    "the Docker engine; build it or pull it first (the harness never pulls images)"
                ) from None
            self._images.add(spec.image)
        ports = [self._port(spec, member.port) for member in plan.members]
        environment = dict(spec.environment)
        if len(ports) == 1:  # several services in one container: each has its port on the command
            environment.setdefault("PORT", str(ports[0]))
        command: list[str] | None = list(spec.command) or None
        volumes = {host: {"bind": inside, "mode": "ro"} for host, inside in spec.mounts}
        working_dir = None
        if spec.role == "mock":
            command, mock_volumes, working_dir = self._mock_command(plan, ports)
            volumes.update(mock_volumes)
            environment[SIGNING_KEY_VARIABLE] = self.sandbox.tokens.key.hex()
            environment["PYTHONPATH"] = f"{IMAGE_SOURCE}:{sysconfig.get_paths()['purelib']}"
            environment["PYTHONDONTWRITEBYTECODE"] = "1"
        options: dict[str, Any] = {
            "detach": True,
            "labels": {
                LABEL: "1",
                LABEL_OWNER: owner(),
                LABEL_RUN: self.run_id,
                LABEL_SERVICE: ",".join(names),
            },
            "environment": environment,
            "volumes": volumes,
            "name": _container_name(self.run_id, names),
        }
        if command is not None:
            options["command"] = command
        if working_dir is not None:
            options["working_dir"] = working_dir
        if self.bridge:
            options["ports"] = {f"{port}/tcp": ("127.0.0.1", None) for port in ports}
        else:
            options["network_mode"] = "host"
        if spec.health.kind == "command":
            options["healthcheck"] = {
                "test": ["CMD", *spec.health.command],
                "interval": 100_000_000,
                "timeout": 2_000_000_000,
                "retries": 3,
                "start_period": spec.start_timeout_seconds * 1_000_000_000,
            }
        try:
            container = self.client.containers.create(spec.image, **options)
        except docker.errors.DockerException as err:
            raise SandboxError(f"{spec.location}: cannot create {what}: {first_line(err)}") from err
        with self._lock:
            self.started.append(container)
        try:
            container.start()
        except docker.errors.DockerException as err:
            raise SandboxError(f"{spec.location}: {what} did not start: {first_line(err)}") from err
        try:
            endpoints = self._endpoints(plan, container, ports)
            self._wait_ready(plan, container, endpoints)
        except docker.errors.NotFound:
            raise SandboxError(
                f"{spec.location}: {what} was removed by someone else before it was ready "
                "(`docker rm`, or `connector-harness reap --all` from another run on this "
                "engine); run again, and reap one run with `reap --run ID`"
            ) from None
        return [
            RunningService(member.service.name, member.spec.role, container, endpoint)
            for member, endpoint in zip(plan.members, endpoints, strict=True)
        ]

    def _port(self, spec: ContainerSpec, planned: int) -> int:
        """The port a service listens on in its container: the planned one on a bridge
        network; on the host's network, a free port for the harness's own server."""
        if self.bridge or spec.role == "upstream":
            return planned
        return _free_port()

    def _mock_command(
        self, plan: ContainerPlan, ports: list[int]
    ) -> tuple[list[str], dict[str, dict[str, str]], str]:
        root = Path(self.sandbox.workspace.root)
        if not root.is_dir():
            raise SandboxError(
                f"{_services(plan.names)}: the mock role serves the workspace from disk, but "
                f"this workspace was built in memory ({self.sandbox.workspace.root})"
            )
        workspace = str(root.resolve())
        volumes = {
            host: {"bind": inside, "mode": "ro"} for host, inside in runtime_mounts().items()
        }
        volumes[workspace] = {"bind": workspace, "mode": "ro"}
        pickled = self._workspace_file()
        volumes[str(pickled.parent)] = {"bind": str(pickled.parent), "mode": "ro"}
        command = [
            python_in_image(),
            "-S",
            "-m",
            "harness.transports.container_server",
            str(pickled),
        ]
        for name, port in zip(plan.names, ports, strict=True):
            command += ["--serve", f"{name}={port}"]
        command += ["--bind", "0.0.0.0" if self.bridge else "127.0.0.1"]
        # The same working directory as here, so file locations in decisions read alike.
        return command, volumes, os.getcwd()

    def _endpoints(
        self, plan: ContainerPlan, container: Any, ports: list[int]
    ) -> list[tuple[str, int]]:
        if not self.bridge:
            return [("127.0.0.1", port) for port in ports]
        container.reload()
        published = container.ports or {}
        endpoints = []
        for port in ports:
            bound = published.get(f"{port}/tcp") or []
            if not bound:
                _refuse_if_exited(plan, container)  # an exited container publishes nothing
                raise SandboxError(f"container {container.name} published no port for {port}/tcp")
            endpoints.append(("127.0.0.1", int(bound[0]["HostPort"])))
        return endpoints

    def _wait_ready(
        self, plan: ContainerPlan, container: Any, endpoints: list[tuple[str, int]]
    ) -> None:
        """Wait until every service of the container answers its own health check, each
        within its own `start_timeout`; an early exit is reported for all of them."""
        begun = time.monotonic()
        waiting = list(zip(plan.members, endpoints, strict=True))
        # The probes first: asking the engine for the state of every starting container at
        # every poll kept it busy while it was starting them. A command health check is
        # read from the state; otherwise the state is read only to notice an early exit.
        every_poll = plan.spec.health.kind == "command"
        asked = 0.0
        state: dict[str, Any] = {}
        while True:
            now = time.monotonic()
            if every_poll or now - asked >= STATE_SECONDS:
                asked = now
                container.reload()
                state = _refuse_if_exited(plan, container)
            # One service's port at a time: the process binds them all as it starts, so
            # until the first answers, probing the others only loads the engine's proxies.
            while waiting and _ready(waiting[0][0].spec.health, state, waiting[0][1]):
                waiting.pop(0)
            if not waiting:
                return
            now = time.monotonic()
            for member, _ in waiting:
                spec = member.spec
                if now - begun > spec.start_timeout_seconds:
                    shared = (
                        f" (a container shared with {', '.join(n for n in plan.names if n != member.service.name)})"
                        if len(plan.members) > 1
                        else ""
                    )
                    raise SandboxError(
                        f"{spec.location}: the container of {member.service.name}{shared} was not "
                        f"ready within {spec.start_timeout_seconds}s (health check: "
                        f"{spec.health.kind}); raise `start_timeout` or fix the health check"
                    )
            time.sleep(POLL_SECONDS)

    def remove_all(self) -> None:
        with self._lock:
            containers, self.started = list(self.started), []
            directory, self._directory, self._workspace = self._directory, None, None
        if containers:
            with ThreadPoolExecutor(max_workers=min(MAX_PARALLEL, len(containers))) as pool:
                list(pool.map(remove_container, containers))
        if directory is not None:
            shutil.rmtree(directory, ignore_errors=True)


def _refuse_if_exited(plan: ContainerPlan, container: Any) -> dict[str, Any]:
    """The state of a container just reloaded; a SandboxError naming every service it
    carries, with its last output, when it has exited."""
    state: dict[str, Any] = container.attrs.get("State", {})
    if state.get("Status") in ("exited", "dead"):
        logs = container.logs(tail=20).decode(errors="replace").strip()
        raise SandboxError(
            f"{plan.spec.location}: {describe(plan.names)} exited with code "
            f"{state.get('ExitCode')} before it was ready"
            + (f"; its last output:\n{logs}" if logs else "")
        )
    return state


def _ready(health: HealthCheck, state: dict[str, Any], endpoint: tuple[str, int]) -> bool:
    if health.kind == "command":
        return bool(state.get("Health", {}).get("Status") == "healthy")
    try:
        if health.kind == "tcp":
            return _accepts(endpoint)
        connection = http.client.HTTPConnection(*endpoint, timeout=2)
        try:
            connection.request("GET", health.path)
            connection.getresponse().read()
            return True
        finally:
            connection.close()
    except (OSError, http.client.HTTPException):
        return False


def _accepts(endpoint: tuple[str, int]) -> bool:
    """The port holds a connection open. Docker's userland proxy accepts on a published
    port before the container listens, then drops the connection: that is not ready."""
    with socket.create_connection(endpoint, timeout=1) as probe:
        probe.settimeout(TCP_SETTLE_SECONDS)
        try:
            return probe.recv(1) != b""  # a greeting (the server speaks first), not a close
        except TimeoutError:
            return True  # open and quiet: a server waiting for its request
