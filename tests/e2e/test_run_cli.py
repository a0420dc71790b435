"""`connector-harness run`: a flow program in any language, run as a binding behind the
network boundary, then judged. Exit 0 when the binding holds least privilege for what it
did, 1 when not (a way out it tried, a denied call, an unused grant, a failing program),
2 on a usage error."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from workspaces import policy, service

pytestmark = pytest.mark.usefixtures("network_boundary")

CALL = """
import os, urllib.request
request = urllib.request.Request(
    os.environ["SVC_BASE_URL"] + "/items",
    headers={"Authorization": "Bearer " + os.environ["HARNESS_TOKEN"]},
)
print(urllib.request.urlopen(request, timeout=5).read().decode())
"""
LEAK = """
urllib.request.urlopen("https://api.real-vendor.example/v1/me", timeout=5)
"""


def _program(root: Path, code: str) -> str:
    """An executable flow program, `sync.sh`, that runs `code` in Python."""
    script = root / "sync.sh"
    script.write_text(f"#!/bin/sh\nexec '{sys.executable}' - <<'EOF'\n{code}\nEOF\n", "utf-8")
    script.chmod(0o755)
    return str(script)


def _workspace(root: Path) -> Path:
    (root / "mocks").mkdir(parents=True)
    (root / "scenarios").mkdir()
    (root / "mocks" / "svc.yaml").write_text(yaml.safe_dump(service()), "utf-8")
    document = policy(["svc.read"], [("GET", "/items")])
    (root / "scenarios" / "bot.yaml").write_text(yaml.safe_dump(document), "utf-8")
    return root


def _run(workspace: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "harness.cli", "run", "--workspace", str(workspace), *args],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        env={**os.environ, "NO_COLOR": "1"},
    )


def test_a_program_that_does_only_what_its_binding_needs_passes(tmp_path: Path) -> None:
    program = _program(tmp_path, CALL)
    finished = _run(_workspace(tmp_path / "ws"), "--binding", "bot@prod", "--", program)
    assert finished.returncode == 0, finished.stderr
    assert finished.stdout.splitlines() == [
        "{}",  # the program's own output: the mock's answer
        f"calls made by {program} as bot@prod behind the network boundary:",
        "  1. GET api.svc.example/items -> allowed (svc:items.list: requires svc.read)",
        f"bot@prod holds least privilege for what {program} did",
    ]


def test_a_way_out_fails_the_run_and_is_named(tmp_path: Path) -> None:
    program = _program(tmp_path, CALL + LEAK)
    finished = _run(_workspace(tmp_path / "ws"), "--binding", "bot", "--", program)
    assert finished.returncode == 1
    assert "Temporary failure in name resolution" in finished.stderr
    lookup = (
        "a DNS lookup of api.real-vendor.example: the sandbox resolves no names; its services "
        "are reached through requests, httpx or its loopback servers"
    )
    assert finished.stdout.splitlines() == [
        "{}",
        f"calls made by {program} as bot@prod behind the network boundary:",
        "  1. GET api.svc.example/items -> allowed (svc:items.list: requires svc.read)",
        f"  2. RESOLVE api.real-vendor.example -> blocked ({lookup})",
        "binding bot@prod:",
        "  egress            sync.sh step 2 (call 2)",
        f"                    blocked {lookup}",
        f"{program} exited with status 1",
        "FAILED; 1 attempt(s) to leave were blocked: fix the program or the binding's grants "
        "as shown, and run again",
    ]


def test_an_unused_grant_fails_the_run(tmp_path: Path) -> None:
    finished = _run(_workspace(tmp_path), "--binding", "bot@prod", "--", "true")
    assert finished.returncode == 1
    lines = finished.stdout.splitlines()
    assert lines[:2] == [
        "calls made by true as bot@prod behind the network boundary:",
        "  (no calls were made)",
    ]
    assert lines[3].startswith("  excessive ")
    assert "`svc.read` (role `role`) is unused" in lines[4]
    assert lines[-1] == ("FAILED: fix the program or the binding's grants as shown, and run again")


def test_the_runs_decisions_go_to_an_anchored_log(tmp_path: Path) -> None:
    workspace = _workspace(tmp_path / "ws")
    log, anchor = tmp_path / "decisions.jsonl", tmp_path / "decisions.anchor"
    program = _program(tmp_path, CALL + 'urllib.request.urlopen("http://203.0.113.9:8080/")')
    finished = _run(
        workspace, "--binding", "bot@prod", "--log", str(log), "--anchor", str(anchor),
        "--", program,
    )  # fmt: skip
    assert finished.returncode == 1
    stored = anchor.read_text("ascii").strip()
    assert f"decision log anchor: {stored}" in finished.stderr.splitlines()
    entries = [json.loads(line) for line in log.read_text("utf-8").splitlines()]
    assert entries[0]["run"]["selection"] == {"binding": "bot@prod", "program": "sync.sh"}
    assert [(e["decision"]["outcome"], e["decision"]["rule"]) for e in entries[1:-1]] == [
        ("allowed", "scope"),
        ("blocked", "egress.tcp"),
    ]
    verified = subprocess.run(
        [sys.executable, "-m", "harness.cli", "audit", "verify", str(log), "--anchor", str(anchor),
         "--workspace", str(workspace)],
        capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert verified.returncode == 0, verified.stdout + verified.stderr


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ["--binding", "bot@prod"],
            "connector-harness: error: name the program to run after --, e.g. "
            "connector-harness run --binding crm-sync@prod -- ./sync.sh",
        ),
        (
            ["--binding", "nobody@prod", "--", "true"],
            "connector-harness: error: --binding nobody@prod: no binding matches 'nobody@prod' "
            "(env 'prod'); bindings: bot@prod",
        ),
        (
            ["--binding", "bot@prod", "--anchor", "a.txt", "--", "true"],
            "connector-harness: error: --anchor FILE stores the final hash of --log: give "
            "--log FILE too",
        ),
        (
            ["--binding", "bot@prod", "--user", "no-such-user", "--", "true"],
            "connector-harness: error: no user 'no-such-user' on this machine; name an "
            "existing user (e.g. nobody) or a uid",
        ),
        (
            ["--binding", "bot@prod", "--", "no-such-program-anywhere"],
            "connector-harness: error: no program 'no-such-program-anywhere' to run: No such "
            "file or directory; give its path or a name on PATH",
        ),
    ],
)
def test_usage_errors_exit_2_saying_what_to_write(
    tmp_path: Path, args: list[str], message: str
) -> None:
    finished = _run(_workspace(tmp_path), *args)
    assert (finished.returncode, finished.stderr.splitlines()) == (2, [message])


def test_a_program_past_its_timeout_is_stopped_and_fails(tmp_path: Path) -> None:
    finished = _run(
        _workspace(tmp_path), "--binding", "bot@prod", "--timeout", "0.5", "--", "sleep", "30"
    )
    assert finished.returncode == 1
    assert "sleep did not finish within 0.5 s and was stopped" in finished.stdout.splitlines()
