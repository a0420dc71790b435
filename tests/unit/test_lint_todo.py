"""CH110 (values marked `# TODO`) and what the secrets rule leaves alone in n8n imports."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import yaml
from workspaces import policy, service

from harness.lint.linter import lint_workspace
from harness.workspace.loader import load_workspace

TODAY = date(2026, 1, 1)


def _workspace(root: Path, text: str, extra: dict[str, str] | None = None) -> Path:
    (root / "mocks").mkdir(parents=True)
    (root / "scenarios").mkdir()
    (root / "mocks" / "svc.yaml").write_text(yaml.safe_dump(service(), sort_keys=False))
    (root / "scenarios" / "policy.yaml").write_text(text)
    for name, content in (extra or {}).items():
        (root / "scenarios" / name).write_text(content)
    return root


def _policy_text() -> str:
    data = policy(["svc.read"], [("GET", "/items")])
    data["bindings"][0]["expires"] = "2026-06-30"
    data["roles"][0]["owner"] = "owner@example.com"
    return yaml.safe_dump(data, sort_keys=False)


def _rules(root: Path, rule: str) -> list[str]:
    findings = lint_workspace(load_workspace(root), root, TODAY)
    return [
        f"{f.location.line}:{f.location.column} {f.message}" for f in findings if f.rule == rule
    ]


def test_a_value_marked_todo_is_reported_at_the_mark(tmp_path: Path) -> None:
    text = _policy_text().replace("lifetime: 1h", "lifetime: 1h  # TODO: confirm with the vendor")
    root = _workspace(tmp_path, text)
    line = next(n for n, row in enumerate(text.splitlines(), 1) if "# TODO" in row)
    column = text.splitlines()[line - 1].index("#") + 1
    assert _rules(root, "CH110") == [
        f"{line}:{column} `lifetime: 1h` is marked `# TODO`: confirm with the vendor"
    ]


def test_comment_lines_and_other_comments_are_not_marks(tmp_path: Path) -> None:
    text = "# TODO: split this file\n" + _policy_text().replace(
        "lifetime: 1h", "lifetime: 1h  # agreed with security"
    )
    assert _rules(_workspace(tmp_path, text), "CH110") == []


def test_the_mark_is_gone_once_deleted_and_can_be_disabled(tmp_path: Path) -> None:
    text = _policy_text().replace("lifetime: 1h", "lifetime: 1h  # TODO")
    disabled = '# connector-harness: disable=CH110 reason="a sandbox workspace"\n' + text
    assert _rules(_workspace(tmp_path, disabled), "CH110") == []


def test_type_names_and_n8n_exports_are_not_taken_for_secrets(tmp_path: Path) -> None:
    text = _policy_text().replace("description:", "description: googleDriveOAuth2Api credential", 1)
    export = '{"nodes": [], "meta": {"instanceId": "3f2a1b0c9d8e7f6a5b4c3d2e1f0a9b8c7d6e5f4a3b2c1d0e9f8a7b6c5d4e3f2a"}}'
    token = "ghp_" + "Zq8Lm2Xv7Kc4Tn1Bw9Hy3Jd6Fs0Gp5Ra8Ue"
    leaked = '{"nodes": [], "token": "' + token + '"}'
    root = _workspace(tmp_path, text, {"ids.n8n.json": export, "leak.n8n.json": leaked})
    findings = lint_workspace(load_workspace(root), root, TODAY)
    secrets = [(Path(f.location.file).name, f.message) for f in findings if f.rule == "CH107"]
    assert secrets == [
        ("leak.n8n.json", "a GitHub token is written in this file: ghp_... (39 chars)")
    ]
