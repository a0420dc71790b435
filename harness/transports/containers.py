"""The `docker` transport: services run as containers through the Docker SDK.

A service whose spec has `container:` runs its image; with `default_image`, every
other HTTP service runs the harness's own mock server in that image. Containers
carry `connector-harness.*` labels, are health-checked before the first call, and
are removed when the transport closes, also after Ctrl-C or SIGTERM. Containers
left by a run that crashed are removed by `reap`, which every docker transport
runs first. The harness never pulls an image: it must be on the engine already.

Roles: a `mock` container runs `connector-harness serve` on the same workspace
with this sandbox's signing key; it follows the sandbox's clock and resets and
sends each decision back in a header, which joins this sandbox's log. An
`upstream` container is third-party software: this sandbox authorizes each call
and only an allowed call is forwarded to the container, whose answer the flow gets.
"""

from __future__ import annotations

import hashlib
import http.client
import io
import os
import signal
import socket
import sys
import sysconfig
import tarfile
import threading
import time
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, replace
from pathlib import Path
from types import FrameType
from typing import Any

from harness.errors import SandboxError
from harness.messages import ALLOWED, CallContext, Request, Response
from harness.model import ContainerSpec, HealthCheck, Service
from harness.replay import Transport
from harness.routing import split_url
from harness.sandbox import Sandbox
from harness.transports import wire
from harness.transports.loopback import HttpClientTransport, LoopbackServer, http_services
from harness.transports.wire import SIGNING_KEY_VARIABLE

LABEL = "connector-harness"
LABEL_OWNER = "connector-harness.owner"  # HOSTNAME:PID of the process that started it
LABEL_RUN = "connector-harness.run"
LABEL_SERVICE = "connector-harness.service"
MOCK_IMAGE_REPOSITORY = "connector-harness/mock-server"
IMAGE_SOURCE = "/opt/connector-harness"  # where the mock-server image holds the harness
MOCK_PORT = 8080
POLL_SECONDS = 0.05
TCP_SETTLE_SECONDS = 0.2  # how long a tcp health probe's connection must stay open

_PACKAGE = Path(__file__).resolve().parents[1]


def connect(client: Any = None) -> Any:
    """A Docker SDK client that answers, or a SandboxError saying what to do."""
    try:
        import docker
        import docker.errors
    except ImportError as err:
        raise SandboxError(
            "the docker transport needs the Docker SDK: pip install 'connector-harness[docker]'"
        ) from err
    where = os.environ.get("DOCKER_HOST") or "unix:///var/run/docker.sock (DOCKER_HOST is unset)"
    try:
        client = client or docker.from_env(timeout=30)
        client.ping()
    except docker.errors.DockerException as err:
        raise SandboxError(
            f"no Docker engine answers at {where}: {_first_line(err)}\n"
            "  start one (e.g. `dockerd --host unix:///tmp/docker.sock &` and "
            "`export DOCKER_HOST=unix:///tmp/docker.sock`), or use --transport http"
        ) from err
    return client


def _first_line(error: BaseException) -> str:
    return str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__


# -- the harness's own mock-server image ---------------------------------------------------


def mock_image_tag() -> str:
    """The tag of the mock-server image for this harness source (its content hash)."""
    digest = hashlib.sha256()
    for path in sorted(_package_files()):
        digest.update(str(path.relative_to(_PACKAGE)).encode())
        digest.update(path.read_bytes())
    return f"{MOCK_IMAGE_REPOSITORY}:{digest.hexdigest()[:12]}"


def _package_files() -> list[Path]:
    return [
        p
        for p in _PACKAGE.rglob("*")
        if p.is_file()
        and p.suffix in (".py", ".json", ".typed", ".yaml")  # .yaml: the bundled packs
        and "__pycache__" not in p.parts
    ]


def build_mock_image(client: Any = None) -> str:
    """Build the mock-server image locally (FROM scratch, no registry); return its tag.

    The image holds the harness source and the directory links a Debian-style root
    needs; the Python runtime and the harness's dependencies are mounted read-only
    from the host when a container starts (`runtime_mounts`).
    """
    client = connect(client)
    tag = mock_image_tag()
    import docker.errors

    try:
        client.images.get(tag)
        return tag
    except docker.errors.ImageNotFound:
        pass
    context = io.BytesIO()
    with tarfile.open(fileobj=context, mode="w") as tar:
        _add_file(tar, "Dockerfile", b"FROM scratch\nCOPY rootfs/ /\n")
        for directory in ("rootfs", "rootfs/usr", "rootfs/etc", "rootfs/tmp", "rootfs/opt"):
            _add_directory(tar, directory, 0o1777 if directory.endswith("tmp") else 0o755)
        for name in ("lib", "lib64", "bin", "sbin"):
            _add_link(tar, f"rootfs/{name}", f"usr/{name}")
        for path in sorted(_package_files()):
            relative = path.relative_to(_PACKAGE.parent)
            _add_file(tar, f"rootfs{IMAGE_SOURCE}/{relative}", path.read_bytes())
    context.seek(0)
    try:
        client.images.build(
            fileobj=context,
            custom_context=True,
            tag=tag,
            rm=True,
            labels={LABEL: "mock-server-image"},
        )
    except docker.errors.DockerException as err:
        raise SandboxError(f"building the mock-server image failed: {_first_line(err)}") from err
    return tag


