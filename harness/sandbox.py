"""The sandbox: mock services that validate tokens, enforce scopes and log every decision.

`Sandbox.handle` is the direct transport: a request goes straight into the mock,
no HTTP and no sockets, and comes back as a response plus a Decision. Every
other transport (responses, httpx, loopback HTTP) ends in this same method, so
they all decide alike.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from fnmatch import fnmatchcase
from typing import Any, Protocol
from urllib.parse import parse_qsl

from harness.answers import CollectionStore, static_answer
from harness.call_requirements import (
    Effective,
    after_call,
    continued_session,
    effective_requirement,
)
from harness.messages import ALLOWED, BLOCKED, DENIED, CallContext, Decision, Request, Response
from harness.model import Binding, Connector, Operation, Service, Workspace
from harness.replay_state import ReplayState, UploadSession
from harness.routing import Router, split_url
from harness.scopes import Grant, GrantSet, Requirement
from harness.tokens import Claims, TokenAuthority, TokenRejected


class Database(Protocol):
    """A real database that runs a statement as a binding's role (harness.transports.postgres).

    `execute` answers 200 with `{"rows": [...]}`, 403 when permission was denied, or
    another error status, each with `{"error": message}`.
    """

    def execute(self, binding: str, request: Request, context: CallContext) -> Response: ...


class SandboxClock:
    """Sandbox time in whole seconds since the epoch; only flows and tests move it."""

    def __init__(self, start: int) -> None:
        self.start = start
        self.now = start

    def advance(self, seconds: int) -> None:
        self.now += seconds

    def reset(self) -> None:
        self.now = self.start


class Sandbox:
    """Mock services of one workspace, a token authority, a clock and the decision log."""

    def __init__(self, workspace: Workspace, *, signing_key: bytes | None = None) -> None:
        self.workspace = workspace
        self.router = Router(workspace.services)
        self.clock = SandboxClock(int(workspace.settings.clock.timestamp()))
        self.tokens = TokenAuthority(signing_key)
        self.collections = CollectionStore(workspace.services)
        self.decisions: list[Decision] = []
        self.response_bytes: dict[
            tuple[str, str], int
        ] = {}  # (binding, flow) -> body bytes received
        self._connectors = {connector.name: connector for connector in workspace.connectors}
        self._services = {service.name: service for service in workspace.services}
        self._grant_sets: dict[tuple[str, tuple[str, ...]], GrantSet] = {}
        self.generation = 0  # counts resets, so a sandbox in a container can follow them
        self.database: Database | None = None  # a real server judging SQL statements
        self.state = ReplayState(workspace.flows)  # created resources, upload sessions
        self._session_hosts = frozenset(
            host
            for service in workspace.services
            if service.upload_sessions
            for host in service.hosts
        )
        self._views: dict[tuple[str, str], dict[str, Operation]] = {}
        self._texts: dict[int, str] = {}  # id(operation) -> "requires ..." (operations live on)

    def reset(self) -> None:
        """Fresh clock, collections and replay state for the next replay; the log is kept."""
        self.clock.reset()
        self.collections.reset()
        self.state.reset()
        self.generation += 1

    def issue_token(
        self,
        binding: Binding,
        *,
        lifetime: int | None = None,
        grants: Mapping[str, Iterable[str]] | None = None,
    ) -> str:
        """A signed token holding the binding's grants (or `grants` instead), valid from `now`."""
        connector = self._connectors[binding.connector]
        held: dict[str, set[str]] = {}
        if grants is None:
            for source in self.workspace.binding_grants(binding):
                held.setdefault(source.service, set()).add(str(source.grant))
        else:
            held = {service: set(values) for service, values in grants.items()}
        return self.tokens.mint(
            subject=connector.name,
            binding=binding.name,
            environment=binding.env,
            grants={service: tuple(sorted(values)) for service, values in held.items()},
            issued_at=self.clock.now,
            lifetime=lifetime if lifetime is not None else connector.credential.lifetime_seconds,
            audience=connector.credential.audience,
        )

    # -- the direct transport -------------------------------------------------------------

    def handle(self, request: Request, context: CallContext | None = None) -> Response:
        """Authorize and answer one call, appending its Decision to the log."""
        context = context or CallContext()
        if request.method == "SQL":
            return self.handle_sql(request, context)
        host, path, query = split_url(request.url)
        call = _Call(self, request, context, host, path)
        token = _bearer(request.headers)
        session = (
            continued_session(self.state, self.router.services_at(host), query)
            if host in self._session_hosts and query
            else None
        )
        route = None if session else self.router.route(request.method, host, path)
        if route is None and session is None:
            claims = self._peek(token)
            if not self.router.knows_host(host):
                return call.block(
                    claims,
                    "egress.host",
                    f"no mocked service answers on {host}; the call was not sent",
                )
            return call.unroutable(claims, request.method, path)
        if session is not None:
            service, operation, params = session.service, session.operation, session.params
        else:
            assert route is not None
            service, operation, params = route.service, route.operation, route.params
        if token is None:
            token = _token_param(service, query, request)
        resources = (
            session.resources
            if session is not None
            else _resources(operation, params, query, request)
        )
        claims = None
        if token is not None:
            try:
                claims = self.tokens.verify(token, now=self.clock.now, audience=service.name)
            except TokenRejected as rejected:
                peeked = self._peek(token)
                return call.finish(
                    peeked,
                    operation,
                    DENIED,
                    "token",
                    "",
                    401,
                    rejected.reason,
                    _unauthorized(rejected.error, rejected.reason),
                    resources=resources,
                )
        if claims is not None:
            connector = self._connectors.get(claims.subject)
            if connector is not None and not _host_allowed(connector, host):
                return call.block(
                    claims,
                    "egress.host",
                    f"{host} is not in the allowed hosts of connector {connector.name}",
                )
            region = service.region_of(host)
            if (
                connector is not None
                and connector.regions
                and region
                and region not in connector.regions
            ):
                return call.block(
                    claims,
                    "egress.region",
                    f"{host} is in region {region}, outside {', '.join(connector.regions)}",
                )
        if service.models and claims is not None:
            service, operation = self._model_view(service, operation, claims.subject)
        if operation.conditional is None and session is None:  # the common path
            requirement = call.requirement = operation.requires
            call.model = service.model
            effective = None
        else:
            effective = self._effective(
                service, operation, params, query, request, context, session
            )
            requirement = call.judged_by(service, effective)
        if service.upload_sessions is not None or operation.creates is not None:
            judged = effective or Effective(requirement)
            call.effects = lambda response, allowed: after_call(
                self.state, service, operation, params, query, request, request.url, response,
                judged, resources, allowed, session, context.recorded,
            )  # fmt: skip
        if effective is not None and effective.invalid:
            return call.finish(
                claims,
                operation,
                DENIED,
                "argument",
                str(operation.location),
                400,
                effective.invalid,
                Response(400, {"error": "invalid_arguments", "detail": effective.invalid}),
                resources=resources,
            )
        if requirement.is_public:
            return call.finish(
                claims,
                operation,
                ALLOWED,
                "public",
                str(operation.location),
                0,
                "the operation is public",
                None,
                params=params,
            )
        if claims is None:
            return call.finish(
                None,
                operation,
                DENIED,
                "token",
                "",
                401,
                "no bearer token was sent",
                _unauthorized("invalid_request", "a bearer token is required"),
            )
        granted = claims.grants.get(service.name, ())
        grant_set = self._grant_set(service, granted)
        index = grant_set.allows(requirement, resources)
        rule_location = str(operation.location)
        if index is None:
            return call.finish(
                claims,
                operation,
                DENIED,
                "scope",
                rule_location,
                403,
                f"requires {requirement}; granted: {', '.join(granted) or 'nothing'}",
                _forbidden(service, operation, requirement),
                resources=resources,
            )
        used = grant_set.grants_for(requirement.any_of[index], resources)
        return call.finish(
            claims,
            operation,
            ALLOWED,
            "scope",
            rule_location,
            0,
            self._requires_text(operation, requirement),
            None,
            params=params,
            resources=resources,
            satisfied_by=tuple(str(g) for g in used),
        )

    def _requires_text(self, operation: Operation, requirement: Requirement) -> str:
        """`requires ...` for the log; the text of an operation's own requirement is kept."""
        if requirement is not operation.requires:
            return f"requires {requirement}"
        text = self._texts.get(id(operation))
        if text is None:
            text = self._texts[id(operation)] = f"requires {requirement}"
        return text

    def _model_view(
        self, service: Service, operation: Operation, subject: str
    ) -> tuple[Service, Operation]:
        """The service and operation in the permission model the caller's connector holds."""
        connector = self._connectors.get(subject)
        model = dict(connector.credential.models).get(service.name) if connector else None
        if not model or model == service.model:
            return service, operation
        view = self.workspace.service(service.name, model)
        operations = self._views.get((service.name, model))
        if operations is None:
            operations = {op.id: op for op in view.operations}
            self._views[(service.name, model)] = operations
        return view, operations[operation.id]

    def _effective(
        self,
        service: Service,
        operation: Operation,
        params: dict[str, str],
        query: str,
        request: Request,
        context: CallContext,
        session: UploadSession | None,
    ) -> Effective:
        if session is not None:  # a call continuing an upload is judged as the one that opened it
            opened = session.requirement or Requirement.unavailable()
            if session.service.model != service.model:
                opened = effective_requirement(
                    self.state, service, operation, params, query, request, context.flow
                ).requirement
            return Effective(
                opened, f"upload session opened by {operation.id}; {session.condition}".rstrip("; ")
            )
        return effective_requirement(
            self.state, service, operation, params, query, request, context.flow
        )

    def handle_sql(self, request: Request, context: CallContext) -> Response:
        """Judge one recorded SQL statement on a postgres service.

        The statement's privileges (harness.sql) are checked against the token's grants;
        with a `database` attached (a real PostgreSQL server, see
        harness.transports.postgres) the server runs it as the binding's role and its
        answer decides instead.
        """
        host, _, _ = split_url(request.url)
        call = _Call(self, request, context, host, request.json["statement"])
        service = self._services[host]
        operation = next(op for op in service.statements if op.id == request.json["operation"])
        token = _bearer(request.headers)
        claims = None
        if token is not None:
            try:
                claims = self.tokens.verify(token, now=self.clock.now, audience=service.name)
            except TokenRejected as rejected:
                return call.finish(
                    self._peek(token), operation, DENIED, "token", "", 401, rejected.reason,
                    Response(401, {"error": rejected.reason}),
                )  # fmt: skip
        if claims is None:
            return call.finish(
                None, operation, DENIED, "token", "", 401, "no credential was presented",
                Response(401, {"error": "no credential"}),
            )  # fmt: skip
        granted = claims.grants.get(service.name, ())
        grant_set = self._grant_set(service, granted)
        index = grant_set.allows(operation.requires, {})
        location = str(operation.location)
        if self.database is not None:
            answer = self.database.execute(claims.binding, request, context)
            if answer.status == 403:
                return call.finish(
                    claims, operation, DENIED, "scope", location, 403,
                    f"requires {operation.requires}; PostgreSQL: {answer.json['error']}", answer,
                )  # fmt: skip
            if answer.status >= 400:
                return call.finish(
                    claims, operation, DENIED, "database", location, answer.status,
                    f"PostgreSQL: {answer.json['error']}", answer,
                )  # fmt: skip
            used = (
                grant_set.grants_for(operation.requires.any_of[index], {})
                if index is not None
                else ()
            )
            return call.finish(
                claims, operation, ALLOWED, "scope", location, 0,
                f"requires {operation.requires}", answer, satisfied_by=tuple(str(g) for g in used),
            )  # fmt: skip
        if index is None:
            table = ", ".join(
                sorted(
                    {s.split("(")[1].split(".")[0].rstrip(")") for s in operation.requires.scopes()}
                )
            )
            return call.finish(
                claims, operation, DENIED, "scope", location, 403,
                f"requires {operation.requires}; granted: {', '.join(granted) or 'nothing'}",
                Response(403, {"error": f"permission denied for table {table}"}),
            )  # fmt: skip
        used = grant_set.grants_for(operation.requires.any_of[index], {})
        return call.finish(
            claims, operation, ALLOWED, "scope", location, 0, f"requires {operation.requires}",
            None, satisfied_by=tuple(str(g) for g in used),
        )  # fmt: skip

    def answer(
        self, operation: Operation, params: dict[str, str], request: Request, context: CallContext
    ) -> Response:
        answer = operation.answer
        if answer.kind == "static":
            return static_answer(answer)
        if answer.kind == "collection":
            return self.collections.answer(operation.service, answer, params, request.json)
        return context.recorded or Response(200, {})

    def _grant_set(self, service: Service, granted: tuple[str, ...]) -> GrantSet:
        key = (service.name, granted)
        grant_set = self._grant_sets.get(key)
        if grant_set is None:
            grant_set = GrantSet.build((Grant.parse(text) for text in granted), service.universe)
            self._grant_sets[key] = grant_set
        return grant_set

    def _peek(self, token: str | None) -> Claims | None:
        """Identify the caller of a call that fails before authorization (signature still checked)."""
        if token is None:
            return None
        return self.tokens.identify(token)


