"""From what the nodes called to a workspace: connectors, roles, bindings and flows.

One connector per n8n credential used; its role holds the scopes the credential really
holds (the mapping file, else a credentials export, else the scopes a service account's
token asked for, else the type's defaults), split over the packs whose scope universe
names them; one binding per environment; one flow per workflow and credential, its
steps the credential's calls in the order the nodes run, each named after its node and
the node's place in the export. Nothing read from an export is ever pasted into YAML:
this module builds plain data, and only a YAML emitter writes it.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, quote, unquote_plus, urlsplit, urlunsplit

from harness.errors import Location
from harness.model import Service
from harness.n8n import targets
from harness.n8n.catalogue import SIGN_IN_SCOPES, CredentialType
from harness.n8n.grants import KnownScopes, ScopeSources
from harness.n8n.importer import ImportRun
from harness.n8n.runner import RecordedCall
from harness.n8n.workflow import CredentialRef, Workflow, WorkflowNode
from harness.placeholders import PLACEHOLDER
from harness.routing import Router, split_url
from harness.secrets import SecretScrubber

DYNAMIC_HOST = "n8n-dynamic.invalid"
MAX_STEP_NAME = 200
_SLUG = re.compile(r"[^a-z0-9]+")
_DROPPED_HEADERS = frozenset(
    {
        "authorization",
        "content-type",
        "accept",
        "user-agent",
        "content-length",
        "host",
        "accept-encoding",
        "connection",
    }
)


def slug(text: str, fallback: str) -> str:
    """A name for the workspace: lower case letters, digits and `-`, at most 48 characters."""
    cleaned = _SLUG.sub("-", text.lower()).strip("-")[:48].strip("-")
    return cleaned or fallback


@dataclass(slots=True)
class StepPlan:
    node: WorkflowNode
    call: RecordedCall
    service: str
    operation: str


@dataclass(slots=True)
class FlowPlan:
    name: str
    workflow: Workflow
    connector: str
    steps: list[StepPlan] = field(default_factory=list)

    @property
    def location(self) -> Location:
        return self.steps[0].node.location if self.steps else self.workflow.location


@dataclass(slots=True)
class ConnectorPlan:
    """One n8n credential as a connector of the workspace."""

    key: str
    name: str
    credential: CredentialRef
    type: CredentialType
    location: Location  # the first node that uses it
    held: KnownScopes | None = None
    models: dict[str, str] = field(default_factory=dict)
    grants: dict[str, list[str]] = field(default_factory=dict)  # service -> scopes it judges
    unjudged: list[str] = field(
        default_factory=list
    )  # held, but no pack of the workspace knows them
    hosts: set[str] = field(default_factory=set)
    services: set[str] = field(default_factory=set)  # reached by its calls
    token_scopes: list[str] = field(default_factory=list)  # a service account's token requests
    unbound: str = ""  # why no binding is generated (its grants cannot be judged)
    incomplete: list[str] = field(default_factory=list)  # its nodes that did not run to the end
    needs: dict[str, set[str]] = field(default_factory=dict)  # operation -> what it requires

    @property
    def role(self) -> str:
        return f"{self.name}-granted"


@dataclass(slots=True)
class LeftOut:
    """A call the workspace cannot hold, and why."""

    node: WorkflowNode
    workflow: Workflow
    call: RecordedCall
    reason: str
    host: str


@dataclass(slots=True)
class Plan:
    connectors: list[ConnectorPlan] = field(default_factory=list)
    flows: list[FlowPlan] = field(default_factory=list)
    left_out: list[LeftOut] = field(default_factory=list)
    packs: set[str] = field(default_factory=set)
    envs: tuple[str, ...] = ("prod",)
    names: dict[str, str] = field(default_factory=dict)  # credential key / workflow key -> name
    services: dict[str, Service] = field(default_factory=dict)  # what calls were routed to

    def connector(self, name: str) -> ConnectorPlan:
        return next(c for c in self.connectors if c.name == name)


def plan_workspace(
    run: ImportRun,
    sources: ScopeSources,
    *,
    envs: Sequence[str] = ("prod",),
    previous_names: dict[str, str] | None = None,
    taken: Iterable[str] = (),
    services: dict[str, Service] | None = None,
) -> Plan:
    """The workspace for `run`; `previous_names` keeps the names an earlier import chose."""
    if services is None:
        services = targets.pack_services(_host(c.url) for r in run.results for c in r.calls)
    router = Router(tuple(services.values()))
    plan = Plan(envs=tuple(envs), services=services)
    names = _Names(previous_names or {}, set(taken))
    connectors: dict[str, ConnectorPlan] = {}
    flows: dict[tuple[str, str], FlowPlan] = {}
    for result in run.results:
        if not result.service:
            continue
        finished = result.status == "ok"
        for reference in result.node.credentials:
            if reference.key not in connectors:
                ctype = run.credential_types.get(
                    reference.type, CredentialType(reference.type, False)
                )
                connectors[reference.key] = ConnectorPlan(
                    key=reference.key,
                    name=names.connector(reference),
                    credential=reference,
                    type=ctype,
                    location=result.node.location,
                )
            if not finished and result.node.name not in connectors[reference.key].incomplete:
                connectors[reference.key].incomplete.append(result.node.name)
        for call in result.calls:
            used = _credential_of(result.node, call)
            if used is None:
                plan.left_out.append(
                    LeftOut(
                        result.node,
                        result.workflow,
                        call,
                        "made without a credential",
                        _host(call.url),
                    )
                )
                continue
            connector = connectors[used.key]
            if call.token:
                connector.token_scopes.extend(
                    s for s in _token_scopes(call) if s not in connector.token_scopes
                )
                continue
            placed = _route(router, call)
            if isinstance(placed, str):
                plan.left_out.append(
                    LeftOut(result.node, result.workflow, call, placed, _host(call.url))
                )
                continue
            service, operation = placed
            connector.hosts.add(_host(call.url))
            connector.services.add(service.name)
            connector.needs.setdefault(f"{service.name} {operation}", set()).update(
                _requirement_text(service, operation)
            )
            key = (
                result.workflow.source + "\0" + (result.workflow.id or result.workflow.label),
                connector.key,
            )
            if key not in flows:
                workflow_name = names.workflow(result.workflow)
                flows[key] = FlowPlan(
                    f"{workflow_name}.{connector.name}", result.workflow, connector.name
                )
            flows[key].steps.append(StepPlan(result.node, call, service.name, operation))
    for connector in connectors.values():
        _grants(connector, sources, services)
        if not connector.unbound and not connector.services:
            connector.unbound = (
                "none of its calls could be recorded"
                if connector.incomplete
                else "none of its calls reach a bundled pack"
            )
        if not connector.unbound:
            plan.packs.update(connector.grants)
        plan.packs.update(connector.services)
    plan.connectors = sorted(connectors.values(), key=lambda c: c.name)
    plan.flows = sorted(flows.values(), key=lambda f: f.name)
    plan.names = names.chosen
    return plan


class _Names:
    """Names stable across imports: an earlier import's choice wins, collisions get -2, -3."""

    def __init__(self, previous: dict[str, str], taken: set[str]) -> None:
        self.previous = previous
        self.used = set(taken)
        self.chosen: dict[str, str] = {}

    def _pick(self, key: str, wanted: str) -> str:
        if key in self.chosen:
            return self.chosen[key]
        name = self.previous.get(key)
        if name is None or name in self.used:
            name, number = wanted, 2
            while name in self.used or (
                name in self.previous.values() and self.previous.get(key) != name
            ):
                name, number = f"{wanted}-{number}", number + 1
        self.used.add(name)
        self.chosen[key] = name
        return name

    def connector(self, reference: CredentialRef) -> str:
        return self._pick(
            f"credential:{reference.key}", slug(reference.name or reference.type, "credential")
        )

    def workflow(self, workflow: Workflow) -> str:
        key = f"workflow:{workflow.id or workflow.source + ':' + workflow.label}"
        return self._pick(key, slug(workflow.label, "workflow"))


