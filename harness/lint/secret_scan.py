"""CH107: secrets written in workspace files and sidecar bodies. A finding never carries the
secret: it shows `harness.secrets.mask` of it. Content hashes (an ETag, a checksum),
words joined by `_`, `-` or `.` and camelCase identifiers are long but not random, and are
let through; in an exported n8n workflow (`*.n8n.json`), full of random-looking ids, only
known token formats are secrets."""

from __future__ import annotations

import re
from collections.abc import Iterator

from harness.errors import Location
from harness.lint.disables import EXAMPLE_DISABLE
from harness.lint.rules import LintFinding, finding
from harness.secrets import KNOWN_FORMATS, find_secrets, mask
from harness.workspace.yaml_source import position

# A hex digest under a key like these is a content hash (an ETag, a checksum), not a secret.
_DIGEST_KEY = re.compile(
    r"(?i)\b(?:e-?tag|if-(?:none-)?match|sha\d*|md5|checksum|digest|hash|crc32c?)"
    r"[\"']?\s*[:=]\s*[\"'\\]*$"
)

# Words joined by `_`, `-` or `.` (a file name, an identifier) are long, but not random.
_WORDS = re.compile(
    r"^(?:[A-Za-z][a-z]*[0-9]{0,3}|[0-9]{1,4})(?:[_.-](?:[A-Za-z][a-z]*[0-9]{0,3}|[0-9]{1,4}))+$"
)

# camelCase identifiers (`googleDriveOAuth2Api`): every segment after the first starts with a
# capital or is a short number, and a lower-case run never follows a digit, as in a token.
_CAMEL = re.compile(r"^[a-z]+(?:[A-Z][a-z]+|[A-Z]+(?=[A-Z][a-z]|[0-9]|$)|[0-9]{1,2}(?=[A-Z]|$))+$")


def _harmless(kind: str, value: str, before: str) -> bool:
    """A high-entropy match that is a content hash or joined words, hiding no known token."""
    if kind != "high-entropy string" or any(p.search(value) for _, p in KNOWN_FORMATS):
        return False
    return bool(_DIGEST_KEY.search(before) or _WORDS.match(value) or _CAMEL.match(value))


def secrets(texts: dict[str, str]) -> Iterator[LintFinding]:
    """A CH107 finding for each secret in the files' texts (display path -> text)."""
    for display, text in texts.items():
        # An n8n export is full of random-looking ids (instances, documents, credentials);
        # in it only known token formats are secrets.
        export = display.endswith(".n8n.json")
        for kind, start, end in find_secrets(text):
            if export and kind == "high-entropy string":
                continue
            value = text[start:end]
            line_start = text.rfind("\n", 0, start) + 1
            if _harmless(kind, value, text[line_start:start]):
                continue
            line, column = position(text, start)
            article = "an" if kind[0].lower() in "aeiou" else "a"
            yield finding(
                "CH107",
                Location(display, line, column),
                f"{article} {kind} is written in this file: {mask(value)}",
                "delete it and rotate the credential at its issuer (treat it as leaked); "
                "recordings keep `<secret-N>` handles instead, and a file of deliberate fake "
                f"keys takes `{EXAMPLE_DISABLE}`",
            )