def _add_file(tar: tarfile.TarFile, name: str, data: bytes) -> None:
    info = tarfile.TarInfo(name)
    info.size = len(data)
    info.mode = 0o644
    tar.addfile(info, io.BytesIO(data))


def _add_directory(tar: tarfile.TarFile, name: str, mode: int) -> None:
    info = tarfile.TarInfo(name)
    info.type = tarfile.DIRTYPE
    info.mode = mode
    tar.addfile(info)


def _add_link(tar: tarfile.TarFile, name: str, target: str) -> None:
    info = tarfile.TarInfo(name)
    info.type = tarfile.SYMTYPE
    info.linkname = target
    tar.addfile(info)


def runtime_mounts() -> dict[str, str]:
    """Host paths the mock-server image needs read-only: /usr, the Python runtime, the
    installed dependencies (host path -> the same container path)."""
    wanted = ["/usr", sys.base_prefix, sysconfig.get_paths()["purelib"], "/etc/ld.so.cache"]
    mounts: dict[str, str] = {}
    for path in wanted:
        resolved = str(Path(path).resolve())
        if not Path(resolved).exists():
            continue
        if any(resolved == m or resolved.startswith(m.rstrip("/") + "/") for m in mounts):
            continue
        mounts[resolved] = resolved
    return mounts


def _python_in_image() -> str:
    return str(Path(sys.base_prefix).resolve() / "bin" / f"python{sys.version_info[0]}")


# -- containers ------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class RunningService:
    service: str
    role: str
    container: Any
    endpoint: tuple[str, int]


def _owner() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def reap(client: Any = None, *, everything: bool = False) -> list[str]:
    """Remove labelled containers whose owner process on this host is gone (or all of them).

    Returns the names of the removed containers.
    """
    client = connect(client)
    removed: list[str] = []
    host = socket.gethostname()
    for container in client.containers.list(all=True, filters={"label": LABEL}):
        owner = container.labels.get(LABEL_OWNER, "")
        owner_host, _, pid_text = owner.rpartition(":")
        orphan = owner_host == host and pid_text.isdigit() and not _alive(int(pid_text))
        if everything or orphan or not owner:
            _remove(container)
            removed.append(container.name)
    return removed


def _remove(container: Any) -> None:
    import docker.errors

    try:
        container.remove(force=True, v=True)
    except docker.errors.NotFound:
        pass
    except docker.errors.APIError as err:
        if "already in progress" not in str(err):
            raise


