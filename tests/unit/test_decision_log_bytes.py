"""The decision log's bytes for a fixed flow are pinned: the direct path may be made
faster, but what it writes must not change by a byte.

The workspace is written here, not read from mocks/ or the bundled packs, so that the pin
moves only when the log's format or the sandbox's decisions do. It reaches every kind of
decision the direct path makes: collection answers (create, list, read, update, delete),
a conditional requirement decided by a query argument and by an argument's absence, a
grant narrowed to one resource (allowed on it, denied elsewhere), a denied scope, an
opaque service's bare 403, a call no operation matches, a host outside the connector's
allowed hosts, and a token that expired during the flow.

When the format changes on purpose, regenerate the file with
`CONNECTOR_HARNESS_REPIN=1 .venv/bin/python -m pytest tests/unit/test_decision_log_bytes.py`
and say why in the commit.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from workspaces import build

from harness.audit import RunHeader, write_log
from harness.engine import run_check
from harness.sandbox import Sandbox

GOLDEN = Path(__file__).parent / "golden" / "decision_log.jsonl"
HEADER = RunHeader("0.0.0", "sha256:" + "cd" * 32, "2026-01-01T00:00:00Z", (("env", "*"),))
STORE = "api.store.example"
VAULT = "api.vault.example"


def _store() -> dict[str, Any]:
    collection = {"collection": "items"}
    return {
        "service": "store",
        "hosts": [STORE],
        "scopes": {
            "store.read": None,
            "store.metadata": None,
            "store.write": {"implies": ["store.read"]},
            "store.delete": None,
        },
        "collections": {
            "items": {
                "id_prefix": "i_",
                "seed": [
                    {"id": "i_1", "name": "first", "tags": ["a", "b"], "size": 3},
                    {"id": "i_2", "name": "second", "nested": {"k": [1, 2.5, None, True]}},
                ],
            }
        },
        "operations": [
            {"id": "items.list", "method": "GET", "path": "/items", "requires": "store.read",
             "answer": {**collection, "action": "list"}},
            {"id": "items.create", "method": "POST", "path": "/items", "requires": "store.write",
             "answer": {**collection, "action": "create"}},
            {"id": "items.get", "method": "GET", "path": "/items/{item}",
             "arguments": {"format": {"in": "query", "default": "full",
                                      "values": ["minimal", "full", "metadata"]}},
             "requires": {"any_of": [
                 "store.read",
                 {"when": {"format": ["minimal", "metadata"]}, "then": "store.metadata"}]},
             "resources": {"item": "path.item"},
             "answer": {**collection, "action": "read", "id": "item"}},
            {"id": "items.search", "method": "GET", "path": "/search",
             "arguments": {"q": {"in": "query"}},
             "requires": {"any_of": [
                 "store.read", {"when": {"q": "absent"}, "then": "store.metadata"}]},
             "answer": {"static": {"status": 200, "json": {"hits": [], "total": 0}}}},
            {"id": "items.update", "method": "PATCH", "path": "/items/{item}",
             "requires": "store.write", "resources": {"item": "path.item"},
             "answer": {**collection, "action": "update", "id": "item"}},
            {"id": "items.delete", "method": "DELETE", "path": "/items/{item}",
             "requires": "store.delete", "answer": {**collection, "action": "delete", "id": "item"}},
        ],
    }  # fmt: skip


def _vault() -> dict[str, Any]:
    return {
        "service": "vault",
        "hosts": [VAULT],
        "opaque": True,
        "scopes": {"vault.read": None, "vault.write": {"implies": ["vault.read"]}},
        "operations": [
            {"id": "secrets.get", "method": "GET", "path": "/v1/secrets/{name}",
             "requires": "vault.read", "answer": "recorded"},
            {"id": "secrets.put", "method": "PUT", "path": "/v1/secrets/{name}",
             "requires": "vault.write", "resources": {"name": "path.name"}, "answer": "recorded"},
        ],
    }  # fmt: skip


def _step(method: str, url: str, body: Any = None, **extra: Any) -> dict[str, Any]:
    request: dict[str, Any] = {"method": method, "url": url}
    if body is not None:
        request["json"] = body
    return {"request": request, **extra}


def _policy() -> dict[str, Any]:
    store, vault = f"https://{STORE}", f"https://{VAULT}"
    steps = [
        _step("POST", f"{store}/items", {"name": "third", "unicode": "caf\u00e9 \u2603"}),
        _step("GET", f"{store}/items?limit=10"),
        _step("GET", f"{store}/items/i_1"),
        _step("GET", f"{store}/items/i_2?format=metadata"),
        _step("GET", f"{store}/search"),
        _step("GET", f"{store}/search?q=name%3Afirst"),
        _step("PATCH", f"{store}/items/i_1", {"size": 4}),
        _step("PATCH", f"{store}/items/i_2", {"size": 5}),
        _step("DELETE", f"{store}/items/i_2"),
        _step("GET", f"{store}/items/i_9"),
        _step("GET", f"{store}/nowhere"),
        _step("GET", f"{vault}/v1/secrets/db"),
        _step("PUT", f"{vault}/v1/secrets/db", {"value": "x"}),
        _step("PUT", f"{vault}/v1/secrets/staging", {"value": "y"}),
        _step("GET", "https://exfil.example/collect?d=1"),
        _step("GET", f"{store}/items", wait="2h"),
    ]
    return {
        "connectors": [
            {
                "name": "bot",
                "owner": "owner@example.com",
                "credential": {"type": "oauth2-client-credentials", "lifetime": "1h"},
                "allowed_hosts": [STORE, VAULT],
            }
        ],
        "roles": [
            {
                "name": "role",
                "grants": {
                    "store": ["store.metadata", "store.write"],
                    "vault": ["vault.read", "vault.write@name=staging"],
                },
            }
        ],
        "bindings": [{"connector": "bot", "env": "prod", "roles": ["role"]}],
        "flows": [{"name": "flow", "connector": "bot", "steps": steps}],
    }


def test_the_decision_log_of_a_fixed_flow_is_byte_identical(tmp_path: Path) -> None:
    workspace = build([_store(), _vault()], [_policy()])
    sandbox = Sandbox(workspace, signing_key=b"pinned-signing-key-0123456789abcdef")
    run_check(workspace, sandbox=sandbox)
    written = tmp_path / "decisions.jsonl"
    write_log(written, sandbox.decisions, HEADER)
    if os.environ.get("CONNECTOR_HARNESS_REPIN") == "1":
        GOLDEN.write_bytes(written.read_bytes())
    got, pinned = written.read_bytes().splitlines(), GOLDEN.read_bytes().splitlines()
    for number, (line, expected) in enumerate(zip(got, pinned, strict=False), start=1):
        assert line == expected, f"line {number} of the decision log changed"
    assert len(got) == len(pinned)
    assert written.read_bytes() == GOLDEN.read_bytes()
