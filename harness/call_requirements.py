"""The effective requirement of one call, and what an answered call leaves for later ones.

The sandbox asks `effective_requirement` for every routed call: an operation without
conditions answers with its plain requirement at once (the common path); one with
conditions evaluates its expression (harness.conditions) on the call's arguments and
the replay's state. `after_call` opens upload sessions and remembers created resources.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace

from harness.arguments import Argument, CallArguments
from harness.conditions import assigned_classes, evaluate
from harness.messages import Request, Response
from harness.model import Operation, Service
from harness.replay_state import ReplayState, UploadSession, dig, query_value, session_id_in
from harness.scopes import Requirement


@dataclass(frozen=True, slots=True)
class Effective:
    """What the call needs, the argument values that decided it, or why the vendor refuses it."""

    requirement: Requirement
    condition: str = ""
    invalid: str = ""


def call_arguments(params: Mapping[str, str], query: str, request: Request) -> CallArguments:
    return CallArguments(query, params, request.headers, request.json, request.content)


def effective_requirement(
    state: ReplayState,
    service: Service,
    operation: Operation,
    params: Mapping[str, str],
    query: str,
    request: Request,
    flow: str,
) -> Effective:
    """The concrete requirement of this call of `operation` (in `service`'s model)."""
    conditional = operation.conditional
    if conditional is None:
        return Effective(operation.requires)

    def classes(argument: Argument, value: str) -> frozenset[str]:
        return state.classes(argument.resource, value, flow)

    found = evaluate(conditional, call_arguments(params, query, request), classes)
    if found.invalid:
        return Effective(operation.requires, found.condition, found.invalid)
    requirement = found.requirement if found.requirement is not None else Requirement.unavailable()
    return Effective(requirement, found.condition)


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
    request: Request,
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
        classes = (
            assigned_classes(rule, call_arguments(params, query, request))
            if rule is not None
            else frozenset()
        )
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
                else assigned_classes(rule, call_arguments(params, query, request))
            )
            state.record_created(rule.resource, str(identifier), classes)
    return response
