"""The n8n runner process: one Node.js process for a whole import, spoken to in JSON lines.

`harness/n8n/runner/runner.js` (shipped in this package, our own code) runs n8n's node
code from the fetched packages in a worker thread with the request helpers recording.
This side starts it with Node's permission model where Node has one (reads only in the
packages and the runner, no child processes, no writes, no addons), with an empty
environment, and never waits on it without a bound: a runner that stops answering is
killed and the node that was running is reported; the next node gets a new runner.
"""

from __future__ import annotations

import json
import queue
import subprocess
import threading
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from types import TracebackType
from typing import Any, Literal, TypeVar, get_args

from harness.errors import HarnessError
from harness.n8n.packages import node_executable

RUNNER = Path(__file__).resolve().parent / "runner" / "runner.js"
NODE_BUDGET_MS = 10_000  # per node operation; a node past it is stopped and reported
MEMORY_MB = 256  # per node operation (the worker's heap)
# beyond the node budget, before the whole runner is declared stuck: the 60 s the runner
# allows for loading a node type's module (runner.js START_BUDGET_MS), and 30 s more
_GRACE_SECONDS = 90.0
_START_SECONDS = 120.0
_MAX_LINE = 64 * 1024 * 1024


# How a recorded call's body came: JSON, a form, text, bytes, or none
BodyKind = Literal["json", "form", "text", "binary", "none"]
# What an expression of a node's parameters was: only known at run time (dynamic), broken
# (problem), or an error n8n itself would swallow (swallowed)
NoteKind = Literal["dynamic", "problem", "swallowed"]
# What running one node operation gave (docs/n8n.md, "The runner" and "The summary")
RunStatus = Literal[
    "ok",
    "logic",
    "error",
    "bounded",
    "not-runnable",
    "unknown-type",
    "unknown-version",
    "timeout",
    "memory",
]
BODY_KINDS: tuple[BodyKind, ...] = get_args(BodyKind)
NOTE_KINDS: tuple[NoteKind, ...] = get_args(NoteKind)
RUN_STATUSES: tuple[RunStatus, ...] = get_args(RunStatus)
_Known = TypeVar("_Known", bound=str)


def _known(value: Any, known: tuple[_Known, ...], otherwise: _Known) -> _Known:
    """`value` if the runner answered one of the `known` values, else `otherwise`."""
    return next((item for item in known if item == value), otherwise)


class RunnerFailed(HarnessError):
    """The runner process stopped answering or could not start."""


@dataclass(frozen=True, slots=True)
class RecordedCall:
    """One HTTP call a node operation made, as the runner recorded it."""

    helper: str
    credential: str | None  # the credential type it was made with
    method: str
    url: str
    headers: tuple[tuple[str, str], ...]
    body_kind: BodyKind
    body: Any  # the JSON value, the text, or bytes for binary
    content_type: str
    token: bool  # a call for an access token (a service account's JWT exchange)
    note: str = ""
    answer: Any = None  # what node code read of the stand-in answer (ids it used later)


@dataclass(frozen=True, slots=True)
class ExpressionNote:
    parameter: str
    kind: NoteKind
    detail: str


@dataclass(frozen=True, slots=True)
class NodeRun:
    """What running one node operation gave."""

    status: RunStatus
    calls: tuple[RecordedCall, ...] = ()
    reason: str = ""
    fix: str = ""
    expressions: tuple[ExpressionNote, ...] = field(default=())


def _call(data: dict[str, Any]) -> RecordedCall:
    body = data.get("body") or {}
    kind = _known(body.get("kind"), BODY_KINDS, "none")
    value: Any = None
    if kind == "binary":
        import base64

        value = base64.b64decode(str(body.get("base64", "")))
    elif kind in ("json", "form", "text"):
        value = body.get("value")
    headers = data.get("headers") or {}
    return RecordedCall(
        helper=str(data.get("helper", "")),
        credential=str(data["credential"]) if data.get("credential") else None,
        method=str(data.get("method", "GET")),
        url=str(data.get("url", "")),
        headers=tuple((str(k), str(v)) for k, v in headers.items()),
        body_kind=kind,
        body=value,
        content_type=str(body.get("contentType") or ""),
        token=bool(data.get("token")),
        note=str(data.get("truncated") or ""),
        answer=data.get("answer") if isinstance(data.get("answer"), (dict, list)) else None,
    )


def _node_run(answer: dict[str, Any]) -> NodeRun:
    return NodeRun(
        status=_known(answer.get("status"), RUN_STATUSES, "error"),
        calls=tuple(_call(c) for c in answer.get("calls") or () if isinstance(c, dict)),
        reason=str(answer.get("reason") or ""),
        fix=str(answer.get("fix") or ""),
        expressions=tuple(
            ExpressionNote(str(f.get("parameter", "")), f["kind"], str(f.get("detail", "")))
            for f in answer.get("findings") or ()
            if isinstance(f, dict) and f.get("kind") in NOTE_KINDS
        ),
    )


