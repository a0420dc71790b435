"""The YAML reader gives the same values, positions and errors through its libyaml loader
(resolver callbacks cut short, harness/workspace/yaml_source.py) as through PyYAML's own
CSafeLoader and its pure-Python SafeLoader."""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from harness.errors import InputError
from harness.workspace import yaml_source
from harness.workspace.yaml_source import parse_yaml

pytestmark = pytest.mark.skipif(
    not hasattr(yaml, "CSafeLoader"), reason="PyYAML was built without libyaml"
)

# Plain scalars every implicit resolver of the safe loader claims, and some none claims.
TRICKY = [
    "yes",
    "No",
    "on",
    "OFF",
    "true",
    "False",
    "~",
    "null",
    "",
    "0",
    "-1",
    "+7",
    "0o17",
    "0x1F",
    "1_000",
    "1.5",
    "-.inf",
    ".NaN",
    "1e3",
    "2026-12-01",
    "2026-12-01T10:00:00Z",
    "<<",
    "=",
    "12:30:00",
    "0b101",
    "nan",
    "text",
    "Yes please",
    "- x",
    "a: b",
    "#x",
]
scalars = st.one_of(
    st.sampled_from(TRICKY),
    st.text(alphabet=st.characters(blacklist_categories=("Cs", "Cc")), max_size=12),
    st.integers(),
    st.booleans(),
    st.none(),
)
values = st.recursive(
    scalars,
    lambda inner: (
        st.lists(inner, max_size=4)
        | st.dictionaries(st.sampled_from(TRICKY[-12:]) | st.text(max_size=6), inner, max_size=4)
    ),
    max_leaves=20,
)


def _render(value: Any, flow: bool, quoting: str | None) -> str:
    return yaml.safe_dump(
        value, default_flow_style=flow, default_style=quoting, allow_unicode=True, sort_keys=False
    )


def _unquoted(value: Any, depth: int = 0) -> str:
    """Block YAML with every scalar written plain, as a person would (the resolvers decide)."""
    pad = "  " * depth
    if isinstance(value, dict) and value:
        return "".join(f"{pad}{key}:\n{_unquoted(item, depth + 1)}" for key, item in value.items())
    if isinstance(value, list) and value:
        return "".join(f"{pad}-\n{_unquoted(item, depth + 1)}" for item in value)
    return f"{pad}{value}\n"


def _read(text: str, loader: type[Any] | None) -> tuple[str, Any]:
    with _loader(loader):
        try:
            document = parse_yaml(text, Path("f.yaml"))
        except InputError as err:
            return "error", str(err)
    return "ok", (_marked(document.data), document.root_mark)


def _marked(value: Any) -> Any:
    """The value with the positions its containers remember."""
    if isinstance(value, dict):
        marks = getattr(value, "marks", None)
        return ("map", marks, [(key, _marked(item)) for key, item in value.items()])
    if isinstance(value, list):
        return ("seq", getattr(value, "value_marks", None), [_marked(item) for item in value])
    return (type(value).__name__, value)


@contextmanager
def _loader(loader: type[Any] | None) -> Iterator[None]:
    kept = yaml_source._FAST_LOADER
    yaml_source._FAST_LOADER = loader
    try:
        yield
    finally:
        yaml_source._FAST_LOADER = kept


# The one place PyYAML's two loaders disagree with each other: the non-specific tag `!` on an
# empty scalar reads as "" through libyaml (a string, as the tag says) and as None through the
# pure-Python parser. The harness reads through libyaml, so there it agrees with CSafeLoader.
_EMPTY_NON_SPECIFIC = re.compile(r"(?:^|[\s\[{,:-])!(?:\s|$)")


def _agree(text: str) -> None:
    ours = _read(text, yaml_source._FAST_LOADER)
    assert ours == _read(text, yaml.CSafeLoader)
    pure = _read(text, None)  # pure Python
    assert ours == pure or _EMPTY_NON_SPECIFIC.search(text)


def test_pyyaml_loaders_differ_only_on_an_empty_non_specific_tag() -> None:
    for text in ("!\n", "a: !\n", "- !\n"):
        assert _read(text, None) != _read(text, yaml.CSafeLoader)
        _agree(text)


def test_the_harness_uses_its_own_libyaml_loader() -> None:
    assert yaml_source._FAST_LOADER is not yaml.CSafeLoader
    assert issubclass(yaml_source._FAST_LOADER, yaml.CSafeLoader)  # type: ignore[arg-type]


@settings(max_examples=150, deadline=None)
@given(value=values, flow=st.booleans(), quoting=st.sampled_from([None, "'", '"']))
def test_dumped_documents_read_the_same(value: Any, flow: bool, quoting: str | None) -> None:
    _agree(_render(value, flow, quoting))


@settings(max_examples=150, deadline=None)
@given(value=values)
def test_plain_documents_read_the_same(value: Any) -> None:
    _agree(_unquoted(value))


@pytest.mark.parametrize(
    "text",
    [
        "a: 1\na: 2\n",  # duplicate key
        "base: &b {x: 1}\nuse:\n  <<: *b\n  y: 2\n",  # merge key
        "a: !!python/object:os.system x\n",  # unsupported tag
        "a: [1, 2\n",  # unclosed flow sequence
        "? [1, 2]\n: x\n",  # a key that is not text
        "a: 2026-12-01\nb: 12:30\nc: 0o17\n",
        "a: 1\n---\nb: 2\n",  # several documents
        "=: x\n",  # a key PyYAML resolves to its `value` tag
        "!secret token: x\n",  # a tag on a key
    ],
)
def test_edge_cases_read_the_same(text: str) -> None:
    _agree(text)
