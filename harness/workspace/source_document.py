"""Reading an input document (JSON or YAML) so that every later error can point at a line:
the vendor documents and recordings the importers read, and exported n8n workflows.

JSON is parsed with the standard library for speed; a position is only computed
when a message needs one, by walking the text along the value's path and
skipping siblings with the C decoder. YAML goes through `harness.workspace.yaml_source`,
which keeps positions as it parses.
"""

from __future__ import annotations

import bisect
import hashlib
import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from harness.errors import InputError, Location
from harness.paths import read_bounded
from harness.workspace.yaml_source import YamlDocument, parse_yaml, position

PathKey = tuple[str | int, ...]

# Vendor documents are bigger than workspace files (GitHub's full description is ~10 MB).
MAX_SOURCE_BYTES = 64 * 1024 * 1024
_BREAK = re.compile("\n")
_WHITESPACE = re.compile(r"[ \t\n\r]*")
_DECODER = json.JSONDecoder()


@dataclass(frozen=True, slots=True)
class SourceDocument:
    """A parsed input document, its text and digest, and a way to locate any value in it."""

    name: str  # the path as shown in messages
    text: str
    data: Any
    sha256: str
    yaml: YamlDocument | None = None
    path: Path | None = None  # the file it was read from (None: built in memory)
    # the members of each container located so far (see json_offset)
    members: dict[int, dict[str | int, int]] = field(
        default_factory=dict, compare=False, repr=False
    )
    # the offset of every line break, found on the first JSON location asked for
    breaks: list[int] = field(default_factory=list, compare=False, repr=False)

    def location(self, path: PathKey = ()) -> Location:
        """The `file:line:column` of the value at `path` (or of its nearest parent)."""
        if self.yaml is not None:
            return self.yaml.location(path)
        offset = json_offset(self.text, path, self.members)
        if not self.breaks:
            self.breaks.extend(match.start() for match in _BREAK.finditer(self.text))
            self.breaks.append(len(self.text) + 1)  # never empty once computed
        line = bisect.bisect_left(self.breaks, offset)  # line breaks before the offset
        start = self.breaks[line - 1] + 1 if line else 0
        return Location(self.name, line + 1, offset - start + 1)


def describe_path(path: PathKey) -> str:
    """`("paths", "/x", "get")` -> `paths./x.get`, `("a", 0)` -> `a[0]`, for messages."""
    text = ""
    for key in path:
        text += f"[{key}]" if isinstance(key, int) else (f".{key}" if text else str(key))
    return text or "the document"


def read_document(
    path: Path, *, name: str | None = None, max_bytes: int = MAX_SOURCE_BYTES
) -> SourceDocument:
    """Read and parse `path` (YAML when it ends in .yaml/.yml, else JSON); raise InputError."""
    shown = name or str(path)
    where = Location(shown)
    try:
        size = path.stat().st_size
    except OSError as err:
        raise InputError(
            where,
            f"cannot read the file: {err.strerror}",
            "check that the path exists and is readable",
        ) from err
    if size > max_bytes:
        raise InputError(
            where,
            f"the file is {size:,} bytes, over the import limit of {max_bytes:,} bytes",
            "import a smaller document (e.g. one API version), or split it",
        )
    raw = read_bounded(path, max_bytes, where=where)
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as err:
        line, column = position(raw[: err.start].decode("utf-8", "replace"), err.start)
        raise InputError(
            Location(shown, line, column),
            f"the file is not UTF-8 text (byte 0x{raw[err.start]:02X} at offset {err.start})",
            "save it as UTF-8",
        ) from err
    digest = hashlib.sha256(raw).hexdigest()
    if not text.strip():
        raise InputError(
            Location(shown, 1, 1), "the file is empty", "pass the complete exported document"
        )
    if path.suffix.lower() in (".yaml", ".yml"):
        document = parse_yaml(text, Path(shown))
        return SourceDocument(shown, text, document.data, digest, document, path)
    return SourceDocument(shown, text, parse_json(text, shown), digest, path=path)


MAX_INT_DIGITS = 4300  # Python's own limit on converting text to int (CVE-2020-10735)
_LONG_NUMBER = re.compile(rf"-?[0-9]{{{MAX_INT_DIGITS + 1},}}")


def parse_json(text: str, name: str) -> Any:
    """Parse JSON text; a syntax error becomes an InputError at its line and column."""
    try:
        return json.loads(text)
    except json.JSONDecodeError as err:
        truncated = err.pos >= len(text.rstrip()) or err.msg.startswith("Unterminated string")
        if truncated:
            line, column = position(text, len(text.rstrip()))
            raise InputError(
                Location(name, line, column),
                "the JSON document ends before it is complete (the file looks truncated)",
                "download or export the document again; its last "
                f"{min(40, len(text.rstrip()))} characters are "
                f"{text.rstrip()[-40:]!r}",
            ) from err
        raise InputError(
            Location(name, err.lineno, err.colno),
            f"invalid JSON: {err.msg}",
            "check the quoting and the commas around this position "
            "(JSON allows no comments and no trailing commas)",
        ) from err
    except RecursionError as err:
        raise InputError(
            Location(name), "the JSON document is nested too deeply", "flatten it"
        ) from err
    except ValueError as err:  # an integer longer than Python converts
        found = _LONG_NUMBER.search(text)
        line, column = position(text, found.start()) if found else (0, 0)
        raise InputError(
            Location(name, line, column),
            f"a number has more than {MAX_INT_DIGITS:,} digits",
            "write it as text (in quotes) or as a smaller number",
        ) from err


def _skip(text: str, offset: int) -> int:
    match = _WHITESPACE.match(text, offset)
    return match.end() if match else offset


def json_offset(
    text: str, path: PathKey, members: dict[int, dict[str | int, int]] | None = None
) -> int:
    """Offset of the value at `path` in JSON `text` (of the deepest parent found).

    `members` keeps each container's members once scanned (offset -> key -> offset), so
    that locating every entry of a large array costs one pass over it, not one each."""
    offset = _skip(text, 0)
    known = members if members is not None else {}
    try:
        for key in path:
            children = known.get(offset)
            if children is None:
                children = known[offset] = _children(text, offset)
            found = children.get(key)
            if found is None or isinstance(key, bool):
                break
            offset = found
    except (ValueError, IndexError):
        pass
    return offset


def _children(text: str, offset: int) -> dict[str | int, int]:
    """Offset of every member of the object (or item of the array) at `offset`."""
    opener = text[offset]
    if opener not in "{[":
        return {}
    closer = "}" if opener == "{" else "]"
    found: dict[str | int, int] = {}
    offset, index = _skip(text, offset + 1), 0
    while text[offset] != closer:
        if opener == "{":
            name, offset = _DECODER.raw_decode(text, offset)
            offset = _skip(text, _skip(text, offset) + 1)  # past the colon
            found.setdefault(name, offset)
        else:
            found[index] = offset
        _, offset = _DECODER.raw_decode(text, offset)
        offset = _skip(text, offset)
        if text[offset] == ",":
            offset = _skip(text, offset + 1)
        index += 1
    return found