class Runner:
    """The runner process for one import; use as a context manager."""

    def __init__(self, packages: Path, clock: datetime, *, memory_mb: int = MEMORY_MB) -> None:
        self.packages = packages.resolve()
        self.clock_ms = int(clock.timestamp() * 1000)
        self.memory_mb = memory_mb
        self.node = node_executable()
        self.process: subprocess.Popen[bytes] | None = None
        self.lines: queue.Queue[bytes | None] = queue.Queue()
        self.errors: list[str] = []
        self.next_id = 0
        self.restarts = 0
        self.info: dict[str, Any] = {}
        self.trace = False  # stack frames in failure reasons (to debug the runner)

    def __enter__(self) -> Runner:
        self.start()
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()

    def _command(self) -> list[str]:
        command = [self.node, "--no-warnings", "--max-old-space-size=1024"]
        if self._has_permission_model():
            command += [
                "--experimental-permission",
                f"--allow-fs-read={self.packages}",
                f"--allow-fs-read={RUNNER.parent}",
                "--allow-worker",
            ]
        return [*command, str(RUNNER), str(self.packages), str(self.clock_ms), str(self.memory_mb)]

    def _has_permission_model(self) -> bool:
        try:
            done = subprocess.run(
                [self.node, "--experimental-permission", "--allow-fs-read=*", "-e", "0"],
                capture_output=True,
                timeout=30,
                env={},
                check=False,
            )
        except (OSError, subprocess.SubprocessError):
            return False
        return done.returncode == 0

    def start(self) -> None:
        self.process = subprocess.Popen(
            self._command(),
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            env={"LANG": "C.UTF-8", "TZ": "UTC"},
            cwd=str(self.packages),
        )
        self.lines = queue.Queue()
        assert self.process.stdout is not None
        assert self.process.stderr is not None
        threading.Thread(
            target=self._read, args=(self.process.stdout, self.lines), daemon=True
        ).start()
        threading.Thread(target=self._drain, args=(self.process.stderr,), daemon=True).start()
        self.info = self.request({"op": "hello"}, _START_SECONDS)

    @staticmethod
    def _read(stream: Any, lines: queue.Queue[bytes | None]) -> None:
        for line in iter(lambda: stream.readline(_MAX_LINE), b""):
            lines.put(line)
        lines.put(None)

    def _drain(self, stream: Any) -> None:
        for line in iter(lambda: stream.readline(65536), b""):
            if len(self.errors) < 50:
                self.errors.append(line.decode("utf-8", "replace").rstrip())

    def request(self, message: dict[str, Any], timeout: float) -> dict[str, Any]:
        """Send one request and wait for its answer; RunnerFailed if none comes in time."""
        if self.process is None or self.process.poll() is not None:
            raise RunnerFailed("the n8n runner is not running")
        self.next_id += 1
        message = {**message, "id": self.next_id}
        assert self.process.stdin is not None
        try:
            self.process.stdin.write(json.dumps(message).encode() + b"\n")
            self.process.stdin.flush()
        except OSError as err:
            raise RunnerFailed(f"the n8n runner stopped: {self._last_error()}") from err
        while True:
            try:
                line = self.lines.get(timeout=timeout)
            except queue.Empty:
                self.kill()
                raise RunnerFailed(
                    f"the n8n runner did not answer within {timeout:.0f} s"
                ) from None
            if line is None:
                raise RunnerFailed(f"the n8n runner stopped: {self._last_error()}")
            try:
                answer = json.loads(line)
            except ValueError:
                continue  # not a protocol line
            if isinstance(answer, dict) and answer.get("id") == self.next_id:
                return answer

    def _last_error(self) -> str:
        return self.errors[-1][:300] if self.errors else "no message"

    def describe(self, credential_types: list[str]) -> list[dict[str, Any]]:
        answer = self.request({"op": "describe", "types": credential_types}, _START_SECONDS + 60)
        found = answer.get("credentials")
        if not isinstance(found, list):
            raise RunnerFailed(
                f"the n8n runner could not describe credential types: {answer.get('reason', '')}"
            )
        return [c for c in found if isinstance(c, dict)]

    def run(
        self, node: dict[str, Any], workflow: dict[str, str], budget_ms: int = NODE_BUDGET_MS
    ) -> NodeRun:
        """Run one node operation; a runner that stops answering is replaced."""
        message = {
            "op": "run",
            "node": node,
            "workflow": workflow,
            "budget": {"ms": budget_ms},
            "trace": self.trace,
        }
        try:
            answer = self.request(message, budget_ms / 1000 + _GRACE_SECONDS)
        except RunnerFailed as failed:
            self.restart()
            return NodeRun("error", reason=str(failed))
        return _node_run(answer)

    def restart(self) -> None:
        self._discard()
        self.restarts += 1
        self.start()

    def kill(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait(timeout=30)

    def _discard(self) -> None:
        """Kill the process if it still runs, and close its pipes."""
        if self.process is None:
            return
        self.kill()
        for stream in (self.process.stdin, self.process.stdout, self.process.stderr):
            if stream is not None:
                stream.close()
        self.process = None

    def close(self) -> None:
        if self.process is None:
            return
        if self.process.poll() is None:
            try:
                self.request({"op": "shutdown"}, 10)
                self.process.wait(timeout=10)
            except (RunnerFailed, subprocess.TimeoutExpired):
                pass
        self._discard()
