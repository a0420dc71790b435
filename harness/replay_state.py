"""What one replay remembers for the requirements of later calls.

- Resources the app created (Drive's `drive.file` reaches them) and the classes
  their creation gave them (`appdata`: created in the application-data folder);
  the flow's `given:` resources (files the app was given before the flow).
- Upload sessions: Google's resumable upload opens a session with one call
  (`POST /upload/...?uploadType=resumable`, answered with a `Location`) and sends
  the bytes with another (`PUT` to that location, `upload_id=...`); the second
  call is judged by the requirement of the first.

The state is reset with the sandbox before every replay and bounded in size.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from harness.arguments import query_parameters
from harness.conditions import CREATED
from harness.model import Flow, Operation, Service
from harness.scopes import Requirement

MAX_RESOURCES = 100_000  # remembered per replay; older ones are forgotten first
MAX_SESSIONS = 10_000


@dataclass(frozen=True, slots=True)
class UploadSession:
    """A session a call opened: what the calls that continue it are judged by."""

    service: Service
    operation: Operation
    params: dict[str, str]
    requirement: Requirement | None
    condition: str
    resources: dict[str, str]
    created_classes: frozenset[str]  # the classes the uploaded resource will have


class ReplayState:
    """Resources and upload sessions of the current replay."""

    def __init__(self, flows: Iterable[Flow] = ()) -> None:
        # flow -> (kind, id) -> the classes its `given:` says the resource has
        self._given: dict[str, dict[tuple[str, str], frozenset[str]]] = {}
        for flow in flows:
            for _, kind, identifier, name in flow.given:
                found = self._given.setdefault(flow.name, {})
                found[(kind, identifier)] = found.get((kind, identifier), frozenset()) | {name}
        self.reset()

    def reset(self) -> None:
        self._created: dict[tuple[str, str], frozenset[str]] = {}
        # classes an answer told of a resource the flow did not create (a public repository)
        self._revealed: dict[tuple[str, str], frozenset[str]] = {}
        self._sessions: dict[tuple[str, str], UploadSession] = {}
        self._next_session = 0

    def classes(self, kind: str, identifier: str, flow: str) -> frozenset[str]:
        """The classes of a resource: created (and how), given, or none (pre-existing).

        Resources are known by kind, whatever service named them: a Drive `file` created
        through the Drive API is the `file` a Sheets call addresses."""
        key = (kind, identifier)
        found = self._created.get(key, frozenset())
        revealed = self._revealed.get(key)
        if revealed is not None:
            found = found | revealed
        given = self._given.get(flow)
        if given is not None and key in given:
            found = found | given[key]
        return found

    def record_created(self, kind: str, identifier: str, classes: frozenset[str]) -> None:
        if len(self._created) >= MAX_RESOURCES:
            self._created.pop(next(iter(self._created)))
        self._created[(kind, identifier)] = classes | {CREATED}

    def record_revealed(self, kind: str, identifier: str, classes: frozenset[str]) -> None:
        """Classes the vendor's answer told of a resource (`reveals:`)."""
        if not classes:
            return
        if len(self._revealed) >= MAX_RESOURCES:
            self._revealed.pop(next(iter(self._revealed)))
        key = (kind, identifier)
        self._revealed[key] = self._revealed.get(key, frozenset()) | classes

    def open_session(self, session_id: str, session: UploadSession) -> None:
        if len(self._sessions) >= MAX_SESSIONS:
            self._sessions.pop(next(iter(self._sessions)))
        self._sessions[(session.service.name, session_id)] = session

    def session(self, service: str, session_id: str) -> UploadSession | None:
        return self._sessions.get((service, session_id))

    def new_session_id(self) -> str:
        self._next_session += 1
        return f"connector-harness-upload-{self._next_session}"


def query_value(query: str, name: str) -> str | None:
    """The first value of a query parameter; the query parsed once per distinct string."""
    values = query_parameters(query).get(name)
    return values[0] if values else None


def session_id_in(location: str, param: str) -> str | None:
    """The session id in a session URI (the `Location` of the call that opened it)."""
    return query_value(urlsplit(location).query, param)


def dig(data: Any, path: Iterable[str]) -> Any:
    for part in path:
        if isinstance(data, dict):
            data = data.get(part)
        elif isinstance(data, list) and part.isdigit() and int(part) < len(data):
            data = data[int(part)]
        else:
            return None
    return data
