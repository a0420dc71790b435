"""Shared set-up for the pytest-plugin tests: small workspaces written into pytester's
tmp dir, and helpers to run pytest on them (in-process where possible, as a subprocess
where the plugin must load through its `pytest11` entry point or xdist is involved).

The workspaces have one service, `svc` on api.svc.example (the shape of
tests/workspaces.py), and policy documents written as literal YAML so that a test can
point at the line of a flow or a role.
"""

from __future__ import annotations

import re
from pathlib import Path

# Imported here, once, so that pytester's in-process runs (which drop every module first
# imported during the run) do not import the HTTP clients afresh for each run.
import httpx  # noqa: F401
import pytest
import requests  # noqa: F401
import responses  # noqa: F401

# `pytest_plugins = ["pytester"]` is in tests/conftest.py: pytest only accepts it in a
# conftest loaded at start-up, which this one is not when the whole suite runs from the root.

HOST = "api.svc.example"

SERVICE = """\
service: svc
title: Example service
hosts: [api.svc.example]
scopes:
  svc.read: {description: Read items}
  svc.write: {description: Create items and upload their blobs, implies: [svc.read]}
  svc.delete: {description: Delete items}
  svc.admin: {description: Everything, implies: ["svc.*"]}
operations:
  - {id: items.list, method: GET, path: /items, requires: svc.read}
  - id: items.get
    method: GET
    path: /items/{item}
    requires: svc.read
    resources: {item: path.item}
  - {id: items.create, method: POST, path: /items, requires: svc.write}
  - id: items.upload
    method: PUT
    path: /items/{item}/blob
    requires: svc.write
  - id: items.delete
    method: DELETE
    path: /items/{item}
    requires: svc.delete
  - {id: settings.update, method: PUT, path: /settings, requires: svc.admin, risk: admin}
"""

CONNECTOR_BOT = """\
connectors:
  - name: bot
    owner: owner@example.com
    credential: {type: oauth2-client-credentials, lifetime: 1h}
    allowed_hosts: [api.svc.example]
"""

# Two bindings of `bot`, both reading only; `create-item` needs svc.write, so it is
# marked xfail in YAML. The prod binding carries the mark `smoke`.
BOT = """\
connectors:
  - name: bot
    owner: owner@example.com
    credential: {type: oauth2-client-credentials, lifetime: 1h}
    allowed_hosts: [api.svc.example]

roles:
  - name: reader
    grants: {svc: [svc.read]}

bindings:
  - connector: bot
    env: dev
    roles: [reader]
  - connector: bot
    env: prod
    roles: [reader]
    marks: [smoke]

flows:
  - name: list-items
    connector: bot
    marks: [nightly]
    steps:
      - request: {method: GET, url: https://api.svc.example/items}
  - name: create-item
    connector: bot
    marks: [{xfail: "svc.write is not granted yet"}]
    steps:
      - request: {method: POST, url: https://api.svc.example/items, json: {name: x}}
"""

MARKERS_INI = """\
[pytest]
markers =
    nightly: a flow that runs every night
    smoke: a binding under smoke tests
"""


def line_of(text: str, needle: str) -> int:
    """The 1-based line of the first line of `text` that contains `needle`."""
    for number, line in enumerate(text.splitlines(), start=1):
        if needle in line:
            return number
    raise AssertionError(f"{needle!r} not in the text")


SETTINGS = "mocks: [mocks]\nscenarios: [scenarios]\n"  # connector-harness.yaml


def write_workspace(
    pytester: pytest.Pytester,
    scenarios: dict[str, str] | None = None,
    *,
    service: str = SERVICE,
    ini: str | None = MARKERS_INI,
    settings: str | None = SETTINGS,
) -> Path:
    """mocks/svc.yaml plus `scenarios/NAME` for each entry (default: scenarios/bot.yaml with
    BOT), the workspace's connector-harness.yaml (none when `settings` is None: the plugin
    then collects only if configured otherwise), and a pytest.ini registering the YAML marks
    (none when `ini` is None)."""
    root = pytester.path
    if settings is not None:
        (root / "connector-harness.yaml").write_text(settings, "utf-8")
    (root / "mocks").mkdir(exist_ok=True)
    (root / "mocks" / "svc.yaml").write_text(service, "utf-8")
    (root / "scenarios").mkdir(exist_ok=True)
    for name, text in (scenarios if scenarios is not None else {"bot.yaml": BOT}).items():
        target = root / "scenarios" / name
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text, "utf-8")
    if ini is not None:
        (root / "pytest.ini").write_text(ini, "utf-8")
    return root