class _Call:
    """Builds the Decision and the Response of one call."""

    __slots__ = (
        "condition",
        "context",
        "effects",
        "host",
        "model",
        "path",
        "request",
        "requirement",
        "sandbox",
        "service",
    )

    def __init__(
        self, sandbox: Sandbox, request: Request, context: CallContext, host: str, path: str
    ) -> None:
        self.sandbox = sandbox
        self.request = request
        self.context = context
        self.host = host
        self.path = path
        self.requirement: Requirement | None = None
        self.condition = ""
        self.model = ""
        self.service = ""  # the host's service, for a call no operation matches
        self.effects: Callable[[Response, bool], Response] | None = None

    def judged_by(self, service: Service, effective: Effective) -> Requirement:
        """Record what the call is judged by (for its Decision) and return the requirement."""
        self.requirement = effective.requirement
        self.condition = effective.condition
        self.model = service.model
        return effective.requirement

    def unroutable(self, claims: Claims | None, method: str, path: str) -> Response:
        """A call to a known host that no operation matches: a finding, never an abort."""
        router = self.sandbox.router
        services = router.services_at(self.host)
        nearest = router.nearest(method, self.host, path)
        listed = "; ".join(f"{op.method} {op.path} ({op.qualified})" for op in nearest)
        self.service = services[0].name if services else ""
        names = ", ".join(service.name for service in services)
        return self.finish(
            claims,
            None,
            DENIED,
            "route",
            "",
            404,
            f"no operation of {names} matches {method} {path}; nearest: {listed}",
            Response(
                404,
                {
                    "error": "no_route",
                    "detail": f"no operation of {names} matches {method} {path}",
                    "nearest": [f"{op.method} {op.path}" for op in nearest],
                },
            ),
        )

    def block(self, claims: Claims | None, rule: str, reason: str) -> Response:
        services = self.sandbox.router.services_at(self.host)
        name = services[0].name if services else ""
        response = Response(0, blocked=True)
        self._record(claims, name, "", BLOCKED, rule, "", reason, 0, (), ())
        return response

    def finish(
        self,
        claims: Claims | None,
        operation: Operation | None,
        outcome: str,
        rule: str,
        rule_location: str,
        status: int,
        reason: str,
        response: Response | None,
        *,
        params: dict[str, str] | None = None,
        resources: Mapping[str, str] | None = None,
        satisfied_by: tuple[str, ...] = (),
    ) -> Response:
        if response is None and operation is not None:
            response = self.sandbox.answer(operation, params or {}, self.request, self.context)
        assert response is not None
        if self.effects is not None:
            response = self.effects(response, outcome == ALLOWED)
        service = operation.service if operation else self.service
        self._record(
            claims,
            service,
            operation.id if operation else "",
            outcome,
            rule,
            rule_location,
            reason,
            status or response.status,
            tuple(sorted((resources or {}).items())),
            satisfied_by,
        )
        return response

    def _record(
        self,
        claims: Claims | None,
        service: str,
        operation: str,
        outcome: str,
        rule: str,
        rule_location: str,
        reason: str,
        status: int,
        resources: tuple[tuple[str, str], ...],
        satisfied_by: tuple[str, ...],
    ) -> None:
        log = self.sandbox.decisions
        context = self.context
        log.append(
            Decision(
                sequence=len(log) + 1,
                time=self.sandbox.clock.now,
                identity=claims.subject if claims else "",
                binding=claims.binding if claims else "",
                environment=claims.environment if claims else "",
                service=service,
                operation=operation,
                method=self.request.method,
                host=self.host,
                path=self.path,
                scopes=claims.grants.get(service, ()) if claims else (),
                outcome=outcome,
                rule=rule,
                rule_location=rule_location,
                reason=reason,
                satisfied_by=satisfied_by,
                resources=resources,
                status=status,
                flow=context.flow,
                step=context.step,
                step_name=context.step_name,
                model=self.model,
                requirement=self.requirement,
                condition=self.condition,
            )
        )


