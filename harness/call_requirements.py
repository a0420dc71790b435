"""What a call leaves for later calls of the same replay, and the requirement it was judged by.

`authorize` (harness.authorization) decides what a call needs, `effective_requirement`,
into an `Effective`. Once the call is answered, `after_call` remembers in the
ReplayState what later calls may depend on: the upload session a call opened (Google's
resumable uploads) and the resource an allowed call created (`creates:`);
`continued_session` finds the session a later call continues. Before a replayed call is
judged, `record_revealed` reads its recorded answer for what it tells of the resource it
addresses (`reveals:`, a public GitHub repository).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from typing import NamedTuple

from harness.arguments import ArgumentProblem, CallArguments
from harness.calls import Request, Response
from harness.conditions import RevealsRule, assigned_classes
from harness.model import Operation, Service
from harness.replay_state import ReplayState, UploadSession, dig, query_value, session_id_in
from harness.scopes import Requirement


class Effective(NamedTuple):
    """What the call needs, the argument values that decided it, or why the vendor refuses it.

    A NamedTuple, as authorization's Verdict: one is made for every call."""

    requirement: Requirement
    condition: str = ""
    invalid: str = ""


def record_revealed(
    state: ReplayState,
    rule: RevealsRule,
    params: Mapping[str, str],
    query: str,
    request: Request,
    answer: Response,
) -> None:
    """The classes the vendor's recorded `answer` tells of the resource the call addresses
    (`private: false`: a public repository), for this call and the later ones."""
    if answer.json is None:
        return
    arguments = CallArguments(query, params, request.headers, request.json, request.content)
    try:
        identifiers = arguments.values(rule.argument)
    except ArgumentProblem:
        return  # judged (and refused) as any call with that argument
    if not identifiers:
        return
    classes = frozenset(
        name
        for name, tests in rule.classes
        if all(_answer_text(dig(answer.json, path)) in values for path, values in tests)
    )
    for identifier in identifiers:
        state.record_revealed(rule.argument.resource, identifier, classes)


def _answer_text(value: object) -> str | None:
    if value is True:
        return "true"
    if value is False:
        return "false"
    if isinstance(value, (str, int, float)):
        return str(value)
    return None


def opens_session(service: Service, query: str) -> bool:
    sessions = service.upload_sessions
    return sessions is not None and all(
        query_value(query, key) == value for key, value in sessions.opens
    )


def continued_session(
    state: ReplayState, services: list[Service], query: str
) -> UploadSession | None:
    """The upload session a call continues (`upload_id=...` of a session opened earlier)."""
    for service in services:
        sessions = service.upload_sessions
        if sessions is None or f"{sessions.param}=" not in query:
            continue
        session_id = query_value(query, sessions.param)
        if session_id:
            found = state.session(service.name, session_id)
            if found is not None:
                return found
    return None


def after_call(
    state: ReplayState,
    service: Service,
    operation: Operation,
    params: Mapping[str, str],
    query: str,
    arguments: CallArguments,
    url: str,
    response: Response,
    effective: Effective,
    resources: Mapping[str, str],
    allowed: bool,
    session: UploadSession | None = None,
    recorded: Response | None = None,
) -> Response:
    """Open an upload session, remember a created resource; the response, with the session's
    `Location` when the sandbox made one."""
    rule = operation.creates
    if session is None and opens_session(service, query):
        assert service.upload_sessions is not None
        param = service.upload_sessions.param
        location = response.header("Location")
        if location is None and recorded is not None:
            location = recorded.header("Location")
        session_id = session_id_in(location, param) if location else None
        if session_id is None:
            session_id = state.new_session_id()
            separator = "&" if "?" in url else "?"
            location = f"{url}{separator}{param}={session_id}"
        if allowed and response.header("Location") is None:
            response = replace(response, headers=(*response.headers, ("Location", location or "")))
        classes = assigned_classes(rule, arguments) if rule is not None else frozenset()
        state.open_session(
            session_id,
            UploadSession(
                service,
                operation,
                dict(params),
                effective.requirement,
                effective.condition,
                dict(resources),
                classes,
            ),
        )
        return response
    if allowed and rule is not None:
        identifier = dig(response.json, rule.id_path)
        if isinstance(identifier, (str, int)) and not isinstance(identifier, bool):
            classes = (
                session.created_classes
                if session is not None
                else assigned_classes(rule, arguments)
            )
            state.record_created(rule.resource, str(identifier), classes)
    return response
