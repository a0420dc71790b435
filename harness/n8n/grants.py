"""The scopes an n8n credential really holds, and where that knowledge comes from.

In order of trust: the mapping file the user writes (`n8n-scopes.yaml`), an n8n
credentials export (`n8n export:credentials --decrypted`), the defaults the credential
type asks the user to consent to (from n8n-nodes-base).

A credentials export holds secrets (client secrets, refresh tokens). It is read by a
function that keeps only each credential's type, name, id and scope fields, and that
never lets a value of the file reach a message, an exception or a traceback's locals:
problems are reported by position and field name only.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from harness.errors import InputError, Location
from harness.n8n.catalogue import split_scopes
from harness.n8n.targets import load_yaml

MAX_EXPORT_BYTES = 16 * 1024 * 1024
MAX_SCOPES = 500
_MODELS = ("oauth", "app", "bot", "user", "delegated", "application")


@dataclass(frozen=True, slots=True)
class KnownScopes:
    """What one source says a credential holds."""

    scopes: tuple[str, ...]
    source: str  # e.g. "n8n-scopes.yaml:4", "credentials.json (granted by the provider)"
    model: str | None = None


@dataclass(frozen=True, slots=True)
class ExportedCredential:
    id: str
    name: str
    type: str
    scopes: KnownScopes | None  # None: the export does not say (encrypted, no scope field)
    encrypted: bool


@dataclass(frozen=True, slots=True)
class ScopeSources:
    """Everything the user told the import about credential scopes."""

    mapping: dict[str, KnownScopes]  # credential name or id -> scopes
    exported: dict[
        str, ExportedCredential
    ]  # credential id (else type:name) -> what the export says
    notes: tuple[str, ...] = ()

    def lookup(self, credential_id: str, name: str, type_: str) -> KnownScopes | None:
        for key in (credential_id, name):
            if key and key in self.mapping:
                return self.mapping[key]
        found = self.exported.get(credential_id) or self.exported.get(f"{type_}:{name}")
        return found.scopes if found is not None else None


# -- the credentials export ------------------------------------------------------------------


def read_credentials_export(path: Path, shown: str | None = None) -> dict[str, ExportedCredential]:
    """The credentials of an `n8n export:credentials` file, secrets left unread."""
    name = shown or str(path)
    found, problem = _extract(path, name)
    if problem is not None:
        # Raised here, where no value of the file is in scope.
        location, text, fix = problem
        raise InputError(location, text, fix)
    return found


_EXPORT_FIX = "pass the file `n8n export:credentials --all --output=FILE` wrote (JSON)"
Problem = tuple[Location, str, str]


def _extract(path: Path, shown: str) -> tuple[dict[str, ExportedCredential], Problem | None]:
    try:
        return _extract_unguarded(path, shown)
    except Exception:
        return {}, (Location(shown), "the credentials export could not be read", _EXPORT_FIX)


def _extract_unguarded(
    path: Path, shown: str
) -> tuple[dict[str, ExportedCredential], Problem | None]:
    fix = _EXPORT_FIX
    try:
        size = path.stat().st_size
        if size > MAX_EXPORT_BYTES:
            return {}, (
                Location(shown),
                f"the file is {size:,} bytes, over {MAX_EXPORT_BYTES:,}",
                fix,
            )
        raw = path.read_bytes()
    except OSError as err:
        return {}, (Location(shown), f"cannot read the file: {err.strerror}", "check the path")
    try:
        data = json.loads(raw)
    except json.JSONDecodeError as err:
        # The message names a position only, never the text around it: the file holds secrets.
        return {}, (
            Location(shown, err.lineno, err.colno),
            "invalid JSON (the content is not shown: it may hold secrets)",
            fix,
        )
    except (UnicodeDecodeError, RecursionError, ValueError):
        return {}, (Location(shown), "the file is not JSON text", fix)
    finally:
        raw = b""
    items = data if isinstance(data, list) else [data]
    found: dict[str, ExportedCredential] = {}
    for index, item in enumerate(items):
        if not isinstance(item, dict) or not isinstance(item.get("type"), str):
            return {}, (
                Location(shown),
                f"entry {index} is not an exported credential (an object with `type`, `name`, `id`, `data`)",
                fix,
            )
        credential = _credential(item, index, shown)
        found[credential.id or f"{credential.type}:{credential.name}"] = credential
    return found, None


def _short(value: Any, limit: int = 200) -> str:
    return value if isinstance(value, str) and len(value) <= limit else ""


def _credential(item: dict[str, Any], index: int, shown: str) -> ExportedCredential:
    identifier, name, type_ = (
        _short(item.get("id"), 100),
        _short(item.get("name")),
        _short(item["type"], 100),
    )
    data = item.get("data")
    if not isinstance(data, dict):
        return ExportedCredential(identifier, name, type_, None, encrypted=isinstance(data, str))
    where = f"{shown} (credential {index})"
    granted = data.get("oauthTokenData")
    candidates: list[tuple[Any, str]] = []
    if isinstance(granted, dict):
        candidates.append((granted.get("scope"), f"{where}: the scopes the provider granted"))
    if data.get("customScopes") is True:
        candidates.append((data.get("enabledScopes"), f"{where}: the custom scopes chosen in n8n"))
        candidates.append((data.get("userScope"), f"{where}: the custom user scopes chosen in n8n"))
    candidates.append((data.get("scope"), f"{where}: the scope set in n8n"))
    for value, source in candidates:
        if isinstance(value, str) and value.strip() and len(value) < 20_000:
            scopes = split_scopes(value)[:MAX_SCOPES]
            return ExportedCredential(identifier, name, type_, KnownScopes(scopes, source), False)
    return ExportedCredential(identifier, name, type_, None, encrypted=False)


# -- the mapping file ------------------------------------------------------------------------

MAPPING_EXAMPLE = (
    'write e.g.\n  credentials:\n    "GitHub (support bot)":   # the credential\'s name or id\n'
    "      scopes: [repo]\n      model: oauth             # GitHub: oauth (classic) or app (fine-grained)"
)


def read_mapping(path: Path, shown: str | None = None) -> dict[str, KnownScopes]:
    """`n8n-scopes.yaml`: the scopes the user chose for credentials, by name or id."""
    document = load_yaml(path)
    data = document.data
    name = shown or str(path)
    if not isinstance(data, dict) or not isinstance(data.get("credentials"), dict):
        raise InputError(
            document.location(()), "the mapping file has no `credentials:` mapping", MAPPING_EXAMPLE
        )
    found: dict[str, KnownScopes] = {}
    for key, entry in data["credentials"].items():
        where = document.location(("credentials", key))
        if isinstance(entry, list):
            entry = {"scopes": entry}
        if not isinstance(entry, dict) or not isinstance(entry.get("scopes"), list):
            raise InputError(
                where, f"credential {str(key)!r} has no `scopes:` list", MAPPING_EXAMPLE
            )
        unknown = sorted(set(entry) - {"scopes", "model"})
        if unknown:
            raise InputError(
                where, f"unknown key `{unknown[0]}` for credential {str(key)!r}", MAPPING_EXAMPLE
            )
        scopes = entry["scopes"]
        if not all(isinstance(s, str) and s.strip() for s in scopes):
            raise InputError(where, f"the scopes of {str(key)!r} must be strings", MAPPING_EXAMPLE)
        model = entry.get("model")
        if model is not None and model not in _MODELS:
            raise InputError(
                document.location(("credentials", key, "model")),
                f"`model: {model}` is not a permission model",
                f"write one of {', '.join(_MODELS)}",
            )
        found[str(key)] = KnownScopes(
            tuple(dict.fromkeys(s.strip() for s in scopes)),
            f"{name}:{where.line}",
            str(model) if model is not None else None,
        )
    return found
