"""Exported n8n workflows collected as they are: one item per workflow x binding, at the node.

These run n8n's node code under Node.js (skipped only when Node.js or npm is missing).
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "docs" / "examples" / "n8n"
PACKS = "packs: [gmail, google-drive, google-sheets]"
SHEETS_ITEM = (
    "workflows/sheets-append.n8n.json::log-event-sign-ups-to-the-attendance-sheet."
    "google-sheets-events-team[google-sheets-events-team@{env}]"
)
GMAIL_ITEMS = [
    "workflows/gmail-attachments-to-drive.n8n.json::file-invoice-attachments-in-the-finance-drive."
    "gmail-finance-inbox[gmail-finance-inbox@prod]",
    "workflows/gmail-attachments-to-drive.n8n.json::file-invoice-attachments-in-the-finance-drive."
    "google-drive-finance[google-drive-finance@prod]",
]


@pytest.fixture
def workspace(pytester: pytest.Pytester, n8n_packages: Path) -> Path:
    """Two exported workflows and the Google packs, no YAML policy at all."""
    root = pytester.path
    (root / "workflows").mkdir()
    for name in ("sheets-append.n8n.json", "gmail-attachments-to-drive.n8n.json"):
        shutil.copy(EXAMPLES / name, root / "workflows")
    (root / "connector-harness.yaml").write_text(f"{PACKS}\nscenarios: [workflows]\n")
    return root


def test_each_workflow_and_binding_is_an_item_at_its_node(
    pytester: pytest.Pytester, workspace: Path
) -> None:
    result = pytester.runpytest("--collect-only", "-q")
    expected = [line.replace("[", "[[]") for line in [*GMAIL_ITEMS, SHEETS_ITEM.format(env="prod")]]
    result.stdout.fnmatch_lines([*expected, "", "3 tests collected in *"], consecutive=True)
    items, _ = pytester.inline_genitems()
    sheets = next(item for item in items if "sheets-append" in item.nodeid)
    assert sheets.location == (
        "workflows/sheets-append.n8n.json",
        24,
        sheets.name,
    )  # the node's line - 1


def test_the_items_fail_with_the_grants_to_drop_and_name_the_node(
    pytester: pytest.Pytester, workspace: Path
) -> None:
    result = pytester.runpytest("-rA", "-p", "no:cacheprovider")
    result.assert_outcomes(failed=3)
    result.stdout.fnmatch_lines(
        [
            "binding google-sheets-events-team@prod fails least privilege in flow "
            "log-event-sign-ups-to-the-attendance-sheet.google-sheets-events-team (3 findings):",
            "  excessive         workflows/sheets-append.n8n.json:25:5",
            '*google-sheets: [[]"https://www.googleapis.com/auth/spreadsheets"]',
        ]
    )
    result.stdout.fnmatch_lines(
        [
            "*least privilege*",
            "FAIL  google-sheets-events-team@prod  0 missing  3 excessive  0 over-broad",
        ]
    )


def test_scopes_from_the_settings_make_the_item_pass(
    pytester: pytest.Pytester, workspace: Path
) -> None:
    (workspace / "n8n-scopes.yaml").write_text(
        'credentials:\n  "Google Sheets (events team)": [https://www.googleapis.com/auth/spreadsheets]\n'
    )
    (workspace / "connector-harness.yaml").write_text(
        f"{PACKS}\nscenarios: [workflows]\nn8n: {{scopes: n8n-scopes.yaml, envs: [staging]}}\n"
    )
    result = pytester.runpytest("-rA", "-p", "no:cacheprovider", "-k", "sheets")
    result.assert_outcomes(passed=1, deselected=2)
    result.stdout.fnmatch_lines([f"PASSED {SHEETS_ITEM.format(env='staging')}".replace("[", "[[]")])


def test_a_connector_the_workspace_defines_is_the_users(
    pytester: pytest.Pytester, workspace: Path
) -> None:
    (workspace / "workflows" / "own.yaml").write_text(
        "connectors:\n"
        "  - name: google-sheets-events-team\n"
        "    owner: events@example.com\n"
        "    credential: {type: oauth2-refresh-token, lifetime: 1h}\n"
        "    allowed_hosts: [sheets.googleapis.com]\n"
        "roles:\n"
        "  - name: sheets-writer\n"
        "    owner: events@example.com\n"
        "    grants: {google-sheets: [https://www.googleapis.com/auth/spreadsheets]}\n"
        "bindings:\n"
        "  - {connector: google-sheets-events-team, env: qa, roles: [sheets-writer]}\n"
    )
    result = pytester.runpytest("-rA", "-p", "no:cacheprovider", "-k", "sheets")
    result.assert_outcomes(passed=1, deselected=2)
    result.stdout.fnmatch_lines([f"PASSED {SHEETS_ITEM.format(env='qa')}".replace("[", "[[]")])


def test_a_configured_directory_of_exports_is_collected(
    pytester: pytest.Pytester, workspace: Path
) -> None:
    exports = workspace / "exports"
    exports.mkdir()
    data = json.loads((EXAMPLES / "sheets-append.n8n.json").read_text())
    (exports / "signups.json").write_text(json.dumps(data))
    (workspace / "workflows" / "sheets-append.n8n.json").unlink()
    (workspace / "connector-harness.yaml").write_text(
        f"{PACKS}\nscenarios: [workflows]\nn8n: {{workflows: [exports]}}\n"
    )
    result = pytester.runpytest("--collect-only", "-q")
    result.stdout.fnmatch_lines(
        [
            "exports/signups.json::log-event-sign-ups-to-the-attendance-sheet.google-sheets-events-team[[]*]"
        ]
    )


def test_an_export_that_is_no_workflow_is_one_failing_item(
    pytester: pytest.Pytester, workspace: Path
) -> None:
    (workspace / "workflows" / "broken.n8n.json").write_text('{"nodes": [')
    result = pytester.runpytest("-p", "no:cacheprovider")
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(
        [
            "the connector-harness workspace does not load (1 problem):",
            "workflows/broken.n8n.json:1:12: the JSON document ends before it is complete",
        ]
    )