def _host(url: str) -> str:
    try:
        return split_url(url)[0]
    except ValueError:
        return ""


def _credential_of(node: WorkflowNode, call: RecordedCall) -> CredentialRef | None:
    if call.credential is not None:
        for reference in node.credentials:
            if reference.type == call.credential:
                return reference
    return node.credentials[0] if len(node.credentials) == 1 else None


def _route(router: Router, call: RecordedCall) -> tuple[Service, str] | str:
    try:
        host, path, _ = split_url(call.url)
    except ValueError as err:
        return f"its URL is not valid ({err})"
    if urlsplit(call.url).scheme not in ("http", "https") or not host:
        return "it is not an http(s) URL"
    if host == DYNAMIC_HOST:
        return "its URL comes from the run's data, so its host is not known before the run"
    route = router.route(call.method, host, path)
    if route is None:
        if not router.knows_host(host):
            return f"no bundled pack covers {host}"
        served = ", ".join(s.name for s in router.services_at(host))
        return f"no operation of {served} matches {call.method} {path}"
    return route.service, route.operation.id


def _requirement_text(service: Service, operation_id: str) -> set[str]:
    operation = service.operation(operation_id)
    alternatives = operation.requires.any_of
    if not alternatives:
        return {"(public)"}
    return {" + ".join(sorted(alt)) if alt else "(any token)" for alt in alternatives}