def policy(
    grants: dict[str, list[str]],
    flows: dict[str, list[str]],
    *,
    connector: str = "bot",
) -> str:
    """A policy document: `connector` with one role per env (`grants` maps env -> scopes
    of svc) and flows whose steps are "METHOD /path" (or "METHOD https://host/path")."""
    lines = [
        "connectors:",
        f"  - name: {connector}",
        "    owner: owner@example.com",
        "    credential: {type: oauth2-client-credentials, lifetime: 1h}",
        f"    allowed_hosts: [{HOST}]",
        "roles:" if grants else "roles: []",
    ]
    for env, scopes in grants.items():
        lines += [f"  - name: {connector}-{env}", f"    grants: {{svc: [{', '.join(scopes)}]}}"]
    lines.append("bindings:" if grants else "bindings: []")
    for env in grants:
        lines += [
            f"  - connector: {connector}",
            f"    env: {env}",
            f"    roles: [{connector}-{env}]",
        ]
    lines.append("flows:" if flows else "flows: []")
    for name, calls in flows.items():
        lines += [f"  - name: {name}", f"    connector: {connector}", "    steps:"]
        for call in calls:
            method, target = call.split(" ", 1)
            url = target if target.startswith("https://") else f"https://{HOST}{target}"
            lines.append(f"      - request: {{method: {method}, url: {url}}}")
    return "\n".join(lines) + "\n"


def mixed_scenarios() -> dict[str, str]:
    """Five bindings: one of each verdict the summary shows."""
    return {
        "alpha.yaml": policy(
            {"prod": ["svc.read"]}, {"alpha-list": ["GET /items"]}, connector="alpha"
        ),
        "beta.yaml": policy(
            {"dev": ["svc.write"], "prod": ["svc.read"]},
            {"beta-sync": ["GET /items", "POST /items"]},
            connector="beta",
        ),
        "gamma.yaml": policy(
            {"prod": ["svc.read", "svc.delete"]},
            {"gamma-show": ["GET /items/i1"]},
            connector="gamma",
        ),
        "delta.yaml": policy(
            {"prod": ["svc.read"]},
            {"delta-hook": ["GET /items", "POST https://hooks.elsewhere.example/x"]},
            connector="delta",
        ),
    }


SUMMARY_TITLE = re.compile(r"^=+ least privilege =+$")


def summary_block(lines: list[str]) -> list[str]:
    """The lines of the `least privilege` terminal summary section (without its title)."""
    for index, line in enumerate(lines):
        if SUMMARY_TITLE.match(line):
            block = []
            for following in lines[index + 1 :]:
                if following.startswith("="):
                    break
                block.append(following)
            return block
    raise AssertionError("no `least privilege` section in:\n" + "\n".join(lines))


OUTCOME_LINE = re.compile(r"^(PASSED|FAILED|ERROR|XFAIL|XPASS|SKIPPED) (\S+)")


def outcomes(lines: list[str]) -> set[tuple[str, str]]:
    """(outcome, node id) from the short test summary of a run with -rA."""
    found = set()
    for line in lines:
        match = OUTCOME_LINE.match(line)
        if match:
            found.add((match.group(1), match.group(2)))
    return found


class PluginWorkspace:
    """The `ws` fixture: writes workspaces into pytester's directory; the constants and
    helpers of this module as attributes, so that test modules need not import conftest."""

    SERVICE = SERVICE
    BOT = BOT
    MARKERS_INI = MARKERS_INI
    HOST = HOST
    line_of = staticmethod(line_of)
    policy = staticmethod(policy)
    mixed_scenarios = staticmethod(mixed_scenarios)
    summary_block = staticmethod(summary_block)
    outcomes = staticmethod(outcomes)

    def __init__(self, pytester: pytest.Pytester) -> None:
        self.pytester = pytester
        self.root = pytester.path

    def write(
        self,
        scenarios: dict[str, str] | None = None,
        *,
        service: str = SERVICE,
        ini: str | None = MARKERS_INI,
        settings: str | None = SETTINGS,
    ) -> Path:
        return write_workspace(
            self.pytester, scenarios, service=service, ini=ini, settings=settings
        )


@pytest.fixture
def ws(pytester: pytest.Pytester) -> PluginWorkspace:
    return PluginWorkspace(pytester)
