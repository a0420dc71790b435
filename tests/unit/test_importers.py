"""Importers on the real vendor files, and on small documents for each rule and each defect."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import yaml

from harness.errors import InputError
from harness.importers.breadth import ScopeReach
from harness.importers.discovery import import_discovery, packaged_documents
from harness.importers.github import import_github
from harness.importers.openapi import import_openapi
from harness.importers.packs import VENDOR
from harness.importers.spec import ImportedService, ImportSettings, render_service
from harness.routing import Router
from harness.workspace.loader import workspace_from_data
from harness.workspace.source_document import read_document

needs_vendor = pytest.mark.skipif(
    not VENDOR.is_dir(), reason=f"vendor data directory {VENDOR} is absent"
)
G = "https://www.googleapis.com/auth/"


def _operation(service: ImportedService, op_id: str) -> Any:
    return next(op for op in service.operations if op.id == op_id)


def _google(name: str, **settings: Any) -> ImportedService:
    found = packaged_documents()
    assert found is not None, "google-api-python-client (a test dependency) is not installed"
    folder = found[0]
    context = [
        read_document(folder / n)
        for n in ("sheets.v4.json", "gmail.v1.json", "drive.v3.json")
        if n != name
    ]
    return import_discovery(read_document(folder / name), ImportSettings(**settings), context)


# -- real vendor data ---------------------------------------------------------------------


@needs_vendor
def test_slack_scopes_are_any_of_and_none_means_any_token() -> None:
    document = read_document(VENDOR / "slack_web_openapi_v2.json")
    slack = import_openapi(
        document, ImportSettings(service="slack", scopes="any-of", operation_ids="path")
    )
    assert len(slack.operations) == 174
    assert slack.hosts == ("slack.com",)
    post = _operation(slack, "chat.postMessage")
    assert (post.method, post.path) == ("POST", "/api/chat.postMessage")
    assert post.requires == (("chat:write:bot",), ("chat:write:user",))
    assert len(_operation(slack, "conversations.list").requires) == 4
    assert _operation(slack, "api.test").requires == ((),)  # a Slack token, no scope
    assert "none" not in dict(slack.scopes)
    all_of = import_openapi(document, ImportSettings(service="slack"))
    assert _operation(all_of, "chat_postMessage").requires == (
        ("chat:write:bot", "chat:write:user"),
    )


@needs_vendor
def test_github_write_implies_read_and_alternatives_come_from_both_views() -> None:
    github = import_github(read_document(VENDOR / "github_app_permissions.json"), ImportSettings())
    # 440 in the data, 3 spelled twice ({name}, {secret_name}); the readme regex is two templates
    assert len(github.operations) == 438
    readme = [op.path for op in github.operations if "/readme" in op.path]
    assert readme == ["/repos/{owner}/{repo}/readme", "/repos/{owner}/{repo}/readme/{+dir}"]
    implies = dict(github.implies)
    assert "issues:read" in implies["issues:write"]
    comment = _operation(github, "post:/repos/:owner/:repo/issues/:issue_number/comments")
    assert comment.requires == (("issues:write",), ("pull_requests:write",))
    assert comment.risk == "write"
    read = _operation(github, "get:/repos/:owner/:repo/issues")
    assert (read.requires, read.risk) == ((("issues:read",),), "read")
    assert _operation(github, "patch:/orgs/:org").risk == "admin"  # organization_administration
    merged = _operation(github, "get:/repos/:owner/:repo/actions/secrets/:name")
    assert ("secrets:read",) in merged.requires
    assert any("secret_name" in note for note in github.notes)


def test_sheets_breadth_comes_from_the_data_and_the_other_google_apis() -> None:
    sheets = _google("sheets.v4.json", service="google-sheets")
    implies = dict(sheets.implies)
    assert implies[G + "spreadsheets"] == (G + "spreadsheets.readonly",)
    assert implies[G + "drive.readonly"] == (G + "spreadsheets.readonly",)
    assert G + "drive.readonly" in implies[G + "drive"]
    assert G + "spreadsheets.readonly" not in implies
    get = _operation(sheets, "spreadsheets.values.get")
    assert (get.method, get.path, get.risk) == (
        "GET",
        "/v4/spreadsheets/{spreadsheetId}/values/{range}",
        "read",
    )
    assert len(get.requires) == 5


def test_drive_uploads_and_gmail_share_www_googleapis_com_without_ambiguity() -> None:
    drive = _google("drive.v3.json", service="google-drive")
    gmail = _google(
        "gmail.v1.json",
        service="gmail",
        hosts=("gmail.googleapis.com", "www.googleapis.com"),
        exclude_scopes=(G + "gmail.addons.*",),
    )
    assert drive.hosts == ("www.googleapis.com",)
    assert _operation(drive, "files.create.upload").path == "/upload/drive/v3/files"
    assert not any("addons" in scope for scope, _ in gmail.scopes)
    services = workspace_from_data(
        [yaml.safe_load(render_service(s)) for s in (drive, gmail)], []
    ).services
    router = Router(services)
    cases = {
        ("GET", "/drive/v3/files/F1"): "google-drive:files.get",
        ("POST", "/upload/drive/v3/files"): "google-drive:files.create.upload",
        ("GET", "/gmail/v1/users/me/messages/M1"): "gmail:users.messages.get",
        (
            "GET",
            "/gmail/v1/users/me/messages/M1/attachments/A1",
        ): "gmail:users.messages.attachments.get",
        ("POST", "/upload/gmail/v1/users/me/messages/send"): "gmail:users.messages.send.upload",
    }
    for (method, path), expected in cases.items():
        route = router.route(method, "www.googleapis.com", path)
        assert route is not None, (method, path)
        assert route.operation.qualified == expected
    assert router.route("GET", "gmail.googleapis.com", "/drive/v3/files/F1") is None


# -- inference rules ----------------------------------------------------------------------


def test_breadth_is_a_strict_superset_and_transitively_reduced() -> None:
    reach = ScopeReach(
        ["all", "write", "read", "other"],
        {},
        [
            (("all",), ("write",), ("read",)),
            (("all",), ("write",)),
            (("all",),),
            (("other",),),
        ],
    )
    assert reach.implications() == {"all": ("write",), "write": ("read",)}


def test_no_implication_is_inferred_for_a_scope_used_in_an_all_of_combination() -> None:
    reach = ScopeReach(["a", "b", "c"], {}, [(("a",), ("b",)), (("a",),), (("b", "c"),)])
    assert "a" not in reach.implications()


def test_context_operations_make_a_scope_broader() -> None:
    own = [(("narrow",), ("wide",))]
    assert ScopeReach(["narrow", "wide"], {}, own).implications() == {}
    wider = ScopeReach(["narrow", "wide"], {}, own, context=[(("wide",),)])
    assert wider.implications() == {"wide": ("narrow",)}


# -- OpenAPI rules and defects -------------------------------------------------------------


def _openapi(tmp_path: Path, document: dict[str, Any], **settings: Any) -> ImportedService:
    path = tmp_path / "api.json"
    path.write_text(json.dumps(document, indent=2), "utf-8")
    return import_openapi(read_document(path), ImportSettings(**settings))


def _v3(paths: dict[str, Any], schemes: dict[str, Any] | None = None) -> dict[str, Any]:
    return {
        "openapi": "3.0.3",
        "info": {"title": "Example API", "version": "2.1"},
        "servers": [{"url": "https://api.example.com/v2"}],
        "components": {
            "securitySchemes": schemes
            or {
                "oauth": {
                    "type": "oauth2",
                    "flows": {
                        "clientCredentials": {
                            "tokenUrl": "https://example.com/token",
                            "scopes": {"read": "Read things", "write": "Write things"},
                        }
                    },
                },
                "key": {"type": "apiKey", "in": "header", "name": "X-Key"},
            }
        },
        "paths": paths,
    }


def test_openapi3_requirements_hosts_and_public_operations(tmp_path: Path) -> None:
    service = _openapi(
        tmp_path,
        _v3(
            {
                "/things/{thing-id}": {
                    "get": {
                        "operationId": "getThing",
                        "security": [{"oauth": ["read"]}, {"oauth": ["write"]}],
                    },
                    "put": {"operationId": "putThing", "security": [{"oauth": ["read", "write"]}]},
                    "delete": {"operationId": "deleteThing", "security": [{"key": []}]},
                    "patch": {"operationId": "patchThing", "security": [{"oauth": ["write"]}, {}]},
                },
                "/health": {"get": {"operationId": "health", "security": []}},
            }
        ),
    )
    assert (service.name, service.hosts) == ("example-api", ("api.example.com",))
    get = _operation(service, "getThing")
    assert (get.path, get.requires) == ("/v2/things/{thing_id}", (("read",), ("write",)))
    assert _operation(service, "putThing").requires == (("read", "write"),)
    assert _operation(service, "deleteThing").requires == ((),)  # any API key, no scope
    assert _operation(service, "patchThing").requires == ()  # `{}`: no credential at all
    assert _operation(service, "health").requires == ()
    assert dict(service.implies) == {}  # both take part in an all-of: nothing is inferred
    assert dict(service.provenance)["version"] == "2.1"


def test_unknown_scheme_and_unresolved_ref_are_skipped_with_their_location(tmp_path: Path) -> None:
    document = _v3(
        {
            "/a": {"get": {"operationId": "a", "security": [{"oauth": ["read"]}]}},
            "/b": {"get": {"operationId": "b", "security": [{"oauht": ["read"]}]}},
            "/c": {"$ref": "#/components/pathItems/missing"},
            "/d": {"get": {"$ref": "other.yaml#/op"}},
        }
    )
    service = _openapi(tmp_path, document)
    assert [op.id for op in service.operations] == ["a"]
    rendered = [item.render() for item in service.skipped]
    assert len(rendered) == 3
    name = str(tmp_path / "api.json")
    b = next(text for text in rendered if "GET /b" in text)
    assert b.startswith(f"{name}:")
    assert "unknown security scheme `oauht` (defined: key, oauth)" in b
    assert any(
        "GET /c" not in text and "path /c" in text and "nothing at '#/components/pathItems'" in text
        for text in rendered
    )
    assert any("GET /d" in text and "external $ref 'other.yaml#/op'" in text for text in rendered)
    lines = json.dumps(document, indent=2).splitlines()
    line = next(number for number, text in enumerate(lines, 1) if '"oauht"' in text)
    assert b.startswith(f"{name}:{line}:")


def test_a_scheme_of_unknown_type_skips_its_operations(tmp_path: Path) -> None:
    schemes = {"magic": {"type": "telepathy"}, "oauth": {"type": "oauth2", "flows": {}}}
    service = _openapi(
        tmp_path,
        _v3(
            {
                "/a": {"get": {"operationId": "a", "security": [{"magic": []}]}},
                "/b": {"get": {"operationId": "b", "security": [{"oauth": ["x"]}]}},
            },
            schemes,
        ),
    )
    assert [op.id for op in service.operations] == ["b"]
    (skipped,) = service.skipped
    assert "security scheme `magic` has unknown type 'telepathy'" in skipped.reason
    assert any("scope `x`" in note for note in service.notes)


@pytest.mark.parametrize(
    ("text", "position", "message"),
    [
        ('{"openapi": "3.0.0", "paths": {"/a": {"get"', "1:44", "looks truncated"),
        ('{"openapi": "3.0.0",\n  "paths": {,}}', "2:13", "invalid JSON: Expecting property name"),
        ("", "1:1", "the file is empty"),
    ],
)
def test_bad_json_is_an_input_error_at_its_position(
    tmp_path: Path, text: str, position: str, message: str
) -> None:
    path = tmp_path / "bad.json"
    path.write_text(text, "utf-8")
    with pytest.raises(InputError) as caught:
        read_document(path)
    assert str(caught.value.location) == f"{path}:{position}"
    assert message in caught.value.problem


def test_documents_of_the_wrong_kind_are_refused(tmp_path: Path) -> None:
    path = tmp_path / "x.json"
    path.write_text('{"swagger": "1.2"}', "utf-8")
    with pytest.raises(InputError, match=r"neither `openapi: 3\.x` nor"):
        import_openapi(read_document(path), ImportSettings())
    with pytest.raises(InputError, match="not a Google API Discovery document"):
        import_discovery(read_document(path), ImportSettings())
    with pytest.raises(InputError, match="no `paths` map"):
        import_github(read_document(path), ImportSettings())


def test_everything_skipped_is_an_error_listing_what_was_skipped(tmp_path: Path) -> None:
    with pytest.raises(InputError) as caught:
        _openapi(tmp_path, _v3({"/a": {"get": {"security": [{"nope": []}]}}}))
    assert "no operation could be imported (every one was skipped)" in caught.value.problem
    assert "unknown security scheme `nope`" in caught.value.hint


def test_a_document_without_host_asks_for_one(tmp_path: Path) -> None:
    document = _v3({"/a": {"get": {"security": [{"oauth": ["read"]}]}}})
    document["servers"] = [{"url": "/relative"}]
    with pytest.raises(InputError, match="names no host"):
        _openapi(tmp_path, document)
    service = _openapi(tmp_path, document, hosts=("api.example.org",))
    assert service.operations[0].path == "/relative/a"


def test_yaml_openapi_documents_are_located_too(tmp_path: Path) -> None:
    path = tmp_path / "api.yaml"
    path.write_text(
        yaml.safe_dump(
            _v3(
                {
                    "/a": {"get": {"security": [{"x": []}]}},
                    "/b": {"get": {"security": [{"oauth": ["read"]}]}},
                }
            )
        ),
        "utf-8",
    )
    service = import_openapi(read_document(path), ImportSettings())
    (skipped,) = service.skipped
    assert str(skipped.location).startswith(f"{path}:")
    assert str(skipped.location).count(":") == 2


def test_external_refs_are_followed_to_files_beside_the_document(tmp_path: Path) -> None:
    (tmp_path / "operations.yaml").write_text(
        "list:\n"
        "  operationId: listThings\n"
        "  security: [{oauth: [read]}]\n"
        "broken:\n"
        "  operationId: broken\n"
        "  security: [{oauht: [read]}]\n"
        "nested: {$ref: '#/list'}\n",
        "utf-8",
    )
    (tmp_path / "schemes.json").write_text(
        json.dumps({"key": {"type": "apiKey", "name": "k", "in": "header"}}), "utf-8"
    )
    document = _v3(
        {
            "/things": {"get": {"$ref": "operations.yaml#/list"}},
            "/other": {"get": {"$ref": "operations.yaml#/nested"}},
            "/broken": {"get": {"$ref": "./operations.yaml#/broken"}},
            "/keyed": {"get": {"operationId": "keyed", "security": [{"key": []}]}},
        },
        {
            "oauth": {
                "type": "oauth2",
                "flows": {"clientCredentials": {"tokenUrl": "https://t", "scopes": {"read": ""}}},
            },
            "key": {"$ref": "schemes.json#/key"},
        },
    )
    service = _openapi(tmp_path, document)
    assert {op.id: op.requires for op in service.operations} == {
        "listThings": (("read",),),
        "listThings-2": (("read",),),  # `#/list` read relative to operations.yaml
        "keyed": ((),),  # an API key from schemes.json: a credential, no scope
    }
    # the problem is in operations.yaml, and the skip says where in it
    (broken,) = [item.render() for item in service.skipped]
    assert broken == (
        f"{tmp_path / 'operations.yaml'}:6:22: skipped GET /broken: unknown security scheme "
        "`oauht` (defined: key, oauth)"
    )


@pytest.mark.parametrize(
    ("ref", "reason"),
    [
        ("../outside.yaml#/op", "points outside the document's directory"),
        ("/etc/passwd#/op", "points outside the document's directory"),
        (
            "https://example.com/api.yaml#/op",
            "is not a file beside the document; the importer reads no network resource",
        ),
        (
            "//example.com/api.yaml#/op",
            "is not a file beside the document; the importer reads no network resource",
        ),
        ("linked.yaml#/op", "points outside the document's directory"),  # a symlink out
        ("missing.yaml#/op", "names no file beside the document (missing.yaml does not exist)"),
    ],
)
def test_an_external_ref_never_leaves_the_documents_directory(
    tmp_path: Path, ref: str, reason: str
) -> None:
    inside = tmp_path / "api"
    inside.mkdir()
    secret = tmp_path / "outside.yaml"
    secret.write_text("op: {operationId: stolen, security: []}\n", "utf-8")
    (inside / "linked.yaml").symlink_to(secret)
    document = _v3(
        {
            "/a": {"get": {"operationId": "a", "security": [{"oauth": ["read"]}]}},
            "/b": {"get": {"$ref": ref}},
        }
    )
    service = _openapi(inside, document)
    assert [op.id for op in service.operations] == ["a"]
    (skipped,) = [item.render() for item in service.skipped]
    assert f"skipped GET /b: external $ref {ref!r} {reason}" in skipped
