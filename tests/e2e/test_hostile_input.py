"""Hostile recordings, documents and command lines: no policy injected, no secret kept, no
crash, no hang. The bad-workspace cases are in tests/corpus (test_bad_input.py); these are
the inputs that are not a workspace: recordings, vendor documents, baselines, logs."""

from __future__ import annotations

import base64
import gzip
import json
import shutil
from pathlib import Path
from typing import Any

import pytest
import yaml

from harness.render.formats import RENDERERS
from harness.workspace.loader import load_workspace

CORPUS = Path(__file__).resolve().parent.parent / "corpus"
RunCli = Any  # the run_cli fixture of conftest.py

INJECTED = "\nbindings:\n  - {connector: crm-sync, env: evil, roles: [crm-reader]}\n#"
URL = "https://api.crm.example/v1/contacts"

# Canary secrets, each in a place the importers must find it (none of them real).
CANARIES = {
    "sig": "Cnry0SigAzureSas7Qw",
    "key": "Cnry1GoogleApiKeyQw",
    "amz": "Cnry2AmzSignatureQw",
    "userinfo": "Cnry3UserInfoPassQw",
    "credentials": "Cnry4CredentialsValueQw",
    "auth-pass": "Cnry5AuthPassQw",
    "slack": "xoxb-1111111111-2222222222-Q2FuYXJ5U2xhY2tUb2tlbg",
    "github": "ghp_Cnry6GitHubTokenValue0123456789abcd",
    "google": "ya29.a0Cnry7GoogleAccessToken_0123456789",
    "aws": "AKIACNRY8AWSKEYID0QW",
    "stripe": "sk_live_Cnry9StripeKey0123456789",
    "jwt": "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJjYW5hcnkifQ.Q2FuYXJ5SldUc2lnbmF0dXJlMTI",
}


def _workspace(tmp_path: Path) -> Path:
    workspace = tmp_path / "ws"
    shutil.copytree(CORPUS / "_base", workspace)
    return workspace


def _secret_calls() -> list[tuple[str, str, dict[str, str], Any]]:
    """(method, url, headers, json body) of calls that carry every canary."""
    c = CANARIES
    return [
        ("GET", f"{URL}?sig={c['sig']}&key={c['key']}&X-Amz-Signature={c['amz']}", {}, None),
        ("GET", f"https://deploy:{c['userinfo']}@api.crm.example/v1/contacts", {}, None),
        (
            "GET",
            URL,
            {"X-Slack": c["slack"], "X-Custom": f"token {c['github']}"},
            None,
        ),
        (
            "GET",
            URL,
            {"Accept": "application/json"},
            {
                "credentials": {"value": c["credentials"]},
                "auth": {"pass": c["auth-pass"]},
                "note": f"uses {c['google']} and {c['aws']} and {c['stripe']} and {c['jwt']}",
            },
        ),
    ]


def _har(calls: list[tuple[str, str, dict[str, str], Any]]) -> dict[str, Any]:
    entries = []
    for method, url, headers, body in calls:
        request: dict[str, Any] = {
            "method": method,
            "url": url,
            "headers": [{"name": k, "value": v} for k, v in headers.items()],
        }
        if body is not None:
            request["postData"] = {"mimeType": "application/json", "text": json.dumps(body)}
        entries.append(
            {
                "request": request,
                "response": {
                    "status": 200,
                    "headers": [{"name": "Content-Type", "value": "application/json"}],
                    "content": {"text": json.dumps(body or {"items": []})},
                },
            }
        )
    return {"log": {"version": "1.2", "entries": entries}}


def _cassette(calls: list[tuple[str, str, dict[str, str], Any]]) -> str:
    interactions = [
        {
            "request": {
                "method": method,
                "uri": url,
                "body": json.dumps(body) if body is not None else None,
                "headers": {k: [v] for k, v in headers.items()},
            },
            "response": {
                "status": {"code": 200, "message": "OK"},
                "headers": {"Content-Type": ["application/json"]},
                "body": {"string": json.dumps(body or {"items": []})},
            },
        }
        for method, url, headers, body in calls
    ]
    return yaml.safe_dump({"interactions": interactions, "version": 1})


