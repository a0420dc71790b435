"""Bundled packs: named in the settings, listed by `connector-harness packs`, extended or
replaced by a workspace's own mocks/, and shipped in the wheel."""

from __future__ import annotations

import json
import subprocess
import sys
import zipfile
from pathlib import Path
from typing import Any

import pytest

from harness.workspace.loader import load_workspace
from harness.workspace.pack_catalog import bundled_packs, find_pack

ROOT = Path(__file__).resolve().parents[2]
RunCli = Any  # the run_cli fixture of conftest.py

POLICY = """connectors:
  - name: alerts
    owner: sre@example.com
    credential: {type: bot-token, lifetime: 1h}
    allowed_hosts: [slack.com]
roles:
  - name: poster
    grants: {slack: [chat:write]}
bindings:
  - {connector: alerts, env: prod, roles: [poster]}
flows:
  - name: alert
    connector: alerts
    steps:
      - request: {method: POST, url: https://slack.com/api/chat.postMessage, json: {channel: C1, text: hi}}
"""


def _workspace(root: Path, settings: str, mocks: dict[str, str] | None = None) -> Path:
    (root / "scenarios").mkdir(parents=True)
    (root / "mocks").mkdir()
    (root / "scenarios" / "alerts.yaml").write_text(POLICY, "utf-8")
    (root / "connector-harness.yaml").write_text(settings, "utf-8")
    for name, text in (mocks or {}).items():
        (root / "mocks" / name).write_text(text, "utf-8")
    return root


def test_packs_lists_every_bundled_pack_with_version_source_and_date(run_cli: RunCli) -> None:
    result = run_cli("packs", cwd=ROOT)
    assert result.code == 0
    lines = result.stdout.splitlines()
    assert lines[0].split() == [
        "pack", "version", "operations", "scopes", "models", "data", "from", "date"
    ]  # fmt: skip
    names = [line.split()[0] for line in lines[1 : 1 + len(bundled_packs())]]
    assert names == ["github", "gmail", "google-drive", "google-sheets", "msgraph", "slack"]
    graph = next(line for line in lines if line.startswith("msgraph"))
    assert "delegated, application" in graph
    assert "2026-08-07" in graph
    assert lines[-1].startswith("6 packs bundled.")


def test_packs_says_how_a_workspace_uses_each_one(tmp_path: Path, run_cli: RunCli) -> None:
    pack = find_pack("slack")
    assert pack is not None
    _workspace(tmp_path / "ws", f"packs: [slack@{pack.version}, github]\n")
    result = run_cli("packs", "ws", "--format", "json", cwd=tmp_path)
    use = {item["name"]: item["use"] for item in json.loads(result.stdout)["packs"]}
    assert use["slack"] == f"pinned {pack.version}"
    assert (use["github"], use["msgraph"]) == ("used", "")


def test_a_pinned_pack_loads_and_a_mismatched_pin_stops_the_run(
    tmp_path: Path, run_cli: RunCli
) -> None:
    pack = find_pack("slack")
    assert pack is not None
    _workspace(tmp_path / "ok", f"packs: [slack@{pack.version[:4]}]\n")
    assert run_cli("check", "ok", cwd=tmp_path).code == 0
    _workspace(tmp_path / "bad", "clock: 2026-01-01\npacks: [slack@1999.01]\n")
    result = run_cli("check", "bad", cwd=tmp_path)
    assert result.code == 2
    assert result.stderr.startswith(
        "bad/connector-harness.yaml:2:9: pack `slack` is pinned to version 1999.01, but the "
        f"installed pack is {pack.version}"
    )


EXTENSION = """extends: slack
scopes:
  chat:write.internal: {description: Our gateway's own scope}
operations:
  - id: reactions.add
    requires: chat:write.internal
  - id: internal.ping
    method: GET
    path: /api/internal.ping
    requires: authenticated
"""


def test_a_workspace_extends_a_pack_entry_by_entry(tmp_path: Path) -> None:
    root = _workspace(tmp_path / "ws", "packs: [slack]\n", {"slack.yaml": EXTENSION})
    workspace = load_workspace(root)
    slack = workspace.service("slack")
    assert slack.pack == "slack"
    assert str(slack.operation("reactions.add").requires) == "chat:write.internal"
    assert slack.operation("internal.ping").location.file.endswith("mocks/slack.yaml")
    assert slack.operation("conversations.list").location.file == (
        "connector-harness/packs/slack.yaml"
    )
    assert "chat:write.internal" in slack.universe


def test_an_extension_error_points_at_the_workspace_file(tmp_path: Path, run_cli: RunCli) -> None:
    broken = EXTENSION.replace("requires: authenticated", "requires: chat:wrte")
    _workspace(tmp_path / "ws", "packs: [slack]\n", {"slack.yaml": broken})
    result = run_cli("check", "ws", cwd=tmp_path)
    assert result.code == 2
    assert result.stderr.startswith("ws/mocks/slack.yaml:10:15: operation `internal.ping` requires")


def test_a_workspace_spec_of_the_same_name_replaces_the_pack(tmp_path: Path) -> None:
    own = """service: slack
hosts: [slack.com]
scopes: {chat:write: null}
operations:
  - {id: post, method: POST, path: /api/chat.postMessage, requires: chat:write}
"""
    workspace = load_workspace(_workspace(tmp_path / "ws", "packs: [slack]\n", {"own.yaml": own}))
    slack = workspace.service("slack")
    assert (slack.pack, [op.id for op in slack.operations]) == ("", ["post"])


@pytest.mark.skipif(
    subprocess.run(
        [sys.executable, "-c", "import hatchling"], capture_output=True, check=False
    ).returncode
    != 0,
    reason="hatchling (the build backend) is not installed in this environment",
)
def test_the_wheel_ships_every_pack_and_its_index(tmp_path: Path) -> None:
    subprocess.run(
        [sys.executable, "-m", "hatchling", "build", "-t", "wheel", "-d", str(tmp_path)],
        cwd=ROOT,
        check=True,
        capture_output=True,
    )
    (wheel,) = tmp_path.glob("connector_harness-*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    expected = {f"harness/packs/{pack.file}" for pack in bundled_packs()}
    expected |= {"harness/packs/index.json", "harness/importers/overlays/slack.yaml"}
    assert expected <= names
