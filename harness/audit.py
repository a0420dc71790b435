"""The tamper-evident decision log: JSON lines, each carrying the hash of the one before.

Line 1 is the header: the run the log belongs to (the harness version, a digest of the
workspace's files, the sandbox clock, the selection of bindings or services, and
whether the log is keyed). Then one line per decision, then a seal recording the count.
Each line is a JSON object `{..., "prev": HASH, "seq": N, "hash": HASH}` whose `hash`
is computed over the exact bytes of the line (the object up to `"hash"`), chained
through `prev`: SHA-256, or HMAC-SHA-256 when a key is set in CONNECTOR_HARNESS_LOG_KEY.
Because the hash covers the bytes as written, any single-byte change is detected,
whitespace included; a log cut short has no seal.

What the chain proves depends on the key. Keyed, only a key holder can write a log that
verifies. Unkeyed, anyone can rewrite a log and compute its chain again: the seal's
hash (the *anchor*, printed when the log is written) depends on every byte, so a copy
kept outside the file (CI's artifacts, a ticket) proves that the log is the one the run
wrote. `verify_log` says `intact`, `tampered` (naming the first line that was changed,
removed, added or moved) or `unverifiable` (a keyed log and no key to check it with).
"""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import json
import os
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, BinaryIO, Final, Literal

from harness import __version__
from harness.decisions import Decision
from harness.errors import UsageError
from harness.model import Workspace
from harness.workspace.digest import workspace_digest
from harness.workspace.units import format_instant

KEY_VARIABLE = "CONNECTOR_HARNESS_LOG_KEY"
FORMAT: Final = "connector-harness decision log"
VERSION: Final = 2
GENESIS = "0" * 64
MAX_LINE_BYTES = 16 * 1024 * 1024  # far above any decision; a longer line is not the log's
ANCHOR_LABEL: Final = "decision log anchor:"  # how the anchor is printed, for grep
_LINE = re.compile(rb'^(?P<body>\{.*),"hash":"(?P<hash>[0-9a-f]{64})"\}$')
_HEX = re.compile(r"\b[0-9a-f]{64}\b")

LogStatus = Literal["intact", "tampered", "unverifiable"]


def log_key() -> bytes | None:
    """The HMAC key from CONNECTOR_HARNESS_LOG_KEY; None when unset. A variable that is set
    but blank is refused: it would silently mean "no key" to one side and a key to none."""
    value = os.environ.get(KEY_VARIABLE)
    if value is None:
        return None
    if not value.strip():
        raise UsageError(
            f"{KEY_VARIABLE} is set but empty; set it to a secret (e.g. 32 random bytes in "
            f"hex: `openssl rand -hex 32`), or unset it for an unkeyed log"
        )
    return value.encode()


@dataclass(frozen=True, slots=True)
class RunHeader:
    """The run a log belongs to, written as its first line (covered by the chain)."""

    harness: str  # the harness version that wrote it
    workspace: str  # harness.workspace.digest of the workspace's files
    clock: str  # the sandbox clock at the start, ISO 8601
    selection: tuple[tuple[str, str], ...]  # what the run judged: env, binding, services...

    def to_data(self, keyed: bool) -> dict[str, Any]:
        return {
            "format": FORMAT,
            "version": VERSION,
            "harness": self.harness,
            "workspace": self.workspace,
            "clock": self.clock,
            "selection": dict(self.selection),
            "keyed": keyed,
        }


def run_header(workspace: Workspace, selection: Iterable[tuple[str, str]]) -> RunHeader:
    """The header of a log of a run on `workspace` that judged `selection`."""
    return RunHeader(
        __version__,
        workspace_digest(workspace.root, workspace.settings),
        format_instant(workspace.settings.clock),
        tuple(selection),
    )


def _digest(body: bytes, key: bytes | None) -> str:
    if key is not None:
        return hmac.new(key, body, hashlib.sha256).hexdigest()
    return hashlib.sha256(body).hexdigest()


def _line(fields: dict[str, Any], key: bytes | None) -> tuple[str, str]:
    body = json.dumps(fields, sort_keys=True, separators=(",", ":"), ensure_ascii=True)
    digest = _digest(body.encode(), key)
    return f'{body[:-1]},"hash":"{digest}"}}', digest


def write_log(path: Path, decisions: Iterable[Decision], header: RunHeader) -> LogWriter:
    """Write the header, every decision as a hash-chained line, then the seal; return the
    closed writer (its `count` and `anchor`)."""
    with LogWriter(path, header) as log:
        for decision in decisions:
            log.write(decision)
    return log


