"""Apply a check's fixes the way a user would: read each finding's "write instead" text and
edit the policy documents it points at (a role's `grants:` line, a new role, a binding's
`roles:` line). Only the text is read, never the analysis' own values."""

from __future__ import annotations

import re
from collections.abc import Iterable, MutableMapping
from typing import Any

import yaml

Documents = MutableMapping[str, dict[str, Any]]  # file as locations print it -> policy data

_ROLE_AT = re.compile(r"^# role `(?P<role>[^`]+)` at (?P<file>.+?):\d+:\d+$")
_BINDING_AT = re.compile(r"^# binding (?P<connector>[^@ ]+)@(?P<env>\S+) at (?P<file>.+?):\d+:\d+$")
_REMOVE = re.compile(r"^\s*# remove the `(?P<service>[^`]+):` entry$")


def apply_fixes(documents: Documents, insteads: Iterable[str]) -> int:
    """Apply every distinct "write instead" text; returns how many blocks were applied."""
    applied = 0
    for block in dict.fromkeys(b for text in insteads for b in text.split("\n\n") if b.strip()):
        if _apply_block(documents, block):
            applied += 1
    return applied


def _apply_block(documents: Documents, block: str) -> bool:
    lines = block.splitlines()
    role_at = next((m for line in lines if (m := _ROLE_AT.match(line))), None)
    binding_at = next((m for line in lines if (m := _BINDING_AT.match(line))), None)
    if binding_at is not None:
        _apply_own_roles(documents, lines, binding_at)
        return True
    if role_at is None:
        return False
    body = "\n".join(line for line in lines if not line.startswith("#"))
    grants = (yaml.safe_load(body) or {}).get("grants") or {}
    role = _role(documents[role_at["file"]], role_at["role"])
    for service, listed in grants.items():
        role.setdefault("grants", {})[service] = list(listed)
    for line in lines:
        removed = _REMOVE.match(line)
        if removed:
            (role.get("grants") or {}).pop(removed["service"], None)
    return True


def _apply_own_roles(documents: Documents, lines: list[str], binding_at: re.Match[str]) -> None:
    split = next(i for i, line in enumerate(lines) if _BINDING_AT.match(line))
    new_roles = yaml.safe_load("\n".join(lines[:split]))["roles"]
    roles_line = yaml.safe_load("\n".join(lines[split + 1 :]))["roles"]
    document = documents[binding_at["file"]]
    document.setdefault("roles", []).extend(new_roles)
    binding = next(
        b
        for b in document["bindings"]
        if b["connector"] == binding_at["connector"] and b["env"] == binding_at["env"]
    )
    binding["roles"] = roles_line


def _role(document: dict[str, Any], name: str) -> dict[str, Any]:
    found: dict[str, Any] = next(r for r in document.get("roles", []) if r["name"] == name)
    return found
