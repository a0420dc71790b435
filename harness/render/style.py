"""Colour only on a terminal (and never when NO_COLOR is set), and aligned tables."""

from __future__ import annotations

import io
import os
import re
from collections.abc import Sequence
from typing import TextIO

_ANSI = re.compile(r"\x1b\[[0-9;]*m")
# What a terminal would act on instead of showing: C0 controls but tab and newline, DEL, C1,
# and the Unicode bidirectional controls that reorder a line as it is shown (CVE-2021-42574).
_UNSHOWABLE = re.compile(
    "[\x00-\x08\x0b-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]"
)
CLEAR_LINE = "\r\x1b[2K"  # back to the start of the line, and clear it
_CODES = {"red": "31", "green": "32", "yellow": "33", "cyan": "36", "bold": "1", "dim": "2"}


def printable(text: str) -> str:
    """`text` from an input, safe to print: every character that would move the cursor,
    recolour, clear or reorder the terminal is written as its `\\uXXXX` escape instead, so a
    recording or a file name cannot forge or hide a line of the report."""
    return _UNSHOWABLE.sub(lambda found: f"\\u{ord(found.group()):04x}", text)


class PrintableStream(io.TextIOBase):
    """A terminal stream (standard error) that writes every text through `printable`, so
    no message, note or progress line can carry a control sequence from an input.
    `control` writes the one sequence the caller means (a progress line redrawn in place)."""

    def __init__(self, raw: TextIO) -> None:
        super().__init__()
        self.raw = raw

    def write(self, text: str) -> int:
        self.raw.write(printable(text))
        return len(text)

    def control(self, sequence: str) -> None:
        self.raw.write(sequence)

    def flush(self) -> None:
        self.raw.flush()

    def isatty(self) -> bool:
        return self.raw.isatty()

    def fileno(self) -> int:
        return self.raw.fileno()


def redraw(stream: TextIO, text: str) -> None:
    """Write `text` over the line being drawn on a terminal (a progress counter)."""
    if isinstance(stream, PrintableStream):
        stream.control(CLEAR_LINE)
    else:
        stream.write(CLEAR_LINE)
    stream.write(text)


def wants_colour(stream: TextIO) -> bool:
    if os.environ.get("NO_COLOR"):
        return False
    if os.environ.get("FORCE_COLOR"):
        return True
    return bool(getattr(stream, "isatty", lambda: False)())


class Style:
    def __init__(self, colour: bool) -> None:
        self.colour = colour

    def __call__(self, text: str, *styles: str) -> str:
        if not self.colour or not styles:
            return text
        codes = ";".join(_CODES[s] for s in styles)
        return f"\x1b[{codes}m{text}\x1b[0m"


def visible_width(text: str) -> int:
    return len(_ANSI.sub("", text))


def table(
    rows: Sequence[Sequence[str]],
    *,
    indent: str = "",
    gap: str = "  ",
    align_right: Sequence[int] = (),
) -> list[str]:
    """Rows of cells -> lines with every column aligned (ANSI colour does not count)."""
    if not rows:
        return []
    widths = [
        max(visible_width(row[i]) for row in rows if i < len(row))
        for i in range(max(map(len, rows)))
    ]
    lines = []
    for row in rows:
        cells = []
        for index, cell in enumerate(row):
            pad = " " * (widths[index] - visible_width(cell))
            last = index == len(row) - 1
            cells.append(pad + cell if index in align_right else (cell if last else cell + pad))
        lines.append((indent + gap.join(cells)).rstrip())
    return lines


def plural(count: int, word: str) -> str:
    return f"{count} {word}" + ("" if count == 1 else "s")


def part_of(part: int, total: int, noun: str, verb: str) -> str:
    """`part` of `total` things doing something, the verb agreeing with `part`:
    "1 of 3 bindings fails", "2 of 3 bindings fail", "1 of 1 binding passes"."""
    agreeing = verb + ("es" if verb.endswith(("s", "sh", "ch")) else "s") if part == 1 else verb
    return f"{part} of {plural(total, noun)} {agreeing}"
