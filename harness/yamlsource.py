"""Safe YAML loading that remembers where every value came from.

PyYAML's node tree carries line and column marks; plain `safe_load` throws them
away. We compose the node tree ourselves, convert it to plain Python values and
keep a map from each value's path to its position, so that every later error
(schema, reference, analysis) can point at `file:line:column`. The converter
also refuses the classic attacks on YAML loaders: oversized files, alias bombs
(aliases are counted as they expand) and absurd nesting.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from harness.errors import InputError, Location

DEFAULT_MAX_FILE_BYTES = 2 * 1024 * 1024
MAX_EXPANDED_NODES = 500_000
MAX_DEPTH = 64

PathKey = tuple[str | int, ...]

_SCALAR_CONSTRUCTOR = yaml.constructor.SafeConstructor()
_PLAIN_TAGS = frozenset(
    f"tag:yaml.org,2002:{name}"
    for name in ("map", "seq", "str", "int", "float", "bool", "null", "timestamp")
)


@dataclass(slots=True)
class YamlDocument:
    """A parsed file: its plain data plus the position of every value and key."""

    path: Path
    data: Any
    value_marks: dict[PathKey, tuple[int, int]] = field(default_factory=dict)
    key_marks: dict[PathKey, tuple[int, int]] = field(default_factory=dict)

    def location(self, path: PathKey = (), *, key: bool = False) -> Location:
        """The position of the value at `path` (or of its key), else of its nearest parent."""
        marks = self.key_marks if key else self.value_marks
        if path in marks:
            line, column = marks[path]
            return Location(str(self.path), line, column)
        for end in range(len(path) - 1, -1, -1):
            prefix = path[:end]
            if prefix in self.value_marks:
                line, column = self.value_marks[prefix]
                return Location(str(self.path), line, column)
        return Location(str(self.path), 1, 1)


def load_yaml(path: Path, *, max_bytes: int = DEFAULT_MAX_FILE_BYTES) -> YamlDocument:
    """Read one YAML file (a single document) with positions; raise InputError on any problem."""
    where = Location(str(path))
    try:
        size = path.stat().st_size
    except OSError as err:
        raise InputError(
            where,
            f"cannot read the file: {err.strerror}",
            "check that the file exists and is readable",
        ) from err
    if size > max_bytes:
        raise InputError(
            where,
            f"the file is {size:,} bytes, over the limit of {max_bytes:,} bytes",
            "split it into several files, or raise `max_file_bytes` in connector-harness.yaml",
        )
    try:
        raw = path.read_bytes()
    except OSError as err:
        raise InputError(
            where,
            f"cannot read the file: {err.strerror}",
            "check that the file exists and is readable",
        ) from err
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as err:
        before = raw[: err.start].decode("utf-8")
        line, column = _position(before, len(before))
        raise InputError(
            Location(str(path), line, column),
            f"the file is not UTF-8 text (byte 0x{raw[err.start]:02X} at offset {err.start})",
            "save it as UTF-8 (a latin-1 or UTF-16 file must be converted)",
        ) from err
    return parse_yaml(text, path)


def _position(text: str, offset: int) -> tuple[int, int]:
    """The 1-based line and column of character `offset` in `text`."""
    line = text.count("\n", 0, offset) + 1
    return line, offset - (text.rfind("\n", 0, offset) + 1) + 1


# libyaml composes ~10x faster (bundled connector packs hold hundreds of operations).
_FAST_LOADER: type[yaml.CSafeLoader] | None = getattr(yaml, "CSafeLoader", None)


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
        line, column = _position(text, err.position)
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
    if len(nodes) > 1:
        second = nodes[1].start_mark
        raise InputError(
            Location(str(path), second.line + 1, second.column + 1),
            "the file holds several YAML documents (`---`)",
            "keep one document per file, or split them into separate files",
        )
    document = YamlDocument(path=path, data=None)
    if nodes and nodes[0] is not None:
        converter = _Converter(document)
        document.data = converter.convert(nodes[0], ())
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


class _Converter:
    """Turns a node tree into plain values, recording marks and bounding expansion."""

    def __init__(self, document: YamlDocument) -> None:
        self.document = document
        self.expanded = 0

    def _error(self, node: yaml.Node, problem: str, hint: str = "") -> InputError:
        mark = node.start_mark
        return InputError(
            Location(str(self.document.path), mark.line + 1, mark.column + 1), problem, hint
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

    def convert(self, node: yaml.Node, path: PathKey) -> Any:
        self._count(node, 1)
        self._too_deep(node, len(path))
        if node.tag not in _PLAIN_TAGS:
            raise self._error(
                node,
                f"unsupported YAML tag {node.tag!r}",
                "remove the `!tag`; workspace files hold plain mappings, lists and scalars",
            )
        mark = node.start_mark
        self.document.value_marks.setdefault(path, (mark.line + 1, mark.column + 1))
        if isinstance(node, yaml.MappingNode):
            return self._mapping(node, path)
        if isinstance(node, yaml.SequenceNode):
            return [self.convert(item, (*path, index)) for index, item in enumerate(node.value)]
        return self._scalar(node)

    def _scalar(self, node: yaml.Node) -> Any:
        if node.tag == "tag:yaml.org,2002:timestamp":
            return str(node.value)  # dates stay text; the model parses them where they belong
        try:
            return _SCALAR_CONSTRUCTOR.construct_object(node, deep=True)
        except yaml.constructor.ConstructorError as err:
            raise self._error(
                node, f"cannot read this value: {err.problem}", "quote it to make it text"
            ) from err

    def _mapping(self, node: yaml.MappingNode, path: PathKey) -> dict[str, Any]:
        result: dict[str, Any] = {}
        for key_node, value_node in self._flatten_merges(node):
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
            child = (*path, key)
            mark = key_node.start_mark
            self.document.key_marks[child] = (mark.line + 1, mark.column + 1)
            result[key] = self.convert(value_node, child)
        return result

    def _flatten_merges(
        self, node: yaml.MappingNode, depth: int = 0
    ) -> list[tuple[yaml.Node, yaml.Node]]:
        """Apply YAML merge keys (`<<: *base`); explicit keys win over merged ones.

        Merges count towards the expansion limit as they happen, and chains of
        merges (including a mapping that merges itself) are bounded like nesting.
        """
        self._too_deep(node, depth)
        pairs: list[tuple[yaml.Node, yaml.Node]] = []
        merged: list[tuple[yaml.Node, yaml.Node]] = []
        for key_node, value_node in node.value:
            if key_node.tag != "tag:yaml.org,2002:merge":
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