def _recording(tmp_path: Path, kind: str, calls: list[Any]) -> Path:
    if kind == "har":
        path = tmp_path / "recording.har"
        path.write_text(json.dumps(_har(calls)), "utf-8")
    else:
        path = tmp_path / "cassette.yaml"
        path.write_text(_cassette(calls), "utf-8")
    return path


def _written(tmp_path: Path) -> str:
    """Everything an import wrote under tmp_path/out, as one text."""
    return "".join(
        path.read_bytes().decode("latin-1")
        for path in sorted((tmp_path / "out").rglob("*"))
        if path.is_file()
    )


# -- policy injection ------------------------------------------------------------------


@pytest.mark.parametrize("kind", ["har", "vcr"])
def test_a_line_break_in_a_recorded_url_adds_no_binding(
    tmp_path: Path, run_cli: RunCli, kind: str
) -> None:
    workspace = _workspace(tmp_path)
    calls = [("GET", URL, {}, None), ("GET", f"https://api.crm.example/v9/x{INJECTED}", {}, None)]
    recording = _recording(tmp_path, kind, calls)
    output = workspace / "scenarios" / "imported.yaml"
    result = run_cli(
        "import-flow", str(recording), "--connector", "crm-sync", "--workspace", "ws",
        "-o", str(output), cwd=tmp_path,
    )  # fmt: skip
    assert result.code == 0, result.stderr
    assert set(yaml.safe_load(output.read_text("utf-8"))) == {"flows"}
    loaded = load_workspace(workspace)
    assert [binding.name for binding in loaded.bindings] == ["crm-sync@prod"]


def test_a_line_break_in_a_vendor_document_title_adds_nothing(
    tmp_path: Path, run_cli: RunCli
) -> None:
    document = {
        "swagger": "2.0",
        "info": {"title": f"Tiny{INJECTED}", "version": "1"},
        "host": "api.tiny.example",
        "securityDefinitions": {"o": {"type": "oauth2", "scopes": {"r": "Read"}}},
        "paths": {
            "/items": {"get": {"operationId": "list", "security": [{"o": ["r"]}]}},
            f"/other{INJECTED}": {"get": {"operationId": "x", "security": [{"q": ["r"]}]}},
        },
    }
    (tmp_path / "api.json").write_text(json.dumps(document), "utf-8")
    result = run_cli("import-service", "openapi", "api.json", "-o", "tiny.yaml", cwd=tmp_path)
    assert result.code == 0, result.stderr
    data = yaml.safe_load((tmp_path / "tiny.yaml").read_text("utf-8"))
    assert "bindings" not in data
    assert data["title"] == f"Tiny{INJECTED}"


# -- secrets kept by imports -------------------------------------------------------------


@pytest.mark.parametrize("kind", ["har", "vcr"])
def test_no_canary_secret_survives_an_import(tmp_path: Path, run_cli: RunCli, kind: str) -> None:
    _workspace(tmp_path)
    recording = _recording(tmp_path, kind, _secret_calls())
    (tmp_path / "out").mkdir()
    result = run_cli(
        "import-flow", str(recording), "--connector", "crm-sync", "--workspace", "ws",
        "--with-connector", "-o", "out/flow.yaml", cwd=tmp_path,
    )  # fmt: skip
    assert result.code == 0, result.stderr
    written = _written(tmp_path) + result.stdout + result.stderr
    for name, canary in CANARIES.items():
        assert canary not in written, name
    assert "<secret-" in written