def _bearer(headers: Mapping[str, str]) -> str | None:
    value = headers.get("Authorization") or headers.get("authorization")
    if value is None:
        for key, candidate in headers.items():
            if key.lower() == "authorization":
                value = candidate
                break
    if value and value[:7].lower() == "bearer ":
        return value[7:].strip()
    return None


def _host_allowed(connector: Connector, host: str) -> bool:
    return any(host == allowed or fnmatchcase(host, allowed) for allowed in connector.allowed_hosts)


def _resources(
    operation: Operation, params: dict[str, str], query: str, request: Request
) -> dict[str, str]:
    if not operation.resources:
        return {}
    found: dict[str, str] = {}
    for key, locator in operation.resources:
        source, _, name = locator.partition(".")
        value: Any = None
        if source == "path":
            value = params.get(name)
        elif source == "query":
            value = dict(parse_qsl(query)).get(name)
        elif source == "header":
            value = next((v for k, v in request.headers.items() if k.lower() == name.lower()), None)
        else:
            value = _dig(_body_fields(request), name)
        if value is not None and not isinstance(value, (dict, list)):
            found[key] = str(value)
    return found


def _token_param(service: Service, query: str, request: Request) -> str | None:
    """A token sent as a query or form parameter the service accepts (RFC 6750 2.2, 2.3)."""
    if not service.token_params:
        return None
    form = _body_fields(request) if request.json is None else None  # RFC 6750: a form, not JSON
    for fields in (dict(parse_qsl(query)), form or {}):
        for name in service.token_params:
            if fields.get(name):
                return str(fields[name])
    return None


