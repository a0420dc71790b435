from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from workspaces import build, policy, service

from harness.audit import (
    KEY_VARIABLE,
    LogWriter,
    RunHeader,
    read_anchor,
    run_header,
    verify_log,
    write_log,
)
from harness.engine import run_check
from harness.errors import UsageError
from harness.sandbox import Sandbox

HEADER = RunHeader("0.1.0", "sha256:" + "ab" * 32, "2026-01-01T00:00:00Z", (("env", "*"),))
KEY = "k3y-for-the-decision-log-0123456789"


def _decisions(calls: list[tuple[str, str]] | None = None) -> Sandbox:
    workspace = build(
        [service()], [policy(["svc.read"], calls or [("GET", "/items"), ("POST", "/items")])]
    )
    sandbox = Sandbox(workspace)
    run_check(workspace, sandbox=sandbox)
    return sandbox


@pytest.fixture
def log(tmp_path: Path) -> Path:
    path = tmp_path / "decisions.jsonl"
    assert write_log(path, _decisions().decisions, HEADER).count == 2
    return path


def rechain(lines: list[bytes], edit: Callable[[dict[str, Any]], None], key: bytes | None) -> bytes:
    """A forger's rewrite: edit every entry, then compute the whole chain again, from the
    format as docs/gate.md describes it (sorted compact JSON, `hash` over the bytes)."""
    previous, out = "0" * 64, []
    for raw in lines:
        entry = json.loads(raw)
        del entry["hash"]
        edit(entry)
        entry["prev"] = previous
        body = json.dumps(entry, sort_keys=True, separators=(",", ":")).encode()
        if key is None:
            previous = hashlib.sha256(body).hexdigest()
        else:
            previous = hmac.new(key, body, hashlib.sha256).hexdigest()
        out.append(body[:-1] + b',"hash":"' + previous.encode() + b'"}\n')
    return b"".join(out)


def _allow_everything(entry: dict[str, Any]) -> None:
    if "decision" in entry:
        entry["decision"]["outcome"] = "allowed"


def test_a_log_streamed_one_decision_at_a_time_is_the_same_file(log: Path, tmp_path: Path) -> None:
    decisions = _decisions().decisions
    streamed = tmp_path / "streamed.jsonl"
    writer = LogWriter(streamed, HEADER, flush_each=True)
    assert streamed.read_bytes().count(b"\n") == 1  # the header, before any call comes
    writer.write(decisions[0])
    assert streamed.read_bytes().count(b"\n") == 2  # on disk before the next call comes
    writer.write(decisions[1])
    writer.close()
    assert streamed.read_bytes() == log.read_bytes()


def test_an_untouched_log_verifies_and_names_its_run_and_final_hash(log: Path) -> None:
    verdict = verify_log(log)
    assert (verdict.status, verdict.decisions, verdict.keyed) == ("intact", 2, False)
    assert verdict.run == {
        "format": "connector-harness decision log",
        "version": 2,
        "harness": "0.1.0",
        "workspace": "sha256:" + "ab" * 32,
        "clock": "2026-01-01T00:00:00Z",
        "selection": {"env": "*"},
        "keyed": False,
    }
    seal = json.loads(log.read_text().splitlines()[-1])
    assert verdict.anchor == seal["hash"]


def test_the_header_is_line_one_and_the_decisions_follow_it(log: Path) -> None:
    entries = [json.loads(line) for line in log.read_text().splitlines()]
    assert [sorted(entry) for entry in entries] == [
        ["hash", "prev", "run", "seq"],
        ["decision", "hash", "prev", "seq"],
        ["decision", "hash", "prev", "seq"],
        ["hash", "prev", "seal", "seq"],
    ]
    assert [entry["seq"] for entry in entries] == [1, 2, 3, 4]
    assert entries[-1]["seal"] == {"decisions": 2, "keyed": False}


