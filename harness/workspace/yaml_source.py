"""Safe YAML loading that remembers where every value came from.

PyYAML's node tree carries line and column marks; plain `safe_load` throws them
away. We compose the node tree ourselves, convert it to plain Python values and
keep a map from each value's path to its position, so that every later error
(schema, reference, analysis) can point at `file:line:column`. The converter
also refuses the classic attacks on YAML loaders: oversized files, alias bombs
(aliases are counted as they expand) and absurd nesting.

Hand-written rather than a round-trip loader (ruamel.yaml): positions kept inside the
parsed containers are what lets a 30 MB workspace load within the scale bench's time
and memory targets (bench/README.md).
"""

from __future__ import annotations

import stat
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from harness.errors import InputError, Location
from harness.paths import read_bounded
from harness.yaml_text import quoted

DEFAULT_MAX_FILE_BYTES = 2 * 1024 * 1024
MAX_EXPANDED_NODES = 500_000
# The text of the values a document expands to: an alias repeats its anchor's text, so a
# few kilobytes can stand for gigabytes (a 1 MiB string repeated 200,000 times). A document
# without aliases expands to at most its own size, which the byte budget always allows.
MAX_EXPANDED_BYTES = 32 * 1024 * 1024
# Python refuses to convert integers longer than this (CVE-2020-10735).
MAX_INT_DIGITS = 4300
MAX_DEPTH = 64
# Positions are kept for containers above this depth (down to flows[0].steps[3].request.url):
# below it sit free-form JSON bodies, whose errors are reported at their nearest marked parent.
MARK_DEPTH = 6

PathKey = tuple[str | int, ...]

_SCALAR_CONSTRUCTOR = yaml.constructor.SafeConstructor()
_STR = "tag:yaml.org,2002:str"
_TIMESTAMP = "tag:yaml.org,2002:timestamp"
_MERGE = "tag:yaml.org,2002:merge"
_PLAIN_TAGS = frozenset(
    f"tag:yaml.org,2002:{name}"
    for name in ("map", "seq", "str", "int", "float", "bool", "null", "timestamp")
)


def _pack(line: int, column: int) -> int:
    """A position as one int: 20 bits of column (1,048,575 at most), the line above."""
    return (line << 20) | (column if column < 0xFFFFF else 0xFFFFF)


def _unpack(mark: int) -> tuple[int, int]:
    return mark >> 20, mark & 0xFFFFF


class MarkedDict(dict[str, Any]):
    """A mapping that remembers where each of its keys and values was written.

    Marks live in the containers, keyed by the same key objects, rather than in one
    table keyed by whole paths: a workspace of a hundred thousand steps keeps its
    positions for a fraction of the memory.
    """

    __slots__ = ("marks",)

    def __init__(self) -> None:
        super().__init__()
        self.marks: dict[str, tuple[int, int]] = {}  # key -> (key mark, value mark)


class MarkedList(list[Any]):
    """A sequence that remembers where each of its items was written."""

    __slots__ = ("value_marks",)

    def __init__(self) -> None:
        super().__init__()
        self.value_marks: list[int] = []


@dataclass(slots=True)
class YamlDocument:
    """A parsed file: its plain data plus the position of every value and key.

    Positions come from the Marked containers of `data`; `value_marks` and
    `key_marks` hold explicit positions for documents that were not YAML (TOML).
    """

    path: Path
    data: Any
    value_marks: dict[PathKey, tuple[int, int]] = field(default_factory=dict)
    key_marks: dict[PathKey, tuple[int, int]] = field(default_factory=dict)
    root_mark: int = _pack(1, 1)

    def location(self, path: PathKey = (), *, key: bool = False) -> Location:
        """The position of the value at `path` (or of its key), else of its nearest parent."""
        explicit = self.key_marks if key else self.value_marks
        if explicit and path in explicit:
            return Location(str(self.path), *explicit[path])
        if self.value_marks:  # explicit positions (TOML); a YAML document's are in its data
            for end in range(len(path) - 1, -1, -1):
                if path[:end] in self.value_marks:
                    return Location(str(self.path), *self.value_marks[path[:end]])
        found = self.root_mark
        node = self.data
        for index, part in enumerate(path):
            last = index == len(path) - 1
            mark: int | None = None
            if isinstance(node, MarkedDict) and isinstance(part, str) and part in node.marks:
                mark = node.marks[part][0 if key and last else 1]
            elif isinstance(node, MarkedList) and isinstance(part, int) and not (key and last):
                mark = node.value_marks[part] if 0 <= part < len(node.value_marks) else None
            if mark is None:
                break
            found = mark
            if last:
                break
            node = node[part]
        return Location(str(self.path), *_unpack(found))


