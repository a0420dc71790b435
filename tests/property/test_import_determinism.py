"""Importing vendor data is deterministic: the same permissions give the same spec, byte for byte.

Generated OpenAPI, Discovery and GitHub documents are imported twice, and once
more with every mapping in a shuffled order; the rendered specs must be
identical (but for the input's digest and positions in it) and load as specs.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from tempfile import TemporaryDirectory
from typing import Any

import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from harness.importers.discovery import import_discovery
from harness.importers.github import import_github
from harness.importers.openapi import import_openapi
from harness.importers.spec import ImportSettings, render_service
from harness.workspace.loader import workspace_from_data
from harness.workspace.source_document import read_document

# What names the input text itself: its digest, and positions in it (notes on merged routes).
_TEXTUAL = re.compile(r"^  sha256: [0-9a-f]{64}$|doc\.json:\d+:\d+", re.MULTILINE)
SCOPES = [f"scope.{name}" for name in ("alpha", "beta", "gamma", "delta", "eps")]
SEGMENTS = ["items", "users", "files", "{id}", "{owner}", "tags"]
METHODS = ["get", "post", "put", "patch", "delete"]


def _shuffled(value: Any, draw: st.DrawFn) -> Any:
    """`value` with every mapping's keys in a drawn order (lists keep their order)."""
    if isinstance(value, dict):
        keys = draw(st.permutations(sorted(value)))
        return {key: _shuffled(value[key], draw) for key in keys}
    if isinstance(value, list):
        return [_shuffled(item, draw) for item in value]
    return value


paths = st.lists(st.sampled_from(SEGMENTS), min_size=1, max_size=3).map(
    lambda parts: "/" + "/".join(parts)
)
alternatives = st.lists(
    st.lists(st.sampled_from(SCOPES), min_size=1, max_size=2, unique=True), min_size=1, max_size=3
)
operations = st.dictionaries(
    st.tuples(paths, st.sampled_from(METHODS)), alternatives, min_size=1, max_size=8
)


@st.composite
def openapi_documents(draw: st.DrawFn) -> tuple[dict[str, Any], dict[str, Any]]:
    found = draw(operations)
    document: dict[str, Any] = {
        "openapi": "3.0.3",
        "info": {"title": "Generated", "version": "1"},
        "servers": [{"url": "https://api.generated.example/v1"}],
        "components": {
            "securitySchemes": {
                "oauth": {
                    "type": "oauth2",
                    "flows": {
                        "implicit": {
                            "authorizationUrl": "https://example.com/auth",
                            "scopes": {scope: f"the {scope} scope" for scope in SCOPES},
                        }
                    },
                }
            }
        },
        "paths": {},
    }
    for (path, method), alts in sorted(found.items()):
        document["paths"].setdefault(path, {})[method] = {
            "operationId": f"{method}{path.replace('/', '_')}",
            "security": [{"oauth": alt} for alt in alts],
        }
    return document, _shuffled(document, draw)


@st.composite
def discovery_documents(draw: st.DrawFn) -> tuple[dict[str, Any], dict[str, Any]]:
    found = draw(operations)
    methods = {}
    for index, ((path, method), alts) in enumerate(sorted(found.items())):
        methods[f"m{index}"] = {
            "id": f"gen.things.m{index}",
            "httpMethod": method.upper(),
            "path": path.lstrip("/"),
            "scopes": sorted({scope for alt in alts for scope in alt}),
        }
    document = {
        "kind": "discovery#restDescription",
        "name": "gen",
        "version": "v1",
        "title": "Generated API",
        "rootUrl": "https://gen.googleapis.example/",
        "servicePath": "gen/v1/",
        "revision": "20260101",
        "auth": {"oauth2": {"scopes": {s: {"description": s.upper()} for s in SCOPES}}},
        "resources": {"things": {"methods": methods}},
    }
    return document, _shuffled(document, draw)


@st.composite
def github_documents(draw: st.DrawFn) -> tuple[dict[str, Any], dict[str, Any]]:
    found = draw(operations)
    permission = st.sampled_from(["issues", "contents", "metadata"])
    document: dict[str, Any] = {"paths": {}, "permissions": {}}
    for (path, method), _ in sorted(found.items()):
        name, access = draw(permission), draw(st.sampled_from(["read", "write"]))
        document["paths"].setdefault(path, {})[method.upper()] = {
            "permission": name,
            "access": access,
        }
        document["permissions"].setdefault(name, {}).setdefault(access, []).append(
            f"{method.upper()} {path}"
        )
    return document, _shuffled(document, draw)


def _render(kind: str, document: dict[str, Any], name: str) -> str:
    with TemporaryDirectory() as folder:
        path = Path(folder) / "doc.json"
        path.write_text(json.dumps(document), "utf-8")
        source = read_document(path, name=name)
        settings_ = ImportSettings(service="generated")
        if kind == "openapi":
            service = import_openapi(source, settings_)
        elif kind == "discovery":
            service = import_discovery(source, settings_)
        else:
            service = import_github(source, settings_)
    return render_service(service)


def _check(kind: str, pair: tuple[dict[str, Any], dict[str, Any]]) -> None:
    document, shuffled = pair
    first = _render(kind, document, "doc.json")
    assert first == _render(kind, document, "doc.json")
    assert _TEXTUAL.sub("", first) == _TEXTUAL.sub("", _render(kind, shuffled, "doc.json"))
    spec = yaml.safe_load(first)
    (service,) = workspace_from_data([spec], []).services
    assert service.name == "generated"


@settings(max_examples=60, deadline=None)
@given(openapi_documents())
def test_openapi_import_is_deterministic_and_order_independent(
    pair: tuple[dict[str, Any], dict[str, Any]],
) -> None:
    _check("openapi", pair)


@settings(max_examples=60, deadline=None)
@given(discovery_documents())
def test_discovery_import_is_deterministic_and_order_independent(
    pair: tuple[dict[str, Any], dict[str, Any]],
) -> None:
    _check("discovery", pair)


@settings(max_examples=60, deadline=None)
@given(github_documents())
def test_github_import_is_deterministic_and_order_independent(
    pair: tuple[dict[str, Any], dict[str, Any]],
) -> None:
    _check("github", pair)