def _body_fields(request: Request) -> Any:
    """The request's JSON body, or its fields when the body is a form (as Slack's clients
    send `channel=C123&text=...`)."""
    if request.json is not None or request.content is None:
        return request.json
    content_type = next((v for k, v in request.headers.items() if k.lower() == "content-type"), "")
    if "application/x-www-form-urlencoded" not in content_type.lower():
        return None
    try:
        return dict(parse_qsl(request.content.decode("utf-8"), keep_blank_values=True))
    except UnicodeDecodeError:
        return None


def _dig(data: Any, dotted: str) -> Any:
    for part in dotted.split("."):
        if isinstance(data, dict):
            data = data.get(part)
        elif isinstance(data, list) and part.isdigit() and int(part) < len(data):
            data = data[int(part)]
        else:
            return None
    return data


def _unauthorized(error: str, description: str) -> Response:
    header = f'Bearer error="{error}", error_description="{description}"'
    return Response(
        401, {"error": error, "error_description": description}, (("WWW-Authenticate", header),)
    )


def _forbidden(service: Service, operation: Operation, requirement: Requirement) -> Response:
    if service.opaque:
        return Response(403, None)
    scope_hint = " ".join(sorted(requirement.any_of[0]))
    header = f'Bearer error="insufficient_scope", scope="{scope_hint}"'
    body = {
        "error": "insufficient_scope",
        "operation": operation.qualified,
        "required": requirement.to_data(),
        "message": f"{operation.qualified} requires {requirement}",
    }
    return Response(403, body, (("WWW-Authenticate", header),))