def load_yaml(path: Path, *, max_bytes: int = DEFAULT_MAX_FILE_BYTES) -> YamlDocument:
    """Read one YAML file (a single document) with positions; raise InputError on any problem."""
    where = Location(str(path))
    try:
        status = path.stat()
    except OSError as err:
        raise InputError(
            where,
            f"cannot read the file: {err.strerror}",
            "check that the file exists and is readable",
        ) from err
    if stat.S_ISREG(status.st_mode) and status.st_size > max_bytes:
        raise InputError(
            where,
            f"the file is {status.st_size:,} bytes, over the limit of {max_bytes:,} bytes",
            "split it into several files, or raise `max_file_bytes` in connector-harness.yaml",
        )
    raw = read_bounded(path, max_bytes, where=where)
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as err:
        before = raw[: err.start].decode("utf-8")
        line, column = position(before, len(before))
        raise InputError(
            Location(str(path), line, column),
            f"the file is not UTF-8 text (byte 0x{raw[err.start]:02X} at offset {err.start})",
            "save it as UTF-8 (a latin-1 or UTF-16 file must be converted)",
        ) from err
    return parse_yaml(text, path)


def position(text: str, offset: int) -> tuple[int, int]:
    """The 1-based line and column of character `offset` in `text`."""
    line = text.count("\n", 0, offset) + 1
    return line, offset - (text.rfind("\n", 0, offset) + 1) + 1


# libyaml composes ~10x faster (bundled connector packs hold hundreds of operations).
_FAST_LOADER: type[yaml.CSafeLoader] | None = getattr(yaml, "CSafeLoader", None)


if _FAST_LOADER is not None and not _FAST_LOADER.yaml_path_resolvers:

    class _LibyamlLoader(_FAST_LOADER):  # type: ignore[misc,valid-type]
        """libyaml, with the Python callbacks it makes for every node cut to what a safe
        loader needs (a fifth of composing a workspace). A safe loader has no path
        resolvers, so descending into a node and back records nothing, and collections
        and quoted scalars always take the default tag; a plain scalar's tag depends on its
        text alone (the implicit resolvers), so it is found once per distinct text."""

        def __init__(self, stream: str) -> None:
            super().__init__(stream)
            self._plain_tags: dict[str, str] = {}

        def descend_resolver(self, current_node: Any, current_index: Any) -> None:
            pass

        def ascend_resolver(self) -> None:
            pass

        def resolve(self, kind: type[yaml.Node], value: Any, implicit: Any) -> str:
            if kind is yaml.ScalarNode:
                if not implicit[0]:
                    return self.DEFAULT_SCALAR_TAG  # type: ignore[no-any-return]
                tag = self._plain_tags.get(value)
                if tag is None:
                    tag = self._plain_tags[value] = super().resolve(kind, value, implicit)
                return tag
            if kind is yaml.MappingNode:
                return self.DEFAULT_MAPPING_TAG  # type: ignore[no-any-return]
            return self.DEFAULT_SEQUENCE_TAG  # type: ignore[no-any-return]

    _FAST_LOADER = _LibyamlLoader


def _compose(text: str) -> list[yaml.Node]:
    """The node trees of `text`: libyaml when available, the pure-Python parser otherwise.

    Anything libyaml refuses is parsed again by the pure-Python parser, so that
    every error is worded and located the same way with or without libyaml.
    libyaml accepts a tab where PyYAML does not; such text takes the slow path
    so that the two never disagree about what is valid.
    """
    if _FAST_LOADER is not None and "\t" not in text:
        try:
            return list(yaml.compose_all(text, Loader=_FAST_LOADER))
        except (yaml.YAMLError, UnicodeError):
            pass
    return list(yaml.compose_all(text, Loader=yaml.SafeLoader))


def parse_yaml(text: str, path: Path) -> YamlDocument:
    """Parse YAML text that claims to come from `path`."""
    try:
        nodes = _compose(text)
    except yaml.MarkedYAMLError as err:
        mark = err.problem_mark or err.context_mark
        line, column = (mark.line + 1, mark.column + 1) if mark else (0, 0)
        problem = err.problem or err.context or "invalid YAML"
        raise InputError(
            Location(str(path), line, column),
            f"invalid YAML: {problem}",
            "check indentation, quoting and the `key: value` layout around this position",
        ) from err
    except yaml.reader.ReaderError as err:
        line, column = position(text, err.position)
        raise InputError(
            Location(str(path), line, column),
            f"invalid YAML: the unprintable character U+{err.character:04X} is not allowed",
            'remove it; inside a double-quoted string write it as an escape such as "\\t"',
        ) from err
    except yaml.YAMLError as err:
        raise InputError(
            Location(str(path)), f"invalid YAML: {err}", "check the file's YAML syntax"
        ) from err
    except RecursionError as err:
        raise _too_deep(text, path) from err
    except ValueError as err:  # PyYAML's scanner: an escape such as "\U0011FFFF"
        raise InputError(
            Location(str(path)),
            f"invalid YAML: {err}",
            "an escape in a double-quoted string names no Unicode character; remove it",
        ) from err
    if len(nodes) > 1:
        second = nodes[1].start_mark
        raise InputError(
            Location(str(path), second.line + 1, second.column + 1),
            "the file holds several YAML documents (`---`)",
            "keep one document per file, or split them into separate files",
        )
    document = YamlDocument(path=path, data=None)
    if nodes and nodes[0] is not None:
        converter = _Converter(document, max(MAX_EXPANDED_BYTES, 2 * len(text)))
        document.root_mark = _pack(nodes[0].start_mark.line + 1, nodes[0].start_mark.column + 1)
        document.data = converter.convert(nodes[0], 0)
    return document