def _token_scopes(call: RecordedCall) -> list[str]:
    """The `scope` claim of the JWT a service account exchanges for a token."""
    text = call.body if isinstance(call.body, str) else ""
    assertion = dict(parse_qsl(text)).get("assertion", "")
    parts = assertion.split(".")
    if len(parts) != 3:
        return []
    try:
        padded = parts[1] + "=" * (-len(parts[1]) % 4)
        claims = json.loads(base64.urlsafe_b64decode(padded))
    except (ValueError, binascii.Error):
        return []
    scope = claims.get("scope") if isinstance(claims, dict) else None
    return scope.split() if isinstance(scope, str) else []


def _grants(connector: ConnectorPlan, sources: ScopeSources, services: dict[str, Service]) -> None:
    """What the connector's credential holds, split over the packs that know each scope."""
    reference = connector.credential
    held = sources.lookup(reference.id, reference.name, reference.type)
    if held is None and connector.token_scopes:
        held = KnownScopes(tuple(connector.token_scopes), "the scopes its token requests ask for")
    if held is None and connector.type.scopes:
        held = KnownScopes(
            connector.type.scopes, f"the default scopes of n8n's {connector.type.name} credential"
        )
    connector.held = held
    connector.models = connector.type.models()
    if held is not None and held.model is not None:
        for service in connector.models or {s: "" for s in connector.services}:
            connector.models[service] = held.model
    if not connector.type.known:
        connector.unbound = f"n8n-nodes-base has no credential type {reference.type}"
        return
    if held is None:
        connector.unbound = (
            "the scopes its token holds are not in the export (an access token or API key); "
            "list them in the mapping file"
        )
        return
    views = {
        name: targets.model_view(service, connector.models.get(name))
        for name, service in services.items()
    }
    for scope in held.scopes:
        homes = [name for name, view in views.items() if not view.universe.undeclared(scope)]
        for name in homes:
            connector.grants.setdefault(name, [])
            if scope not in connector.grants[name]:
                connector.grants[name].append(scope)
        if not homes:
            connector.unjudged.append(scope)
    for name in sorted(connector.services | set(connector.grants)):
        model = connector.models.get(name)
        if not targets.judges(services[name], model):
            has = ", ".join(targets.service_models(services[name])) or "one model"
            connector.unbound = (
                f"it holds {name} grants in the `{model}` permission model, which the {name} "
                f"pack does not have (it has {has})"
            )
            return
    connector.unjudged = [s for s in connector.unjudged if s not in SIGN_IN_SCOPES] + [
        s for s in connector.unjudged if s in SIGN_IN_SCOPES
    ]