class LogWriter:
    """Writes the log as decisions come (a server's), and the seal when closed.

    The file is the same, byte for byte, as `write_log` of the same decisions. With
    `flush_each`, each line reaches the file as it is written, so a process that dies
    loses no decision, only the seal (which `verify_log` reports as a log cut short).
    """

    def __init__(self, path: Path, header: RunHeader, *, flush_each: bool = False) -> None:
        self._key = log_key()
        self._flush_each = flush_each
        self.count = 0
        self.anchor = ""  # the seal's hash, once closed
        self._sequence = 1
        self._out = path.open("w", encoding="ascii", newline="\n")
        fields = {"seq": 1, "prev": GENESIS, "run": header.to_data(self._key is not None)}
        text, self._previous = _line(fields, self._key)
        try:
            self._emit(text)
        except OSError:
            self.abandon()
            raise

    def _emit(self, text: str) -> None:
        self._out.write(text + "\n")
        if self._flush_each:
            self._out.flush()

    def write(self, decision: Decision) -> None:
        self.count += 1
        self._sequence += 1
        fields = {"seq": self._sequence, "prev": self._previous, "decision": decision.to_data()}
        text, self._previous = _line(fields, self._key)
        self._emit(text)

    def close(self) -> None:
        """Write the seal and close the file."""
        if self._out.closed:
            return
        try:
            seal = {
                "seq": self._sequence + 1,
                "prev": self._previous,
                "seal": {"decisions": self.count, "keyed": self._key is not None},
            }
            text, anchor = _line(seal, self._key)
            self._out.write(text + "\n")
            self._out.flush()
            self.anchor = anchor
        finally:
            self._out.close()

    def abandon(self) -> None:
        """Close the file without a seal (a write failed): the log reads as cut short."""
        with contextlib.suppress(OSError):
            self._out.close()

    def __enter__(self) -> LogWriter:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()


@dataclass(frozen=True, slots=True)
class LogVerdict:
    """What `verify_log` found."""

    status: LogStatus
    decisions: int  # decision lines that verified before the first bad one
    line: int = 0  # the first bad line (1-based), 0 when intact
    problem: str = ""
    run: Mapping[str, Any] = field(default_factory=dict)  # the header's run, once read
    keyed: bool = False
    anchor: str = ""  # the final hash, when the whole log verified

    @property
    def ok(self) -> bool:
        return self.status == "intact"


def read_anchor(text: str) -> str:
    """An anchor given as its 64 hex digits, or as a file holding them (as `--anchor FILE`
    writes, or a saved `decision log anchor: HEX` line); a UsageError says what to give."""
    candidate = text.strip().lower()
    if _HEX.fullmatch(candidate):
        return candidate
    path = Path(text)
    try:
        with path.open("rb") as source:
            content = source.read(4097)
    except OSError as err:
        raise UsageError(
            f"--anchor {text}: neither a 64-digit hex hash nor a readable file "
            f"({err.strerror or err}); give the hash `check --log` printed, or the file "
            "`--anchor FILE` wrote"
        ) from err
    if len(content) > 4096:
        raise UsageError(
            f"{path}: larger than an anchor file (4 KiB); give the file --anchor wrote"
        )
    found: list[str] = _HEX.findall(content.decode("ascii", "replace").lower())
    if len(found) != 1:
        raise UsageError(
            f"{path}: holds {'no' if not found else len(found)} 64-digit hex hash"
            f"{'' if not found else 'es'}; an anchor file holds exactly one (the final hash "
            "of a decision log)"
        )
    return found[0]


def verify_log(path: Path, *, anchor: str | None = None) -> LogVerdict:
    """Recompute the chain; the first line that does not fit is the tampered one.

    The key comes from CONNECTOR_HARNESS_LOG_KEY. A keyed log without the key cannot be
    verified; an unkeyed log while a key is set is refused (someone without the key
    may have rewritten it). With `anchor`, the log's final hash must equal it.
    """
    key = log_key()
    try:
        with path.open("rb") as source:
            return _Verifier(source, key).run(anchor)
    except OSError as err:
        return LogVerdict("unverifiable", 0, 1, f"cannot read the log: {err.strerror or err}")


