"""The realism suite's one seam onto connector-harness.

Everything the suite needs from the harness goes through here, so an engine change
touches this module only:

- `Recorder` captures an SDK's requests through the harness's own interception
  (`harness.interception.Interceptor`: `requests` through responses, `httpx` at its
  transports, every other socket refused), answering each with the case's vendor
  response; clients on urllib or httplib2 hand their requests to `Recorder.exchange`.
- `judge` writes the captured calls as recorded flows (`harness.recording`, as
  `pytest --harness-record` does), one connector per case and grant set, beside the
  bundled packs, loads that workspace as a user's would be loaded, runs the check,
  and returns what the harness decided for each connector as plain values.
"""

from __future__ import annotations

import importlib.resources
import shutil
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import yaml

from harness.calls import Request, Response, response_headers, to_request
from harness.engine import run_check
from harness.errors import InputErrors
from harness.gate import GateContext
from harness.interception import Interceptor
from harness.recording import recorded_step
from harness.routing import split_url
from harness.sandbox import Sandbox
from harness.secrets import SecretScrubber
from harness.workspace.loader import load_workspace, workspace_from_data

from .case import MODELS, Answer

REPOSITORY = Path(__file__).resolve().parents[2]
GOOGLE_PACKS = ("gmail", "google-drive", "google-sheets")  # they share www.googleapis.com
PACKS_OF_SERVICE = {
    "slack": ("slack",),
    "github": ("github",),
    "msgraph": ("msgraph",),
    "gmail": GOOGLE_PACKS,
    "google-drive": GOOGLE_PACKS,
    "google-sheets": GOOGLE_PACKS,
}
CREDENTIAL_TYPE = {
    ("slack", "bot"): "bot-token",
    ("github", "app"): "oauth2-client-credentials",
    ("msgraph", "application"): "oauth2-client-credentials",
}
CLOCK = "2026-01-01T00:00:00Z"


# -- capturing an SDK's requests -------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Call:
    """One request an SDK sent, and the vendor response it was given."""

    request: Request
    response: Response


class Recorder(Interceptor):
    """The harness's interception with a recorder in place of the mock services."""

    def __init__(self, answers: Sequence[Answer], default: Answer) -> None:
        super().__init__(Sandbox(workspace_from_data([], [])))
        self._answers = tuple(answers)
        self._default = default
        self.calls: list[Call] = []

    def handle(self, request: Request) -> Response:
        position = len(self.calls)
        answer = self._answers[position] if position < len(self._answers) else self._default
        response = Response(answer.status, answer.json, answer.headers, content=answer.content)
        self.calls.append(Call(request, response))
        return response

    def exchange(
        self, method: str, url: str, headers: dict[str, str], body: bytes | None
    ) -> tuple[int, dict[str, str], bytes]:
        """For clients the interception does not cover (urllib, httplib2): one call in, the
        status, headers and body of its answer out."""
        response = self.handle(to_request(method, url, headers, body))
        return response.status, response_headers(response), response.body_bytes()


@dataclass(frozen=True, slots=True)
class Capture:
    calls: tuple[Call, ...]
    error: str  # the SDK raised: the case's call or answers are wrong


def capture(
    drive: Callable[[Recorder], object], answers: Sequence[Answer], default: Answer
) -> Capture:
    """Run `drive` (which makes the SDK call) with every request captured and answered."""
    recorder = Recorder(answers, default)
    error = ""
    with recorder:
        try:
            drive(recorder)
        except Exception as raised:  # the SDK's own error, reported by every check of the case
            error = f"{type(raised).__name__}: {raised}"
    return Capture(tuple(recorder.calls), error)


# -- judging grant sets ----------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Entry:
    """One connector of a judged workspace: a case's captured calls under one grant set."""

    key: str
    service: str
    model: str  # "" for a service with one model
    grants: tuple[str, ...]
    calls: tuple[Call, ...]
    given: dict[str, Any] | None = None  # the flow's `given:`, ids as the SDK sent them


@dataclass(frozen=True, slots=True)
class CallView:
    method: str
    url: str
    service: str
    operation: str
    outcome: str
    reason: str

    def __str__(self) -> str:
        where = f"{self.service}:{self.operation}" if self.operation else "no operation"
        return f"{self.method} {self.url} -> {self.outcome} ({where}: {self.reason})"


