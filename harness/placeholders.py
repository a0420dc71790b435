"""`{{ name }}` placeholders in recorded steps: a flow variable, or a value an earlier step
captured. The loader checks their names, replay fills them in, and a SQL step's become the
statement's bound parameters."""

from __future__ import annotations

import itertools
import re
from collections.abc import Mapping
from typing import Any
from urllib.parse import quote

PLACEHOLDER = re.compile(r"\{\{\s*([A-Za-z_][A-Za-z0-9_.-]*)\s*\}\}")
_WHOLE = re.compile(r"^\{\{\s*([A-Za-z_][A-Za-z0-9_.-]*)\s*\}\}$")


def placeholder_names(text: str) -> list[str]:
    """The names of the placeholders in `text`, in order, repeats included."""
    return PLACEHOLDER.findall(text)


def substitute(value: Any, values: dict[str, Any]) -> Any:
    """Replace `{{ name }}` in strings, recursively; a whole-string template keeps the value's type."""
    if isinstance(value, str):
        whole = _WHOLE.match(value)
        if whole:
            return values.get(whole[1])
        return PLACEHOLDER.sub(lambda m: str(values.get(m[1], "")), value)
    if isinstance(value, dict):
        return {key: substitute(item, values) for key, item in value.items()}
    if isinstance(value, list):
        return [substitute(item, values) for item in value]
    return value


def substitute_url(url: str, values: Mapping[str, Any], *, keep_unknown: bool = False) -> str:
    """Replace `{{ name }}` in a URL with its value as a platform would paste it in: in the
    path a `/` in the value stays one (`{{ full_name }}` holding `acme/widgets` is two
    segments, as GitHub's `/repos/{owner}/{repo}` expects); in the query and fragment the
    value is one percent-encoded parameter value. Everything else a value holds is
    percent-encoded, so it cannot add a query, a fragment or another placeholder.
    `keep_unknown`: a name without a value stays a placeholder (a value captured at
    replay); else it becomes empty."""
    split = min((i for i in (url.find("?"), url.find("#")) if i >= 0), default=len(url))

    def fill(text: str, safe: str) -> str:
        def value(match: re.Match[str]) -> str:
            if match[1] not in values:
                return match[0] if keep_unknown else ""
            return quote(str(values[match[1]]), safe=safe)

        return PLACEHOLDER.sub(value, text)

    return fill(url[:split], "/") + fill(url[split:], "")


def bind_parameters(statement: str, marker: str) -> str:
    """A SQL statement with each placeholder replaced by a bound-parameter marker: `%s`, or
    `$` for PostgreSQL's numbered `$1, $2, ...`."""
    if marker != "$":
        return PLACEHOLDER.sub(lambda _: marker, statement)
    numbers = itertools.count(1)
    return PLACEHOLDER.sub(lambda _: f"${next(numbers)}", statement)
