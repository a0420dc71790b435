"""Finding secrets in recordings and files, and replacing them with synthetic handles.

A value is secret when its key says so (`Authorization`, `api_key`, `client_secret`,
...), when it has the shape of a known credential (Slack, GitHub, AWS, Google,
Stripe tokens, JWTs, private keys), or when it is a long high-entropy string.
The scrubber hands out `<secret-N>` in order of first appearance, so the same
secret always gets the same handle and a recording stays deterministic.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from typing import Any

SECRET_KEY = re.compile(
    r"(?i)(auth(?!or)|token|secret|passw|pwd|api[-_]?key|apikey|signature|cookie|session"
    r"|credential|private[-_]?key|client[-_]?id|bearer|jwt|assertion)"
)
# Query parameters and form fields whose name alone says "secret", though too short or
# common to search for inside longer keys: Google's `key=`, Azure SAS `sig=`, OAuth `code=`.
SECRET_FIELDS = frozenset(
    {"key", "sig", "code", "pass", "pin", "otp", "x-amz-signature", "x-amz-credential"}
)
KNOWN_FORMATS: tuple[tuple[str, re.Pattern[str]], ...] = (
    # https://api.slack.com/authentication/token-types (bot, user, app-level, refresh, config)
    ("Slack token", re.compile(r"\bxox[abposre]-[A-Za-z0-9-]{10,}|\bxapp-[A-Za-z0-9-]{10,}")),
    (
        "Slack webhook",
        re.compile(r"hooks\.slack\.com/services/T[A-Z0-9]+/B[A-Z0-9]+/[A-Za-z0-9]{16,}"),
    ),
    # https://github.blog/2021-04-05-behind-githubs-new-authentication-token-formats/
    ("GitHub token", re.compile(r"\b(?:gh[pousr]_[A-Za-z0-9]{30,}|github_pat_[A-Za-z0-9_]{30,})")),
    ("GitLab token", re.compile(r"\bglpat-[A-Za-z0-9_-]{20,}")),
    # https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_identifiers.html#identifiers-unique-ids
    ("AWS access key id", re.compile(r"\b(?:AKIA|ASIA|AROA|AIDA)[0-9A-Z]{16}\b")),
    ("Google API key", re.compile(r"\bAIza[0-9A-Za-z_-]{35}")),
    # Google OAuth access tokens (ya29.) and refresh tokens (1//)
    ("Google OAuth token", re.compile(r"\bya29\.[0-9A-Za-z_-]{20,}|\b1//0[0-9A-Za-z_-]{20,}")),
    ("Stripe key", re.compile(r"\b[sr]k_(?:live|test)_[0-9A-Za-z]{16,}")),
    ("npm token", re.compile(r"\bnpm_[A-Za-z0-9]{36}\b")),
    ("SendGrid key", re.compile(r"\bSG\.[A-Za-z0-9_-]{16,}\.[A-Za-z0-9_-]{16,}")),
    ("JSON Web Token", re.compile(r"\beyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]*")),
    ("bearer credential", re.compile(r"(?i)\b(?:bearer|basic|token)\s+[A-Za-z0-9._~+/=-]{16,}")),
    (
        "private key",
        re.compile(r"-----BEGIN [A-Z ]*PRIVATE KEY-----[\s\S]*?-----END [A-Z ]*PRIVATE KEY-----"),
    ),
)
_CANDIDATE = re.compile(r"[A-Za-z0-9+_=-]{20,}")
_UUID = re.compile(r"^[0-9a-fA-F]{8}(-[0-9a-fA-F]{4}){3}-[0-9a-fA-F]{12}$")
MIN_ENTROPY_BITS = 3.5


def entropy(text: str) -> float:
    """Shannon entropy in bits per character."""
    counts = Counter(text)
    return -sum(n / len(text) * math.log2(n / len(text)) for n in counts.values())


def looks_random(text: str) -> bool:
    """A long token mixing letters and digits with high entropy: probably a credential.

    Identifiers that look random but are not secret (UUIDs) are left alone; a
    lower-case-only token must be long (hex digests of 32+ characters).
    """
    if len(text) < 20 or _UUID.match(text):
        return False
    has_digit = any(c.isdigit() for c in text)
    mixed_case = any(c.islower() for c in text) and any(c.isupper() for c in text)
    return has_digit and (mixed_case or len(text) >= 32) and entropy(text) >= MIN_ENTROPY_BITS


def find_secrets(text: str) -> list[tuple[str, int, int]]:
    """(kind, start, end) of every secret-looking span in `text`, in order, not overlapping."""
    spans: list[tuple[str, int, int]] = []
    for kind, pattern in KNOWN_FORMATS:
        spans.extend((kind, m.start(), m.end()) for m in pattern.finditer(text))
    for match in _CANDIDATE.finditer(text):
        if looks_random(match.group()):
            spans.append(("high-entropy string", match.start(), match.end()))
    spans.sort(key=lambda span: (span[1], -span[2]))
    result: list[tuple[str, int, int]] = []
    for span in spans:
        if not result or span[1] >= result[-1][2]:
            result.append(span)
    return result


def mask(value: str) -> str:
    """A value safe to print in a message: its first four characters and its length."""
    return f"{value[:4]}... ({len(value)} chars)"


class SecretScrubber:
    """Replaces secrets with `<secret-N>` handles; the same secret keeps the same handle."""

    def __init__(self) -> None:
        self._handles: dict[str, str] = {}

    @property
    def count(self) -> int:
        return len(self._handles)

    def handle(self, secret: str) -> str:
        if secret not in self._handles:
            self._handles[secret] = f"<secret-{len(self._handles) + 1}>"
        return self._handles[secret]

    def text(self, text: str) -> str:
        """`text` with every secret-looking span replaced."""
        pieces, position = [], 0
        for _, start, end in find_secrets(text):
            pieces += [text[position:start], self.handle(text[start:end])]
            position = end
        return "".join(pieces) + text[position:]

    def value(self, key: str, value: Any, *, under_secret: bool = False) -> Any:
        """A value under `key`: wholly replaced when the key, or any key above it, names a
        secret (`{"credentials": {"value": ...}}` is judged by its path, not its own key);
        else scrubbed inside by shape."""
        secret = under_secret or bool(SECRET_KEY.search(key))
        if isinstance(value, dict):
            return {k: self.value(str(k), v, under_secret=secret) for k, v in value.items()}
        if isinstance(value, list):
            return [self.value(key, item, under_secret=secret) for item in value]
        if isinstance(value, str):
            if secret and value and not _HANDLE.fullmatch(value):
                return self.handle(value)
            return self.text(value)
        if secret and isinstance(value, int | float) and not isinstance(value, bool):
            return self.handle(str(value))
        return value

    def field(self, name: str, value: str) -> str:
        """A query parameter or form field: by its name (`key`, `sig`, ...), else as `value`."""
        if name.strip().lower() in SECRET_FIELDS and value and not _HANDLE.fullmatch(value):
            return self.handle(value)
        result: str = self.value(name, value)
        return result


_HANDLE = re.compile(r"<secret-[0-9]+>")
