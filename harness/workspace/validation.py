"""JSON Schema validation of workspace files, with errors written for people.

The schemas ship in `harness/schemas/`. jsonschema finds what is wrong; this
module says it the way a reviewer would: where (file:line:column of the key or
value), what is wrong, and what to write instead.
"""

from __future__ import annotations

import difflib
import json
from collections.abc import Callable
from functools import cache
from importlib import resources
from typing import TYPE_CHECKING, Any

import fastjsonschema

from harness.errors import InputError
from harness.workspace.yaml_source import YamlDocument

if TYPE_CHECKING:  # jsonschema explains invalid documents; valid ones never import it
    import jsonschema
    from jsonschema.exceptions import ValidationError

MAX_ERRORS_PER_FILE = 20

_TYPE_NAMES = {
    "object": "a mapping (key: value)",
    "array": "a list",
    "string": "text",
    "integer": "a whole number",
    "number": "a number",
    "boolean": "true or false",
    "null": "an empty value",
}

_EMPTY_HINTS = {
    "service": "start it with `service:`, `hosts:`, `scopes:` and `operations:`, or delete the file",
    "policy": "give it `connectors:`, `roles:`, `bindings:` or `flows:`, or delete the file",
}


@cache
def load_schema(kind: str) -> dict[str, Any]:
    """The published JSON Schema for one file kind: service, policy or config."""
    text = resources.files("harness.schemas").joinpath(f"{kind}.schema.json").read_text("utf-8")
    schema: dict[str, Any] = json.loads(text)
    return schema


def end_anchored(pattern: str) -> str:
    """A schema `pattern` as Python must run it: JSON Schema's `$` (ECMA-262) matches only at
    the end of the text, Python's also before a final newline, so `"1h\\n"` would pass
    `^[0-9]+h$`. A closing `$` becomes `\\Z`; the schemas hold no other unescaped `$`."""
    if pattern.endswith("$") and not pattern.endswith("\\$"):
        return pattern[:-1] + "\\Z"
    return pattern


def _python_patterns(node: Any) -> Any:
    """A copy of a schema with every `pattern` made end-anchored for Python (`end_anchored`)."""
    if isinstance(node, dict):
        return {
            key: end_anchored(value)
            if key == "pattern" and isinstance(value, str)
            else _python_patterns(value)
            for key, value in node.items()
        }
    if isinstance(node, list):
        return [_python_patterns(item) for item in node]
    return node


@cache
def _python_schema(kind: str) -> dict[str, Any]:
    schema: dict[str, Any] = _python_patterns(load_schema(kind))
    return schema


@cache
def _validator(kind: str) -> jsonschema.Draft202012Validator:
    import jsonschema

    return jsonschema.Draft202012Validator(_python_schema(kind))


@cache
def _fast_check(kind: str) -> Callable[[Any], Any]:
    """The same schema compiled to Python code: it only says valid or not, twenty times faster."""
    return fastjsonschema.compile(_python_schema(kind))


def conforms(kind: str, data: Any) -> bool:
    """Whether `data` is valid under the schema of `kind` (no errors built)."""
    try:
        _fast_check(kind)(data)
    except fastjsonschema.JsonSchemaException:
        return False
    return True


def validate(document: YamlDocument, kind: str, *, what: str) -> list[InputError]:
    """Every schema violation in `document`, as located InputErrors (empty when valid)."""
    if document.data is None:
        hint = _EMPTY_HINTS.get(kind, "write its content, or delete the file")
        return [InputError(document.location(), f"the file is empty; expected {what}", hint)]
    if conforms(kind, document.data):
        return []
    # invalid: jsonschema finds every error and where it is
    errors = sorted(
        _validator(kind).iter_errors(document.data), key=lambda e: [str(p) for p in e.absolute_path]
    )
    found: list[InputError] = []
    reported_paths: set[tuple[Any, ...]] = set()
    for error in errors:
        path = tuple(error.absolute_path)
        if path in reported_paths:
            continue
        reported_paths.add(path)
        found.append(_explain(document, error))
        if len(found) >= MAX_ERRORS_PER_FILE:
            break
    return found