@dataclass(frozen=True, slots=True)
class FindingView:
    kind: str
    service: str
    subject: str
    message: str
    replacement: tuple[str, ...]

    def __str__(self) -> str:
        return f"{self.kind}: {self.message}"


@dataclass(frozen=True, slots=True)
class Verdict:
    """What the harness decided for one connector (or why it could not decide)."""

    errors: tuple[str, ...]  # the workspace did not load: the problems with this connector
    calls: tuple[CallView, ...] = ()
    findings: tuple[FindingView, ...] = ()
    suggested: tuple[str, ...] = ()  # the suggested role's grants on the entry's service
    kept: tuple[str, ...] = ()
    passed: bool = False

    def explain(self) -> str:
        if self.errors:
            return "the workspace does not load:\n  " + "\n  ".join(self.errors)
        lines = ["calls:", *(f"  {call}" for call in self.calls)]
        lines.append("findings:" if self.findings else "findings: none")
        lines.extend(f"  {finding}" for finding in self.findings)
        lines.append(f"suggested: {', '.join(self.suggested) or 'nothing'}")
        return "\n".join(lines)


def judge(entries: Sequence[Entry], directory: Path) -> dict[str, Verdict]:
    """Check every entry in one workspace of the bundled packs; an entry whose files do not
    load is judged by its own errors and the rest are checked without it."""
    verdicts: dict[str, Verdict] = {}
    remaining = list(entries)
    for attempt in range(len(entries) + 1):
        if not remaining:
            break
        root = directory / f"workspace-{attempt}"
        try:
            files = _write_workspace(root, remaining)
        except MissingPack as missing:
            verdicts.update({entry.key: Verdict((str(missing),)) for entry in remaining})
            break
        try:
            workspace = load_workspace(root)
        except InputErrors as failed:
            own, shared = _attribute(failed, files)
            if shared or not own:
                problems = tuple(shared or [str(failed)])
                for entry in remaining:
                    verdicts[entry.key] = Verdict((*problems, *own.get(entry.key, ())))
                break
            verdicts.update({key: Verdict(tuple(problems)) for key, problems in own.items()})
            remaining = [entry for entry in remaining if entry.key not in own]
            continue
        verdicts.update(_check(workspace, remaining))
        break
    return verdicts


class MissingPack(Exception):
    """No bundled pack provides a service the suite judges."""


def _pack_files(names: Iterable[str]) -> tuple[list[str], list[Path]]:
    """(names to list under `packs:`, spec files to copy into mocks/): the packs shipped in
    the package when it ships them, else the repository's mocks/."""
    bundled = importlib.resources.files("harness").joinpath("packs")
    listed: list[str] = []
    copied: list[Path] = []
    for name in names:
        if bundled.joinpath(f"{name}.yaml").is_file():
            listed.append(name)
        elif (REPOSITORY / "mocks" / f"{name}.yaml").is_file():
            copied.append(REPOSITORY / "mocks" / f"{name}.yaml")
        else:
            raise MissingPack(
                f"no pack provides service `{name}`: neither harness/packs/{name}.yaml "
                f"nor mocks/{name}.yaml exists"
            )
    return listed, copied


def _write_workspace(root: Path, entries: Sequence[Entry]) -> dict[str, str]:
    """Write the workspace; return each entry's file stem (its errors are found by it)."""
    packs = sorted({pack for entry in entries for pack in PACKS_OF_SERVICE[entry.service]})
    listed, copied = _pack_files(packs)
    (root / "mocks").mkdir(parents=True)
    (root / "scenarios").mkdir()
    settings: dict[str, Any] = {"mocks": ["mocks"], "scenarios": ["scenarios"], "clock": CLOCK}
    if listed:
        settings["packs"] = listed
    (root / "connector-harness.yaml").write_text(yaml.safe_dump(settings), "utf-8")
    for path in copied:
        shutil.copyfile(path, root / "mocks" / path.name)
    stems: dict[str, str] = {}
    for number, entry in enumerate(entries):
        stem = f"e{number}"
        stems[entry.key] = stem
        _write_entry(root / "scenarios", stem, entry)
    return stems


