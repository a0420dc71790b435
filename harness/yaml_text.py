"""Text from input written into YAML: always through the YAML emitter, one line each.

Importers and the recorder write URLs, titles, file names and notes that came from a
recording or a vendor document. Pasted into a `# comment` or a hand-built line, a line
break inside such text ends the comment and what follows becomes policy (a crafted HAR
adding a binding). Here every such text is a double-quoted scalar written by the
emitter (which escapes line breaks, `\\x85`, `\\u2028`, quotes and backslashes) unless it
is plain printable text that reads back as the same string.
"""

from __future__ import annotations

import math

import yaml

# Characters that keep a scalar quoted though a YAML 1.1 parser might read it plain: the
# suggestions are pasted into files other tools read too (`https://x` in a flow list).
_FLOW_INDICATORS = frozenset(":#,[]{}'\"\\")
_BLOCK_INDICATORS = frozenset(":#'\"\\")


def quoted(text: str) -> str:
    """`text` as a double-quoted YAML scalar on one line, written by the emitter."""
    dumped = yaml.dump(
        text, Dumper=yaml.SafeDumper, default_style='"', width=math.inf, allow_unicode=True
    )
    return dumped.rstrip("\n")


def _reads_back(text: str, *, flow: bool) -> bool:
    """Whether `text` written plain reads back as the same string, in a flow list or as a
    block mapping's value."""
    try:
        if flow:
            return bool(yaml.safe_load(f"[{text}]") == [text])
        return bool(yaml.safe_load(f"k: {text}") == {"k": text})
    except yaml.YAMLError:
        return False


def scalar(text: str, *, flow: bool = True) -> str:
    """`text` as a YAML scalar (inside a flow list `[...]`, or a block value when `flow` is
    false): plain when it is printable and reads back as the same string (not `yes`,
    `null`, `1.0`, nor anything with a line break), else double-quoted by the emitter."""
    plain = (
        text[:1].isalnum()
        and text.isprintable()
        and text == text.strip()
        and not (_FLOW_INDICATORS if flow else _BLOCK_INDICATORS).intersection(text)
        and _reads_back(text, flow=flow)
    )
    return text if plain else quoted(text)


def comment(text: str) -> str:
    """A `# ` comment line holding `text`: as it is when it is printable (no line break can
    end the comment early), else the emitter's double-quoted, escaped form of it."""
    return "# " + (text if text.isprintable() else quoted(text))
