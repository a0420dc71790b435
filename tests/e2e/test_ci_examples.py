"""The CI examples of docs/ci.md are valid YAML and their connector-harness commands run."""

from __future__ import annotations

import re
import shlex
from pathlib import Path
from typing import Any

import pytest
import yaml

from harness.cli import build_parser, main
from harness.commands._common import command_options
from harness.options import output_targets

ROOT = Path(__file__).resolve().parents[2]
GUIDE = ROOT / "docs" / "ci.md"
WORKFLOW = ROOT / "docs" / "examples" / "github-actions.yml"


def _yaml_blocks() -> list[Any]:
    return [
        yaml.safe_load(block) for block in re.findall(r"```yaml\n(.*?)```", GUIDE.read_text(), re.S)
    ]


def _commands(lines: list[str]) -> list[list[str]]:
    """The connector-harness commands among shell lines, without their `|| ...` fallbacks."""
    return [
        shlex.split(line.split("||")[0])[1:]
        for line in (line.strip() for line in lines)
        if line.startswith("connector-harness ")
    ]


def test_the_guide_shows_the_committed_github_workflow() -> None:
    assert yaml.safe_load(WORKFLOW.read_text()) in _yaml_blocks()


def _workflow_commands() -> list[list[str]]:
    steps = yaml.safe_load(WORKFLOW.read_text())["jobs"]["connector-harness"]["steps"]
    return _commands([line for step in steps for line in step.get("run", "").splitlines()])


def _gitlab_commands() -> list[list[str]]:
    (job,) = [block["least-privilege"] for block in _yaml_blocks() if "least-privilege" in block]
    assert job["artifacts"]["reports"]["junit"] == "junit.xml"
    return _commands(job["script"])


@pytest.mark.parametrize(
    ("commands", "formats"),
    [
        (_workflow_commands(), [("sarif", "markdown", "html")]),
        (_gitlab_commands(), [("junit", "markdown", "html")]),
    ],
    ids=["github", "gitlab"],
)
def test_the_example_commands_run_on_the_example_workspace(
    commands: list[list[str]],
    formats: list[tuple[str, ...]],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """Each example checks once, writing every report the job uploads, in the format its
    file's extension names."""
    monkeypatch.chdir(ROOT)
    baseline = tmp_path / "connector-harness.lock.yaml"
    assert main(["baseline", ".", "--output", str(baseline)]) == 0
    written = []
    for args in commands:
        parsed = build_parser().parse_args(args)  # exits on an unknown option or format
        assert parsed.baseline == "connector-harness.lock.yaml"
        options = command_options(parsed, "check")
        written.append(tuple(kind for kind, _ in output_targets(options, "check")))
        outputs = {name: tmp_path / name for name in parsed.output}
        redirected = [
            str(baseline) if a == parsed.baseline else str(outputs[a]) if a in outputs else a
            for a in args
        ]
        # 1: the baseline approves only the suggested grants; the example's flaws still fail
        assert main(redirected) == 1
        assert all(output.stat().st_size > 0 for output in outputs.values())
    assert written == formats
    capsys.readouterr()
