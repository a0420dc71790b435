"""`connector-harness serve`: loopback services for any client, stopped by Ctrl-C."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from harness.live import HttpSandbox

ROOT = Path(__file__).resolve().parents[2]


def _serve(*args: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "harness.cli", "serve", str(ROOT), *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )


def _banner(process: subprocess.Popen[str]) -> dict[str, str]:
    """Base URLs and tokens from the banner, read up to the environment section's end."""
    assert process.stdout is not None
    found: dict[str, str] = {}
    for line in process.stdout:
        match = re.match(r"^  (\S+)\s+(http://127\.0\.0\.1:\d+|eyJ\S+)", line)
        if match:
            found[match[1]] = match[2]
        if line.startswith("  STORAGE_BASE_URL="):
            return found
    raise AssertionError(f"the banner ended early: {found}")


def test_serve_prints_urls_and_tokens_answers_any_client_and_stops_on_ctrl_c() -> None:
    process = _serve()
    try:
        found = _banner(process)
        request = urllib.request.Request(
            found["crm"] + "/v1/contacts",
            headers={"Authorization": f"Bearer {found['crm-sync@dev']}"},
        )
        with urllib.request.urlopen(request, timeout=10) as answer:
            assert len(json.load(answer)["items"]) == 3
        forbidden = urllib.request.Request(
            found["crm"] + "/v1/contacts/c_1",
            method="DELETE",
            headers={"Authorization": f"Bearer {found['crm-sync@dev']}"},
        )
        with pytest.raises(urllib.error.HTTPError) as denied:
            urllib.request.urlopen(forbidden, timeout=10)
        assert denied.value.code == 403
        denied.value.close()
    finally:
        process.send_signal(signal.SIGINT)
        out, err = process.communicate(timeout=20)
    assert process.returncode == 0, err
    assert "Traceback" not in err
    lines = out.splitlines()
    assert lines[0].startswith("allowed  GET api.crm.example/v1/contacts  crm:contacts.list")
    assert lines[1].startswith("denied   DELETE api.crm.example/v1/contacts/c_1")
    assert lines[-1] == "stopped after 2 call(s): 1 allowed, 1 denied, 0 blocked"


def test_serve_refuses_a_non_loopback_address() -> None:
    process = _serve("--bind", "0.0.0.0")
    _, err = process.communicate(timeout=20)
    assert process.returncode == 2
    assert "only listens on loopback" in err
    assert "Traceback" not in err


def test_the_http_sandbox_fixture_serves_base_urls_and_judges_the_calls(
    http_sandbox: HttpSandbox,
) -> None:
    handle = http_sandbox.binding("crm-sync", env="dev")
    assert handle.base_urls["crm"].startswith("http://127.0.0.1:")
    request = urllib.request.Request(
        handle.base_urls["crm"] + "/v1/contacts", headers=handle.headers
    )
    with urllib.request.urlopen(request, timeout=10) as answer:
        assert answer.status == 200
    assert [d.operation for d in http_sandbox.decisions] == ["contacts.list"]
    with pytest.raises(AssertionError, match=r"excessive|over-broad|missing"):
        http_sandbox.assert_least_privilege()