def _bridge_available(client: Any) -> bool:
    return bool(client.networks.list(names=["bridge"]))


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class _Containers:
    """Starts, health-checks and removes the containers of one docker transport."""

    def __init__(self, client: Any, sandbox: Sandbox, run_id: str) -> None:
        self.client = client
        self.sandbox = sandbox
        self.run_id = run_id
        self.bridge = _bridge_available(client)
        self.started: list[Any] = []
        self._lock = threading.Lock()

    def start(self, service: Service, spec: ContainerSpec) -> RunningService:
        import docker.errors

        try:
            self.client.images.get(spec.image)
        except docker.errors.ImageNotFound:
            raise SandboxError(
                f"{spec.location}: image {spec.image!r} of service {service.name} is not on the "
                "Docker engine; build it or pull it first (the harness never pulls images)"
            ) from None
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
                LABEL_OWNER: _owner(),
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
                f"{spec.location}: cannot create the container of {service.name}: "
                f"{_first_line(err)}"
            ) from err
        with self._lock:
            self.started.append(container)
        try:
            container.start()
        except docker.errors.DockerException as err:
            raise SandboxError(
                f"{spec.location}: the container of {service.name} did not start: "
                f"{_first_line(err)}"
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
        command = [
            _python_in_image(),
            "-S",
            "-m",
            "harness.cli",
            "serve",
            workspace,
            "--service",
            service.name,
            "--port",
            str(port),
            "--bind",
            "0.0.0.0" if self.bridge else "127.0.0.1",
            "--quiet",
            "--in-container",
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
        while True:
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
        if containers:
            with ThreadPoolExecutor(max_workers=min(8, len(containers))) as pool:
                list(pool.map(_remove, containers))


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


@contextmanager
def _interrupt_on_sigterm() -> Iterator[None]:
    """SIGTERM unwinds like Ctrl-C while containers run, so they are removed (main thread only)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def interrupt(signum: int, frame: FrameType | None) -> None:
        raise KeyboardInterrupt

    previous = signal.signal(signal.SIGTERM, interrupt)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


@contextmanager
def _uninterrupted() -> Iterator[None]:
    """Let clean-up finish even when Ctrl-C is pressed again (main thread only)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)


@contextmanager
def docker_transport(
    sandbox: Sandbox,
    *,
    client: Any = None,
    default_image: str | None = None,
    start_timeout: int | None = None,
) -> Iterator[Transport]:
    """The replay transport over containers; they are removed when the block ends."""
    client = connect(client)
    reap(client)
    run_id = uuid.uuid4().hex[:10]
    containers = _Containers(client, sandbox, run_id)
    plans: list[tuple[Service, ContainerSpec]] = []
    for service in http_services(sandbox):
        spec = service.container
        if spec is None and default_image is not None:
            spec = ContainerSpec(
                default_image, MOCK_PORT, "mock", (), (), (), HealthCheck(), 60, service.location
            )
        if spec is not None:
            if start_timeout is not None:
                spec = _with_timeout(spec, start_timeout)
            plans.append((service, spec))
    in_process = tuple(
        s.name for s in http_services(sandbox) if s.name not in {p[0].name for p in plans}
    )
    with _interrupt_on_sigterm():
        try:
            running: dict[str, RunningService] = {}
            if plans:
                with ThreadPoolExecutor(max_workers=min(8, len(plans))) as pool:
                    for result in pool.map(lambda plan: containers.start(*plan), plans):
                        running[result.service] = result
            local = LoopbackServer(sandbox, services=in_process or None)
            with local:
                route = _Route(sandbox, running, local)
                try:
                    yield route
                finally:
                    route.close()
        finally:
            with _uninterrupted():
                containers.remove_all()


def _with_timeout(spec: ContainerSpec, seconds: int) -> ContainerSpec:
    return replace(spec, start_timeout_seconds=seconds)


class _Route:
    """Sends each call where its service runs: a mock container, an upstream container
    behind this sandbox's authorization, or the in-process loopback server."""

    def __init__(
        self, sandbox: Sandbox, running: dict[str, RunningService], local: LoopbackServer
    ) -> None:
        self.sandbox = sandbox
        self.by_host: dict[str, RunningService] = {}
        for service in http_services(sandbox):
            if service.name in running:
                for host in service.hosts:
                    self.by_host[host] = running[service.name]
        self.local = local
        self.to_local = HttpClientTransport(local.endpoint)
        self.to_mocks = HttpClientTransport(
            self._endpoint, decorate=self._follow, on_answer=self._import_decision
        )
        self.to_upstreams = HttpClientTransport(self._endpoint)

    def _endpoint(self, host: str) -> tuple[str, int]:
        target = self.by_host.get(host)
        return target.endpoint if target is not None else self.local.endpoint(host)

    def _follow(self, headers: dict[str, str]) -> None:
        headers[wire.CLOCK] = str(self.sandbox.clock.now)
        headers[wire.GENERATION] = str(self.sandbox.generation)
        revoked = self.sandbox.tokens.revoked
        if revoked:
            headers[wire.REVOKED] = ",".join(sorted(revoked))

    def _import_decision(self, headers: list[tuple[str, str]]) -> None:
        text = next((v for k, v in headers if k.lower() == wire.DECISION.lower()), None)
        if text is not None:
            decisions = self.sandbox.decisions
            decisions.append(wire.decode_decision(text, len(decisions) + 1))

    def __call__(self, request: Request, context: CallContext) -> Response:
        target = self.by_host.get(split_url(request.url)[0])
        if target is None:
            return self.to_local(request, context)
        if target.role == "mock":
            return self.to_mocks(request, context)
        response = self.sandbox.handle(request, context)
        if response.blocked or self.sandbox.decisions[-1].outcome != ALLOWED:
            return response
        return self.to_upstreams(request, CallContext())

    def close(self) -> None:
        for client in (self.to_local, self.to_mocks, self.to_upstreams):
            client.close()