def _explain(document: YamlDocument, error: ValidationError) -> InputError:
    path = tuple(error.absolute_path)
    where = document.location(path)
    field = _describe_path(path)
    schema: dict[str, Any] = error.schema if isinstance(error.schema, dict) else {}
    hint = str(schema.get("x-hint", ""))
    instance = error.instance
    expected: Any = error.validator_value
    if error.validator == "additionalProperties" and isinstance(instance, dict):
        allowed = sorted(schema.get("properties", {}))
        unknown = sorted(key for key in instance if key not in allowed)
        if unknown and allowed:
            key = unknown[0]
            suggestion = difflib.get_close_matches(key, allowed, n=1)
            advice = f"did you mean `{suggestion[0]}`? " if suggestion else ""
            return InputError(
                document.location((*path, key), key=True),
                f"unknown key `{key}` in {field}",
                f"{advice}allowed keys here: {', '.join(allowed)}",
            )
        if unknown:
            return InputError(where, f"{field} cannot have key `{unknown[0]}`", hint)
    if error.validator == "required":
        missing = str(error.message).split("'")[1] if "'" in error.message else "?"
        return InputError(
            where, f"{field} is missing the required key `{missing}`", f"add `{missing}: ...` here"
        )
    if error.validator == "type":
        names = [expected] if isinstance(expected, str) else list(expected)
        wanted = " or ".join(_TYPE_NAMES.get(name, name) for name in names)
        return InputError(
            where,
            f"{field} must be {wanted}, not {_kind_of(instance)}",
            hint or f"write {wanted} here",
        )
    if error.validator in ("enum", "const"):
        choices = expected if error.validator == "enum" else [expected]
        texts = [str(choice) for choice in choices]
        suggestion = difflib.get_close_matches(str(instance), texts, n=1)
        advice = f"did you mean `{suggestion[0]}`? " if suggestion else ""
        return InputError(
            where, f"{field} cannot be {instance!r}", f"{advice}write one of: {', '.join(texts)}"
        )
    if error.validator == "pattern":
        return InputError(
            where,
            f"{field} has an invalid value {instance!r}",
            hint or f"the value must match the pattern {_published(str(expected))}",
        )
    if error.validator in ("oneOf", "anyOf"):
        return InputError(
            where,
            f"{field} has an unexpected form: {_short(instance)}",
            hint or "see docs/workspace.md for the accepted forms",
        )
    if error.validator in ("minItems", "minProperties"):
        return InputError(where, f"{field} must not be empty", hint or "add at least one entry")
    if error.validator == "uniqueItems":
        return InputError(where, f"{field} lists the same entry twice", "remove the duplicate")
    if error.validator in ("minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum"):
        bound = "at least" if "inimum" in error.validator else "at most"
        return InputError(
            where,
            f"{field}: {error.message}",
            hint or f"write a number {bound} {expected}",
        )
    return InputError(where, f"{field}: {error.message}", hint or "see docs/workspace.md")


def _published(pattern: str) -> str:
    """A pattern as the published schema writes it (`end_anchored` undone)."""
    return pattern[:-2] + "$" if pattern.endswith("\\Z") else pattern


def _describe_path(path: tuple[Any, ...]) -> str:
    if not path:
        return "the document"
    text = ""
    for part in path:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return f"`{text}`"


def _kind_of(value: Any) -> str:
    if isinstance(value, bool):
        return f"the boolean {str(value).lower()}"
    if value is None:
        return "an empty value"
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, str):
        return f"the text {value!r}"
    return f"the number {value!r}"


def _short(value: Any) -> str:
    text = json.dumps(value, default=str)
    return text if len(text) <= 60 else text[:57] + "..."
