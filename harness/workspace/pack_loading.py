"""Bundled packs in a workspace: which pack documents load, and how mocks/ changes them.

Precedence, from strongest:

1. a spec in the workspace's mocks/ with `extends: NAME` changes the bundled pack NAME
   (harness.workspace.spec_merge says how); the pack loads even if `packs:` does not list it;
2. a spec in mocks/ whose `service:` is the name of a listed pack replaces that pack;
3. a pack listed in `packs:` loads as it is.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from harness.errors import InputError
from harness.model import Settings
from harness.workspace.pack_catalog import (
    LOCATION_PREFIX,
    MAX_PACK_BYTES,
    PackInfo,
    find_pack,
    pack_path,
    reference_problem,
)
from harness.workspace.spec_merge import MergedDocument, extend
from harness.workspace.validation import validate
from harness.workspace.yaml_source import YamlDocument, load_yaml


@dataclass(slots=True)
class PackDocument(YamlDocument):
    """A bundled pack's file, located as `connector-harness/packs/NAME.yaml`."""

    pack: str = ""


def read_pack(pack: PackInfo) -> PackDocument:
    document = load_yaml(pack_path(pack), max_bytes=MAX_PACK_BYTES)
    return PackDocument(
        path=Path(LOCATION_PREFIX + pack.file),
        data=document.data,
        value_marks=document.value_marks,
        key_marks=document.key_marks,
        root_mark=document.root_mark,
        pack=pack.name,
    )


def pack_of(document: YamlDocument) -> str:
    """The bundled pack a service document comes from ("" for the workspace's own)."""
    if isinstance(document, PackDocument):
        return document.pack
    if isinstance(document, MergedDocument) and isinstance(document.base, PackDocument):
        return document.base.pack
    return ""


def with_packs(
    settings: Settings,
    documents: list[YamlDocument],
    errors: list[InputError],
    read: Callable[[PackInfo], PackDocument] = read_pack,
) -> list[YamlDocument]:
    """The workspace's service documents with the packs it uses, extended or replaced."""
    own_names = {
        doc.data.get("service")
        for doc in documents
        if isinstance(doc.data, dict) and "extends" not in doc.data
    }
    wanted = [name for name, _ in settings.packs if name not in own_names]
    extending = [doc for doc in documents if isinstance(doc.data, dict) and "extends" in doc.data]
    result = [doc for doc in documents if doc not in extending]
    extended: dict[str, YamlDocument] = {}
    for doc in extending:
        name = str(doc.data["extends"])
        problem = reference_problem(name)
        if problem is not None:
            errors.append(InputError(doc.location(("extends",)), *problem))
            continue
        if name in extended:
            errors.append(
                InputError(
                    doc.location(("extends",)),
                    f"pack `{name}` is already extended by {extended[name].path}",
                    "put every change to one pack in one file",
                )
            )
            continue
        if name in own_names:
            errors.append(
                InputError(
                    doc.location(("extends",)),
                    f"`{name}` is both extended here and replaced by another spec of mocks/",
                    "keep the `extends:` file or the replacement, not both",
                )
            )
            continue
        pack = find_pack(name)
        assert pack is not None
        merged = extend(read(pack), doc)
        problems = validate(merged, "service", what="a service spec")
        errors.extend(problems)
        if not problems:
            extended[name] = merged
    for name in wanted:
        if name in extended:
            continue
        pack = find_pack(name)
        if pack is not None:  # a missing one was reported with the settings
            result.append(read(pack))
    result.extend(extended.values())
    return result
