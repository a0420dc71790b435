"""Text from input written into YAML through the emitter: never a second line, never a
different value when read back."""

from __future__ import annotations

import pytest
import yaml
from hypothesis import given
from hypothesis import strategies as st

from harness.yaml_text import comment, quoted, scalar

BREAKS = ["\n", "\r", "\r\n", "\x85", "\u2028", "\u2029"]


@pytest.mark.parametrize("line_break", BREAKS, ids=[repr(b) for b in BREAKS])
def test_a_line_break_cannot_end_a_comment(line_break: str) -> None:
    text = f"GET https://x.example/a{line_break}bindings: [evil]"
    line = comment(text)
    assert yaml.safe_load(f"{line}\nkept: 1\n") == {"kept": 1}
    assert len(line.splitlines()) == 1


def test_printable_text_stays_as_it_is_in_a_comment() -> None:
    assert comment("3 step(s); 0 secret(s)") == "# 3 step(s); 0 secret(s)"


@given(st.text())
def test_a_comment_is_one_line_whatever_the_text(text: str) -> None:
    line = comment(text)
    assert len(line.splitlines()) == 1
    assert yaml.safe_load(f"{line}\nkept: 1\n") == {"kept": 1}


@given(st.text())
def test_a_scalar_reads_back_as_the_same_text(text: str) -> None:
    written = scalar(text)
    assert len(written.splitlines()) <= 1
    assert yaml.safe_load(f"[{written}]") == [text]
    assert yaml.safe_load(f"k: {scalar(text, flow=False)}") == {"k": text}


@pytest.mark.parametrize("text", ["yes", "null", "1.0", "0x1F", "~", "on"])
def test_text_that_would_change_type_is_quoted(text: str) -> None:
    assert scalar(text) == quoted(text)


def test_plain_names_stay_plain() -> None:
    assert scalar("crm.contacts.read") == "crm.contacts.read"
    assert scalar("repo:status") in ("repo:status", '"repo:status"')
