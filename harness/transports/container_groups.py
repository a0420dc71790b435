"""Which services share a container: the docker transport's grouping rule.

Every mock service of the harness's own server costs a container start (the engine's
work and the container's own: about 0.44 s of CPU each), so the mock services that can
share one run in ONE container: one process, one listening port per service, each port
answered by a sandbox of its own (its own replay state, collections and decision
numbering), so that sharing changes nothing a flow can observe.

The rule, for the general case:

- a service with `role: upstream` is third-party software: one container each, always;
- services with `role: mock` share a container when everything the container is made
  of is the same for them: the image, the environment, the read-only mounts and (for
  `health: {command: ...}`, which the engine runs once per container) the health
  command. Services whose options differ go to separate containers, one per distinct
  set of options. `command` is not part of it (a mock container always runs the
  harness's server), nor are `port` (the harness chooses the ports of its own server:
  the first service keeps its `port`, the next ones the following free ports), the HTTP
  or TCP health check (each port is checked on its own) and `start_timeout` (each
  service is awaited within its own).

With `share=False` every service gets a container of its own (the layout before this
rule: for measuring, or to see one service's container on its own).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from harness.model import ContainerSpec, Service

MAX_PORT = 65535


@dataclass(frozen=True, slots=True)
class Member:
    """One service in a container, and the port it listens on inside it."""

    service: Service
    spec: ContainerSpec
    port: int


@dataclass(frozen=True, slots=True)
class ContainerPlan:
    """One container to start: its options (those of its first member) and its services."""

    spec: ContainerSpec
    members: tuple[Member, ...]

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(member.service.name for member in self.members)


def sharing_key(spec: ContainerSpec) -> tuple[object, ...] | None:
    """What must be equal for two services to share a container (None: never shared)."""
    if spec.role != "mock":
        return None
    health = spec.health.command if spec.health.kind == "command" else None
    return (spec.image, spec.environment, spec.mounts, health)


def plan_containers(
    services: Iterable[tuple[Service, ContainerSpec]], *, share: bool = True
) -> tuple[ContainerPlan, ...]:
    """The containers to start for `services`, in the order their first service comes."""
    groups: dict[object, list[tuple[Service, ContainerSpec]]] = {}
    for index, (service, spec) in enumerate(services):
        key = sharing_key(spec) if share else None
        groups.setdefault(("alone", index) if key is None else key, []).append((service, spec))
    return tuple(_plan(members) for members in groups.values())


def _plan(members: Sequence[tuple[Service, ContainerSpec]]) -> ContainerPlan:
    first = members[0][1]
    ports = _ports(first.port, len(members))
    return ContainerPlan(
        first,
        tuple(
            Member(service, spec, port)
            for (service, spec), port in zip(members, ports, strict=True)
        ),
    )


def _ports(base: int, count: int) -> list[int]:
    """`count` consecutive ports from `base` (below it when they would pass 65535)."""
    start = min(base, MAX_PORT + 1 - count)
    return list(range(start, start + count))


def describe(names: Sequence[str]) -> str:
    """How an error names the services a container carries."""
    if len(names) == 1:
        return f"the container of {names[0]}"
    return f"the container shared by {len(names)} services ({', '.join(names)})"
