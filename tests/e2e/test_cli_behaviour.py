"""What CI users expect of a command line: several outputs from one replay, formats named
by the file's extension, folders created, files written whole or not at all, Ctrl-C, a
subcommand's own usage, --fail-on, --quiet, --verbose, progress in a CI log, and the
settings file's run options taking effect in the CLI and the API alike."""

from __future__ import annotations

import io
import json
import os
import shutil
import signal
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

import harness
import harness.commands._common as common
from harness.cli import main
from harness.commands._common import progress_on, write_file
from harness.errors import HarnessError
from harness.model import Binding
from harness.options import RunOptions

if TYPE_CHECKING:
    from conftest import RunCli  # tests/e2e/conftest.py, the `run_cli` fixture

ROOT = Path(__file__).resolve().parents[2]
BASE = ROOT / "tests" / "corpus" / "_base"
BINDINGS = 17  # in the example workspace


@pytest.fixture(autouse=True)
def _plain(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("FORCE_COLOR", raising=False)


def test_several_outputs_from_one_replay_each_in_the_format_its_extension_names(
    run_cli: RunCli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    replays: list[Any] = []
    original = common.run_check

    def counting(*args: Any, **kwargs: Any) -> Any:
        replays.append(args)
        return original(*args, **kwargs)

    monkeypatch.setattr(common, "run_check", counting)
    names = ["lp.json", "lp.sarif", "lp.md", "lp.html", "junit.xml", "lp.txt"]
    outputs = [str(tmp_path / "out" / "nested" / name) for name in names]
    flags = [part for path in outputs for part in ("--output", path)]
    result = run_cli("check", str(ROOT), *flags, cwd=tmp_path)
    assert result.code == 1
    assert len(replays) == 1
    assert result.stdout == ""
    assert result.stderr == (
        f"report written to {', '.join(outputs)}: 8 of {BINDINGS} bindings fail the gate\n"
    )
    written = {name: (tmp_path / "out" / "nested" / name).read_text("utf-8") for name in names}
    assert json.loads(written["lp.json"])["schema"] == "connector-harness/check-report"
    assert json.loads(written["lp.sarif"])["version"] == "2.1.0"
    assert written["lp.md"].startswith("#")
    assert written["lp.html"].lstrip().lower().startswith("<!doctype html>")
    assert written["junit.xml"].startswith("<?xml")
    assert written["lp.txt"].startswith("connector-harness check:")
    assert not list((tmp_path / "out" / "nested").glob(".*"))  # no temporary file left


def test_format_names_standard_output_and_files_whose_name_says_nothing(
    run_cli: RunCli, tmp_path: Path
) -> None:
    result = run_cli("check", str(ROOT), "--format", "json", "-o", "report.out", cwd=tmp_path)
    assert result.code == 1
    assert json.loads((tmp_path / "report.out").read_text("utf-8"))["passed"] is False


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ["check", "--format", "json", "--output", "lp.sarif"],
            "connector-harness: error: --output lp.sarif: a .sarif file holds sarif, but "
            "--format is json; drop --format (the extension names the format) or name the "
            "file for json",
        ),
        (
            ["inventory", "--output", "matrix.sarif"],
            "connector-harness: error: --output matrix.sarif: `inventory` does not write "
            "sarif (.sarif files); it writes text, markdown, csv, json",
        ),
        (
            ["check", "--fail-on", "missing,excesive"],
            "connector-harness: error: --fail-on: 'excesive' is not a finding kind; write a "
            "comma-separated list of missing, excessive, over-broad, egress, cross-region, "
            "credential, unexpected-allow, escalation, token-lifetime, volume, waiver, "
            "unroutable, e.g. missing,excessive",
        ),
        (
            ["check", "--quiet", "--verbose"],
            "connector-harness: error: --quiet and --verbose contradict each other: give one "
            "of them",
        ),
    ],
    ids=["extension-contradicts-format", "format-not-written", "unknown-kind", "quiet-verbose"],
)
def test_a_wrong_option_stops_the_run_before_it_starts(
    run_cli: RunCli, tmp_path: Path, args: list[str], message: str
) -> None:
    result = run_cli(*args, str(ROOT), cwd=tmp_path)
    assert (result.code, result.stdout, result.stderr) == (2, "", message + "\n")
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("command", ["check", "inventory", "lint", "baseline"])
def test_an_unknown_flag_prints_the_usage_of_its_subcommand(
    command: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as exited:
        main([command, ".", "--bogus"])
    assert exited.value.code == 2
    err = capsys.readouterr().err
    assert err.startswith(f"usage: connector-harness {command} [-h]")
    assert err.endswith(f"connector-harness {command}: error: unrecognized arguments: --bogus\n")


def test_fail_on_names_the_kinds_that_fail_this_run(run_cli: RunCli, tmp_path: Path) -> None:
    result = run_cli(
        "check", str(ROOT), "--fail-on", "unroutable,cross-region", "-o", "lp.json", cwd=tmp_path
    )
    assert result.code == 0
    assert result.stderr == "report written to lp.json: every binding passes\n"
    report = json.loads((tmp_path / "lp.json").read_text("utf-8"))
    assert report["fail_on"] == ["cross-region", "unroutable"]
    assert report["passed"] is True


def test_quiet_and_verbose(run_cli: RunCli, tmp_path: Path) -> None:
    quiet = run_cli("check", str(ROOT), "-q", "-o", "lp.json", cwd=tmp_path)
    assert (quiet.code, quiet.stdout, quiet.stderr) == (1, "", "")
    verbose = run_cli("baseline", str(ROOT), "--verbose", "-o", "lock.yaml", cwd=tmp_path)
    lines = verbose.stderr.splitlines()
    assert lines[0] == f"[1/{BINDINGS}] replaying crm-sync@dev"
    assert lines[BINDINGS - 1] == f"[{BINDINGS}/{BINDINGS}] replaying support-digest@prod"
    assert lines[BINDINGS].startswith(f"baseline written to lock.yaml: {BINDINGS} bindings;")


class _Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_a_ci_log_gets_a_progress_line_every_few_seconds() -> None:
    """Standard error is no terminal: a line each time `every` seconds have passed since
    the last one, none in between."""
    log, clock = io.StringIO(), _Clock()
    show = progress_on(log, RunOptions(), every=5.0, clock=clock)
    assert show is not None
    for number, advance in enumerate([0, 2, 2, 2, 4, 0.5, 6], start=1):
        clock.now += advance
        show(number, 7, _binding(f"b{number}"))
    assert log.getvalue().splitlines() == [
        "[4/7] replaying b4@prod (6 s so far)",
        "[7/7] replaying b7@prod (16 s so far)",
    ]
    assert progress_on(io.StringIO(), RunOptions(quiet=True)) is None


def test_a_terminal_gets_the_counter_redrawn_in_place() -> None:
    class Terminal(io.StringIO):
        def isatty(self) -> bool:
            return True

    screen = Terminal()
    show = progress_on(screen, RunOptions())
    assert show is not None
    for number in (1, 2):
        show(number, 20, _binding(f"b{number}"))
    assert screen.getvalue() == "\r\x1b[2K[1/20] replaying b1@prod\r\x1b[2K[2/20] replaying b2@prod"


def _binding(connector: str) -> Binding:
    return Binding(connector, "prod", (), None, harness_location())


def harness_location() -> Any:
    from harness.errors import Location

    return Location("<test>")


def test_a_file_is_written_whole_or_not_at_all(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    target = tmp_path / "lp.json"
    target.write_text("the previous report\n", "utf-8")

    def interrupted(source: Any, destination: Any) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(os, "replace", interrupted)
    with pytest.raises(KeyboardInterrupt):
        write_file(target, "the new report\n")
    assert target.read_text("utf-8") == "the previous report\n"
    assert [path.name for path in tmp_path.iterdir()] == ["lp.json"]


def test_a_file_that_cannot_be_written_is_an_error_naming_it(tmp_path: Path) -> None:
    (tmp_path / "lp.json").mkdir()
    with pytest.raises(HarnessError, match=r"cannot write .*lp.json: Is a directory"):
        write_file(tmp_path / "lp.json", "{}\n")
    assert [path.name for path in tmp_path.iterdir()] == ["lp.json"]


SLOW_CHECK = textwrap.dedent(
    """
    import sys, time
    import harness.engine as engine
    from harness.cli import main

    checked = engine.check_binding

    def slow(*args, **kwargs):
        time.sleep(0.3)
        return checked(*args, **kwargs)

    engine.check_binding = slow
    sys.exit(main(sys.argv[1:]))
    """
)


def test_ctrl_c_exits_130_with_one_line_and_writes_nothing(tmp_path: Path) -> None:
    output = tmp_path / "out" / "lp.json"
    process = subprocess.Popen(
        [sys.executable, "-c", SLOW_CHECK, "check", str(ROOT), "-v", "-o", str(output)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=tmp_path,
    )
    assert process.stderr is not None
    first = process.stderr.readline()  # the first binding is being replayed
    assert first == f"[1/{BINDINGS}] replaying crm-sync@dev\n"
    process.send_signal(signal.SIGINT)
    stdout, rest = process.communicate(timeout=60)
    assert process.returncode == 130
    assert stdout == ""
    lines = rest.splitlines()
    assert lines[-1] == "connector-harness: interrupted"
    assert all(line.startswith("[") for line in lines[:-1]), rest  # progress, no traceback
    assert not (tmp_path / "out").exists()


def _workspace(tmp_path: Path, settings: str) -> Path:
    """The corpus's base workspace with a dev binding beside prod, and these settings."""
    root = tmp_path / "ws"
    shutil.copytree(BASE, root)
    scenario = root / "scenarios" / "crm-sync.yaml"
    text = scenario.read_text("utf-8")
    extra = "  - connector: crm-sync\n    env: dev\n    roles: [crm-reader, crm-writer]\n"
    text = text.replace("bindings:\n", "bindings:\n" + extra).replace(
        "roles:\n",
        "roles:\n  - name: crm-writer\n    grants:\n      crm: [crm.contacts.write]\n",
        1,
    )
    scenario.write_text(text, "utf-8")
    (root / "connector-harness.yaml").write_text(settings, "utf-8")
    return root


def _bindings(report_text: str) -> list[tuple[str, str]]:
    report = json.loads(report_text)
    return [(entry["binding"], entry["verdict"]) for entry in report["bindings"]]


def test_env_in_the_settings_selects_in_the_cli_and_the_api(
    run_cli: RunCli, tmp_path: Path
) -> None:
    root = _workspace(tmp_path, "env: dev\n")
    result = run_cli("check", "ws", "--format", "json", cwd=tmp_path)
    assert _bindings(result.stdout) == [("crm-sync@dev", "fail")]  # crm-writer is excessive
    flagged = run_cli("check", "ws", "--format", "json", "--env", "prod", cwd=tmp_path)
    assert _bindings(flagged.stdout) == [("crm-sync@prod", "pass")]  # the flag wins
    report = harness.run_check(harness.load_workspace(root))
    assert [(r.binding, r.passed) for r in report.results] == [("crm-sync@dev", False)]


def test_strict_false_in_the_settings_lets_excess_pass_everywhere(
    run_cli: RunCli, tmp_path: Path
) -> None:
    root = _workspace(tmp_path, "strict: false\n")
    result = run_cli("check", "ws", "--format", "json", cwd=tmp_path)
    assert result.code == 0
    assert _bindings(result.stdout) == [("crm-sync@dev", "pass"), ("crm-sync@prod", "pass")]
    assert "excessive" not in json.loads(result.stdout)["fail_on"]
    report = harness.run_check(harness.load_workspace(root))
    assert report.passed


def test_reports_in_the_settings_are_written_by_every_check(
    run_cli: RunCli, tmp_path: Path
) -> None:
    _workspace(tmp_path, "report: [sarif:reports/lp.sarif, json:reports/lp.json]\n")
    result = run_cli("check", "ws", "-o", "lp.md", cwd=tmp_path)
    assert result.code == 1
    assert result.stderr == (
        "report written to lp.md, reports/lp.sarif, reports/lp.json: "
        "1 of 2 bindings fails the gate\n"
    )
    assert json.loads((tmp_path / "reports" / "lp.sarif").read_text("utf-8"))["runs"]
    assert _bindings((tmp_path / "reports" / "lp.json").read_text("utf-8")) == [
        ("crm-sync@dev", "fail"),
        ("crm-sync@prod", "pass"),
    ]


def test_the_workspace_of_the_pyproject_table_is_the_default(
    run_cli: RunCli, tmp_path: Path
) -> None:
    """Run from the rootdir without naming a workspace, `check` checks the one
    [tool.connector-harness] names, as the pytest plugin does; a named one wins."""
    _workspace(tmp_path, "env: prod\n")
    (tmp_path / "pyproject.toml").write_text(
        '[tool.connector-harness]\nworkspace = "ws"\n', "utf-8"
    )
    result = run_cli("check", "--format", "json", cwd=tmp_path)
    assert (result.code, _bindings(result.stdout)) == (0, [("crm-sync@prod", "pass")])
    assert json.loads(result.stdout)["workspace"] == "ws"
    named = run_cli("check", str(tmp_path / "ws"), "--format", "json", cwd=tmp_path)
    assert json.loads(named.stdout)["workspace"] == str(tmp_path / "ws")


def test_a_device_is_written_in_place_never_replaced(run_cli: RunCli, tmp_path: Path) -> None:
    """/dev/stdout, /dev/null or a pipe is no file to replace: it is written as it is."""
    write_file(Path("/dev/null"), "{}\n")
    assert Path("/dev/null").is_char_device()
    result = run_cli("check", str(ROOT), "-o", "/dev/full", "--format", "json", cwd=tmp_path)
    assert (result.code, result.stderr) == (
        2,
        "connector-harness: error: cannot write /dev/full: No space left on device\n",
    )
    assert Path("/dev/full").is_char_device()