# -- steps as data ---------------------------------------------------------------------------


def step_data(
    step_plan: StepPlan, scrubber: SecretScrubber, literals: dict[str, str]
) -> dict[str, Any]:
    """One flow step: the call with its secrets replaced, named after its node."""
    call = step_plan.call
    url = _literal(_scrub_url(call.url, scrubber), literals)
    request: dict[str, Any] = {"method": call.method, "url": url}
    headers = {
        _literal(key, literals): _literal(str(scrubber.value(key, value)), literals)
        for key, value in call.headers
        if key.lower() not in _DROPPED_HEADERS
    }
    if headers:
        request["headers"] = headers
    body = _body(call)
    if body is not None:
        request["json"] = _literals_in(scrubber.value("", body), literals)
    if call.answer:
        # What the node read of the answer (the id of a file it created, then updates): the
        # replay answers the same, so that a later call on it is judged as on that resource.
        answer = {"status": 200, "json": _literals_in(scrubber.value("", call.answer), literals)}
    else:
        answer = None
    path = urlsplit(url).path
    location = step_plan.node.location
    where = (
        f"{Path(location.file).name}:{location.line}" if location.line else Path(location.file).name
    )
    name = f"{step_plan.node.name} ({where}): {call.method} {path}"
    step = {"name": name[:MAX_STEP_NAME], "request": request}
    if answer is not None:
        step["response"] = answer
    return step


def _scrub_url(url: str, scrubber: SecretScrubber) -> str:
    """The URL with secrets replaced: ids in its path that look random, and the values of
    query parameters that name a secret or hold a known token format. The rest of the query
    keeps the encoding node code gave it."""
    parts = urlsplit(url)
    pairs = []
    for pair in parts.query.split("&") if parts.query else []:
        key, equals, value = pair.partition("=")
        decoded = unquote_plus(value)
        scrubbed = scrubber.value(unquote_plus(key), decoded)
        if scrubbed != decoded:
            value = quote(str(scrubbed), safe="<>-")
        pairs.append(f"{key}{equals}{value}")
    path = scrubber.text(parts.path)
    return urlunsplit((parts.scheme, parts.netloc, path, "&".join(pairs), ""))


def _body(call: RecordedCall) -> Any:
    """The body the sandbox reads resources from: JSON as is, a form as its fields; other
    bodies (files, raw text) decide nothing about permissions and are not kept."""
    if call.body_kind == "json":
        return call.body
    if call.body_kind == "form" and isinstance(call.body, str):
        fields = dict(parse_qsl(call.body, keep_blank_values=True))
        return fields or None
    return None


def _literal(text: str, literals: dict[str, str]) -> str:
    """`text` with every `{{ name }}` kept literal: the flow's templates must not read it."""

    def keep(match: re.Match[str]) -> str:
        found = next((k for k, v in literals.items() if v == match[0]), None)
        if found is None:
            found = f"n8n_literal_{len(literals) + 1}"
            literals[found] = match[0]
        return "{{ " + found + " }}"

    return PLACEHOLDER.sub(keep, text)


def _literals_in(value: Any, literals: dict[str, str]) -> Any:
    if isinstance(value, str):
        return _literal(value, literals)
    if isinstance(value, list):
        return [_literals_in(item, literals) for item in value]
    if isinstance(value, dict):
        # A key is never a template at replay, but the loader reads `{{` in one as one: its
        # braces are spaced apart.
        return {_spaced(str(key)): _literals_in(item, literals) for key, item in value.items()}
    return value


def _spaced(key: str) -> str:
    while "{{" in key or "}}" in key:
        key = key.replace("{{", "{ {").replace("}}", "} }")
    return key