class _Verifier:
    """Reads a log line by line (memory bounded by MAX_LINE_BYTES) and checks its chain."""

    def __init__(self, source: BinaryIO, key: bytes | None) -> None:
        self.source = source
        self.given_key = key
        self.key: bytes | None = None
        self.run_data: dict[str, Any] = {}
        self.keyed = False
        self.number = 0
        self.decisions = 0
        self.previous = GENESIS

    def bad(self, problem: str, status: LogStatus = "tampered") -> LogVerdict:
        return LogVerdict(status, self.decisions, self.number, problem, self.run_data, self.keyed)

    def next_line(self) -> bytes | str | None:
        """The next line without its newline, None at the end, or what is wrong with it."""
        raw = self.source.readline(MAX_LINE_BYTES + 1)
        if not raw:
            return None
        self.number += 1
        if not raw.endswith(b"\n"):
            if len(raw) > MAX_LINE_BYTES:
                return f"the line is longer than {MAX_LINE_BYTES} bytes: not a log entry"
            return "the last line is incomplete (the log was cut or edited)"
        return raw[:-1]

    def run(self, anchor: str | None) -> LogVerdict:
        first = self.next_line()
        if first is None:
            self.number = 1
            return self.bad("the log is empty")
        if isinstance(first, str):
            return self.bad(first)
        header = self.header(first)
        if header is not None:
            return header
        previous = self.previous
        while True:
            text = self.next_line()
            if text is None:
                self.number += 1  # where the seal should be
                return self.bad("the log has no seal line: it was cut short")
            if isinstance(text, str):
                return self.bad(text)
            checked = _check_line(text, self.number, previous, self.key)
            if isinstance(checked, str):
                return self.bad(checked)
            entry, previous = checked
            if "seal" in entry:
                return self.seal(entry, previous, anchor)
            if not isinstance(entry.get("decision"), dict):
                return self.bad("the line is neither a decision nor the seal")
            self.decisions += 1

    def header(self, text: bytes) -> LogVerdict | None:
        """Check line 1, the run's header; set the mode (keyed or not) the rest is read in."""
        match = _LINE.match(text)
        try:
            entry = json.loads(match["body"] + b"}") if match else None
        except (ValueError, RecursionError):
            entry = None
        run = entry.get("run") if isinstance(entry, dict) else None
        if not isinstance(run, dict) or run.get("format") != FORMAT:
            return self.bad(
                "the first line is not a decision log's header (the log was edited, or "
                "written by connector-harness 0.1.0 or earlier, which wrote no header)"
            )
        self.run_data = run
        if run.get("version") != VERSION:
            return self.bad(
                f"the log is format version {run.get('version')!r}; this harness reads "
                f"version {VERSION}"
            )
        self.keyed = run.get("keyed") is True
        if self.keyed and self.given_key is None:
            return self.bad(
                f"the log is keyed (HMAC-SHA-256): it can be verified only with its key; set "
                f"{KEY_VARIABLE} to the key it was written with",
                "unverifiable",
            )
        if not self.keyed and self.given_key is not None:
            return self.bad(
                f"the log is not keyed, but {KEY_VARIABLE} is set: it was written without "
                "the key, or rewritten by someone who does not hold it; unset the variable "
                "to check it as an unkeyed log"
            )
        self.key = self.given_key if self.keyed else None
        checked = _check_line(text, 1, GENESIS, self.key)
        if isinstance(checked, str):
            return self.bad(checked)
        self.previous = checked[1]
        return None

    def seal(self, entry: dict[str, Any], final: str, anchor: str | None) -> LogVerdict:
        seal = entry["seal"]
        if not isinstance(seal, dict):
            return self.bad("the seal is not an object (the log was edited)")
        if seal.get("decisions") != self.decisions:
            return self.bad("the seal's count does not match the log")
        if (seal.get("keyed") is True) != self.keyed:
            return self.bad("the seal and the header disagree on whether the log is keyed")
        sealed_at, sealed_decisions = self.number, self.decisions
        following = self.next_line()
        if following is not None:
            self.decisions = sealed_decisions
            return self.bad("lines follow the seal (appended later)")
        if anchor is not None and not hmac.compare_digest(anchor, final):
            self.number = sealed_at
            return self.bad(
                f"the log's final hash {final[:16]}... is not the anchor {anchor[:16]}...: the "
                "log was rewritten and its chain computed again, or it is another run's log"
            )
        return LogVerdict("intact", self.decisions, 0, "", self.run_data, self.keyed, final)


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
    except (ValueError, KeyError, TypeError, RecursionError):
        return "the line is not a log entry (changed or corrupted)"
    if not hmac.compare_digest(digest, _digest(body, key)):
        hint = " (or the log key differs)" if key is not None else ""
        return f"the line's content does not match its hash{hint}"
    if seq != number:
        what = "a line is missing before it" if seq > number else "it was moved or copied here"
        return f"the line has sequence number {seq}, expected {number}: {what}"
    if prev != previous:
        return "the line does not follow the previous one (a line was removed or reordered)"
    return entry, digest
