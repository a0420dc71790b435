"""`check --log/--anchor` and `audit verify`: the log is bound to its run, anchored outside
the file, and verified with the exit codes docs/gate.md gives (0 intact, 1 tampered,
2 cannot verify)."""

from __future__ import annotations

import hashlib
import json
import re
import shutil
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from harness.audit import KEY_VARIABLE
from harness.workspace.digest import workspace_digest
from harness.workspace.settings import load_settings

if TYPE_CHECKING:
    from conftest import RunCli  # tests/e2e/conftest.py, the `run_cli` fixture

ROOT = Path(__file__).resolve().parents[2]
KEY = "a-key-for-the-decision-log-0123456789"


@pytest.fixture
def workspace(tmp_path: Path) -> Path:
    copy = tmp_path / "ws"
    for part in ("mocks", "scenarios"):
        shutil.copytree(ROOT / part, copy / part)
    shutil.copy(ROOT / "pyproject.toml", copy)  # names the bundled packs the scenarios use
    return copy


def _check(run_cli: RunCli, workspace: Path, *extra: str) -> tuple[str, str]:
    """Run `check` with --log; the log's path and the anchor printed on stderr."""
    log = workspace.parent / "decisions.jsonl"
    result = run_cli(
        "check",
        str(workspace),
        "--binding",
        "crm-sync@prod",
        "--log",
        str(log),
        *extra,
        cwd=workspace.parent,
    )
    assert result.code == 1, result.stderr  # crm-sync@prod holds an over-broad grant
    found = re.findall(r"^decision log anchor: ([0-9a-f]{64})$", result.stderr, re.MULTILINE)
    assert len(found) == 1, result.stderr
    return str(log), found[0]


def _forge(log: str) -> None:
    """Pin every decision on another identity and compute the chain again, as anyone can
    without a key."""
    previous, out = "0" * 64, []
    for raw in Path(log).read_bytes().splitlines():
        entry = json.loads(raw)
        del entry["hash"]
        if "decision" in entry:
            entry["decision"]["identity"] = "someone-else"
        entry["prev"] = previous
        body = json.dumps(entry, sort_keys=True, separators=(",", ":")).encode()
        previous = hashlib.sha256(body).hexdigest()
        out.append(body[:-1] + b',"hash":"' + previous.encode() + b'"}\n')
    Path(log).write_bytes(b"".join(out))


def test_check_writes_a_log_bound_to_its_run_and_its_anchor(
    run_cli: RunCli, workspace: Path
) -> None:
    anchor_file = workspace.parent / "anchor.txt"
    log, anchor = _check(run_cli, workspace, "--anchor", str(anchor_file))
    assert anchor_file.read_text() == anchor + "\n"
    header = json.loads(Path(log).read_text().splitlines()[0])["run"]
    assert header["workspace"] == workspace_digest(workspace, load_settings(workspace))
    assert header["selection"] == {"env": "*", "binding": "crm-sync@prod"}
    assert (header["clock"], header["keyed"]) == ("2026-01-01T00:00:00Z", False)
    verified = run_cli("audit", "verify", log, "--anchor", str(anchor_file), cwd=workspace.parent)
    assert verified.code == 0, verified.stdout
    assert verified.stdout.splitlines()[0] == (
        f"{log}: intact, {_decisions(log)} decisions, chain and seal verified, unkeyed, "
        "anchor matches"
    )
    assert f"  final hash: {anchor}" in verified.stdout.splitlines()


def test_a_rechained_log_verifies_alone_but_not_against_its_anchor(
    run_cli: RunCli, workspace: Path
) -> None:
    log, anchor = _check(run_cli, workspace)
    _forge(log)
    alone = run_cli("audit", "verify", log, cwd=workspace.parent)
    assert alone.code == 0
    assert "note: an unkeyed log can be rewritten with a new chain by anyone" in alone.stdout
    anchored = run_cli("audit", "verify", log, "--anchor", anchor, cwd=workspace.parent)
    assert anchored.code == 1
    assert "TAMPERED: the log's final hash" in anchored.stdout


def test_a_keyed_log_cannot_be_verified_without_its_key(
    run_cli: RunCli, workspace: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(KEY_VARIABLE, KEY)
    log, _ = _check(run_cli, workspace)
    assert run_cli("audit", "verify", log, cwd=workspace.parent).code == 0
    monkeypatch.delenv(KEY_VARIABLE)
    result = run_cli("audit", "verify", log, cwd=workspace.parent)
    assert result.code == 2
    assert result.stdout.startswith(f"{log}:1: CANNOT VERIFY: the log is keyed")
    assert "intact" not in result.stdout


def test_a_blank_key_stops_check_before_it_runs(
    run_cli: RunCli, workspace: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(KEY_VARIABLE, "")
    log = workspace.parent / "decisions.jsonl"
    result = run_cli("check", str(workspace), "--log", str(log), cwd=workspace.parent)
    assert result.code == 2
    assert f"{KEY_VARIABLE} is set but empty" in result.stderr
    assert not log.exists()


def test_verify_checks_the_workspace_the_log_names(run_cli: RunCli, workspace: Path) -> None:
    log, _ = _check(run_cli, workspace)
    same = run_cli("audit", "verify", log, "--workspace", str(workspace), cwd=workspace.parent)
    assert same.code == 0
    assert f"workspace {workspace} matches" in same.stdout
    role = workspace / "scenarios" / "roles.yaml"
    role.write_text(role.read_text() + "\n# edited after the run\n")
    other = run_cli("audit", "verify", log, "--workspace", str(workspace), cwd=workspace.parent)
    assert other.code == 1
    assert "OTHER WORKSPACE" in other.stdout


def test_anchor_without_log_is_a_usage_error(run_cli: RunCli, workspace: Path) -> None:
    result = run_cli("check", str(workspace), "--anchor", "a.txt", cwd=workspace.parent)
    assert result.code == 2
    assert "--anchor FILE stores the final hash of --log" in result.stderr


def _decisions(log: str) -> int:
    return int(json.loads(Path(log).read_text().splitlines()[-1])["seal"]["decisions"])
