"""HAR 1.2 files (browser or proxy recordings) to recorded calls.

A HAR keeps request bodies as `postData.text` (or only `params` for forms) and
response bodies as `content.text`, base64 when `encoding` says so. Browsers
often leave bodies out: such an entry is still imported, with a note, and a
response without a status (a failed or blocked request) becomes a step without
a recorded response.
"""

from __future__ import annotations

import base64
import binascii
from typing import Any
from urllib.parse import urlencode

from harness.errors import InputError
from harness.importers.spec import Skipped
from harness.importers.traffic import RecordedCall, RecordedResponse
from harness.workspace.source_document import PathKey, SourceDocument


def _headers(raw: Any) -> tuple[tuple[str, str], ...]:
    if not isinstance(raw, list):
        return ()
    return tuple(
        (str(item["name"]), str(item.get("value", "")))
        for item in raw
        if isinstance(item, dict) and "name" in item and not str(item["name"]).startswith(":")
    )


def _text(raw: Any, notes: list[str], what: str) -> bytes | None:
    """The bytes of a HAR body (`postData` or `content`), None when it was not recorded."""
    if not isinstance(raw, dict):
        return None
    text = raw.get("text")
    if text is None:
        params = raw.get("params")
        if isinstance(params, list) and params:
            pairs = [
                (str(p.get("name", "")), str(p.get("value", "")))
                for p in params
                if isinstance(p, dict)
            ]
            if len(pairs) < len(params):
                notes.append(
                    f"{len(params) - len(pairs)} {what} form field(s) are not "
                    "`{name, value}` objects; left out"
                )
            return urlencode(pairs).encode()
        size = raw.get("size")
        if isinstance(size, int) and size > 0:
            notes.append(f"the {what} body ({size} bytes) was not recorded in the HAR")
        return None
    if raw.get("encoding") == "base64":
        try:
            return base64.b64decode(str(text), validate=True)
        except (binascii.Error, ValueError):
            notes.append(f"the {what} body is marked base64 but is not; kept as text")
    return str(text).encode("utf-8")


def har_calls(document: SourceDocument) -> tuple[list[RecordedCall], list[Skipped]]:
    """Every entry of a HAR document as a RecordedCall; malformed entries are skipped."""
    log = document.data.get("log") if isinstance(document.data, dict) else None
    entries = log.get("entries") if isinstance(log, dict) else None
    if not isinstance(entries, list):
        raise InputError(
            document.location(("log",) if isinstance(log, dict) else ()),
            "not a HAR file: expected `log.entries`, a list of recorded requests",
            "export the recording as HAR 1.2 (browser developer tools: Save all as HAR)",
        )
    calls: list[RecordedCall] = []
    skipped: list[Skipped] = []
    for index, entry in enumerate(entries):
        path: PathKey = ("log", "entries", index)
        location = document.location(path)
        request = entry.get("request") if isinstance(entry, dict) else None
        if not isinstance(request, dict) or not request.get("url") or not request.get("method"):
            skipped.append(
                Skipped(location, f"entry {index}", "it has no `request` with `method` and `url`")
            )
            continue
        notes: list[str] = []
        body = _text(request.get("postData"), notes, "request")
        response = entry.get("response")
        answer: RecordedResponse | None = None
        if isinstance(response, dict) and isinstance(response.get("status"), int):
            if response["status"] > 0:
                # HAR keeps the decoded body (content-encoding already undone).
                content = _text(response.get("content"), notes, "response")
                answer = RecordedResponse(
                    response["status"], _headers(response.get("headers")), content
                )
            else:
                notes.append("no response was recorded (status 0: the request failed)")
        else:
            notes.append("the entry has no response status; imported without a response")
        headers = _headers(request.get("headers"))
        calls.append(
            RecordedCall.of(
                request["method"], request["url"], headers, body, answer, location, notes
            )
        )
    return calls, skipped
