"""The tamper-evident decision log: JSON lines, each carrying the hash of the one before.

Each line is `{"seq": N, "prev": HASH, "decision": {...}, "hash": HASH}` where
`hash = H(prev + canonical(seq, decision))`, H being SHA-256, or HMAC-SHA-256
when a key is set in CONNECTOR_HARNESS_LOG_KEY. The last line is a seal that
records the count, so a log cut short is detected too. `verify` names the first
line that was changed, removed, added or moved.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from harness.messages import Decision

KEY_VARIABLE = "CONNECTOR_HARNESS_LOG_KEY"
GENESIS = "0" * 64


def _key() -> bytes | None:
    value = os.environ.get(KEY_VARIABLE)
    return value.encode() if value else None


def _digest(previous: str, body: dict[str, Any], key: bytes | None) -> str:
    payload = previous.encode() + json.dumps(body, sort_keys=True, separators=(",", ":")).encode()
    if key is not None:
        return hmac.new(key, payload, hashlib.sha256).hexdigest()
    return hashlib.sha256(payload).hexdigest()


def write_log(path: Path, decisions: Iterable[Decision]) -> int:
    """Write every decision as a hash-chained line, then the seal; return the number written."""
    key = _key()
    previous = GENESIS
    count = 0
    with path.open("w", encoding="utf-8") as out:
        for count, decision in enumerate(decisions, start=1):
            body = {"seq": count, "decision": decision.to_data()}
            digest = _digest(previous, body, key)
            out.write(json.dumps({**body, "prev": previous, "hash": digest}, sort_keys=True) + "\n")
            previous = digest
        seal = {"seq": count + 1, "seal": {"decisions": count, "keyed": key is not None}}
        out.write(
            json.dumps(
                {**seal, "prev": previous, "hash": _digest(previous, seal, key)}, sort_keys=True
            )
            + "\n"
        )
    return count


@dataclass(frozen=True, slots=True)
class Verdict:
    ok: bool
    decisions: int
    line: int = 0  # the first bad line (1-based), 0 when ok
    problem: str = ""


def verify_log(path: Path) -> Verdict:
    """Recompute the chain; the first line that does not fit is the tampered one."""
    key = _key()
    previous = GENESIS
    try:
        lines = path.read_text("utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as err:
        return Verdict(False, 0, 1, f"cannot read the log: {err}")
    if not lines:
        return Verdict(False, 0, 1, "the log is empty (it should end with a seal line)")
    for number, text in enumerate(lines, start=1):
        try:
            entry = json.loads(text)
            if not isinstance(entry, dict):
                raise ValueError("not an object")
            seq, prev, digest = entry["seq"], entry["prev"], entry["hash"]
        except (ValueError, KeyError, TypeError):
            return Verdict(
                False, number - 1, number, "the line is not a log entry (changed or corrupted)"
            )
        if seq != number:
            what = "a line is missing before it" if seq > number else "it was moved or copied here"
            return Verdict(
                False,
                number - 1,
                number,
                f"the line has sequence number {seq}, expected {number}: {what}",
            )
        if prev != previous:
            return Verdict(
                False,
                number - 1,
                number,
                "the line does not follow the previous one (a line was removed or reordered)",
            )
        body = {k: v for k, v in entry.items() if k not in ("prev", "hash")}
        if not hmac.compare_digest(str(digest), _digest(previous, body, key)):
            hint = (
                " (or the log key differs)"
                if key is not None or entry.get("seal", {}).get("keyed")
                else ""
            )
            return Verdict(
                False, number - 1, number, f"the line's content does not match its hash{hint}"
            )
        previous = digest
        if "seal" in entry:
            if number != len(lines):
                return Verdict(
                    False, number - 1, number + 1, "lines follow the seal (appended later)"
                )
            if entry["seal"].get("decisions") != number - 1:
                return Verdict(False, number - 1, number, "the seal's count does not match the log")
            return Verdict(True, number - 1)
    return Verdict(False, len(lines), len(lines) + 1, "the log has no seal line: it was cut short")