def test_no_canary_secret_reaches_any_report_format(tmp_path: Path, run_cli: RunCli) -> None:
    """A flow that carries every canary in its headers, URL and body is checked in every
    format; none of the outputs (nor the decision log) holds one of them."""
    workspace = _workspace(tmp_path)
    steps = []
    for number, (_, url, headers, body) in enumerate(_secret_calls()):
        request: dict[str, Any] = {"method": "GET", "url": url.replace("deploy:", "")}
        request["headers"] = {**headers, "Authorization": f"Bearer {CANARIES['jwt']}"}
        if body is not None:
            request["json"] = body
        steps.append({"name": f"call {number}", "request": request})
    flows = {"flows": [{"name": "canaries", "connector": "crm-sync", "steps": steps}]}
    (workspace / "scenarios" / "canaries.yaml").write_text(yaml.safe_dump(flows), "utf-8")
    for format in RENDERERS:
        result = run_cli("check", "ws", "--format", format, "--log", f"{format}.log", cwd=tmp_path)
        assert result.code in (0, 1), result.stderr
        log = (tmp_path / f"{format}.log").read_text("utf-8")
        for name, canary in CANARIES.items():
            assert canary not in result.stdout + result.stderr + log, (format, name)


# -- decompression, malformed recordings ---------------------------------------------------


def test_a_gzip_bomb_in_a_cassette_is_an_input_error(tmp_path: Path, run_cli: RunCli) -> None:
    _workspace(tmp_path)
    bomb = gzip.compress(b"\0" * (64 * 1024 * 1024))  # 64 MiB from 64 KiB
    cassette = {
        "version": 1,
        "interactions": [
            {
                "request": {"method": "GET", "uri": URL, "body": None, "headers": {}},
                "response": {
                    "status": {"code": 200, "message": "OK"},
                    "headers": {"Content-Encoding": ["gzip"]},
                    "body": {"string": bomb},
                },
            }
        ],
    }
    (tmp_path / "bomb.yaml").write_text(yaml.safe_dump(cassette), "utf-8")
    result = run_cli(
        "import-flow", "bomb.yaml", "--connector", "crm-sync", "--workspace", "ws", cwd=tmp_path
    )
    assert result.code == 2
    first = result.stderr.splitlines()[0]
    assert first.startswith("bomb.yaml:2:3: interaction 0: the gzip body of "), first
    assert "expands past" in first
    assert "Traceback" not in result.stderr


@pytest.mark.parametrize(
    ("name", "text", "fragment"),
    [
        ("count.json", '{"interactions": 5}', "not a VCR cassette"),
        ("list.json", "[1, 2]", "not a VCR cassette"),
        ("mapping.yaml", "interactions: {a: 1}\n", "not a VCR cassette"),
        ("big.json", '{"interactions": [' + "9" * 5000 + "]}", "more than 4,300 digits"),
    ],
)
def test_a_cassette_that_is_no_list_of_interactions_is_an_input_error(
    tmp_path: Path, run_cli: RunCli, name: str, text: str, fragment: str
) -> None:
    _workspace(tmp_path)
    (tmp_path / name).write_text(text, "utf-8")
    result = run_cli(
        "import-flow", name, "--connector", "crm-sync", "--workspace", "ws", "--format", "vcr",
        cwd=tmp_path,
    )  # fmt: skip
    assert result.code == 2, result.stderr
    assert fragment in result.stderr
    assert result.stderr.startswith(name)


def test_malformed_har_form_params_are_left_out_with_a_note(
    tmp_path: Path, run_cli: RunCli
) -> None:
    _workspace(tmp_path)
    har = _har([("GET", URL, {}, None)])
    har["log"]["entries"][0]["request"]["postData"] = {"params": [1, "x", None]}
    (tmp_path / "r.har").write_text(json.dumps(har), "utf-8")
    result = run_cli(
        "import-flow", "r.har", "--connector", "crm-sync", "--workspace", "ws", "-o", "f.yaml",
        cwd=tmp_path,
    )  # fmt: skip
    assert result.code == 0, result.stderr
    assert "3 request form field(s) are not `{name, value}` objects" in (
        tmp_path / "f.yaml"
    ).read_text("utf-8")


