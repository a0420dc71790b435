"""Replaying a recorded flow under a binding: steps in, decisions out."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from typing import Any
from urllib.parse import quote

from harness.calls import CallContext, Request, Response
from harness.decisions import Decision
from harness.model import Binding, Flow, Step
from harness.sandbox import Sandbox
from harness.workspace.flows import TEMPLATE

Transport = Callable[[Request, CallContext], Response]

_WHOLE_TEMPLATE = re.compile(r"^\{\{\s*([A-Za-z_][A-Za-z0-9_.-]*)\s*\}\}$")


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
        recorded = _recorded(step)
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


def _recorded(step: Step) -> Response:
    return Response(
        step.response_status or 200,
        step.response_json,
        step.response_headers,
        content=step.response_content,
    )


def _render(step: Step, values: dict[str, Any], token: str) -> Request:
    if step.sql:  # a statement: templates become bound parameters, in order
        params = [values.get(name) for name in TEMPLATE.findall(step.sql)]
        body = {"statement": step.sql, "params": params, "operation": step.statement}
        return Request("SQL", step.url, {"Authorization": f"Bearer {token}"}, body)
    headers = {key: substitute(value, values) for key, value in step.headers}
    headers["Authorization"] = f"Bearer {token}"
    url = TEMPLATE.sub(lambda m: quote(str(values.get(m[1], "")), safe=""), step.url)
    return Request(step.method, url, headers, substitute(step.body, values), step.content)


def substitute(value: Any, values: dict[str, Any]) -> Any:
    """Replace `{{ name }}` in strings, recursively; a whole-string template keeps the value's type."""
    if isinstance(value, str):
        whole = _WHOLE_TEMPLATE.match(value)
        if whole:
            return values.get(whole[1])
        return TEMPLATE.sub(lambda m: str(values.get(m[1], "")), value)
    if isinstance(value, dict):
        return {key: substitute(item, values) for key, item in value.items()}
    if isinstance(value, list):
        return [substitute(item, values) for item in value]
    return value


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
