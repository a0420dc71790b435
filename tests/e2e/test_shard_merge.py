"""`check --shard I/N` and `merge`: the merged report is the single run's report, byte for
byte, in every format; shards that do not make one run are refused with exit 2."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from harness.options import CHECK_FORMATS
from harness.sharding import ShardSpec, parse_shard, shard_names

if TYPE_CHECKING:
    from conftest import RunCli  # tests/e2e/conftest.py, the `run_cli` fixture

ROOT = Path(__file__).resolve().parents[2]
TODAY = "2026-03-20"  # the waiver below is active, 11 days left

WAIVER = """\
waivers:
  - binding: storage-backup@prod
    grants: {storage: ["storage.*"]}
    reason: bucket migration, wildcard needed until the new bucket exists
    owner: finance-systems@example.com
    ticket: SEC-1234
    approved_by: security-lead@example.com
    expires: 2026-03-31
"""


@pytest.fixture
def workspace(tmp_path: Path) -> Path:
    """The example workspace with a waiver, in a directory of its own."""
    root = tmp_path / "ws"
    root.mkdir()
    shutil.copytree(ROOT / "mocks", root / "mocks")
    shutil.copytree(ROOT / "scenarios", root / "scenarios")
    (root / "scenarios" / "waivers.yaml").write_text(WAIVER)
    (root / "connector-harness.yaml").write_text(
        "packs: [slack, github, gmail, google-drive, google-sheets]\n"
    )
    return root


def _shards(run_cli: RunCli, cwd: Path, count: int, *options: str) -> list[str]:
    names = []
    for index in range(1, count + 1):
        name = f"shard-{index}.json"
        result = run_cli(
            "check", "ws", "--shard", f"{index}/{count}", "--output", name, *options, cwd=cwd
        )
        assert result.code in (0, 1), result.stderr
        assert f"shard {index}/{count} written to {name}: " in result.stderr
        names.append(name)
    return names


@pytest.mark.parametrize("count", [1, 3, 20])
def test_merged_report_is_the_single_run_report_in_every_format(
    run_cli: RunCli, workspace: Path, count: int
) -> None:
    """3 shards of 17 bindings; 20 shards, three of them empty; 1 shard: the whole run."""
    cwd = workspace.parent
    options = ("--today", TODAY)
    shards = _shards(run_cli, cwd, count, *options)
    for format in CHECK_FORMATS:
        single = run_cli(
            "check", "ws", "--format", format, "--output", f"single.{format}", *options, cwd=cwd
        )
        merged = run_cli(
            "merge", *shards, "--format", format, "--output", f"merged.{format}", cwd=cwd
        )
        assert single.code == merged.code == 1
        expected = (cwd / f"single.{format}").read_bytes()
        assert (cwd / f"merged.{format}").read_bytes() == expected, format
    report = json.loads((cwd / "single.json").read_text())
    assert report["summary"]["bindings"] == 17
    assert report["waivers"][0]["status"] == "active"  # the waiver crossed the merge
    assert "SEC-1234" in (cwd / "merged.html").read_text()


def test_filters_and_baseline_cross_the_merge(run_cli: RunCli, workspace: Path) -> None:
    cwd = workspace.parent
    baseline = run_cli("baseline", "ws", "--output", "baseline.yaml", cwd=cwd)
    assert baseline.code == 0, baseline.stderr
    # the baseline approves less than is granted: drop one approved grant to get an escalation
    text = (cwd / "baseline.yaml").read_text()
    (cwd / "baseline.yaml").write_text(text.replace("      - chat:write\n", "", 1))
    options = ("--env", "prod", "--baseline", "baseline.yaml", "--today", TODAY)
    shards = _shards(run_cli, cwd, 2, *options)
    for format in ("json", "sarif", "html"):
        run_cli(
            "check", "ws", "--format", format, "--output", f"single.{format}", *options, cwd=cwd
        )
        run_cli("merge", *shards, "--format", format, "--output", f"merged.{format}", cwd=cwd)
        assert (cwd / f"merged.{format}").read_bytes() == (cwd / f"single.{format}").read_bytes()
    report = json.loads((cwd / "merged.json").read_text())
    assert report["filters"] == {"env": "prod", "binding": None}
    assert report["baseline"] == "baseline.yaml"
    assert report["summary"]["findings"]["escalation"] >= 1


def test_shards_are_dealt_by_sorted_name() -> None:
    names = ["b@prod", "a@dev", "c@dev", "a@prod", "b@dev"]
    # sorted: a@dev a@prod b@dev b@prod c@dev
    assert shard_names(names, ShardSpec(1, 2)) == {"a@dev", "b@dev", "c@dev"}
    assert shard_names(names, ShardSpec(2, 2)) == {"a@prod", "b@prod"}
    assert shard_names(names, ShardSpec(3, 3)) == {"b@dev"}
    every = [shard_names(names, ShardSpec(i, 4)) for i in range(1, 5)]
    assert set().union(*every) == set(names)
    assert sum(map(len, every)) == len(names)


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("0/3", "between 1 and the shard count"),
        ("4/3", "between 1 and the shard count"),
        ("1/0", "between 1 and the shard count"),
        ("2", "write I/N"),
        ("a/b", "write I/N"),
        ("-1/2", "write I/N"),
    ],
)
def test_a_bad_shard_is_refused(text: str, problem: str) -> None:
    with pytest.raises(ValueError, match=problem):
        parse_shard(text)
    assert parse_shard(" 2 / 4 ") == ShardSpec(2, 4)


def test_bad_shard_option_exits_2(run_cli: RunCli, workspace: Path) -> None:
    result = run_cli("check", "ws", "--shard", "3/2", cwd=workspace.parent)
    assert result.code == 2
    assert result.stderr == (
        "connector-harness: error: --shard: '3/2': the shard number must be between 1 and "
        "the shard count, e.g. 1/2\n"
    )
    result = run_cli("check", "ws", "--shard", "1/2", "--format", "sarif", cwd=workspace.parent)
    assert result.code == 2
    assert "merge shard-*.json --format sarif" in result.stderr


def _edit(path: Path, change: Any) -> None:
    data = json.loads(path.read_text())
    change(data)
    path.write_text(json.dumps(data, indent=2))


def test_shards_that_do_not_make_one_run_exit_2(run_cli: RunCli, workspace: Path) -> None:
    cwd = workspace.parent
    one, two, three = _shards(run_cli, cwd, 3, "--today", TODAY)

    missing = run_cli("merge", one, three, cwd=cwd)
    assert missing.code == 2
    assert missing.stderr.startswith("connector-harness: error: shard 2/3 missing: ")
    assert "run `connector-harness check --shard 2/3`" in missing.stderr

    twice = run_cli("merge", one, two, two, three, cwd=cwd)
    assert twice.code == 2
    assert f"{two}:" in twice.stderr
    assert "shard 2/3 is given twice" in twice.stderr

    other_day = run_cli("check", "ws", "--shard", "2/3", "--output", "late.json", cwd=cwd)
    assert other_day.code == 1
    late = run_cli("merge", one, "late.json", three, cwd=cwd)
    assert late.code == 2
    assert "late.json:" in late.stderr
    assert "was run with other options than shard-1.json" in late.stderr
    assert "give --today YYYY-MM-DD" in late.stderr

    other_count = run_cli(
        "check", "ws", "--shard", "2/2", "--output", "half.json", "--today", TODAY, cwd=cwd
    )
    assert other_count.code == 1
    mixed = run_cli("merge", one, "half.json", cwd=cwd)
    assert mixed.code == 2
    assert "another shard count than shard-1.json" in mixed.stderr

    # the same workspace with one file changed: another workspace
    flows = workspace / "scenarios" / "backup.yaml"
    flows.write_text(flows.read_text() + "\n# changed\n")
    changed = run_cli(
        "check", "ws", "--shard", "2/3", "--output", "changed.json", "--today", TODAY, cwd=cwd
    )
    assert changed.code == 1
    other = run_cli("merge", one, "changed.json", three, cwd=cwd)
    assert other.code == 2
    assert "changed.json:" in other.stderr
    assert "checked other workspace files than shard-1.json" in other.stderr
    assert "run every shard on the same commit of the workspace" in other.stderr

    # a shard written by another build of the harness
    shutil.copy(cwd / two, cwd / "old.json")
    _edit(cwd / "old.json", lambda data: data["tool"].update(version="0.0.1"))
    old = run_cli("merge", one, "old.json", three, cwd=cwd)
    assert old.code == 2
    assert "another build of connector-harness than shard-1.json" in old.stderr

    # a binding of shard 1 copied into shard 2: overlapping shards
    first = json.loads((cwd / one).read_text())
    shutil.copy(cwd / two, cwd / "overlap.json")
    _edit(cwd / "overlap.json", lambda data: data["results"].append(first["results"][0]))
    overlap = run_cli("merge", one, "overlap.json", three, cwd=cwd)
    assert overlap.code == 2
    name = first["results"][0]["binding"]
    assert f"binding {name!r} is also in shard-1.json: the shards overlap" in overlap.stderr

    # a binding dropped: the shards no longer hold the run
    shutil.copy(cwd / two, cwd / "short.json")
    _edit(cwd / "short.json", lambda data: data["results"].pop())
    short = run_cli("merge", one, "short.json", three, cwd=cwd)
    assert short.code == 2
    assert "the shards hold 16 of the run's 17 bindings" in short.stderr


@pytest.mark.parametrize(
    ("text", "where", "problem"),
    [
        ("{", "bad.json:1:2", "the JSON document ends before it is complete"),
        (
            '{"schema": "connector-harness/check-report"}',
            "bad.json:1:12",
            "a check report, not a shard report",
        ),
        ("[]", "bad.json:1:1", "the document: [] is not of type 'object'"),
    ],
)
def test_a_file_that_is_not_a_shard_report_exits_2(
    run_cli: RunCli, tmp_path: Path, text: str, where: str, problem: str
) -> None:
    (tmp_path / "bad.json").write_text(text)
    result = run_cli("merge", "bad.json", cwd=tmp_path)
    assert result.code == 2
    assert result.stderr.startswith(where + ": ")
    assert problem in result.stderr
    assert "Traceback" not in result.stderr


def test_a_tampered_shard_points_at_the_value(run_cli: RunCli, workspace: Path) -> None:
    cwd = workspace.parent
    (one,) = _shards(run_cli, cwd, 1, "--today", TODAY)
    _edit(cwd / one, lambda data: data["results"][2].update(calls="many"))
    result = run_cli("merge", one, cwd=cwd)
    assert result.code == 2
    assert "results[2].calls: 'many' is not of type 'integer'" in result.stderr
    _edit(cwd / one, lambda data: data["results"][2].update(calls=3))
    _edit(cwd / one, lambda data: data["run"].update(today="yesterday"))
    result = run_cli("merge", one, cwd=cwd)
    assert result.code == 2
    assert "shard-1.json:31:14: run.today: 'yesterday' is not a 'date'" in result.stderr
    _edit(cwd / one, lambda data: data["run"].update(today=TODAY))
    _edit(cwd / one, lambda data: data["workspace"].update(clock="noon"))
    result = run_cli("merge", one, cwd=cwd)
    assert result.code == 2
    assert "shard-1.json:12:14: 'noon' is not a date" in result.stderr
