from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from workspaces import build, policy, service

from harness.audit import KEY_VARIABLE, LogWriter, verify_log, write_log
from harness.engine import run_check
from harness.sandbox import Sandbox


@pytest.fixture
def log(tmp_path: Path) -> Path:
    workspace = build([service()], [policy(["svc.read"], [("GET", "/items"), ("POST", "/items")])])
    sandbox = Sandbox(workspace)
    run_check(workspace, sandbox=sandbox)
    path = tmp_path / "decisions.jsonl"
    assert write_log(path, sandbox.decisions) == 2
    return path


def test_a_log_streamed_one_decision_at_a_time_is_the_same_file(log: Path, tmp_path: Path) -> None:
    workspace = build([service()], [policy(["svc.read"], [("GET", "/items"), ("POST", "/items")])])
    sandbox = Sandbox(workspace)
    run_check(workspace, sandbox=sandbox)
    streamed = tmp_path / "streamed.jsonl"
    writer = LogWriter(streamed, flush_each=True)
    writer.write(sandbox.decisions[0])
    assert streamed.read_bytes().count(b"\n") == 1  # on disk before the next call comes
    writer.write(sandbox.decisions[1])
    writer.close()
    assert streamed.read_bytes() == log.read_bytes()


def test_an_untouched_log_verifies(log: Path) -> None:
    verdict = verify_log(log)
    assert (verdict.ok, verdict.decisions) == (True, 2)


def test_every_single_byte_change_is_detected(log: Path) -> None:
    original = log.read_bytes()
    line_starts = [0] + [i + 1 for i, byte in enumerate(original) if byte == ord("\n")]
    for position in range(len(original)):
        for replacement in {original[position] ^ 0x01, ord(" "), ord("\t")} - {original[position]}:
            changed = bytearray(original)
            changed[position] = replacement
            log.write_bytes(bytes(changed))
            verdict = verify_log(log)
            assert not verdict.ok, f"byte {position} changed to {replacement!r} went unnoticed"
            expected_line = sum(1 for start in line_starts if start <= position)
            assert verdict.line <= expected_line + 1


@pytest.mark.parametrize(
    ("edit", "line", "problem"),
    [
        (lambda lines: [lines[1], lines[0], *lines[2:]], 1, "sequence number 2, expected 1"),
        (lambda lines: [lines[0], *lines[2:]], 2, "a line is missing before it"),
        (lambda lines: lines[:-1], 3, "no seal line"),
        (lambda lines: [*lines, lines[0]], 4, "appended later"),
        (lambda lines: [lines[0], lines[0], *lines[1:]], 2, "moved or copied here"),
    ],
)
def test_deleted_reordered_and_appended_lines_are_named(
    log: Path, edit: Callable[[list[str]], list[str]], line: int, problem: str
) -> None:
    lines = log.read_text().splitlines(keepends=True)
    log.write_text("".join(edit(lines)))
    verdict = verify_log(log)
    assert not verdict.ok
    assert verdict.line == line
    assert problem in verdict.problem


def test_a_keyed_log_needs_its_key(
    log: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(KEY_VARIABLE, "s3cret-key")
    workspace = build([service()], [policy(["svc.read"], [("GET", "/items")])])
    sandbox = Sandbox(workspace)
    run_check(workspace, sandbox=sandbox)
    keyed = tmp_path / "keyed.jsonl"
    write_log(keyed, sandbox.decisions)
    assert verify_log(keyed).ok
    monkeypatch.setenv(KEY_VARIABLE, "another-key")
    verdict = verify_log(keyed)
    assert (verdict.ok, verdict.line) == (False, 1)
    assert "or the log key differs" in verdict.problem
    monkeypatch.delenv(KEY_VARIABLE)
    # without a key, a forger could rehash an unkeyed log, but not a keyed one
    assert not verify_log(keyed).ok


def test_every_line_names_the_rule_that_decided(log: Path) -> None:
    import json

    entries = [json.loads(line) for line in log.read_text().splitlines()[:-1]]
    assert [e["decision"]["rule"] for e in entries] == ["scope", "scope"]
    assert all(e["decision"]["rule_location"] for e in entries)
