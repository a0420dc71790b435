"""Which services share a container: mock services with the same container options share
one (each on a port of its own), anything that differs gets a container of its own."""

from __future__ import annotations

from typing import Any

from workspaces import build, policy, service

from harness.model import ContainerSpec, Service
from harness.transports.container_groups import describe, plan_containers, sharing_key

IMAGE = "connector-harness/mock-server:test"


def _services(**containers: dict[str, Any]) -> list[tuple[Service, ContainerSpec]]:
    specs = [
        service(service=name, hosts=[f"{name}.example"], container=container)
        for name, container in containers.items()
    ]
    first = next(iter(containers))
    calls = [("GET", "/items")]
    workspace = build(specs, [policy([], calls, service_name=first, host=f"{first}.example")])
    planned = []
    for loaded in workspace.services:
        assert loaded.container is not None
        planned.append((loaded, loaded.container))
    return planned


def _layout(planned: list[tuple[Service, ContainerSpec]], **options: Any) -> list[list[str]]:
    """The services of each container, the containers in the order of their first service."""
    return [list(plan.names) for plan in plan_containers(planned, **options)]


def test_mock_services_with_the_same_options_share_one_container_on_ports_of_their_own() -> None:
    mock = {"image": IMAGE, "role": "mock"}
    planned = _services(a=mock, b=mock, c={**mock, "port": 9000})
    (plan,) = plan_containers(planned)
    assert plan.names == ("a", "b", "c")
    assert [member.port for member in plan.members] == [8080, 8081, 8082]
    assert [member.spec.location for member in plan.members] == [s.location for _, s in planned]


def test_what_the_container_is_made_of_must_agree_to_share_it() -> None:
    mock = {"image": IMAGE, "role": "mock"}
    planned = _services(
        **{
            "same": mock,
            "other-image": {**mock, "image": "elsewhere/mock:1"},
            "env": {**mock, "environment": {"LOG_LEVEL": "debug"}},
            "mounted": {**mock, "mounts": {"/srv/fixtures": "/fixtures"}},
            "probe": {**mock, "health": {"command": ["true"]}},
            "same-again": {**mock, "health": {"http": "/ready"}, "start_timeout": "5s"},
            "env-again": {**mock, "environment": {"LOG_LEVEL": "debug"}},
        }
    )
    names = [loaded.name for loaded, _ in planned]
    assert names == sorted(names)  # the workspace lists its services by name
    assert _layout(planned) == [
        ["env", "env-again"],
        ["mounted"],
        ["other-image"],
        ["probe"],  # the engine runs a command health check once per container
        ["same", "same-again"],  # an HTTP health path and a timeout are per service
    ]


def test_upstream_services_never_share_and_sharing_can_be_turned_off() -> None:
    upstream = {"image": "vendor/crm:1", "role": "upstream", "port": 8080}
    mock = {"image": IMAGE, "role": "mock"}
    planned = _services(u1=upstream, u2=upstream, m1=mock, m2=mock)
    assert [sharing_key(spec) is None for _, spec in planned] == [False, False, True, True]
    assert _layout(planned) == [["m1", "m2"], ["u1"], ["u2"]]
    assert _layout(planned, share=False) == [["m1"], ["m2"], ["u1"], ["u2"]]
    assert [p.members[0].port for p in plan_containers(planned, share=False)] == [8080] * 4


def test_ports_stay_in_range_when_the_first_is_near_the_top() -> None:
    mock = {"image": IMAGE, "role": "mock", "port": 65535}
    (plan,) = plan_containers(_services(a=mock, b=mock, c=mock))
    assert [member.port for member in plan.members] == [65533, 65534, 65535]


def test_an_error_names_every_service_of_a_shared_container() -> None:
    assert describe(("crm",)) == "the container of crm"
    assert describe(("crm", "chat")) == "the container shared by 2 services (crm, chat)"