def test_a_vendor_document_with_a_huge_integer_is_an_input_error(
    tmp_path: Path, run_cli: RunCli
) -> None:
    (tmp_path / "api.json").write_text(
        '{"swagger": "2.0",\n "info": {"version": ' + "1" * 5000 + "}}", "utf-8"
    )
    result = run_cli("import-service", "openapi", "api.json", cwd=tmp_path)
    assert result.code == 2
    assert result.stderr.startswith("api.json:2:22: a number has more than 4,300 digits")


# -- command-line paths ----------------------------------------------------------------------


@pytest.mark.parametrize("format", ["auto", "har", "vcr"])
def test_importing_a_device_is_an_input_error(tmp_path: Path, run_cli: RunCli, format: str) -> None:
    _workspace(tmp_path)
    result = run_cli(
        "import-flow", "/dev/zero", "--connector", "crm-sync", "--workspace", "ws",
        "--format", format, cwd=tmp_path,
    )  # fmt: skip
    assert result.code == 2
    assert result.stderr.startswith("/dev/zero: the path is not a regular file")


@pytest.mark.parametrize(
    ("baseline", "fragment"),
    [
        ("/dev/zero", "not a regular file"),
        (".", "a directory"),
        ("missing.yaml", "cannot read the file"),
    ],
)
def test_a_baseline_that_is_no_regular_file_is_an_input_error(
    tmp_path: Path, run_cli: RunCli, baseline: str, fragment: str
) -> None:
    _workspace(tmp_path)
    result = run_cli("check", "ws", "--baseline", baseline, cwd=tmp_path)
    assert result.code == 2
    assert fragment in result.stderr
    assert "Traceback" not in result.stderr


@pytest.mark.parametrize(
    ("log", "fragment"),
    [
        ("ws/scenarios/crm-sync.yaml/decisions.log", "Not a directory"),
        (".", "Is a directory"),
        ("/dev/full", "No space left on device"),
        ("x" * 5000, "File name too long"),
    ],
)
def test_a_log_that_cannot_be_written_is_an_input_error(
    tmp_path: Path, run_cli: RunCli, log: str, fragment: str
) -> None:
    _workspace(tmp_path)
    result = run_cli("check", "ws", "--log", log, cwd=tmp_path)
    assert result.code == 2, result.stderr
    assert fragment in result.stderr
    assert result.stderr.count("\n") <= 2
    assert "Traceback" not in result.stderr


def test_a_wait_of_a_billion_weeks_is_logged_without_overflow(
    tmp_path: Path, run_cli: RunCli
) -> None:
    workspace = _workspace(tmp_path)
    scenario = workspace / "scenarios" / "crm-sync.yaml"
    text = scenario.read_text("utf-8")
    step = "      - name: list contacts\n"
    scenario.write_text(text.replace(step, step + "        wait: 999999999w\n"), "utf-8")
    result = run_cli("check", "ws", "--log", "decisions.log", cwd=tmp_path)
    assert result.code == 1, result.stderr  # the token has long expired: a finding
    assert "the token expired" in result.stdout
    assert '"time":"9999-12-31T23:59:59Z"' in (tmp_path / "decisions.log").read_text("utf-8")


@pytest.mark.parametrize("cache", ["on", "off"])
def test_a_limit_far_above_every_file_allocates_nothing_for_it(
    tmp_path: Path, run_cli: RunCli, monkeypatch: pytest.MonkeyPatch, cache: str
) -> None:
    """`max_file_bytes` of 10^16 is a valid setting: reads stop at the file's end instead of
    allocating the whole limit first (a MemoryError, exit 3), in the loader and the cache."""
    where = str(tmp_path / "cache") if cache == "on" else "off"
    monkeypatch.setenv("CONNECTOR_HARNESS_CACHE", where)
    workspace = _workspace(tmp_path)
    (workspace / "connector-harness.yaml").write_text("max_file_bytes: 10000000000000000\n")
    result = run_cli("check", "ws", cwd=tmp_path)
    assert result.code == 0, result.stderr


