"""A pack's hand-written rules (`harness/importers/overlays/NAME.yaml`), applied to the spec
its vendor data gives.

An overlay is a service spec patch (harness.workspace.spec_merge), plus three keys of its own:

    reviewed: 2026-12-01          # when the rules were last checked against the vendor's pages
    imported_scopes: user         # the data's scopes belong to this permission model
    restrict:                     # a scope reaches only some calls of every operation it allows
      - scope: https://www.googleapis.com/auth/drive.file
        parameter: fileId         # ... of the operations whose path has {fileId}
        operation: files.get      # (or of this operation only)
        arguments: {fileId: {in: path, resource: file}}
        when: {fileId: {class: [created, given]}}      # or a list: any one condition
        source: https://developers.google.com/workspace/drive/api/guides/api-specific-auth

Every rule names the vendor page it follows (`source:`); `restrict` writes it on each
operation it changes.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from typing import Any

from harness.workspace.spec_merge import merge_spec

OVERLAY_ONLY = ("reviewed", "note", "imported_scopes", "restrict")


def apply_overlay(data: dict[str, Any], overlay: Mapping[str, Any]) -> dict[str, Any]:
    """The imported spec `data` with the overlay's rules applied."""
    data = copy.deepcopy(data)
    model = overlay.get("imported_scopes")
    if model and "scopes" in data:  # the data's scopes are those of one permission model
        scopes = data.pop("scopes")
        data["models"] = {model: {"scopes": scopes}}
    for rule in overlay.get("restrict") or ():
        _restrict(data, rule)
    merged = merge_spec(data, {k: v for k, v in overlay.items() if k not in OVERLAY_ONLY})
    if "models" in merged:  # the overlay's model order, its first being the default
        order = list(overlay.get("models") or {})
        models = merged["models"]
        merged["models"] = {
            name: models[name] for name in [*order, *(n for n in models if n not in order)]
        }
    return merged


def _restrict(data: dict[str, Any], rule: Mapping[str, Any]) -> None:
    scope = rule["scope"]
    parameter = rule.get("parameter")
    conditions = rule["when"] if isinstance(rule["when"], list) else [rule["when"]]
    guarded: Any = (
        {"when": conditions[0], "then": scope}
        if len(conditions) == 1
        else {"any_of": [{"when": condition, "then": scope} for condition in conditions]}
    )
    only = rule.get("operation")
    for operation in data["operations"]:
        if only is not None and operation["id"] != only:
            continue
        if (
            parameter
            and f"{{{parameter}}}" not in operation["path"]
            and (f"{{+{parameter}}}" not in operation["path"])
        ):
            continue
        requires = operation.get("requires")
        alternatives = _alternatives(requires)
        if alternatives is None or scope not in alternatives:
            continue
        operation["requires"] = {
            "any_of": [guarded if item == scope else item for item in alternatives]
        }
        operation["arguments"] = {**operation.get("arguments", {}), **rule.get("arguments", {})}
        if rule.get("source"):
            operation["source"] = rule["source"]


def _alternatives(requires: Any) -> list[Any] | None:
    if isinstance(requires, str) and requires not in ("none", "authenticated"):
        return [requires]
    if isinstance(requires, Mapping) and "any_of" in requires:
        return list(requires["any_of"])
    return None
