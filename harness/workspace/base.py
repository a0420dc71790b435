"""What every section of the loader shares: the settings, the errors found so far, reading
a document, and the helpers that word a problem."""

from __future__ import annotations

import difflib
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from harness.errors import InputError, Location
from harness.model import Operation, Service, Settings
from harness.workspace.units import parse_date
from harness.workspace.validation import validate
from harness.workspace.yaml_source import YamlDocument, load_yaml


def suggest(name: str, known: Iterable[str]) -> str:
    known = sorted(known)
    close = difflib.get_close_matches(name, known, n=1)
    if close:
        return f"did you mean `{close[0]}`?"
    if not known:
        return "none are defined yet"
    shown = ", ".join(known[:12]) + (", ..." if len(known) > 12 else "")
    return f"known: {shown}"


def defined_names(data: Any) -> set[str]:
    """The names a document defines, read from whatever it holds (it may fail its schema):
    a service spec's `service`, and the `name` of each connector, role and flow, and each
    binding's CONNECTOR@ENV, of a policy document."""
    if not isinstance(data, dict):
        return set()
    names = {data["service"]} if isinstance(data.get("service"), str) else set()
    for section in ("connectors", "roles", "flows", "bindings"):
        entries = data.get(section)
        for entry in entries if isinstance(entries, list) else ():
            if not isinstance(entry, dict):
                continue
            if isinstance(entry.get("name"), str):
                names.add(entry["name"])
            if section == "bindings" and isinstance(entry.get("connector"), str):
                names.add(f"{entry['connector']}@{entry.get('env')}")
    # a name refused for the white space around it (`crm\n`) is the name meant without it
    return names | {name.strip() for name in names}


class LoaderBase:
    """The state every section shares: settings, errors so far, documents that failed."""

    def __init__(self, root: Path, settings: Settings) -> None:
        self.root = root
        self.settings = settings
        self.errors: list[InputError] = []
        # Kinds ("service", "policy") of which a document could not be read at all: a name
        # that seems undefined may be defined there, so dangling references are not reported.
        self.unreadable: set[str] = set()
        # Names a document that was read but failed its schema (or failed to build) defines:
        # a reference to one of them is not reported, a reference to any other name still is.
        self.maybe_defined: set[str] = set()
        self._all_services: dict[str, Service] = {}
        self._model_views: list[Service] = []  # services in their other permission models
        self._statements: dict[str, dict[str, Operation]] = {}  # database -> id -> statement

    def _relative(self, path: Path) -> Path:
        try:
            return path.relative_to(Path.cwd())
        except ValueError:
            return path

    def _read(self, path: Path, kind: str, what: str) -> YamlDocument | None:
        try:
            document = load_yaml(self._relative(path), max_bytes=self.settings.max_file_bytes)
        except InputError as err:
            self.errors.append(err)
            self.unreadable.add(kind)
            return None
        problems = validate(document, kind, what=what)
        if problems:
            self.errors.extend(problems)
            if isinstance(document.data, dict):
                self.maybe_defined.update(defined_names(document.data))
            else:  # empty, or not a mapping: what it was meant to define is unknown
                self.unreadable.add(kind)
            return None
        return document

    def _fail(self, location: Location, problem: str, hint: str = "") -> None:
        self.errors.append(InputError(location, problem, hint))

    def _dangling(
        self, kind: str, location: Location, problem: str, hint: str, *, name: str
    ) -> None:
        """A reference to the undefined `name`, unless a `kind` document could not be read
        or a document that failed to load defines `name`."""
        if kind not in self.unreadable and name not in self.maybe_defined:
            self._fail(location, problem, hint)

    def _entries(
        self, documents: list[YamlDocument], section: str
    ) -> Iterable[tuple[YamlDocument, int, dict[str, Any]]]:
        for document in documents:
            for index, entry in enumerate(document.data.get(section, ()) if document.data else ()):
                yield document, index, entry

    def _unique(self, seen: dict[str, Location], name: str, kind: str, where: Location) -> bool:
        if name in seen:
            self._fail(
                where,
                f"{kind} `{name}` is already defined at {seen[name]}",
                f"{kind} names are unique across the workspace; rename one of them",
            )
            return False
        seen[name] = where
        return True

    def _date(self, doc: YamlDocument, path: tuple[str | int, ...], text: str | None) -> Any:
        if text is None:
            return None
        try:
            return parse_date(text)
        except ValueError as err:
            self._fail(
                doc.location(path),
                f"`{text}` is not a real date ({err})",
                "write a date as YYYY-MM-DD",
            )
            return None
