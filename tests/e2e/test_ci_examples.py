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


def _sharded_jobs() -> dict[str, Any]:
    (workflow,) = [
        block for block in _yaml_blocks() if block.get("name") == "least privilege (sharded)"
    ]
    jobs: dict[str, Any] = workflow["jobs"]
    return jobs


def _job_commands(job: dict[str, Any]) -> list[list[str]]:
    return _commands([line for step in job["steps"] for line in step.get("run", "").splitlines()])


def test_the_sharded_example_merges_into_the_single_run_report(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """The matrix's shard command for each shard, then the merge job's commands: the same
    SARIF, Markdown and HTML as the unsharded job of the guide."""
    jobs = _sharded_jobs()
    shards = jobs["shard"]["strategy"]["matrix"]["shard"]
    (shard_command,) = _job_commands(jobs["shard"])
    merges = _job_commands(jobs["merge"])
    monkeypatch.chdir(ROOT)
    baseline = tmp_path / "connector-harness.lock.yaml"
    assert main(["baseline", ".", "--output", str(baseline)]) == 0
    codes = []
    for shard in shards:
        args = [str(baseline) if a == "connector-harness.lock.yaml" else a for a in shard_command]
        args = [a.replace("$TODAY", "2026-12-01").replace("$SHARD", str(shard)) for a in args]
        args[args.index("--output") + 1] = str(tmp_path / f"shard-{shard}.json")
        codes.append(main(args))
    assert 1 in codes  # a failing shard; the job passes on 1 and the merge gates
    assert set(codes) <= {0, 1}
    shard_files = sorted(str(p) for p in tmp_path.glob("shard-*.json"))
    assert len(shard_files) == len(shards)
    for args in merges:
        parsed = build_parser().parse_args(args)
        (named,) = parsed.output  # --output is repeatable: a list
        output = tmp_path / named
        files = [f for a in args for f in (shard_files if a == "shard-*.json" else [a])]
        files[files.index(named)] = str(output)
        assert main(files) == 1
        single = tmp_path / f"single-{named}"
        check = ["check", ".", "--baseline", str(baseline), "--today", "2026-12-01"]
        assert main([*check, "--format", parsed.format, "--output", str(single)]) == 1
        assert output.read_bytes() == single.read_bytes()
    assert [build_parser().parse_args(args).format for args in merges] == [
        "sarif",
        "markdown",
        "html",
    ]
    capsys.readouterr()
