"""Where a credential's scopes come from; a credentials export's secrets never come out."""

from __future__ import annotations

import json
import traceback
from pathlib import Path
from typing import Any

import pytest

from harness.errors import InputError
from harness.n8n.grants import ScopeSources, read_credentials_export, read_mapping

# Canary secrets: if any of them shows up in a message, a value, or a traceback, it leaked.
CANARIES = (
    "CANARY-client-secret-7f3a9c",
    "CANARY-refresh-token-1b8e2d",
    "CANARY-access-token-5c4f6a",
)


def _export(*entries: dict[str, Any]) -> list[dict[str, Any]]:
    return list(entries)


def _credential(identifier: str, type_: str, **data: Any) -> dict[str, Any]:
    secret = {
        "clientId": "public-client-id",
        "clientSecret": CANARIES[0],
        "oauthTokenData": {"access_token": CANARIES[2], "refresh_token": CANARIES[1]},
    }
    secret["oauthTokenData"].update(data.pop("granted", {}))
    return {
        "id": identifier,
        "name": f"credential {identifier}",
        "type": type_,
        "data": {**secret, **data},
    }


def _write(tmp_path: Path, data: Any, name: str = "credentials.json") -> Path:
    path = tmp_path / name
    path.write_text(json.dumps(data) if not isinstance(data, str) else data)
    return path


def test_the_granted_scope_wins_then_custom_scopes_then_the_scope_field(tmp_path: Path) -> None:
    path = _write(
        tmp_path,
        _export(
            _credential(
                "a", "githubOAuth2Api", granted={"scope": "repo,read:org"}, scope="repo,admin:org"
            ),
            _credential(
                "b", "gmailOAuth2", customScopes=True, enabledScopes="https://mail.google.com/"
            ),
            _credential("c", "oAuth2Api", scope="files.read files.write"),
            _credential("d", "slackOAuth2Api", customScopes=True, userScope="chat:write"),
            _credential("e", "googleSheetsOAuth2Api"),
            {"id": "f", "name": "encrypted", "type": "slackApi", "data": "U2FsdGVkX19encrypted"},
        ),
    )
    found = read_credentials_export(path, "credentials.json")
    assert found["a"].scopes is not None
    assert found["a"].scopes.scopes == ("repo", "read:org")
    assert "granted" in found["a"].scopes.source
    assert found["b"].scopes is not None
    assert found["b"].scopes.scopes == ("https://mail.google.com/",)
    assert found["c"].scopes is not None
    assert found["c"].scopes.scopes == (
        "files.read",
        "files.write",
    )
    assert found["d"].scopes is not None
    assert found["d"].scopes.scopes == ("chat:write",)
    assert found["e"].scopes is None
    assert not found["e"].encrypted
    assert found["f"].scopes is None
    assert found["f"].encrypted
    for credential in found.values():
        assert not any(canary in repr(credential) for canary in CANARIES)


@pytest.mark.parametrize(
    "content",
    [
        '[{"id": "a", "type": "x", "data": {"clientSecret": "CANARY-client-secret-7f3a9c"}',  # truncated
        '[{"id": "a", "type": "x", "data": {"clientSecret": "CANARY-client-secret-7f3a9c",}}]',
        '[{"id": "a", "data": {"clientSecret": "CANARY-client-secret-7f3a9c"}}]',  # no type
        '{"clientSecret": "CANARY-client-secret-7f3a9c"}',
    ],
)
def test_a_broken_export_is_reported_by_position_never_by_content(
    tmp_path: Path, content: str
) -> None:
    path = _write(tmp_path, content)
    with pytest.raises(InputError) as raised:
        read_credentials_export(path, "credentials.json")
    shown = raised.value.render() + "".join(traceback.format_exception(raised.value))
    assert "credentials.json" in shown
    assert not any(canary in shown for canary in CANARIES)
    # Nothing of the file is reachable from the error either (no cause, no context).
    assert raised.value.__cause__ is None
    assert raised.value.__context__ is None
    # ... nor from the locals of the harness's frames a traceback shows (pytest -l prints them).
    frames = [
        f
        for f, _ in traceback.walk_tb(raised.value.__traceback__)
        if "/harness/" in f.f_code.co_filename
    ]
    assert frames
    for frame in frames:
        assert not any(
            canary in repr(value) for value in frame.f_locals.values() for canary in CANARIES
        )


def test_a_mapping_file_names_credentials_by_name_or_id(tmp_path: Path) -> None:
    path = tmp_path / "n8n-scopes.yaml"
    path.write_text(
        "credentials:\n"
        "  GitHub (support bot):\n"
        "    scopes: [public_repo]\n"
        "    model: oauth\n"
        "  Sl4ckB0tT0k3n002: [chat:write, channels:read]\n"
    )
    mapping = read_mapping(path, "n8n-scopes.yaml")
    sources = ScopeSources(mapping, {})
    by_name = sources.lookup("other-id", "GitHub (support bot)", "githubApi")
    assert by_name is not None
    assert by_name.scopes == ("public_repo",)
    assert by_name.model == "oauth"
    assert by_name.source == "n8n-scopes.yaml:3"
    by_id = sources.lookup("Sl4ckB0tT0k3n002", "Slack bot", "slackApi")
    assert by_id is not None
    assert by_id.scopes == ("chat:write", "channels:read")
    assert sources.lookup("nope", "nope", "slackApi") is None


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("scopes: [repo]\n", "has no `credentials:` mapping"),
        ("credentials:\n  GitHub: repo\n", "credential 'GitHub' has no `scopes:` list"),
        ("credentials:\n  GitHub: {scopes: [repo], owner: me}\n", "unknown key `owner`"),
        ("credentials:\n  GitHub: {scopes: [1]}\n", "must be strings"),
        (
            "credentials:\n  GitHub: {scopes: [repo], model: classic}\n",
            "`model: classic` is not a permission model",
        ),
    ],
)
def test_a_bad_mapping_file_is_an_error_at_its_line(
    tmp_path: Path, text: str, problem: str
) -> None:
    path = tmp_path / "n8n-scopes.yaml"
    path.write_text(text)
    with pytest.raises(InputError) as raised:
        read_mapping(path)
    assert problem in raised.value.problem
    assert raised.value.location.line >= 1
