"""What reaches a terminal: inputs escaped, the project's own colour and redraws kept."""

from __future__ import annotations

import io

from harness.render.style import CLEAR_LINE, PrintableStream, Style, printable, redraw


def test_printable_escapes_what_a_terminal_would_act_on() -> None:
    text = "a\x1b[2Jb\x07c\x9bd\u202ee\u2066f\r\x7f"
    assert printable(text) == "a\\u001b[2Jb\\u0007c\\u009bd\\u202ee\\u2066f\\u000d\\u007f"


def test_printable_keeps_text_tabs_line_breaks_and_other_scripts() -> None:
    text = "naïve\tcafé\nÅngström — 東京 🙂 مرحبا"
    assert printable(text) == text


def test_a_printable_stream_escapes_writes_but_not_its_own_redraw() -> None:
    raw = io.StringIO()
    stream = PrintableStream(raw)
    redraw(stream, "[1/2] replaying \x1b[31mx")
    assert raw.getvalue() == CLEAR_LINE + "[1/2] replaying \\u001b[31mx"


def test_colour_comes_only_from_style() -> None:
    assert Style(True)("PASS", "green") == "\x1b[32mPASS\x1b[0m"
    assert Style(False)("PASS", "green") == "PASS"