# -- dates at the end of the calendar ---------------------------------------------------------


@pytest.mark.parametrize(
    ("review", "today"),
    [
        (("90d", "9999-12-31"), None),  # reviewed on the last day a date can have
        (("999999999w", "2026-01-15"), None),  # due 19 million years on
        (("90d", "2026-01-15"), "9999-12-31"),  # the suggested `expires:` a year after today
    ],
)
def test_lint_judges_dates_at_the_end_of_the_calendar(
    tmp_path: Path, run_cli: RunCli, review: tuple[str, str], today: str | None
) -> None:
    """Date arithmetic past 9999-12-31 is never due (or capped there), not an OverflowError."""
    scenario = _workspace(tmp_path) / "scenarios" / "crm-sync.yaml"
    text = scenario.read_text("utf-8")
    every, last = review
    text = text.replace("review_every: 90d", f"review_every: {every}")
    scenario.write_text(text.replace("last_reviewed: 2026-01-15", f"last_reviewed: {last}"))
    result = run_cli("lint", "ws", *(["--today", today] if today else []), cwd=tmp_path)
    assert result.code in (0, 1), result.stderr
    assert "Traceback" not in result.stderr + result.stdout
    if today:  # 2026's review is overdue by then; a year after today is capped
        assert "2912338 days overdue" in result.stdout
        assert "add `expires: 9999-12-31` (or sooner)" in result.stdout
    else:
        assert "CH105" not in result.stdout  # not overdue


def test_an_over_broad_finding_names_ten_implied_scopes_and_counts_the_rest(
    tmp_path: Path, run_cli: RunCli
) -> None:
    """A scope implying 30 others is over-broad; the finding stays one readable line."""
    workspace = _workspace(tmp_path)
    spec = workspace / "mocks" / "crm.yaml"
    chain = "".join(f"  s{i:02}: {{implies: [s{i + 1:02}]}}\n" for i in range(30))
    chain += "  s30: {implies: [crm.contacts.read]}\n"
    spec.write_text(spec.read_text("utf-8").replace("operations:\n", chain + "operations:\n"))
    scenario = workspace / "scenarios" / "crm-sync.yaml"
    text = scenario.read_text("utf-8").replace("crm: [crm.contacts.read]", "crm: [s00]")
    scenario.write_text(text, "utf-8")
    result = run_cli("check", "ws", cwd=tmp_path)
    assert result.code == 1, result.stderr
    listed = ", ".join(f"`s{i:02}`" for i in range(1, 10))
    assert f"it implies `crm.contacts.read`, {listed} and 21 more; " in result.stdout


# -- exit codes ---------------------------------------------------------------------------


def test_an_unexpected_exception_is_exit_3_with_one_line(
    tmp_path: Path, run_cli: RunCli, monkeypatch: pytest.MonkeyPatch
) -> None:
    """One line: where, where to report it and what to attach; never the exception's own
    message, which may quote the input it failed on (here a token and a raw header)."""
    _workspace(tmp_path)
    token = "xoxb-1111111111-2222222222-abcdefghijABCDEFGHIJ"

    def broken(*args: object, **kwargs: object) -> object:
        raise RuntimeError(f"unexpected header 'Authorization: Bearer {token}' in the input")

    monkeypatch.setattr("harness.commands.check.run_workspace_check", broken)
    result = run_cli("check", "ws", cwd=tmp_path)
    assert result.code == 3
    assert result.stderr.count("\n") == 1
    assert result.stderr.startswith("connector-harness: internal error: RuntimeError at ")
    assert "; this is a bug: please report it to " in result.stderr
    assert "with the command you ran, the version (" in result.stderr
    assert "the traceback of the same run with --debug" in result.stderr
    assert "unexpected header" not in result.stderr
    assert token not in result.stderr
    assert "Traceback" not in result.stderr
    debug = run_cli("check", "ws", "--debug", cwd=tmp_path)
    assert debug.code == 3
    assert "Traceback (most recent call last)" in debug.stderr
    assert "unexpected header 'Authorization: Bearer " in debug.stderr  # the message, masked
    assert token not in debug.stderr
    assert "the traceback above (secrets of known shapes are masked" in debug.stderr
    monkeypatch.setenv("CONNECTOR_HARNESS_DEBUG", "1")
    assert "Traceback" in run_cli("check", "ws", cwd=tmp_path).stderr


