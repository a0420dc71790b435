"""The tamper-evident decision log: JSON lines, each carrying the hash of the one before.

Each line is a JSON object `{"decision": {...}, "prev": HASH, "seq": N, "hash": HASH}`
whose `hash` is computed over the exact bytes of the line before it (the object
up to `"hash"`), chained through `prev`: SHA-256, or HMAC-SHA-256 when a key is
set in CONNECTOR_HARNESS_LOG_KEY. Because the hash covers the bytes as written,
any single-byte change is detected, whitespace included. The last line is a
seal recording the count, so a log cut short is detected too. `verify_log`
names the first line that was changed, removed, added or moved.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import re
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from harness.decisions import Decision

KEY_VARIABLE = "CONNECTOR_HARNESS_LOG_KEY"
GENESIS = "0" * 64
_LINE = re.compile(rb'^(?P<body>\{.*),"hash":"(?P<hash>[0-9a-f]{64})"\}$')


def _key() -> bytes | None:
    value = os.environ.get(KEY_VARIABLE)
    return value.encode() if value else None


def _digest(body: bytes, key: bytes | None) -> str:
    if key is not None:
        return hmac.new(key, body, hashlib.sha256).hexdigest()
    return hashlib.sha256(body).hexdigest()


def _line(fields: dict[str, Any], key: bytes | None) -> tuple[str, str]:
    body = json.dumps(fields, sort_keys=True, separators=(",", ":"), ensure_ascii=True)
    digest = _digest(body.encode(), key)
    return f'{body[:-1]},"hash":"{digest}"}}', digest


def write_log(path: Path, decisions: Iterable[Decision]) -> int:
    """Write every decision as a hash-chained line, then the seal; return the number written."""
    with LogWriter(path) as log:
        for decision in decisions:
            log.write(decision)
    return log.count


class LogWriter:
    """Writes the log as decisions come (a server's), and the seal when closed.

    The file is the same, byte for byte, as `write_log` of the same decisions. With
    `flush_each`, each line reaches the file as it is written, so a process that dies
    loses no decision, only the seal (which `verify_log` reports as a log cut short).
    """

    def __init__(self, path: Path, *, flush_each: bool = False) -> None:
        self._key = _key()
        self._previous = GENESIS
        self._flush_each = flush_each
        self.count = 0
        self._out = path.open("w", encoding="ascii", newline="\n")

    def write(self, decision: Decision) -> None:
        self.count += 1
        fields = {"seq": self.count, "prev": self._previous, "decision": decision.to_data()}
        text, self._previous = _line(fields, self._key)
        self._out.write(text + "\n")
        if self._flush_each:
            self._out.flush()

    def close(self) -> None:
        """Write the seal and close the file."""
        if self._out.closed:
            return
        try:
            seal = {
                "seq": self.count + 1,
                "prev": self._previous,
                "seal": {"decisions": self.count, "keyed": self._key is not None},
            }
            self._out.write(_line(seal, self._key)[0] + "\n")
        finally:
            self._out.close()

    def __enter__(self) -> LogWriter:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()


@dataclass(frozen=True, slots=True)
class Verdict:
    ok: bool
    decisions: int  # lines that verified before the first bad one
    line: int = 0  # the first bad line (1-based), 0 when ok
    problem: str = ""


def verify_log(path: Path) -> Verdict:
    """Recompute the chain; the first line that does not fit is the tampered one."""
    key = _key()
    try:
        raw = path.read_bytes()
    except OSError as err:
        return Verdict(False, 0, 1, f"cannot read the log: {err.strerror}")
    if not raw.endswith(b"\n"):
        return Verdict(
            False,
            0,
            raw.count(b"\n") + 1,
            "the last line is incomplete (the log was cut or edited)",
        )
    lines = raw[:-1].split(b"\n")
    previous = GENESIS
    for number, text in enumerate(lines, start=1):
        bad = _check_line(text, number, previous, key)
        if isinstance(bad, str):
            return Verdict(False, number - 1, number, bad)
        entry, previous = bad
        if "seal" in entry:
            if number != len(lines):
                return Verdict(False, number, number + 1, "lines follow the seal (appended later)")
            if entry["seal"].get("decisions") != number - 1:
                return Verdict(False, number - 1, number, "the seal's count does not match the log")
            return Verdict(True, number - 1)
    return Verdict(False, len(lines), len(lines) + 1, "the log has no seal line: it was cut short")


def _check_line(
    text: bytes, number: int, previous: str, key: bytes | None
) -> tuple[dict[str, Any], str] | str:
    """The entry and its hash, or what is wrong with the line."""
    match = _LINE.match(text)
    if match is None:
        return "the line is not a log entry (changed or corrupted)"
    body = match["body"] + b"}"
    digest = match["hash"].decode()
    try:
        entry = json.loads(body)
        seq, prev = entry["seq"], entry["prev"]
    except (ValueError, KeyError, TypeError):
        return "the line is not a log entry (changed or corrupted)"
    if not hmac.compare_digest(digest, _digest(body, key)):
        hint = (
            " (or the log key differs)"
            if key is not None or '"keyed":true' in body.decode("ascii", "replace")
            else ""
        )
        return f"the line's content does not match its hash{hint}"
    if seq != number:
        what = "a line is missing before it" if seq > number else "it was moved or copied here"
        return f"the line has sequence number {seq}, expected {number}: {what}"
    if prev != previous:
        return "the line does not follow the previous one (a line was removed or reordered)"
    return entry, digest
