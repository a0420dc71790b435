"""import-flow: HAR files and VCR cassettes to flows, round-tripped through `check`."""

from __future__ import annotations

import base64
import json
import shutil
from pathlib import Path
from typing import Any

import pytest

from harness.engine import run_check
from harness.workspace.loader import load_workspace

ROOT = Path(__file__).resolve().parents[2]
RunCli = Any  # the run_cli fixture of conftest.py

# The commands that produced scenarios/imported/ (also written in each scenario's header).
EXAMPLES = [
    (
        "docs/examples/recordings/issue-alerts.har",
        "issue-alerts",
        "issue-alerts-sev1",
        "Read a new sev-1 issue and its first comments, then alert #incidents",
        "issue-alerts-flow.yaml",
    ),
    (
        "docs/examples/recordings/attachments-to-drive.yaml",
        "invoice-archiver",
        "invoice-archiver-daily",
        "File the newest unread invoice attachment into Drive and share it with finance",
        "invoice-archiver-flow.yaml",
    ),
    (
        "docs/examples/recordings/form-to-sheets.har",
        "form-to-sheets",
        "form-to-sheets-submission",
        "Read the sheet's header row, then append one form submission",
        "form-to-sheets-flow.yaml",
    ),
]
SECRETS = [
    "ghp_R4nd0mLooking1TokenValue9876543210ab",
    "xoxb-1111111111-2222222222-ZmFrZVNsYWNrVG9rZW5WYWx1ZQ",
    "sessionCookieValueXyZ123456789abcdef",
    "ya29.a0AfB_byC-fakeGoogleAccessTokenValue_0123456789",
    "ya29.a0AfB_byD-anotherFakeGoogleToken_9876543210zz",
]


@pytest.mark.parametrize("example", EXAMPLES, ids=lambda example: example[4])
def test_importing_the_example_recordings_gives_the_committed_flows(
    example: tuple[str, str, str, str, str], run_cli: RunCli, tmp_path: Path
) -> None:
    recording, connector, name, description, output = example
    target = tmp_path / output
    result = run_cli(
        "import-flow",
        recording,
        "--connector",
        connector,
        "--name",
        name,
        "--description",
        description,
        "-o",
        str(target),
        cwd=ROOT,
    )
    assert result.code == 0, result.stderr
    committed = ROOT / "scenarios" / "imported" / output
    assert target.read_text("utf-8") == committed.read_text("utf-8")
    for sidecar in sorted(tmp_path.rglob("*.bin")):
        relative = sidecar.relative_to(tmp_path)
        assert sidecar.read_bytes() == (committed.parent / relative).read_bytes()
    written = "".join(
        p.read_text("utf-8", errors="replace") for p in tmp_path.rglob("*") if p.is_file()
    )
    for secret in SECRETS:
        assert secret not in written
        assert secret not in result.stdout + result.stderr


def test_the_imported_examples_check_as_their_scenarios_say() -> None:
    report = run_check(load_workspace(ROOT))
    results = {result.binding: result for result in report.results}
    for clean in ("issue-alerts@dev", "invoice-archiver@dev", "form-to-sheets@prod"):
        assert results[clean].passed, clean
        assert results[clean].calls > 0
    prod = results["issue-alerts@prod"]
    assert {(f.kind, f.subject) for f in prod.findings} == {
        ("over-broad", "issues:write"),
        ("excessive", "pull_requests:write"),
    }
    archiver = results["invoice-archiver@prod"]
    assert {(f.kind, f.subject) for f in archiver.findings} == {
        ("over-broad", "https://mail.google.com/"),
        ("over-broad", "https://www.googleapis.com/auth/drive"),
    }
    suggested = {s.service: s.suggested for s in archiver.services}
    assert suggested == {
        "gmail": ("https://www.googleapis.com/auth/gmail.readonly",),
        "google-drive": ("https://www.googleapis.com/auth/drive.file",),
    }
    (sheets,) = results["form-to-sheets@prod"].services
    assert sheets.suggested == ("https://www.googleapis.com/auth/spreadsheets",)


def test_unknown_hosts_are_reported_and_left_out_unless_kept(
    run_cli: RunCli, tmp_path: Path
) -> None:
    result = run_cli(
        "import-flow", "docs/examples/recordings/issue-alerts.har", "--connector", "c", cwd=ROOT
    )
    assert result.code == 0
    assert (
        "docs/examples/recordings/issue-alerts.har: no service covers host www.google-analytics.com "
        "(1 call(s) left out); add a service spec for it, or import it as a pack"
    ) in result.stderr
    assert "# host no service covers: www.google-analytics.com (1 call(s))" in result.stdout
    assert "google-analytics" not in result.stdout.split("flows:", 1)[1]
    assert "the response body (5120 bytes) was not recorded in the HAR" in result.stdout
    kept = run_cli(
        "import-flow",
        "docs/examples/recordings/issue-alerts.har",
        "--connector",
        "c",
        "--keep-unknown-hosts",
        cwd=ROOT,
    )
    assert "url: https://www.google-analytics.com/g/collect" in kept.stdout


# -- bad input ------------------------------------------------------------------------------


def _workspace(tmp_path: Path) -> Path:
    """A workspace with the bundled packs, and nothing else."""
    shutil.copytree(ROOT / "mocks", tmp_path / "mocks")
    (tmp_path / "connector-harness.yaml").write_text(
        "packs: [slack, github, gmail, google-drive, google-sheets]\n", "utf-8"
    )
    return tmp_path