def test_every_single_byte_change_is_detected(log: Path) -> None:
    original = log.read_bytes()
    line_starts = [0] + [i + 1 for i, byte in enumerate(original) if byte == ord("\n")]
    for position in range(len(original)):
        for replacement in {original[position] ^ 0x01, ord(" "), ord("\t")} - {original[position]}:
            changed = bytearray(original)
            changed[position] = replacement
            log.write_bytes(bytes(changed))
            verdict = verify_log(log)
            assert verdict.status == "tampered", (
                f"byte {position} changed to {replacement!r} went unnoticed"
            )
            expected_line = sum(1 for start in line_starts if start <= position)
            assert verdict.line <= expected_line + 1


@pytest.mark.parametrize(
    ("edit", "line", "problem"),
    [
        (
            lambda lines: [lines[0], lines[2], lines[1], *lines[3:]],
            2,
            "sequence number 3, expected 2",
        ),
        (lambda lines: [lines[0], *lines[2:]], 2, "a line is missing before it"),
        (lambda lines: lines[:-1], 4, "no seal line"),
        (lambda lines: [*lines, lines[1]], 5, "appended later"),
        (lambda lines: [lines[0], lines[1], lines[1], *lines[2:]], 3, "moved or copied here"),
        (lambda lines: lines[1:], 1, "not a decision log's header"),
        (lambda lines: [], 1, "the log is empty"),
    ],
)
def test_deleted_reordered_and_appended_lines_are_named(
    log: Path, edit: Callable[[list[str]], list[str]], line: int, problem: str
) -> None:
    lines = log.read_text().splitlines(keepends=True)
    log.write_text("".join(edit(lines)))
    verdict = verify_log(log)
    assert verdict.status == "tampered"
    assert verdict.line == line
    assert problem in verdict.problem


def test_a_rechained_forgery_of_an_unkeyed_log_is_caught_by_its_anchor(log: Path) -> None:
    anchor = verify_log(log).anchor
    log.write_bytes(rechain(log.read_bytes().splitlines(), _allow_everything, None))
    assert verify_log(log).ok  # the chain alone cannot tell: anyone can compute SHA-256
    verdict = verify_log(log, anchor=anchor)
    assert (verdict.status, verdict.line) == ("tampered", 4)
    assert "is not the anchor" in verdict.problem


