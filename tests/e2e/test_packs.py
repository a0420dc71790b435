"""The bundled connector packs: up to date with the vendor data, loadable, and least-breadth."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml
from workspaces import build, policy

from harness.engine import run_check
from harness.importers.packs import PACKS, VENDOR, generate, render_pack
from harness.workspace.pack_catalog import INDEX, MAX_PACK_BYTES, bundled_packs

ROOT = Path(__file__).resolve().parents[2]
MOCKS = ROOT / "harness" / "packs"
G = "https://www.googleapis.com/auth/"
SHEET = "/v4/spreadsheets/S1"

RunCli = Any  # the run_cli fixture of conftest.py


@pytest.fixture(scope="module")
def generated() -> dict[str, str]:
    """Every file `make packs` writes, generated once for this module."""
    if not VENDOR.is_dir():
        pytest.skip(f"vendor data directory {VENDOR} is absent")
    return generate()


@pytest.mark.parametrize("name", [*(recipe.file for recipe in PACKS), INDEX])
def test_committed_packs_are_what_make_packs_generates(
    name: str, generated: dict[str, str]
) -> None:
    committed = (MOCKS / name).read_text("utf-8")
    assert committed == generated[name], f"harness/packs/{name} is stale: run `make packs`"


@pytest.mark.skipif(not VENDOR.is_dir(), reason=f"vendor data directory {VENDOR} is absent")
def test_render_pack_writes_one_recipe_as_make_packs_does(generated: dict[str, str]) -> None:
    (recipe,) = [recipe for recipe in PACKS if recipe.file == "google-sheets.yaml"]
    assert render_pack(recipe) == generated[recipe.file]


@pytest.mark.parametrize("recipe", PACKS, ids=lambda recipe: recipe.file)
def test_packs_fit_their_file_limit_and_say_where_they_came_from(recipe: Any) -> None:
    path = MOCKS / recipe.file
    assert path.stat().st_size < MAX_PACK_BYTES
    data = yaml.safe_load(path.read_text("utf-8"))
    assert {"source", "format", "date", "sha256"} <= set(data["provenance"])
    (info,) = [pack for pack in bundled_packs() if pack.file == recipe.file]
    assert data["version"] == info.version


def _suggested(
    pack: str, host: str, grants: list[str], calls: list[tuple[str, str]], model: str = ""
) -> Any:
    spec = yaml.safe_load((MOCKS / pack).read_text("utf-8"))
    document = policy(grants, calls, service_name=spec["service"], host=host, allowed_hosts=[host])
    if model:
        document["connectors"][0]["credential"]["models"] = {spec["service"]: model}
    workspace = build([spec], [document])
    (result,) = run_check(workspace).results
    (service,) = result.services
    return service.suggested, sorted({finding.kind for finding in result.findings})


def test_reading_a_spreadsheet_suggests_spreadsheets_readonly_never_drive() -> None:
    calls = [("GET", f"{SHEET}/values/Form!A1:C9"), ("GET", SHEET)]
    for granted in ("drive", "drive.readonly", "spreadsheets"):
        suggested, kinds = _suggested(
            "google-sheets.yaml", "sheets.googleapis.com", [G + granted], calls
        )
        assert suggested == (G + "spreadsheets.readonly",)
        assert kinds == ["over-broad"], granted


def test_reads_and_one_write_get_the_single_narrowest_covering_scope() -> None:
    calls = [("GET", f"{SHEET}/values/Form!A1:C9"), ("POST", f"{SHEET}/values/Form!A1:append")]
    suggested, kinds = _suggested(
        "google-sheets.yaml", "sheets.googleapis.com", [G + "drive"], calls
    )
    assert suggested == (G + "spreadsheets",)
    assert kinds == ["over-broad"]
    suggested, kinds = _suggested(
        "google-sheets.yaml",
        "sheets.googleapis.com",
        [G + "spreadsheets", G + "spreadsheets.readonly"],
        calls,
    )
    assert (suggested, kinds) == ((G + "spreadsheets",), ["excessive"])


def test_github_and_slack_packs_suggest_the_permission_the_calls_need() -> None:
    suggested, _ = _suggested(
        "github.yaml",
        "api.github.com",
        ["issues:write", "pull_requests:write"],
        [("GET", "/repos/o/r/issues/7"), ("POST", "/repos/o/r/issues/7/comments")],
    )
    assert suggested == ("issues:write",)
    calls = [("POST", "/api/chat.postMessage"), ("GET", "/api/conversations.list")]
    suggested, kinds = _suggested("slack.yaml", "slack.com", ["chat:write", "channels:read"], calls)
    assert (suggested, kinds) == (("channels:read", "chat:write"), [])  # a bot token
    suggested, kinds = _suggested("slack.yaml", "slack.com", ["admin"], calls, model="user")
    assert suggested == ("channels:read", "chat:write")  # not the legacy chat:write:bot


def test_github_file_paths_and_refs_with_slashes_route_to_their_operation() -> None:
    # committing a file deep in a repository, then moving a branch named with a slash
    calls = [
        ("GET", "/repos/o/r/contents/docs/guide/intro.md"),
        ("PUT", "/repos/o/r/contents/docs/guide/intro.md"),
        ("PATCH", "/repos/o/r/git/refs/heads/release/2026"),
    ]
    # "Create or update file contents": the "Contents" repository permission (write); the
    # data's single_file:write reaches only the files the app is configured with
    # (https://docs.github.com/en/rest/repos/contents#create-or-update-file-contents)
    suggested, kinds = _suggested("github.yaml", "api.github.com", ["contents:write"], calls)
    assert (suggested, kinds) == (("contents:write",), [])
    suggested, kinds = _suggested(
        "github.yaml", "api.github.com", ["contents:write", "single_file:write"], calls
    )
    assert (suggested, kinds) == (("contents:write",), ["excessive"])


# -- the import-service command -----------------------------------------------------------


def _document(tmp_path: Path) -> Path:
    path = tmp_path / "api.json"
    document = {
        "swagger": "2.0",
        "info": {"title": "Tiny", "version": "1"},
        "host": "api.tiny.example",
        "securityDefinitions": {"o": {"type": "oauth2", "scopes": {"r": "Read"}}},
        "paths": {
            "/items": {"get": {"operationId": "list", "security": [{"o": ["r"]}]}},
            "/other": {"get": {"operationId": "other", "security": [{"q": ["r"]}]}},
        },
    }
    path.write_text(json.dumps(document, indent=1), "utf-8")
    return path


def test_import_service_writes_a_spec_and_reports_what_it_skipped(
    tmp_path: Path, run_cli: RunCli
) -> None:
    _document(tmp_path)
    result = run_cli("import-service", "openapi", "api.json", "-o", "tiny.yaml", cwd=tmp_path)
    assert result.code == 0
    assert result.stderr.splitlines() == [
        "api.json:34:12: skipped GET /other: unknown security scheme `q` (defined: o)",
        "tiny: 1 operations, 1 scopes, 1 skipped -> tiny.yaml",
    ]
    text = (tmp_path / "tiny.yaml").read_text("utf-8")
    assert "# api.json:34:12: skipped GET /other" in text
    assert "  - {id: list, method: GET, path: /items, requires: r}\n" in text
    strict = run_cli("import-service", "openapi", "api.json", "--strict", cwd=tmp_path)
    assert strict.code == 2
    assert strict.stdout == ""
    assert "1 part(s) of api.json skipped; nothing written (--strict)" in strict.stderr


def test_import_service_marks_parameters_that_hold_slashes_or_the_token(
    tmp_path: Path, run_cli: RunCli
) -> None:
    document = json.loads(_document(tmp_path).read_text("utf-8"))
    document["paths"] = {
        "/files/{file-path}": {"get": {"operationId": "read", "security": [{"o": ["r"]}]}}
    }
    (tmp_path / "api.json").write_text(json.dumps(document), "utf-8")
    result = run_cli(
        "import-service", "openapi", "api.json", "--spanning-param", "file-path", cwd=tmp_path
    )
    assert result.code == 0, result.stderr
    assert "path: '/files/{+file_path}'" in result.stdout
    assert "token_params" not in result.stdout  # the default, access_token, goes unsaid
    slack_like = run_cli(
        "import-service", "openapi", "api.json", "--token-param", "token", cwd=tmp_path
    )
    assert "\ntoken_params: [token]\n" in slack_like.stdout


def test_import_service_bad_input_exits_2_with_the_location(
    tmp_path: Path, run_cli: RunCli
) -> None:
    (tmp_path / "cut.json").write_text('{"swagger": "2.0", "paths": {"/a":', "utf-8")
    result = run_cli("import-service", "openapi", "cut.json", cwd=tmp_path)
    assert result.code == 2
    assert result.stderr.startswith("cut.json:1:35: the JSON document ends before it is complete")
    missing = run_cli("import-service", "github", "nope.json", cwd=tmp_path)
    assert missing.code == 2
    assert missing.stderr.startswith("nope.json: cannot read the file: No such file or directory")


def test_make_packs_check_mode_reports_stale_files(tmp_path: Path) -> None:
    if not VENDOR.is_dir():
        pytest.skip(f"vendor data directory {VENDOR} is absent")
    from harness.importers.packs import main

    (tmp_path / "slack.yaml").write_text("stale\n", "utf-8")
    assert main(["--check", "--output", str(tmp_path)]) == 1
    assert sys.modules["harness.importers.packs"] is not None


def test_import_service_msgraph_writes_two_models_and_the_least_privileged_marks(
    tmp_path: Path, run_cli: RunCli
) -> None:
    scheme = {"adminDisplayName": "Read mail", "privilegeLevel": 2, "requiresAdminConsent": False}
    document = {
        "permissions": {
            "Mail.Read": {
                "schemes": {
                    "DelegatedWork": scheme,
                    "Application": {**scheme, "privilegeLevel": 3, "requiresAdminConsent": True},
                },
                "pathSets": [
                    {
                        "methods": ["GET"],
                        "schemeKeys": ["DelegatedWork", "Application"],
                        "paths": {
                            "/me/messages": "",
                            "/users/{id}/messages": "least=DelegatedWork",
                        },
                    }
                ],
            },
            "Mail.ReadBasic": {
                "schemes": {"DelegatedWork": {**scheme, "privilegeLevel": 1}},
                "pathSets": [
                    {
                        "methods": ["GET"],
                        "schemeKeys": ["DelegatedWork"],
                        "paths": {
                            "/users/{id}/messages": "",
                            "/me/messages": "least=DelegatedWork",
                        },
                    }
                ],
            },
        }
    }
    (tmp_path / "permissions.json").write_text(json.dumps(document), "utf-8")
    result = run_cli("import-service", "msgraph", "permissions.json", cwd=tmp_path)
    assert result.code == 0, result.stderr
    spec = yaml.safe_load(result.stdout)
    assert list(spec["models"]) == ["delegated", "application"]
    assert spec["models"]["application"]["scopes"]["Mail.Read"]["sensitivity"] == 6
    by_path = {op["path"]: op for op in spec["operations"]}
    assert by_path["/me/messages"]["requires_in"] == {
        "delegated": {"any_of": ["Mail.Read", "Mail.ReadBasic"]}
    }  # /me is the signed-in user: no application permission
    assert by_path["/me/messages"]["least_in"] == {"delegated": ["Mail.ReadBasic"]}
    assert by_path["/users/{id}/messages"]["requires_in"]["application"] == "Mail.Read"
    (tmp_path / "broken.json").write_text('{"value": []}', "utf-8")
    bad = run_cli("import-service", "msgraph", "broken.json", cwd=tmp_path)
    assert bad.code == 2
    assert bad.stderr.startswith("broken.json:1:1: the document has no `permissions` map")
