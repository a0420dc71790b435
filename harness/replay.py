"""Replaying a recorded flow under a binding: steps in, decisions out."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import Any

from harness.calls import CallContext, Request, Response
from harness.decisions import Decision
from harness.model import Binding, Flow, Step
from harness.placeholders import placeholder_names, substitute, substitute_url
from harness.sandbox import Sandbox

Transport = Callable[[Request, CallContext], Response]


def replay(
    sandbox: Sandbox,
    flow: Flow,
    binding: Binding,
    transport: Transport | None = None,
    *,
    lifetime: int | None = None,
    grants: Mapping[str, Iterable[str]] | None = None,
) -> list[Decision]:
    """Run every step of `flow` under `binding`; return the decisions of this replay.

    A denied or blocked call continues with its recorded response, so one replay
    finds every missing permission instead of stopping at the first. `lifetime`
    overrides the connector's token lifetime (to test a policy maximum), `grants`
    the binding's grants (to explore scope sets).
    """
    send = transport or sandbox.handle
    sandbox.reset()
    first = len(sandbox.decisions)
    token = sandbox.issue_token(binding, lifetime=lifetime, grants=grants)
    values: dict[str, Any] = dict(flow.variables)
    received = 0
    for step in flow.steps:
        sandbox.clock.advance(step.wait_seconds)
        if step.action:
            token = _credential_event(sandbox, binding, step.action, token, lifetime, grants)
            continue
        recorded = recorded_response(step)
        request = _render(step, values, token)
        context = CallContext(flow.name, step.index, step.name, recorded)
        response = send(request, context)
        if response.blocked or response.status in (401, 403):
            response = recorded
        else:
            received += len(response.body_bytes())
        for name, path in step.capture:
            values[name] = _capture(response, path, recorded)
    sandbox.response_bytes[(binding.name, flow.name)] = received
    return sandbox.decisions[first:]


def _credential_event(
    sandbox: Sandbox,
    binding: Binding,
    action: str,
    token: str,
    lifetime: int | None,
    grants: Mapping[str, Iterable[str]] | None,
) -> str:
    """refresh: a new token; rotate: a new token and the old revoked; revoke: the old revoked."""
    if action in ("rotate", "revoke"):
        claims = sandbox.tokens.identify(token)
        if claims is not None:
            sandbox.tokens.revoke(claims.token_id)
    if action == "revoke":
        return token
    return sandbox.issue_token(binding, lifetime=lifetime, grants=grants)


def recorded_response(step: Step) -> Response:
    """A step's recorded response: what the flow got, and what it gets when refused."""
    return Response(
        step.response_status or 200,
        step.response_json,
        step.response_headers,
        content=step.response_content,
    )


def _render(step: Step, values: dict[str, Any], token: str) -> Request:
    if step.sql:  # a statement: templates become bound parameters, in order
        params = [values.get(name) for name in placeholder_names(step.sql)]
        body = {"statement": step.sql, "params": params, "operation": step.statement}
        return Request("SQL", step.url, {"Authorization": f"Bearer {token}"}, body)
    headers = {key: substitute(value, values) for key, value in step.headers}
    headers["Authorization"] = f"Bearer {token}"
    url = substitute_url(step.url, values)
    return Request(step.method, url, headers, substitute(step.body, values), step.content)


_MISSING = object()


def _capture(response: Response, path: str, recorded: Response) -> Any:
    for source in (response, recorded):
        value = _read(source, path)
        if value is not _MISSING:
            return value
    return None


def _read(response: Response, path: str) -> Any:
    parts = path.split(".")[1:]  # drop "response"
    if parts == ["status"]:
        return response.status
    if parts[0] == "headers" and len(parts) == 2:
        found = response.header(parts[1])
        return _MISSING if found is None else found
    data: Any = response.json
    for part in parts[1:]:
        if isinstance(data, dict) and part in data:
            data = data[part]
        elif isinstance(data, list) and part.isdigit() and int(part) < len(data):
            data = data[int(part)]
        else:
            return _MISSING
    return data
