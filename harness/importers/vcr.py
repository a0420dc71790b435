"""VCR.py / pytest-recording cassettes (YAML or JSON) to recorded calls.

A cassette is `{interactions: [{request: {method, uri, body, headers},
response: {status: {code}, headers, body: {string}}}]}`, headers mapping each
name to a list of values. Bodies are text, `!!binary` bytes, or absent; a
response kept compressed (no `decode_compressed_response`) is decompressed.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from harness.errors import InputError, Location
from harness.importers.spec import Skipped
from harness.importers.traffic import BodyTooLarge, RecordedCall, RecordedResponse, decode_body
from harness.paths import read_bounded
from harness.workspace.source_document import MAX_SOURCE_BYTES, parse_json

_LOADER: type[yaml.SafeLoader] | type[yaml.CSafeLoader] = getattr(
    yaml, "CSafeLoader", yaml.SafeLoader
)


def _headers(raw: Any) -> tuple[tuple[str, str], ...]:
    if not isinstance(raw, dict):
        return ()
    pairs: list[tuple[str, str]] = []
    for name, values in raw.items():
        for value in values if isinstance(values, list) else [values]:
            pairs.append((str(name), str(value)))
    return tuple(pairs)


def _body(raw: Any) -> bytes | None:
    if isinstance(raw, dict):
        raw = raw.get("string", raw.get("base64_string"))
    if raw is None or raw == "":
        return None
    if isinstance(raw, bytes):
        return raw
    return str(raw).encode("utf-8")


def read_cassette(path: Path, name: str) -> tuple[Any, list[Location]]:
    """The cassette's data and the location of each interaction (InputError when unreadable)."""
    raw = read_bounded(path, MAX_SOURCE_BYTES, where=Location(name))
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as err:
        raise InputError(
            Location(name), "the file is not UTF-8 text", "save the cassette as UTF-8"
        ) from err
    if text.lstrip().startswith("{"):
        data = parse_json(text, name)
        interactions = data.get("interactions") if isinstance(data, dict) else None
        return data, [Location(name)] * (len(interactions) if isinstance(interactions, list) else 0)
    try:
        loader = _LOADER(text)
        try:
            node = loader.get_single_node()
            data = loader.construct_document(node) if node is not None else None
        finally:
            loader.dispose()
    except yaml.MarkedYAMLError as err:
        mark = err.problem_mark or err.context_mark
        line, column = (mark.line + 1, mark.column + 1) if mark else (0, 0)
        raise InputError(
            Location(name, line, column),
            f"invalid YAML: {err.problem or err.context}",
            "pass a VCR.py cassette as its recorder wrote it",
        ) from err
    except (yaml.YAMLError, ValueError, RecursionError) as err:  # ValueError: a bad escape
        raise InputError(Location(name), f"invalid YAML: {err}", "pass a VCR.py cassette") from err
    locations: list[Location] = []
    if isinstance(node, yaml.MappingNode):
        for key, value in node.value:
            if key.value == "interactions" and isinstance(value, yaml.SequenceNode):
                for item in value.value:
                    locations.append(
                        Location(name, item.start_mark.line + 1, item.start_mark.column + 1)
                    )
    return data, locations


def vcr_calls(path: Path, name: str) -> tuple[list[RecordedCall], list[Skipped]]:
    """Every interaction of a cassette as a RecordedCall; malformed ones are skipped."""
    data, locations = read_cassette(path, name)
    interactions = data.get("interactions") if isinstance(data, dict) else None
    if not isinstance(interactions, list):
        raise InputError(
            Location(name, 1, 1),
            "not a VCR cassette: expected `interactions`, a list of request/response pairs",
            "pass a cassette written by VCR.py or pytest-recording",
        )
    calls: list[RecordedCall] = []
    skipped: list[Skipped] = []
    for index, interaction in enumerate(interactions):
        location = locations[index] if index < len(locations) else Location(name)
        request = interaction.get("request") if isinstance(interaction, dict) else None
        if not isinstance(request, dict) or not request.get("uri") or not request.get("method"):
            skipped.append(
                Skipped(
                    location, f"interaction {index}", "it has no `request` with `method` and `uri`"
                )
            )
            continue
        notes: list[str] = []
        response = interaction.get("response")
        answer: RecordedResponse | None = None
        if isinstance(response, dict):
            code = response.get("status")
            code = code.get("code") if isinstance(code, dict) else code
            if isinstance(code, int):
                response_headers = _headers(response.get("headers"))
                content = _body(response.get("body"))
                if content:
                    try:
                        content = decode_body(content, response_headers)
                    except BodyTooLarge as err:
                        raise InputError(
                            location,
                            f"interaction {index}: {err}",
                            "record the cassette with decode_compressed_response=True, or "
                            "leave this interaction out",
                        ) from err
                answer = RecordedResponse(code, response_headers, content)
        if answer is None:
            notes.append("no response status was recorded; imported without a response")
        headers, body = _headers(request.get("headers")), _body(request.get("body"))
        calls.append(
            RecordedCall.of(
                request["method"], request["uri"], headers, body, answer, location, notes
            )
        )
    return calls, skipped