def _too_deep(text: str, path: Path) -> InputError:
    """The composer ran out of stack: find the first collection nested too deeply."""
    location, depth = Location(str(path)), 0
    try:
        for event in yaml.parse(text, Loader=yaml.SafeLoader):  # events: no recursion
            if isinstance(event, yaml.CollectionStartEvent):
                depth += 1
                mark = event.start_mark
                if depth > MAX_DEPTH and mark is not None:
                    location = Location(str(path), mark.line + 1, mark.column + 1)
                    break
            elif isinstance(event, yaml.CollectionEndEvent):
                depth -= 1
    except yaml.YAMLError:
        pass
    return InputError(
        location, f"the document is nested deeper than {MAX_DEPTH} levels", "flatten it"
    )


_RESOLVER = yaml.resolver.Resolver()


def _implicit_tag(text: str) -> str:
    """The type YAML gives a plain scalar written with no tag."""
    tag: str = _RESOLVER.resolve(yaml.ScalarNode, text, (True, False))  # type: ignore[no-untyped-call]
    return tag


class _Converter:
    """Turns a node tree into plain values, recording marks and bounding expansion."""

    def __init__(self, document: YamlDocument, byte_budget: int) -> None:
        self.document = document
        self.expanded = 0
        self.bytes_left = byte_budget

    def _error(self, node: yaml.Node, problem: str, hint: str = "") -> InputError:
        mark = node.start_mark
        return InputError(
            Location(str(self.document.path), mark.line + 1, mark.column + 1), problem, hint
        )

    def _unsupported(self, node: yaml.Node) -> InputError:
        if (
            isinstance(node, yaml.ScalarNode)
            and not node.style
            and len(node.value) <= 40
            and _implicit_tag(node.value) == node.tag
        ):
            # no `!tag` written: a plain scalar YAML itself types (`=` is its value key)
            kind = node.tag.rsplit(":", 1)[-1]
            return self._error(
                node,
                f"the plain value {node.value!r} is read as YAML's `{kind}` type",
                f"quote it: {quoted(node.value)}",
            )
        return self._error(
            node,
            f"unsupported YAML tag {node.tag!r}",
            "remove the `!tag`; workspace files hold plain mappings, lists and scalars",
        )

    def _count(self, node: yaml.Node, values: int) -> None:
        self.expanded += values
        if self.expanded > MAX_EXPANDED_NODES:
            raise self._error(
                node,
                f"the document expands to more than {MAX_EXPANDED_NODES:,} values "
                "(an alias bomb, or a file far too large)",
                "use fewer anchors/aliases (&name / *name); write the values out instead",
            )

    def _too_deep(self, node: yaml.Node, depth: int) -> None:
        if depth > MAX_DEPTH:
            raise self._error(
                node, f"the document is nested deeper than {MAX_DEPTH} levels", "flatten it"
            )

    def convert(self, node: yaml.Node, depth: int) -> Any:
        """The value of `node`, `depth` containers down (only the depth matters: errors are
        located by the nodes' own marks)."""
        # The checks of _count and _too_deep, written out: this runs once per value.
        self.expanded += 1
        if self.expanded > MAX_EXPANDED_NODES:
            self._count(node, 0)
        if depth > MAX_DEPTH:
            self._too_deep(node, depth)
        if node.tag not in _PLAIN_TAGS:
            raise self._unsupported(node)
        if type(node) is yaml.ScalarNode:
            return self._scalar(node)
        if isinstance(node, yaml.MappingNode):
            return self._mapping(node, depth)
        if depth >= MARK_DEPTH:
            return [self.convert(item, depth + 1) for item in node.value]
        items = MarkedList()
        marks = items.value_marks
        for item in node.value:
            line, column = item.start_mark.line + 1, item.start_mark.column + 1
            marks.append((line << 20) | (column if column < 0xFFFFF else 0xFFFFF))  # _pack
            items.append(self.convert(item, depth + 1))
        return items

    def _spend(self, node: yaml.Node) -> None:
        self.bytes_left -= len(node.value)
        if self.bytes_left < 0:
            raise self._error(
                node,
                f"the document expands to more than {MAX_EXPANDED_BYTES:,} bytes of text "
                "(an alias repeating a large value)",
                "write the value once; do not repeat large values through aliases (*name)",
            )

    def _scalar(self, node: yaml.Node) -> Any:
        tag = node.tag
        self.bytes_left -= len(node.value)  # _spend, written out: once per scalar
        if self.bytes_left < 0:
            self.bytes_left += len(node.value)
            self._spend(node)
        if tag in (_STR, _TIMESTAMP):
            # dates stay text; the model parses them where they belong. Interned: flows repeat
            # the same keys, methods and hosts thousands of times, and one object each is
            # less memory and a smaller, faster workspace cache.
            return sys.intern(node.value)
        try:
            # The tag's own constructor, not construct_object: that one caches every node
            # it sees for the constructor's lifetime, which kept whole workspaces alive.
            return _SCALAR_CONSTRUCTOR.yaml_constructors[tag](_SCALAR_CONSTRUCTOR, node)
        except yaml.constructor.ConstructorError as err:
            raise self._error(
                node, f"cannot read this value: {err.problem}", "quote it to make it text"
            ) from err
        except ValueError as err:  # an integer of more than MAX_INT_DIGITS digits
            raise self._error(
                node,
                f"the number has more than {MAX_INT_DIGITS:,} digits",
                "quote it to make it text, or write a smaller number",
            ) from err

    def _mapping(self, node: yaml.MappingNode, depth: int) -> dict[str, Any]:
        marked = depth < MARK_DEPTH
        result: dict[str, Any] = MarkedDict() if marked else {}
        for key_node, value_node in self._flatten_merges(node):
            if key_node.tag not in _PLAIN_TAGS:  # a key is refused a tag as a value is
                raise self._unsupported(key_node)
            key = self._scalar(key_node) if isinstance(key_node, yaml.ScalarNode) else None
            if not isinstance(key, str):
                raise self._error(
                    key_node,
                    f"a mapping key must be text, not {_describe(key_node, key)}",
                    'quote the key, e.g. "yes": or "1":',
                )
            if key in result:
                raise self._error(
                    key_node,
                    f"duplicate key {key!r} (an earlier value would be silently lost)",
                    "keep one of the two entries",
                )
            if marked:
                start, value_start = key_node.start_mark, value_node.start_mark
                column, value_column = start.column + 1, value_start.column + 1
                result.marks[key] = (  # type: ignore[attr-defined]  # a MarkedDict when marked
                    ((start.line + 1) << 20) | (column if column < 0xFFFFF else 0xFFFFF),
                    ((value_start.line + 1) << 20)
                    | (value_column if value_column < 0xFFFFF else 0xFFFFF),
                )
            result[key] = self.convert(value_node, depth + 1)
        return result

    def _flatten_merges(
        self, node: yaml.MappingNode, depth: int = 0
    ) -> list[tuple[yaml.Node, yaml.Node]]:
        """Apply YAML merge keys (`<<: *base`); explicit keys win over merged ones.

        Merges count towards the expansion limit as they happen, and chains of
        merges (including a mapping that merges itself) are bounded like nesting.
        """
        self._too_deep(node, depth)
        for key, _ in node.value:
            if key.tag == _MERGE:
                break
        else:
            return node.value  # type: ignore[no-any-return]  # PyYAML's nodes are untyped
        pairs: list[tuple[yaml.Node, yaml.Node]] = []
        merged: list[tuple[yaml.Node, yaml.Node]] = []
        for key_node, value_node in node.value:
            if key_node.tag != _MERGE:
                pairs.append((key_node, value_node))
                continue
            sources = (
                value_node.value if isinstance(value_node, yaml.SequenceNode) else [value_node]
            )
            for source in sources:
                if not isinstance(source, yaml.MappingNode):
                    raise self._error(source, "`<<` must merge a mapping", "write `<<: *anchor`")
                self._count(source, len(source.value))
                merged.extend(self._flatten_merges(source, depth + 1))
        explicit = {k.value for k, _ in pairs if isinstance(k, yaml.ScalarNode)}
        seen: set[str] = set()
        for key_node, value_node in merged:
            if key_node.value not in explicit and key_node.value not in seen:
                seen.add(key_node.value)
                pairs.append((key_node, value_node))
        return pairs


def _describe(node: yaml.Node, value: Any) -> str:
    if isinstance(node, yaml.MappingNode):
        return "a mapping"
    if isinstance(node, yaml.SequenceNode):
        return "a list"
    if value is None:
        return "an empty value"
    return f"{type(value).__name__} {node.value!r}"
