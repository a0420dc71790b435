"""Lint rules: each one positive and negative, disable comments, and secrets kept masked."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path
from typing import Any

import pytest
import yaml
from workspaces import policy, service

from harness.cli import main
from harness.lint.checks import is_placeholder_owner
from harness.lint.linter import lint_workspace
from harness.lint.rules import RULES, LintFinding
from harness.workspace.loader import load_workspace, workspace_from_data

TODAY = date(2026, 1, 1)
IN_MEMORY = Path("<memory>")  # no files: only the model rules run
# A canary GitHub token: if any of it beyond the first four characters is printed, masking failed.
CANARY = "ghp_" + "R7x2Kq9LmZ4vT1bN8cW3yH6jF0sD5gP2aE7u"


def _policy(grants: list[str] | None = None, **changes: Any) -> dict[str, Any]:
    """The standard one-connector policy (a prod binding with an expiry) with sections changed."""
    data = policy(grants if grants is not None else ["svc.read"], [("GET", "/items")])
    data["bindings"][0]["expires"] = "2026-06-30"
    data["roles"][0]["owner"] = "owner@example.com"
    for key, value in changes.items():
        data[key] = value
    return data


def _lint(data: dict[str, Any], *, today: date = TODAY, **service_changes: Any) -> list[str]:
    """`RULE location message` of every finding of an in-memory workspace."""
    workspace = workspace_from_data([service(**service_changes)], [data])
    return [_line(f) for f in lint_workspace(workspace, IN_MEMORY, today)]


def _line(finding: LintFinding) -> str:
    return f"{finding.rule} {finding.location} {finding.message}"


def _rules(lines: list[str]) -> list[str]:
    return [line.split(" ", 1)[0] for line in lines]


def test_a_clean_workspace_has_no_findings() -> None:
    assert _lint(_policy()) == []


# -- CH101 ----------------------------------------------------------------------------------


def test_a_wildcard_grant_to_a_service_account_is_an_error() -> None:
    assert _lint(_policy(["svc.*"])) == [
        "CH101 <policy 0>:1:1 `svc.*` in role `role` is a wildcard matching 4 svc scopes, "
        "and system accounts hold it: bot@prod (service-account)"
    ]


def test_a_grant_implying_the_whole_service_is_an_error() -> None:
    (line,) = _lint(_policy(["svc.admin"]))
    assert line.startswith("CH101 <policy 0>:1:1 `svc.admin` in role `role` implies every scope")


def test_narrow_grants_and_human_connectors_are_not_wildcards() -> None:
    assert _lint(_policy(["svc.write", "svc.delete"])) == []
    human = _policy(["svc.*"])
    human["connectors"][0]["kind"] = "user-delegated"
    assert _lint(human) == []


def test_the_only_scope_of_a_service_is_not_an_admin_grant() -> None:
    single = service(
        {"svc.read": []},
        [{"id": "items.list", "method": "GET", "path": "/items", "requires": "svc.read"}],
    )
    workspace = workspace_from_data([single], [_policy()])
    assert lint_workspace(workspace, IN_MEMORY, TODAY) == ()


# -- CH102 ----------------------------------------------------------------------------------


def _connector(**credential: str) -> list[dict[str, Any]]:
    data = _policy()["connectors"]
    data[0]["credential"].update(credential)
    return data


def test_a_lifetime_above_the_policy_maximum_is_an_error() -> None:
    assert _lint(_policy(connectors=_connector(lifetime="2d"))) == [
        "CH102 <policy 0>:1:1 connector `bot` (oauth2-client-credentials): credential lifetime "
        "2d is above the policy maximum of 1d"
    ]
    assert _lint(_policy(connectors=_connector(lifetime="24h"))) == []
    raised = _policy(connectors=_connector(lifetime="2d"), policy={"max_credential_lifetime": "3d"})
    assert _lint(raised) == []


def test_rotation_above_the_maximum_or_missing_for_a_long_lived_secret() -> None:
    slow = _lint(_policy(connectors=_connector(rotation="180d")))
    assert slow == [
        "CH102 <policy 0>:1:1 connector `bot` (oauth2-client-credentials): the secret is "
        "rotated every 180d, above the policy maximum of 90d"
    ]
    assert not _lint(
        _policy(connectors=_connector(rotation="180d"), policy={"max_rotation": "180d"})
    )
    missing = _lint(_policy(connectors=_connector(type="api-key")))
    assert missing == [
        "CH102 <policy 0>:1:1 connector `bot` (api-key): a long-lived secret with no `rotation`"
    ]
    assert _lint(_policy(connectors=_connector(type="service-account-key", rotation="30d"))) == []
    assert _lint(_policy(connectors=_connector(type="bot-token"))) == []  # not long-lived


def test_credential_findings_point_at_the_lifetime_and_rotation_lines(tmp_path: Path) -> None:
    data = _policy(connectors=_connector(type="api-key", lifetime="2d"))
    root = _workspace_on_disk(tmp_path, yaml.safe_dump(data, sort_keys=False))
    lines = (root / "scenarios" / "policy.yaml").read_text().splitlines()
    found = {f.message.split(": ", 1)[1]: f.location.line for f in _lint_files(root)}
    lifetime = next(n for n, line in enumerate(lines, 1) if line.strip().startswith("lifetime:"))
    credential = next(n for n, line in enumerate(lines, 1) if line.strip() == "credential:")
    assert found == {
        "credential lifetime 2d is above the policy maximum of 1d": lifetime,
        "a long-lived secret with no `rotation`": credential,  # where `rotation:` goes
    }


# -- CH103 and CH108 ------------------------------------------------------------------------


def test_a_prod_binding_without_expiry_is_a_warning() -> None:
    data = _policy()
    del data["bindings"][0]["expires"]
    workspace = workspace_from_data([service()], [data])
    (finding,) = lint_workspace(workspace, IN_MEMORY, TODAY)
    assert (finding.rule, finding.severity) == ("CH103", "warning")
    assert finding.message == "prod binding bot@prod has no `expires:`, so its access never lapses"
    assert finding.fix.startswith("add `expires: 2027-01-01` (or sooner)")


def test_only_prod_environments_need_an_expiry() -> None:
    data = _policy()
    del data["bindings"][0]["expires"]
    data["bindings"][0]["env"] = "staging"
    assert _lint(data) == []
    data["policy"] = {"prod_environments": ["staging", "production"]}
    assert _rules(_lint(data)) == ["CH103"]


def test_a_prod_binding_that_no_flow_exercises_is_a_warning() -> None:
    data = _policy()
    data["connectors"].append({**data["connectors"][0], "name": "idle"})
    data["bindings"].append(
        {"connector": "idle", "env": "prod", "roles": ["role"], "expires": "2026-03-01"}
    )
    data["bindings"].append({"connector": "idle", "env": "dev", "roles": ["role"]})
    assert _lint(data) == [
        "CH108 <policy 0>:1:1 prod binding idle@prod is exercised by no flow: connector `idle` "
        "has none, so nothing shows its roles are least privilege"
    ]


# -- CH104 ----------------------------------------------------------------------------------


def test_missing_and_placeholder_owners_are_errors() -> None:
    data = _policy()
    data["connectors"][0]["owner"] = "TODO"
    data["roles"].append({"name": "unowned", "grants": {"svc": ["svc.read"]}})
    data["roles"].append({"name": "blank", "owner": "  ", "grants": {"svc": ["svc.read"]}})
    data["waivers"] = [
        {
            "binding": "bot@prod",
            "grants": {"svc": ["svc.read"]},
            "reason": "migration",
            "owner": "tbd",
            "approved_by": "security@example.com",
            "expires": "2026-03-01",
        }
    ]
    lines = _lint(data)
    assert sorted(line.split(" ", 3)[3] for line in lines) == [
        "connector `bot` has the placeholder owner `TODO`",
        "role `blank` has no owner",
        "role `unowned` has no owner",
        "the waiver for bot@prod has the placeholder owner `tbd`",
    ]
    assert set(_rules(lines)) == {"CH104"}


@pytest.mark.parametrize("owner", ["", "TODO", "todo: find one", "TBD", "n/a", "Unknown", "?"])
def test_placeholder_owners(owner: str) -> None:
    assert is_placeholder_owner(owner)


@pytest.mark.parametrize("owner", ["platform@example.com", "Todd Smith", "team-tbdx"])
def test_real_owners(owner: str) -> None:
    assert not is_placeholder_owner(owner)


# -- CH105 ----------------------------------------------------------------------------------


def _reviewed(last: str | None, every: str | None = "30d") -> dict[str, Any]:
    data = _policy()
    role = data["roles"][0]
    if every is not None:
        role["review_every"] = every
    if last is not None:
        role["last_reviewed"] = last
    return data


def test_an_overdue_review_is_a_warning() -> None:
    assert _lint(_reviewed("2025-11-30")) == [
        "CH105 <policy 0>:1:1 role `role` was due for review on 2025-12-30 (last reviewed "
        "2025-11-30, every 30d): 2 days overdue"
    ]
    assert _lint(_reviewed("2025-12-02")) == []  # due today: not yet overdue
    assert _lint(_reviewed("2025-12-02"), today=date(2026, 1, 2)) != []


def test_a_review_period_without_a_last_review_is_a_warning() -> None:
    assert _lint(_reviewed(None)) == [
        "CH105 <policy 0>:1:1 role `role` is to be reviewed every 30d but has no `last_reviewed`"
    ]
    assert _lint(_reviewed("2020-01-01", every=None)) == []  # no review period, nothing due


# -- CH106 ----------------------------------------------------------------------------------


def test_one_identity_deploying_and_approving_is_an_error() -> None:
    duties = {
        "duties": {
            "deploy": ["ci@example.com", "Alice@example.com"],
            "approve": ["alice@example.com"],
        }
    }
    assert _lint(_policy(policy=duties)) == [
        "CH106 <policy 0>:1:1 `Alice@example.com` is listed in both `duties.deploy` and "
        "`duties.approve`: they could approve their own change"
    ]
    apart = {"duties": {"deploy": ["ci@example.com"], "approve": ["alice@example.com"]}}
    assert _lint(_policy(policy=apart)) == []


def _conflict(grants: list[str]) -> dict[str, Any]:
    conflict = {"name": "write-vs-delete", "scopes": ["svc:svc.write", "svc:svc.delete"]}
    return _policy(grants, policy={"conflicting_scopes": [conflict]})


def test_a_binding_holding_both_conflicting_scopes_is_an_error() -> None:
    (line,) = _lint(_conflict(["svc.write", "svc.delete"]))
    assert line == (
        "CH106 <policy 0>:1:1 binding bot@prod holds scopes that conflict under "
        "`write-vs-delete` (<policy 0>:1:1): svc:svc.write through `svc.write` of role `role`; "
        "svc:svc.delete through `svc.delete` of role `role`"
    )


def test_conflicting_scopes_count_under_implication() -> None:
    lines = _lint(_conflict(["svc.admin"]))
    assert _rules(lines) == ["CH101", "CH106"]
    assert "svc:svc.write through `svc.admin`" in lines[1]


def test_holding_one_side_of_a_conflict_is_fine() -> None:
    assert _lint(_conflict(["svc.read", "svc.delete"])) == []
    assert _lint(_conflict(["svc.write"])) == []


# -- files: CH107 and disable comments -------------------------------------------------------


def _workspace_on_disk(root: Path, policy_text: str | None = None) -> Path:
    """A workspace directory: one service spec and one policy file (text written as given)."""
    (root / "mocks").mkdir(parents=True)
    (root / "scenarios").mkdir()
    (root / "mocks" / "svc.yaml").write_text(yaml.safe_dump(service(), sort_keys=False))
    text = policy_text if policy_text is not None else yaml.safe_dump(_policy(), sort_keys=False)
    (root / "scenarios" / "policy.yaml").write_text(text)
    return root


def _append(path: Path, text: str) -> None:
    path.write_text(path.read_text() + text)


def _lint_files(root: Path) -> list[LintFinding]:
    return list(lint_workspace(load_workspace(root), root, TODAY))


def test_a_token_in_a_workspace_file_is_reported_masked_at_its_position(tmp_path: Path) -> None:
    root = _workspace_on_disk(tmp_path)
    _append(root / "scenarios" / "policy.yaml", f"# token: {CANARY}\n")
    (finding,) = _lint_files(root)
    lines = (root / "scenarios" / "policy.yaml").read_text().splitlines()
    assert finding.rule == "CH107"
    assert (finding.location.line, finding.location.column) == (len(lines), 10)
    assert finding.message == "a GitHub token is written in this file: ghp_... (40 chars)"
    assert CANARY not in finding.message + finding.fix


def test_sidecar_bodies_are_scanned_too(tmp_path: Path) -> None:
    root = _workspace_on_disk(tmp_path)
    bodies = root / "scenarios" / "flow.bodies"
    bodies.mkdir()
    (bodies / "1-request.bin").write_bytes(b"\x00\xff\nkey: AKIAIOSFODNN7EXAMPLQ\n")
    (finding,) = _lint_files(root)
    assert finding.location.file.endswith("flow.bodies/1-request.bin")
    assert (finding.location.line, finding.location.column) == (2, 6)
    assert finding.message == "an AWS access key id is written in this file: AKIA... (20 chars)"


def test_handles_digests_and_identifiers_are_not_secrets(tmp_path: Path) -> None:
    data = _policy()
    data["flows"][0]["steps"][0]["request"]["headers"] = {
        "Authorization": "Bearer <secret-3>",
        "If-None-Match": '"a87ff679a2f3e71d9181a67b7542122c"',
        "X-Request-Id": "3f2b8c1e-9a4d-4e7f-b6c2-1d5e8f0a7b93",
    }
    data["flows"][0]["steps"][0]["response"] = {
        "status": 200,
        "headers": {"ETag": '"a87ff679a2f3e71d9181a67b7542122c"'},
        "json": {
            "items": [
                {
                    "id": "c_1",
                    "sha256": "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08",
                }
            ]
        },
    }
    data["flows"][0]["description"] = "from web-api/slack_web_openapi_v2_without_examples.json"
    root = _workspace_on_disk(tmp_path, yaml.safe_dump(data, sort_keys=False))
    assert _lint_files(root) == []


def test_a_high_entropy_value_outside_a_digest_key_is_reported(tmp_path: Path) -> None:
    data = _policy()
    data["flows"][0]["vars"] = {"signing": "q8F3zR1xW7mK2pL9vT4nB6cY0hJ5dS3a"}
    root = _workspace_on_disk(tmp_path, yaml.safe_dump(data, sort_keys=False))
    (finding,) = _lint_files(root)
    assert finding.message == "a high-entropy string is written in this file: q8F3... (32 chars)"


def test_a_disable_comment_with_a_reason_silences_its_rules_in_that_file_only(
    tmp_path: Path,
) -> None:
    root = _workspace_on_disk(tmp_path)
    policy_file = root / "scenarios" / "policy.yaml"
    text = policy_file.read_text()
    policy_file.write_text(
        '# connector-harness: disable=CH107, CH105 reason="fixtures hold fake keys"\n'
        f"{text}# token: {CANARY}\n"
    )
    (root / "scenarios" / "other.yaml").write_text(f"# token: {CANARY}\nroles: []\n")
    (finding,) = _lint_files(root)
    assert (finding.rule, Path(finding.location.file).name) == ("CH107", "other.yaml")


def test_a_disable_comment_covers_the_sidecars_its_file_names(tmp_path: Path) -> None:
    data = _policy()
    data["flows"][0]["steps"][0]["request"] = {
        "method": "POST",
        "url": "https://api.svc.example/items",
        "body_file": "flow.bodies/1-request.bin",
    }
    text = '# connector-harness: disable=CH107 reason="a fake key"\n' + yaml.safe_dump(data)
    root = _workspace_on_disk(tmp_path, text)
    (root / "scenarios" / "flow.bodies").mkdir()
    (root / "scenarios" / "flow.bodies" / "1-request.bin").write_text(f"token={CANARY}\n")
    assert _lint_files(root) == []


def test_a_disable_comment_without_a_reason_is_an_error_and_disables_nothing(
    tmp_path: Path,
) -> None:
    root = _workspace_on_disk(tmp_path)
    policy_file = root / "scenarios" / "policy.yaml"
    policy_file.write_text(
        f"  # connector-harness: disable=CH107\n# key: {CANARY}\n{policy_file.read_text()}"
    )
    findings = _lint_files(root)
    assert [(f.rule, f.severity, f.location.line, f.location.column) for f in findings] == [
        ("CH100", "error", 1, 3),
        ("CH107", "error", 2, 8),
    ]
    assert findings[0].message == (
        "the comment disables CH107 without a reason, so it disables nothing"
    )


@pytest.mark.parametrize(
    ("comment", "message"),
    [
        (
            '# connector-harness: disable=CH107 reason=""',
            "the comment disables CH107 without a reason, so it disables nothing",
        ),
        (
            '# connector-harness: disable=CH999,CH107 reason="x"',
            "the disable comment names CH999, which is not a rule that can be disabled",
        ),
        (
            '# connector-harness: disable=CH100 reason="x"',
            "the disable comment names CH100, which is not a rule that can be disabled",
        ),
        (
            "# connector-harness: disable CH107 because",
            "this disable comment cannot be read, so it disables nothing",
        ),
        (
            'waivers: []  # connector-harness: disable=CH107 reason="x"',
            "a disable comment after YAML content is ignored; it must be a line of its own",
        ),
    ],
)
def test_bad_disable_comments(tmp_path: Path, comment: str, message: str) -> None:
    root = _workspace_on_disk(tmp_path)
    (root / "scenarios" / "extra.yaml").write_text(f"{comment}\nroles: []\n")
    (finding,) = _lint_files(root)
    assert (finding.rule, finding.message) == ("CH100", message)


# -- the command ---------------------------------------------------------------------------


def test_the_secret_never_appears_in_any_output(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    root = _workspace_on_disk(tmp_path)
    _append(root / "scenarios" / "policy.yaml", f"# token: {CANARY}\n")
    (root / "scenarios" / "flow.bodies").mkdir()
    (root / "scenarios" / "flow.bodies" / "1.bin").write_text(f"Bearer {CANARY}")
    report = tmp_path / "lint.json"
    outputs = []
    for extra in ([], ["--format", "json"], ["--format", "json", "--output", str(report)]):
        assert main(["lint", str(root), "--today", "2026-01-01", *extra]) == 1
        captured = capsys.readouterr()
        outputs += [captured.out, captured.err]
    outputs.append(report.read_text())
    assert json.loads(outputs[2])["summary"]["rules"]["CH107"] == 2
    for output in outputs:
        assert CANARY[4:] not in output
        assert CANARY[4:12] not in output


def test_findings_are_sorted_by_file_line_and_rule(tmp_path: Path) -> None:
    data = _policy(["svc.*"], connectors=_connector(lifetime="3d"))
    data["roles"][0]["review_every"] = "30d"
    root = _workspace_on_disk(tmp_path, f"# {CANARY}\n" + yaml.safe_dump(data, sort_keys=False))
    findings = _lint_files(root)
    assert [f.rule for f in findings] == ["CH107", "CH102", "CH105", "CH101"]
    assert findings == sorted(findings, key=LintFinding.sort_key)


def test_the_rule_table_is_documented() -> None:
    docs = (Path(__file__).resolve().parents[2] / "docs" / "lint.md").read_text()
    for rule in RULES:
        assert f"| `{rule.id}` | `{rule.name}` | {rule.severity} |" in docs