def _write_entry(scenarios: Path, stem: str, entry: Entry) -> None:
    scrubber = SecretScrubber()
    sidecars: dict[str, bytes] = {}
    steps = [
        recorded_step(
            number,
            call.request,
            call.response,
            scrubber=scrubber,
            sidecar_dir=f"{stem}.bodies",
            sidecars=sidecars,
        )
        for number, call in enumerate(entry.calls, start=1)
    ]
    hosts = sorted({split_url(call.request.url)[0] for call in entry.calls})
    credential: dict[str, Any] = {
        "type": CREDENTIAL_TYPE.get((entry.service, entry.model), "oauth2-refresh-token"),
        "lifetime": "1h",
    }
    if entry.model and entry.model != MODELS[entry.service][0]:
        # A non-default permission model is written as the connector says it holds it; the
        # default model is what a connector naming none gets.
        credential["models"] = {entry.service: entry.model}
    document = {
        "connectors": [
            {
                "name": stem,
                "owner": "realism@example.com",
                "credential": credential,
                "allowed_hosts": hosts,
            }
        ],
        "roles": [
            {
                "name": f"{stem}-grants",
                "grants": {entry.service: list(entry.grants)} if entry.grants else {},
            }
        ],
        "bindings": [{"connector": stem, "env": "check", "roles": [f"{stem}-grants"]}],
        "flows": [{"name": f"{stem}-flow", "connector": stem, "steps": steps}],
    }
    if entry.given:
        # the ids as the recording wrote them (a random-looking id becomes `<secret-N>`)
        document["flows"][0]["given"] = _scrubbed(entry.given, scrubber)
    text = f"# {entry.key}\n" + yaml.safe_dump(document, sort_keys=False, width=100)
    (scenarios / f"{stem}.yaml").write_text(text, "utf-8")
    for relative, content in sidecars.items():
        target = scenarios / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(content)


def _scrubbed(given: Any, scrubber: SecretScrubber) -> Any:
    if isinstance(given, dict):
        return {key: _scrubbed(value, scrubber) for key, value in given.items()}
    if isinstance(given, list):
        return [scrubber.text(str(identifier)) for identifier in given]
    return given


def _attribute(
    failed: InputErrors, stems: dict[str, str]
) -> tuple[dict[str, list[str]], list[str]]:
    """Each entry's own load errors (by its file), and the errors of no entry's file."""
    by_stem = {stem: key for key, stem in stems.items()}
    own: dict[str, list[str]] = {}
    shared: list[str] = []
    for error in failed.errors:
        path = Path(error.location.file)
        key = by_stem.get(path.name.removesuffix(".yaml")) or by_stem.get(
            path.parent.name.removesuffix(".bodies")
        )
        where = str(error.location).replace(error.location.file, _short(error.location.file), 1)
        hint = error.hint.splitlines()[0] if error.hint else ""
        rendered = f"{where}: {error.problem}" + (f" ({hint.rstrip(':')})" if hint else "")
        if key is None:
            shared.append(rendered)
        else:
            own.setdefault(key, []).append(rendered)
    return own, shared


def _short(file: str) -> str:
    """A location inside the throw-away workspace, without its temporary directory."""
    parts = Path(file).parts
    for anchor in ("scenarios", "mocks"):
        if anchor in parts:
            return "/".join(parts[parts.index(anchor) :])
    return Path(file).name


def _check(workspace: Any, entries: Sequence[Entry]) -> dict[str, Verdict]:
    sandbox = Sandbox(workspace)
    report = run_check(workspace, sandbox=sandbox, context=GateContext(today=date(2026, 1, 1)))
    results = {result.connector: result for result in report.results}
    verdicts: dict[str, Verdict] = {}
    for number, entry in enumerate(entries):
        stem = f"e{number}"
        result = results[stem]
        binding = f"{stem}@check"
        calls = tuple(
            CallView(
                decision.method,
                f"{decision.host}{decision.path}",
                decision.service,
                decision.operation,
                decision.outcome,
                decision.reason,
            )
            for decision in sandbox.decisions
            if decision.binding == binding
        )
        analysis = next((s for s in result.services if s.service == entry.service), None)
        verdicts[entry.key] = Verdict(
            errors=(),
            calls=calls,
            findings=tuple(
                FindingView(f.kind, f.service, f.subject, f.message, tuple(f.replacement))
                for f in result.findings
            ),
            suggested=analysis.suggested if analysis else (),
            kept=analysis.kept if analysis else (),
            passed=result.passed,
        )
    return verdicts


MISSING, EXCESSIVE, OVER_BROAD = "missing", "excessive", "over-broad"
