"""The `docker` transport: services run as containers through the Docker SDK.

A service whose spec has `container:` runs its image; with `default_image`, every
other HTTP service runs the harness's own mock server in that image. The mock
services that can share a container run in one, each on its own port with a sandbox
of its own (`container_groups`); an upstream service has a container of its own.
Containers carry `connector-harness.*` labels, are health-checked before the first call, and
are removed when the transport closes, also after Ctrl-C or SIGTERM. Containers
left by a run that crashed are removed by `reap`, which every docker transport
runs first. The harness never pulls an image: it must be on the engine already.

Roles: a `mock` container runs the harness's server (`container_server`) on the
workspace this process loaded, with this sandbox's signing key; it follows the sandbox's clock and resets and
sends each decision back in a header, which joins this sandbox's log. An
`upstream` container is third-party software: this sandbox authorizes each call
and only an allowed call is forwarded to the container, whose answer the flow gets.
"""

from __future__ import annotations

from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import replace
from typing import Any

from harness.calls import CallContext, Request, Response, header
from harness.decisions import ALLOWED
from harness.model import ContainerSpec, HealthCheck, Service
from harness.replay import Transport
from harness.routing import split_url
from harness.sandbox import Sandbox
from harness.transports import wire
from harness.transports.container_groups import plan_containers
from harness.transports.containers import MAX_PARALLEL, MOCK_PORT, Containers, RunningService
from harness.transports.docker_engine import connect
from harness.transports.loopback import HttpClientTransport, LoopbackServer, http_services
from harness.transports.reaping import check_run_id, new_run_id, reap
from harness.transports.signals import interrupt_on_sigterm, uninterrupted


@contextmanager
def docker_transport(
    sandbox: Sandbox,
    *,
    client: Any = None,
    default_image: str | None = None,
    start_timeout: int | None = None,
    share: bool = True,
    run_id: str | None = None,
) -> Iterator[Transport]:
    """The replay transport over containers; they are removed when the block ends.

    The mock services that can share a container run in one (`container_groups`; with
    `share=False`, one container per service). `run_id` labels the containers
    (`connector-harness.run`, what `reap --run` targets) and is part of their names, so
    two transports open at once need different ones; by default a fresh one.
    """
    client = connect(client)
    reap(client)
    run_id = run_id or new_run_id()
    check_run_id(run_id)
    containers = Containers(client, sandbox, run_id)
    wanted: list[tuple[Service, ContainerSpec]] = []
    for service in http_services(sandbox):
        spec = service.container
        if spec is None and default_image is not None:
            spec = ContainerSpec(
                default_image, MOCK_PORT, "mock", (), (), (), HealthCheck(), 60, service.location
            )
        if spec is not None:
            if start_timeout is not None:
                spec = _with_timeout(spec, start_timeout)
            wanted.append((service, spec))
    plans = plan_containers(wanted, share=share)
    in_containers = {service.name for service, _ in wanted}
    in_process = tuple(s.name for s in http_services(sandbox) if s.name not in in_containers)
    with interrupt_on_sigterm():
        try:
            running: dict[str, RunningService] = {}
            if plans:
                # every container at once: a slow one must not hold back the start of another
                with ThreadPoolExecutor(max_workers=min(MAX_PARALLEL, len(plans))) as pool:
                    for started in pool.map(containers.start, plans):
                        running.update((result.service, result) for result in started)
            local = LoopbackServer(sandbox, services=in_process or None)
            with local:
                route = _Route(sandbox, running, local)
                try:
                    yield route
                finally:
                    route.close()
        finally:
            with uninterrupted():
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
        text = header(headers, wire.DECISION)
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