def test_a_keyed_log_verifies_only_with_its_key(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(KEY_VARIABLE, KEY)
    keyed = tmp_path / "keyed.jsonl"
    written = write_log(keyed, _decisions().decisions, HEADER)
    verdict = verify_log(keyed)
    assert (verdict.status, verdict.keyed, verdict.anchor) == ("intact", True, written.anchor)
    monkeypatch.setenv(KEY_VARIABLE, "another key, of the same length as the first one")
    verdict = verify_log(keyed)
    assert (verdict.status, verdict.line) == ("tampered", 1)
    assert "or the log key differs" in verdict.problem
    monkeypatch.delenv(KEY_VARIABLE)
    verdict = verify_log(keyed)
    assert (verdict.status, verdict.line) == ("unverifiable", 1)
    assert f"set {KEY_VARIABLE} to the key it was written with" in verdict.problem


@pytest.mark.parametrize("claims_keyed", [True, False])
def test_a_keyed_log_rechained_without_the_key_is_never_intact(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, claims_keyed: bool
) -> None:
    monkeypatch.setenv(KEY_VARIABLE, KEY)
    keyed = tmp_path / "keyed.jsonl"
    anchor = write_log(keyed, _decisions().decisions, HEADER).anchor

    def forge(entry: dict[str, Any]) -> None:
        _allow_everything(entry)
        for part in ("run", "seal"):
            if part in entry:
                entry[part]["keyed"] = claims_keyed

    keyed.write_bytes(rechain(keyed.read_bytes().splitlines(), forge, None))
    # the key holder sees the forgery at once
    assert (verify_log(keyed).status, verify_log(keyed).line) == ("tampered", 1)
    monkeypatch.delenv(KEY_VARIABLE)
    if claims_keyed:  # a verifier without the key cannot vouch for a keyed log
        assert verify_log(keyed).status == "unverifiable"
    else:  # stripped of its key, only the anchor tells
        assert verify_log(keyed).status == "intact"
    assert verify_log(keyed, anchor=anchor).status != "intact"


@pytest.mark.parametrize("blank", ["", "   ", "\n"])
def test_a_blank_key_is_refused_by_writer_and_verifier(
    log: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, blank: str
) -> None:
    monkeypatch.setenv(KEY_VARIABLE, blank)
    with pytest.raises(UsageError, match=f"{KEY_VARIABLE} is set but empty"):
        write_log(tmp_path / "other.jsonl", [], HEADER)
    assert not (tmp_path / "other.jsonl").exists()
    with pytest.raises(UsageError, match=f"{KEY_VARIABLE} is set but empty"):
        verify_log(log)


def test_an_unkeyed_log_is_refused_when_a_key_is_expected(
    log: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(KEY_VARIABLE, KEY)
    verdict = verify_log(log)
    assert (verdict.status, verdict.line) == ("tampered", 1)
    assert "the log is not keyed" in verdict.problem


def test_a_line_past_the_length_bound_is_not_read_whole(log: Path) -> None:
    lines = log.read_bytes().splitlines(keepends=True)
    log.write_bytes(lines[0] + b"[" * (17 * 1024 * 1024))
    verdict = verify_log(log)
    assert (verdict.status, verdict.line) == ("tampered", 2)
    assert "longer than" in verdict.problem


def test_deeply_nested_json_is_a_bad_line_not_a_crash(log: Path) -> None:
    lines = log.read_bytes().splitlines(keepends=True)
    nested = b"{" + b'"a":[' * 200_000 + b"]" * 200_000 + b',"hash":"' + b"0" * 64 + b'"}\n'
    log.write_bytes(lines[0] + nested)
    verdict = verify_log(log)
    assert (verdict.status, verdict.line) == ("tampered", 2)


def test_run_header_binds_the_workspace_files_clock_and_selection(tmp_path: Path) -> None:
    workspace = build([service()], [policy(["svc.read"], [("GET", "/items")])])
    assert run_header(workspace, (("env", "prod"),)) == RunHeader(
        "0.1.0", "", "2026-01-01T00:00:00Z", (("env", "prod"),)
    )


def test_an_anchor_is_read_from_its_hash_or_a_file(tmp_path: Path) -> None:
    digest = "0123456789abcdef" * 4
    assert read_anchor(digest.upper()) == digest
    saved = tmp_path / "anchor.txt"
    saved.write_text(f"decision log anchor: {digest}\n")
    assert read_anchor(str(saved)) == digest
    saved.write_text("nothing here")
    with pytest.raises(UsageError, match="holds no 64-digit hex hash"):
        read_anchor(str(saved))
    with pytest.raises(UsageError, match="neither a 64-digit hex hash nor a readable file"):
        read_anchor(str(tmp_path / "absent"))


def test_every_line_names_the_rule_that_decided(log: Path) -> None:
    entries = [json.loads(line) for line in log.read_text().splitlines()[1:-1]]
    assert [e["decision"]["rule"] for e in entries] == ["scope", "scope"]
    assert all(e["decision"]["rule_location"] for e in entries)


def test_the_workspace_digest_covers_every_file_and_reads_nothing_outside(
    tmp_path: Path,
) -> None:
    from harness.model import Settings
    from harness.workspace.digest import workspace_digest

    def make(where: Path) -> Path:
        (where / "mocks").mkdir(parents=True)
        (where / "scenarios" / "bodies").mkdir(parents=True)
        (where / "mocks" / "svc.yaml").write_text("service: svc\n")
        (where / "scenarios" / "bot.yaml").write_text("connectors: []\n")
        (where / "scenarios" / "bodies" / "1.bin").write_bytes(b"\x00\x01")
        return where

    first, second = make(tmp_path / "a"), make(tmp_path / "b")
    digest = workspace_digest(first, Settings())
    assert digest.startswith("sha256:")
    assert digest == workspace_digest(second, Settings())
    (second / "scenarios" / "bodies" / "1.bin").write_bytes(b"\x00\x02")  # a sidecar body
    assert workspace_digest(second, Settings()) != digest
    outside = tmp_path / "secret.txt"
    outside.write_text("one")
    (first / "scenarios" / "link.yaml").symlink_to(outside)
    linked = workspace_digest(first, Settings())
    outside.write_text("two")  # a link counts by its name, never by what it points to
    assert workspace_digest(first, Settings()) == linked != digest