def test_importing_base64_bodies_keeps_them_out_of_comments(
    tmp_path: Path, run_cli: RunCli
) -> None:
    """A binary body goes to a sidecar inside the output's directory, whatever its name."""
    _workspace(tmp_path)
    har = _har([("POST", URL, {}, None)])
    har["log"]["entries"][0]["request"]["postData"] = {
        "mimeType": "application/octet-stream",
        "text": base64.b64encode(b"\x00\x01binary").decode(),
        "encoding": "base64",
    }
    (tmp_path / "r.har").write_text(json.dumps(har), "utf-8")
    (tmp_path / "out").mkdir()
    result = run_cli(
        "import-flow", "r.har", "--connector", "crm-sync", "--workspace", "ws",
        "-o", "out/f.yaml", cwd=tmp_path,
    )  # fmt: skip
    assert result.code in (0, 2), result.stderr
    written = sorted(p.relative_to(tmp_path).as_posix() for p in tmp_path.rglob("*.bin"))
    assert all(path.startswith("out/f.bodies/") for path in written), written


TERMINAL_CONTROLS = ("\x1b", "\x07", "\x9b", "\u202e", "\u2066")  # ESC, BEL, CSI, RLO, LRI


@pytest.mark.parametrize("control", TERMINAL_CONTROLS)
def test_terminal_controls_in_a_recording_are_printed_escaped(
    tmp_path: Path, run_cli: RunCli, control: str
) -> None:
    """A recorded method or URL written to act on the terminal (clear the screen, recolour,
    reorder a line) is quoted in the notes as its escape, never sent raw."""
    _workspace(tmp_path)  # writes ws/, the workspace the import reads
    forged = f"{control}[2J{control}]0;ok"
    calls = [("GET", URL, {}, None), (f"G{forged}", f"{URL}/{forged}", {}, None)]
    recording = _recording(tmp_path, "har", calls)
    result = run_cli(
        "import-flow", str(recording), "--connector", "crm-sync", "--workspace", "ws", cwd=tmp_path
    )  # fmt: skip
    assert result.code == 0, result.stderr
    assert f"skipped G\\u{ord(control):04x}[2J" in result.stderr, result.stderr
    assert control not in result.stderr


@pytest.mark.parametrize("control", TERMINAL_CONTROLS)
def test_terminal_controls_in_a_workspace_key_are_printed_escaped(
    tmp_path: Path, run_cli: RunCli, control: str
) -> None:
    workspace = _workspace(tmp_path)
    scenario = workspace / "scenarios" / "crm-sync.yaml"
    data = yaml.safe_load(scenario.read_text("utf-8"))
    data["flows"][0][f"{control}[2Jx"] = 1
    scenario.write_text(yaml.safe_dump(data, allow_unicode=True), "utf-8")
    result = run_cli("check", "ws", cwd=tmp_path)
    assert result.code == 2
    assert f"unknown key `\\u{ord(control):04x}[2Jx`" in result.stderr, result.stderr
    assert control not in result.stderr + result.stdout
