"""`$ref`s of an imported document, resolved with the `referencing` library: local ones
(`#/components/securitySchemes/oauth`) and relative ones to JSON or YAML files beside
the document (`schemes.yaml#/oauth`).

The document is treated as written by an attacker: a reference is followed only to a
file inside the directory of the document being imported (after symlinks are resolved),
never over a network and never elsewhere on disk, and the files read through
references share one byte budget. Every resolved value keeps the file and the position
it was written at, so a later problem points there.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urldefrag, urljoin, urlsplit
from urllib.request import url2pathname

from referencing import Registry, Resource
from referencing.exceptions import PointerToNowhere, Unresolvable, Unretrievable

from harness.errors import InputError, Location
from harness.workspace.source_document import (
    MAX_SOURCE_BYTES,
    PathKey,
    SourceDocument,
    read_document,
)

IN_MEMORY = "urn:connector-harness:document"  # the base of a document read from no file


class BrokenReference(Exception):
    """A `$ref` that cannot be followed; the caller skips what contains it."""

    def __init__(self, location: Location, reason: str) -> None:
        super().__init__(reason)
        self.location = location
        self.reason = reason


@dataclass(frozen=True, slots=True)
class Located:
    """A value of the document, or of a file it refers to, and where it was written."""

    value: Any
    document: SourceDocument
    path: PathKey
    uri: str  # the URI of `document`, the base of the `$ref`s inside `value`

    def location(self, *more: str | int) -> Location:
        return self.document.location((*self.path, *more))

    def child(self, key: str | int) -> Located:
        return Located(self.value[key], self.document, (*self.path, key), self.uri)


class References:
    """The `$ref`s of one document, and the files beside it they were followed into."""

    def __init__(self, document: SourceDocument) -> None:
        self.root = document
        self.directory = document.path.resolve().parent if document.path is not None else None
        self.uri = document.path.resolve().as_uri() if document.path is not None else IN_MEMORY
        self._documents = {self.uri: document}
        self._budget = MAX_SOURCE_BYTES  # bytes the referenced files may still take
        resource: Resource[Any] = Resource.opaque(document.data)
        # an attrs class: mypy does not see its generated __init__ and its `retrieve` field
        registry: Registry[Any] = Registry(retrieve=self._retrieve)  # type: ignore[call-arg]
        self._registry = registry.with_resource(self.uri, resource)

    def at(self, *path: str | int) -> Located:
        """The value at `path` of the document itself (a path that exists)."""
        value: Any = self.root.data
        for key in path:
            value = value[key]
        return Located(value, self.root, path, self.uri)

    def follow(self, located: Located) -> Located:
        """The value a (chain of) `$ref`(s) names, or `located` itself when it is none."""
        seen: set[str] = set()
        while isinstance(located.value, dict) and "$ref" in located.value:
            ref = located.value["$ref"]
            where = located.location("$ref")
            if not isinstance(ref, str):
                raise BrokenReference(where, f"$ref {ref!r} is not a reference (text)")
            target = urljoin(located.uri, ref)
            if target in seen:
                raise BrokenReference(where, f"$ref {ref!r} refers to itself in a cycle")
            seen.add(target)
            document_uri, fragment = urldefrag(target)
            try:
                resolved = self._registry.resolver(located.uri).lookup(ref)
            except PointerToNowhere:
                document = self._documents[document_uri]
                raise BrokenReference(
                    where,
                    f"$ref {ref!r} does not resolve: nothing at {_missing(document, fragment)!r}",
                ) from None
            except Unresolvable as err:
                # a file _retrieve refused: referencing chains Unretrievable, then our reason
                refused = err.__cause__.__cause__ if err.__cause__ is not None else None
                if isinstance(err.__cause__, Unretrievable) and isinstance(refused, _Refused):
                    raise BrokenReference(
                        where, f"external $ref {ref!r} {refused.reason}"
                    ) from None
                raise BrokenReference(where, f"$ref {ref!r} does not resolve") from None
            document = self._documents[document_uri]
            located = Located(resolved.contents, document, _path(document, fragment), document_uri)
        return located

    def _retrieve(self, uri: str) -> Resource[Any]:
        """A file beside the document, parsed; a _Refused saying why not otherwise."""
        known = self._documents.get(uri)
        if known is not None:  # read by an earlier look-up (the registry is not kept)
            return Resource.opaque(known.data)
        parts = urlsplit(uri)
        if self.directory is None:
            raise _Refused("cannot be followed: the document was not read from a file")
        if parts.scheme != "file" or parts.netloc not in ("", "localhost"):
            raise _Refused(
                "is not a file beside the document; the importer reads no network resource"
            )
        path = Path(url2pathname(parts.path)).resolve()
        if not path.is_relative_to(self.directory):
            raise _Refused(f"points outside the document's directory ({self.directory})")
        if not path.is_file():
            raise _Refused(f"names no file beside the document ({path.name} does not exist)")
        size = path.stat().st_size
        if size > self._budget:
            raise _Refused(
                f"would read {size:,} bytes, over the {MAX_SOURCE_BYTES:,} that the files "
                "a document refers to may take together"
            )
        self._budget -= size
        # shown beside the document as its own name shows it (`vendor/api.json` -> `vendor/x.yaml`)
        shown = str(Path(self.root.name).parent / path.relative_to(self.directory))
        try:
            document = read_document(path, name=shown)
        except InputError as err:
            raise _Refused(f"cannot be read: {err.render()}") from err
        self._documents[uri] = document
        return Resource.opaque(document.data)


class _Refused(Exception):
    """Why `_retrieve` did not read a referenced file (referencing wraps it in Unretrievable)."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def _parts(fragment: str) -> list[str]:
    """A JSON pointer's unescaped parts: `/a~1b/c` -> ["a/b", "c"]."""
    return [part.replace("~1", "/").replace("~0", "~") for part in fragment.split("/")[1:]]


def _path(document: SourceDocument, fragment: str) -> PathKey:
    """The path of the value a JSON pointer names (list indexes as numbers), for locations."""
    path: list[str | int] = []
    value: Any = document.data
    for part in _parts(fragment):
        if isinstance(value, list):
            path.append(int(part))
            value = value[int(part)]
        else:
            path.append(part)
            value = value[part]
    return tuple(path)


def _missing(document: SourceDocument, fragment: str) -> str:
    """The pointer up to its first part that names nothing: `#/components/pathItems`."""
    walked: list[str] = []
    value: Any = document.data
    for part in _parts(fragment):
        if isinstance(value, dict) and part in value:
            value = value[part]
        elif isinstance(value, list) and part.isdigit() and int(part) < len(value):
            value = value[int(part)]
        else:
            return "/".join(["#", *walked, part])
        walked.append(part)
    return "#" + fragment