def _har(entries: list[dict[str, Any]]) -> str:
    return json.dumps({"log": {"version": "1.2", "entries": entries}}, indent=1)


def _entry(method: str, url: str, **parts: Any) -> dict[str, Any]:
    entry: dict[str, Any] = {"request": {"method": method, "url": url, "headers": []}}
    entry["response"] = parts.pop("response", {"status": 200, "headers": [], "content": {}})
    entry["request"].update(parts)
    return entry


def test_truncated_har_is_an_input_error_at_the_end(run_cli: RunCli, tmp_path: Path) -> None:
    _workspace(tmp_path)
    text = _har([_entry("GET", "https://slack.com/api/api.test")])
    (tmp_path / "cut.har").write_text(text[:60], "utf-8")
    result = run_cli("import-flow", "cut.har", "--connector", "c", cwd=tmp_path)
    assert result.code == 2
    assert result.stderr.startswith("cut.har:6:9: ")
    assert (
        "the JSON document ends before it is complete (the file looks truncated)" in result.stderr
    )


def test_a_har_without_entries_says_what_a_har_is(run_cli: RunCli, tmp_path: Path) -> None:
    _workspace(tmp_path)
    (tmp_path / "x.har").write_text('{"log": {"version": "1.2"}}', "utf-8")
    result = run_cli("import-flow", "x.har", "--connector", "c", cwd=tmp_path)
    assert result.code == 2
    assert result.stderr.startswith(
        "x.har:1:9: not a HAR file: expected `log.entries`, a list of recorded requests"
    )


def test_binary_missing_and_malformed_entries(run_cli: RunCli, tmp_path: Path) -> None:
    _workspace(tmp_path)
    png = b"\x89PNG\r\n\x1a\n\x00\x00binary"
    entries = [
        {"request": {"url": "https://slack.com/api/api.test"}},  # no method
        _entry(
            "POST",
            "https://slack.com/api/files.upload",
            postData={
                "mimeType": "image/png",
                "text": base64.b64encode(png).decode(),
                "encoding": "base64",
            },
            response={
                "status": 200,
                "headers": [{"name": "Content-Type", "value": "image/png"}],
                "content": {
                    "size": 14,
                    "mimeType": "image/png",
                    "text": base64.b64encode(png).decode(),
                    "encoding": "base64",
                },
            },
        ),
        _entry(
            "POST",
            "https://slack.com/api/chat.postMessage",
            postData={
                "mimeType": "application/x-www-form-urlencoded",
                "params": [
                    {"name": "token", "value": "xoxb-999999999-888888888-CanaryCanaryCanary"},
                    {"name": "channel", "value": "C123"},
                ],
            },
            response={"status": 0, "headers": [], "content": {}},
        ),
        _entry("GET", "https://slack.com/api/no.such.method"),
    ]
    (tmp_path / "r.har").write_text(_har(entries), "utf-8")
    stdout_only = run_cli("import-flow", "r.har", "--connector", "c", cwd=tmp_path)
    assert stdout_only.code == 2
    assert "pass --output FILE so they can be written beside it" in stdout_only.stderr
    result = run_cli("import-flow", "r.har", "--connector", "c", "-o", "flow.yaml", cwd=tmp_path)
    assert result.code == 0, result.stderr
    lines = result.stderr.splitlines()
    assert lines[0] == "r.har:5:4: skipped entry 0: it has no `request` with `method` and `url`"
    assert lines[1].endswith(
        "skipped GET https://slack.com/api/no.such.method: "
        "no operation of slack matches GET /api/no.such.method"
    )
    text = (tmp_path / "flow.yaml").read_text("utf-8")
    assert "body_file: flow.bodies/1-request.bin" in text
    assert "body_file: flow.bodies/1-response.bin" in text
    assert (tmp_path / "flow.bodies" / "1-request.bin").read_bytes() == png
    assert "no response was recorded (status 0: the request failed)" in text
    form = (tmp_path / "flow.bodies" / "2-request.bin").read_bytes()
    assert form == b"token=<secret-1>&channel=C123"
    assert "Canary" not in text + result.stderr


def test_cassette_errors_are_located(run_cli: RunCli, tmp_path: Path) -> None:
    _workspace(tmp_path)
    (tmp_path / "bad.yaml").write_text("interactions:\n- request: {method: GET\n", "utf-8")
    result = run_cli("import-flow", "bad.yaml", "--connector", "c", cwd=tmp_path)
    assert result.code == 2
    assert result.stderr.startswith("bad.yaml:3:1: invalid YAML:")
    (tmp_path / "none.yaml").write_text("version: 1\n", "utf-8")
    result = run_cli("import-flow", "none.yaml", "--connector", "c", cwd=tmp_path)
    assert result.code == 2
    assert result.stderr.startswith("none.yaml:1:1: not a VCR cassette: expected `interactions`")


def test_a_recording_that_touches_no_service_is_an_error(run_cli: RunCli, tmp_path: Path) -> None:
    _workspace(tmp_path)
    (tmp_path / "r.har").write_text(_har([_entry("GET", "https://example.org/")]), "utf-8")
    result = run_cli("import-flow", "r.har", "--connector", "c", cwd=tmp_path)
    assert result.code == 2
    assert "r.har: no call of the recording matches a service of the workspace" in result.stderr
