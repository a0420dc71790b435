"""The containers of one docker transport: started with their labels, health-checked
before the first call, and removed when the transport closes."""

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
from harness.model import ContainerSpec, HealthCheck, Service
from harness.sandbox import Sandbox
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

    def start(self, service: Service, spec: ContainerSpec) -> RunningService:
        import docker.errors

        if spec.image not in self._images:
            try:
                self.client.images.get(spec.image)
            except docker.errors.ImageNotFound:
                raise SandboxError(
                    f"{spec.location}: image {spec.image!r} of service {service.name} is not on "
                    "the Docker engine; build it or pull it first (the harness never pulls images)"
                ) from None
            self._images.add(spec.image)
        port = (
            spec.port if self.bridge else (spec.port if spec.role == "upstream" else _free_port())
        )
        environment = dict(spec.environment)
        environment.setdefault("PORT", str(port))
        command: list[str] | None = list(spec.command) or None
        volumes = {host: {"bind": inside, "mode": "ro"} for host, inside in spec.mounts}
        working_dir = None
        if spec.role == "mock":
            command, mock_volumes, working_dir = self._mock_command(service, port)
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
                LABEL_SERVICE: service.name,
            },
            "environment": environment,
            "volumes": volumes,
            "name": f"connector-harness-{self.run_id}-{service.name}",
        }
        if command is not None:
            options["command"] = command
        if working_dir is not None:
            options["working_dir"] = working_dir
        if self.bridge:
            options["ports"] = {f"{port}/tcp": ("127.0.0.1", None)}
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
            raise SandboxError(
                f"{spec.location}: cannot create the container of {service.name}: {first_line(err)}"
            ) from err
        with self._lock:
            self.started.append(container)
        try:
            container.start()
        except docker.errors.DockerException as err:
            raise SandboxError(
                f"{spec.location}: the container of {service.name} did not start: {first_line(err)}"
            ) from err
        endpoint = self._endpoint(container, port)
        self._wait_healthy(service, spec, container, endpoint)
        return RunningService(service.name, spec.role, container, endpoint)

    def _mock_command(
        self, service: Service, port: int
    ) -> tuple[list[str], dict[str, dict[str, str]], str]:
        root = Path(self.sandbox.workspace.root)
        if not root.is_dir():
            raise SandboxError(
                f"service {service.name}: the mock role serves the workspace from disk, but this "
                f"workspace was built in memory ({self.sandbox.workspace.root})"
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
            "--service",
            service.name,
            "--port",
            str(port),
            "--bind",
            "0.0.0.0" if self.bridge else "127.0.0.1",
        ]
        # The same working directory as here, so file locations in decisions read alike.
        return command, volumes, os.getcwd()

    def _endpoint(self, container: Any, port: int) -> tuple[str, int]:
        if not self.bridge:
            return ("127.0.0.1", port)
        container.reload()
        bound = (container.ports or {}).get(f"{port}/tcp") or []
        if not bound:
            raise SandboxError(f"container {container.name} published no port for {port}/tcp")
        return ("127.0.0.1", int(bound[0]["HostPort"]))

    def _wait_healthy(
        self, service: Service, spec: ContainerSpec, container: Any, endpoint: tuple[str, int]
    ) -> None:
        deadline = time.monotonic() + spec.start_timeout_seconds
        # The probe first: asking the engine for the state of every starting container at
        # every poll kept it busy while it was starting them. A command health check is
        # read from the state; otherwise the state is read only to notice an early exit.
        every_poll = spec.health.kind == "command"
        asked = 0.0
        state: dict[str, Any] = {}
        while True:
            now = time.monotonic()
            if every_poll or now - asked >= STATE_SECONDS:
                asked = now
                container.reload()
                state = container.attrs.get("State", {})
                if state.get("Status") in ("exited", "dead"):
                    logs = container.logs(tail=20).decode(errors="replace").strip()
                    raise SandboxError(
                        f"{spec.location}: the container of {service.name} exited with code "
                        f"{state.get('ExitCode')} before it was ready"
                        + (f"; its last output:\n{logs}" if logs else "")
                    )
            if _ready(spec.health, state, endpoint):
                return
            if time.monotonic() > deadline:
                raise SandboxError(
                    f"{spec.location}: the container of {service.name} was not ready within "
                    f"{spec.start_timeout_seconds}s (health check: {spec.health.kind}); "
                    "raise `start_timeout` or fix the health check"
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
