"""What crosses a real wire between a transport's client and its server: request bodies,
responses, the replay context and (for a sandbox in a container) decisions.

Harness headers all start with `X-Connector-Harness-`; a server strips them before the
sandbox sees the request, so every transport hands `Sandbox.handle` the same request.
"""

from __future__ import annotations

import json
from typing import Any

from harness.calls import CallContext, Request, Response, header
from harness.decisions import BLOCKED, Decision, Judgement
from harness.scopes import Requirement

PREFIX = "X-Connector-Harness-"
FLOW = PREFIX + "Flow"  # the replayed flow's name
STEP = PREFIX + "Step"  # the replayed step's index
OUTCOME = PREFIX + "Outcome"  # allowed | denied | blocked, on every answer
DECISION = PREFIX + "Decision"  # the decision as JSON (only from a sandbox in a container)
CLOCK = PREFIX + "Clock"  # the replaying sandbox's clock (a sandbox in a container follows it)
GENERATION = PREFIX + "Generation"  # bumped by every Sandbox.reset() of the replaying sandbox
REVOKED = PREFIX + "Revoked"  # token ids the replaying sandbox revoked, comma-separated

# Set by the client library or the connection, not by the flow: never shown to the sandbox.
TRANSPORT_HEADERS = frozenset(
    {
        "host",
        "content-length",
        "connection",
        "keep-alive",
        "transfer-encoding",
        "accept-encoding",
        "te",
        "upgrade",
        "proxy-connection",
    }
)
# Written by the server for the connection: not part of the sandbox's response.
SERVER_HEADERS = frozenset({"content-length", "connection", "date", "server", "keep-alive"})
SIGNING_KEY_VARIABLE = "CONNECTOR_HARNESS_SIGNING_KEY"  # hex; a sandbox in a container shares it
BLOCKED_STATUS = 502  # a blocked call, on the wire: the sandbox would not forward it


def request_body(request: Request) -> tuple[bytes | None, str | None]:
    """The bytes to send for a request and their content type (None: keep the flow's)."""
    if request.content is not None:
        return request.content, None
    if request.json is not None:
        return json.dumps(request.json).encode(), "application/json"
    return None, None


def context_headers(context: CallContext) -> dict[str, str]:
    if not context.flow:
        return {}
    return {FLOW: context.flow, STEP: str(context.step)}


def to_response(status: int, headers: list[tuple[str, str]], body: bytes) -> Response:
    """A wire response as a harness Response; a blocked call comes back as `blocked`."""
    if header(headers, OUTCOME) == BLOCKED:
        return Response(0, blocked=True)
    kept = tuple(
        (key, value)
        for key, value in headers
        if key.lower() not in SERVER_HEADERS and not key.lower().startswith(PREFIX.lower())
    )
    content_type = header(kept, "Content-Type") or ""
    if not body:
        return Response(status, None, _without_default_type(kept, content_type))
    if "json" in content_type:
        try:
            return Response(status, json.loads(body), _without_default_type(kept, content_type))
        except ValueError:
            pass
    return Response(status, None, kept, content=body)


def _without_default_type(
    headers: tuple[tuple[str, str], ...], content_type: str
) -> tuple[tuple[str, str], ...]:
    """Drop the Content-Type a server adds to every JSON answer, so answers compare alike."""
    if content_type != "application/json":
        return headers
    return tuple((k, v) for k, v in headers if k.lower() != "content-type")


def encode_decision(decision: Decision) -> str:
    data: dict[str, Any] = {
        name: getattr(decision, name)
        for name in Decision._fields
        if name not in ("sequence", "judged")
    }
    judged = decision.judged
    if judged is not None:  # alternatives in order, each a sorted list
        data["judged"] = [judged.requirement.to_data(), judged.condition, judged.model]
    return json.dumps(data, separators=(",", ":"), ensure_ascii=True)


def decode_decision(text: str, sequence: int) -> Decision:
    data = json.loads(text)
    data["scopes"] = tuple(data["scopes"])
    data["satisfied_by"] = tuple(data["satisfied_by"])
    data["resources"] = tuple(tuple(pair) for pair in data["resources"])
    if data.get("judged") is not None:
        requirement, condition, model = data["judged"]
        data["judged"] = Judgement(
            Requirement(tuple(frozenset(a) for a in requirement)), condition, model
        )
    return Decision(sequence=sequence, **data)
