from __future__ import annotations

from pathlib import Path

import pytest

from harness.errors import InputError
from harness.workspace.yaml_source import load_yaml, parse_yaml

SOURCE = Path("doc.yaml")


def test_values_and_keys_keep_their_positions() -> None:
    document = parse_yaml("roles:\n  - name: a\n    grants:\n      crm: [x, y]\n", SOURCE)
    assert document.data == {"roles": [{"name": "a", "grants": {"crm": ["x", "y"]}}]}
    assert str(document.location(("roles", 0, "grants", "crm", 1))) == "doc.yaml:4:16"
    assert str(document.location(("roles", 0, "grants"), key=True)) == "doc.yaml:3:5"
    # an unknown path falls back to its nearest known parent
    assert str(document.location(("roles", 0, "missing"))) == "doc.yaml:2:5"


def test_repeated_text_is_one_object() -> None:
    # flows repeat keys, methods and hosts thousands of times: one string each, not one per use
    document = parse_yaml("- {method: GET, url: /a}\n- {method: GET, url: /b}\n", SOURCE)
    first, second = document.data
    assert first["method"] is second["method"]
    assert next(iter(first)) is next(iter(second))


def test_duplicate_keys_are_refused_where_the_second_one_is() -> None:
    with pytest.raises(InputError) as caught:
        parse_yaml("a: 1\nb: 2\na: 3\n", SOURCE)
    assert str(caught.value.location) == "doc.yaml:3:1"
    assert "duplicate key 'a'" in caught.value.problem


def test_alias_bomb_is_refused() -> None:
    lines = ['a0: &a0 ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]']
    for level in range(1, 10):
        previous = ", ".join([f"*a{level - 1}"] * 9)
        lines.append(f"a{level}: &a{level} [{previous}]")
    with pytest.raises(InputError) as caught:
        parse_yaml("\n".join(lines) + "\n", SOURCE)
    assert "alias bomb" in caught.value.problem


def test_merge_keys_are_applied_and_explicit_keys_win() -> None:
    document = parse_yaml("base: &b {x: 1, y: 2}\nthing:\n  <<: *b\n  y: 3\n", SOURCE)
    assert document.data["thing"] == {"x": 1, "y": 3}


def test_dates_stay_text_and_booleans_are_typed() -> None:
    document = parse_yaml("when: 2026-03-01\nflag: true\n", SOURCE)
    assert document.data == {"when": "2026-03-01", "flag": True}


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("a: [1, 2\n", "invalid YAML"),
        ("a: 1\n---\nb: 2\n", "several YAML documents"),
        ("? [1, 2]\n: x\n", "a mapping key must be text"),
        ("1: x\n", "a mapping key must be text"),
        ("a: !!python/object:os.system {}\n", "unsupported YAML tag"),
        ("a: !!binary aGVsbG8=\n", "unsupported YAML tag"),
    ],
)
def test_malformed_documents_name_the_problem(text: str, problem: str) -> None:
    with pytest.raises(InputError) as caught:
        parse_yaml(text, SOURCE)
    assert problem in caught.value.problem
    assert caught.value.location.line >= 1


def test_files_over_the_limit_and_non_utf8_are_refused(tmp_path: Path) -> None:
    big = tmp_path / "big.yaml"
    big.write_text("a: " + "x" * 200 + "\n")
    with pytest.raises(InputError, match="over the limit of 100 bytes"):
        load_yaml(big, max_bytes=100)
    latin = tmp_path / "latin.yaml"
    latin.write_bytes(b"name: caf\xe9\n")
    with pytest.raises(InputError, match="not UTF-8"):
        load_yaml(latin)
