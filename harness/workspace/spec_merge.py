"""Merging a service spec with a patch: a pack's hand-written rules, or a workspace's own
changes to a bundled pack (`extends: NAME` in mocks/).

The patch wins, entry by entry:

- `scopes` (and each model's `scopes`): a scope the patch names is added, or its keys
  replace those of the base's entry (`legacy:`, `implies:`, `description:` ...);
- `operations`: an operation whose `id` the base has gets the patch's keys (its
  `requires`, `method`, `arguments` ...; `requires_in` and `least_in` model by model);
  a new id is added (it needs `method`, `path` and a requirement);
- `value_maps`: a map the patch names replaces the base's;
- any other key (`hosts`, `title`, `routing`, `token_params` ...) replaces the base's.

When a workspace file extends a pack, every merged value keeps the place it was
written: errors point at the pack for what comes from the pack, at the workspace
file for what it changed.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from harness.errors import Location
from harness.workspace.yaml_source import PathKey, YamlDocument

_MAPPED = ("scopes", "models", "operations", "value_maps")


def _merge_entries(base: Mapping[str, Any] | None, patch: Mapping[str, Any]) -> dict[str, Any]:
    merged = dict(base or {})
    for name, entry in patch.items():
        current = merged.get(name)
        if isinstance(entry, Mapping) and isinstance(current, Mapping):
            merged[name] = {**current, **entry}
        elif entry is not None or name not in merged:
            merged[name] = copy.deepcopy(entry)
    return merged


def merge_spec(base: Mapping[str, Any], patch: Mapping[str, Any]) -> dict[str, Any]:
    """`base` with `patch` applied (plain data; neither is changed)."""
    merged: dict[str, Any] = {key: value for key, value in base.items()}
    for key, value in patch.items():
        if key in ("extends", "service"):
            continue
        if key == "scopes":
            merged["scopes"] = _merge_entries(base.get("scopes"), value or {})
        elif key == "models":
            models = dict(base.get("models") or {})
            for name, spec in (value or {}).items():
                current = dict(models.get(name) or {})
                spec = spec or {}
                for part, part_value in spec.items():
                    if part == "scopes":
                        current["scopes"] = _merge_entries(current.get("scopes"), part_value or {})
                    else:
                        current[part] = part_value
                models[name] = current
            merged["models"] = models
        elif key == "value_maps":
            merged["value_maps"] = {**(base.get("value_maps") or {}), **(value or {})}
        elif key == "operations":
            operations = [dict(op) for op in base.get("operations") or ()]
            by_id = {op.get("id"): position for position, op in enumerate(operations)}
            for op in value or ():
                position = by_id.get(op.get("id"))
                if position is None:
                    by_id[op.get("id")] = len(operations)
                    operations.append(dict(op))
                else:
                    current = operations[position]
                    merged_op = {**current, **op}
                    for per_model in ("requires_in", "least_in"):
                        if isinstance(op.get(per_model), Mapping) and isinstance(
                            current.get(per_model), Mapping
                        ):
                            merged_op[per_model] = {**current[per_model], **op[per_model]}
                    operations[position] = merged_op
            merged["operations"] = operations
        else:
            merged[key] = value
    return merged


@dataclass(slots=True)
class MergedDocument(YamlDocument):
    """A pack extended by a workspace file: the merged data, located in the file each part
    came from."""

    base: YamlDocument | None = None
    patch: YamlDocument | None = None
    operation_sources: list[tuple[str, int]] = field(default_factory=list)  # per merged op

    def location(self, path: PathKey = (), *, key: bool = False) -> Location:
        assert self.base is not None
        assert self.patch is not None
        document, translated = self._source(path)
        return document.location(translated, key=key)

    def _source(self, path: PathKey) -> tuple[YamlDocument, PathKey]:
        assert self.base is not None
        assert self.patch is not None
        patch_data = self.patch.data or {}
        if not path:
            return self.patch, path
        head = path[0]
        if head == "operations" and len(path) > 1 and isinstance(path[1], int):
            if path[1] >= len(self.operation_sources):
                return self.patch, ("operations",)
            origin, index = self.operation_sources[path[1]]
            if origin == "patch":
                return self.patch, ("operations", index, *path[2:])
            patched = _patched_operation(patch_data, self.base.data["operations"][index])
            if patched is not None and len(path) > 2 and path[2] in patched[1]:
                return self.patch, ("operations", patched[0], *path[2:])
            return self.base, ("operations", index, *path[2:])
        if head == "scopes" and len(path) > 1:
            return self._entry(patch_data.get("scopes"), path, 1)
        if head == "models" and len(path) > 3 and path[2] == "scopes":
            model = (patch_data.get("models") or {}).get(path[1]) or {}
            return self._entry(model.get("scopes"), path, 3)
        if head == "value_maps" and len(path) > 1:
            return self._entry(patch_data.get("value_maps"), path, 1)
        if isinstance(head, str) and head in patch_data and head not in _MAPPED:
            return self.patch, path
        return self.base, path

    def _entry(self, written: Any, path: PathKey, depth: int) -> tuple[YamlDocument, PathKey]:
        assert self.base is not None
        assert self.patch is not None
        name = path[depth]
        if isinstance(written, Mapping) and name in written:
            entry = written[name]
            if len(path) == depth + 1 or not isinstance(entry, Mapping) or path[depth + 1] in entry:
                return self.patch, path
        return self.base, path


def _patched_operation(patch: Mapping[str, Any], operation: Any) -> tuple[int, set[str]] | None:
    """(index in the patch, keys it set) of the patch entry for a base operation."""
    if not isinstance(operation, Mapping):
        return None
    for index, entry in enumerate(patch.get("operations") or ()):
        if isinstance(entry, Mapping) and entry.get("id") == operation.get("id"):
            return index, set(entry)
    return None


def extend(base: YamlDocument, patch: YamlDocument) -> MergedDocument:
    """The workspace's `extends:` file applied to the bundled pack's document."""
    merged = merge_spec(base.data, patch.data)
    merged["service"] = base.data["service"]
    sources: list[tuple[str, int]] = [("base", i) for i in range(len(base.data["operations"]))]
    known = {op.get("id"): i for i, op in enumerate(base.data["operations"])}
    for index, op in enumerate(patch.data.get("operations") or ()):
        if op.get("id") not in known:
            known[op.get("id")] = len(sources)
            sources.append(("patch", index))
    return MergedDocument(
        path=Path(str(patch.path)), data=merged, base=base, patch=patch, operation_sources=sources
    )
