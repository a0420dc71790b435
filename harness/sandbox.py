"""The sandbox: mock services that validate tokens, enforce scopes and log every decision.

`Sandbox.handle` is the direct transport: a request goes straight into the mock,
no HTTP and no sockets, and comes back as a response plus a Decision. Every
other transport (responses, httpx, loopback HTTP) ends in this same method, so
they all decide alike.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable, Mapping
from types import MappingProxyType
from typing import Any, Protocol

from harness.authorization import (
    AccessRequest,
    Plan,
    Verdict,
    authorize,
    call_arguments,
    judged_by_database,
    resources_of,
    unmatched,
)
from harness.call_requirements import Effective, after_call, continued_session, record_revealed
from harness.calls import CallContext, QueryParameters, Request, Response, body_fields
from harness.decisions import ALLOWED, BLOCKED, Decision, Judgement
from harness.mock_answers import CollectionStore, static_answer
from harness.model import Binding, Operation, Service, Workspace
from harness.replay_state import ReplayState, UploadSession
from harness.routing import Route, Router, split_url
from harness.scopes import Grant, GrantSet, Requirement, needs_text
from harness.sql import tables_of
from harness.tokens import Claims, TokenAuthority, TokenRejected

_NO_CONTEXT = CallContext()
_NO_FIELDS: Mapping[str, str] = MappingProxyType({})


class Database(Protocol):
    """A real database that runs a statement as a binding's role (harness.transports.postgres).

    `execute` answers 200 with `{"rows": [...]}`, 403 when permission was denied, or
    another error status, each with `{"error": message}`.
    """

    def execute(self, binding: str, request: Request, context: CallContext) -> Response: ...


# distinct judgements of conditional calls kept for reuse; past it they are forgotten
MAX_JUDGEMENTS = 4096

# 9999-12-31T23:59:59Z: the last second a log or report can write. Waits beyond it (a flow
# may wait 999,999,999 weeks) stop there: every token has expired by then all the same.
LAST_SECOND = 253_402_300_799


class SandboxClock:
    """Sandbox time in whole seconds since the epoch; only flows and tests move it."""

    def __init__(self, start: int) -> None:
        self.start = start
        self.now = start

    def advance(self, seconds: int) -> None:
        self.now = min(self.now + seconds, LAST_SECOND)

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
        # (service, permission model, grants) -> the grants prepared in that model's universe
        self._grant_sets: dict[tuple[str, str, tuple[str, ...]], GrantSet] = {}
        self.generation = 0  # counts resets, so a sandbox in a container can follow them
        self.database: Database | None = None  # a real server judging SQL statements
        # what the replay created, was given, and its upload sessions (harness.replay_state)
        self.replay_state = ReplayState(workspace.flows)
        self._statement_routes: dict[tuple[str, str], Route] = {}
        self._session_hosts = frozenset(
            host
            for service in workspace.services
            if service.upload_sessions
            for host in service.hosts
        )
        # (service, model) -> its operations in that permission model, by id
        self._views: dict[tuple[str, str], dict[str, Operation]] = {}
        # (service, operation id, `models:`) -> the operation it was found for and the
        # (service, operation) it is in that permission model; None: it is in that model
        self._in_model: dict[
            tuple[str, str, tuple[tuple[str, str], ...]],
            tuple[Operation, tuple[Service, Operation] | None],
        ] = {}
        # (service, operation id, model) -> the operation and the judgement of its calls that
        # no condition decided: one object per operation
        self._judgements: dict[tuple[str, str, str], tuple[Operation, Judgement]] = {}
        # the verdicts of calls judged by route, connector, host and grants alone
        # (harness.authorization.Plan), bounded there
        self._plans: dict[Any, Plan] = {}
        # (requirement, condition, model) -> the judgement of conditional calls, bounded
        self._conditional_judgements: dict[tuple[Requirement, str, str], Judgement] = {}

    def reset(self) -> None:
        """Fresh clock, collections and replay state for the next replay; the log is kept."""
        self.clock.reset()
        self.collections.reset()
        self.replay_state.reset()
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
        context = context or _NO_CONTEXT
        if request.method == "SQL":
            return self.handle_sql(request, context)
        host, path, query = split_url(request.url)
        # a call continuing an upload session goes where the session was opened
        session = (
            continued_session(self.replay_state, self.router.services_at(host), query)
            if query and host in self._session_hosts
            else None
        )
        if session is not None:
            route: Route | None = Route(session.service, session.operation, session.params)
        else:
            route = self.router.route(request.method, host, path)
        service = route.service if route is not None else None
        if (
            route is not None
            and route.operation.reveals is not None
            and context.recorded is not None
        ):
            record_revealed(
                self.replay_state, route.operation.reveals, route.params, query, request,
                context.recorded,
            )  # fmt: skip
        token = _bearer(request.headers)
        body = request.json
        if body is None and request.content is not None:
            body = body_fields(request)
        fields = QueryParameters(query) if query else _NO_FIELDS
        if token is None and service is not None and service.token_params:
            token = _token_param(service, fields, request, body)
        served = route is not None or self.router.knows_host(host)
        access = self._access(
            request, host, path, route, served, fields, body, token, True, query, context, session
        )
        if route is None and served:
            at_host = self.router.services_at(host)
            access = access._replace(
                host_services=tuple(s.name for s in at_host),
                nearest=tuple(self.router.nearest(request.method, host, path)),
            )
        verdict = authorize(access)
        caller = access.claims if access.claims is not None else self._peek(token)
        if verdict.outcome == BLOCKED:
            at_host = self.router.services_at(host)
            name = at_host[0].name if at_host else ""
            self._record(verdict, caller, request, host, path, context, None, 0, name)
            return Response(0, blocked=True)
        route = access.route  # in the permission model of the caller's connector
        if route is None:
            name = access.host_services[0] if access.host_services else ""
            response = _no_route(access)
            self._record(verdict, caller, request, host, path, context, None, 404, name)
            return response
        operation = route.operation
        if verdict.outcome == ALLOWED:
            response = self.answer(operation, route.params, request, context)
        else:
            response = _http_refusal(verdict, route.service, operation)
        if verdict.requirement is not None and (
            route.service.upload_sessions is not None or operation.creates is not None
        ):
            response = after_call(
                self.replay_state, route.service, operation, route.params, query,
                call_arguments(access), request.url, response,
                Effective(verdict.requirement, verdict.condition),
                resources_of(access, operation), verdict.allowed, session, context.recorded,
            )  # fmt: skip
        self._record(
            verdict,
            caller,
            request,
            host,
            path,
            context,
            operation,
            response.status,
            model=route.service.model,
        )
        return response

    def judge_attempt(
        self, method: str, host: str, path: str, context: CallContext | None = None
    ) -> Decision:
        """Judge a way out that is not an HTTP call (`method` names its channel:
        harness.authorization.CHANNELS): authorization blocks it, and its Decision joins
        the log like any call's. `path` is `:PORT`, or empty."""
        access = AccessRequest(
            method, host, path, None, self.router.knows_host(host), _NO_FIELDS, None, {},
            None, None, None, None, self.replay_state,
        )  # fmt: skip
        verdict = authorize(access)
        at_host = self.router.services_at(host)
        name = at_host[0].name if at_host else ""
        request = Request(method, f"{host}{path}")
        self._record(verdict, None, request, host, path, context or _NO_CONTEXT, None, 0, name)
        return self.decisions[-1]

    def handle_sql(self, request: Request, context: CallContext) -> Response:
        """Judge one recorded SQL statement on a postgres service.

        The statement's privileges (harness.sql) are checked against the token's grants;
        with a `database` attached (a real PostgreSQL server, see
        harness.transports.postgres) the server runs it as the binding's role and its
        answer decides instead.
        """
        host, _, _ = split_url(request.url)
        path = request.json["statement"]
        route = self._statement_route(host, request.json["operation"])
        operation = route.operation
        token = _bearer(request.headers)
        # a database is not a host: no egress check
        access = self._access(
            request, host, path, route, True, _NO_FIELDS, request.json, token, False
        )
        verdict = authorize(access)
        claims = access.claims
        caller = claims if claims is not None else self._peek(token)
        if self.database is not None and claims is not None and verdict.rule != "token":
            response = self.database.execute(claims.binding, request, context)
            error = str((response.json or {}).get("error", ""))
            requirement = verdict.requirement or operation.requires
            verdict = judged_by_database(verdict, requirement, response.status, error)
        elif not verdict.allowed:
            response = _sql_refusal(verdict, operation)
        else:
            response = self.answer(operation, {}, request, context)
        self._record(verdict, caller, request, host, path, context, operation, response.status)
        return response

    def _access(
        self,
        request: Request,
        host: str,
        path: str,
        route: Route | None,
        host_served: bool,
        query: Mapping[str, str],
        body: Any,
        token: str | None,
        checks_egress: bool,
        query_text: str = "",
        context: CallContext = _NO_CONTEXT,
        session: UploadSession | None = None,
    ) -> AccessRequest:
        """What the call presents to authorization, its token verified for the route's service
        and the route in the permission model the caller's connector holds grants in."""
        service = route.service if route is not None else None
        claims, rejection = self._verify(token, service)
        connector = self._connectors.get(claims.subject) if claims is not None else None
        if route is not None and connector is not None and route.service.models:
            route = self._model_view(route, connector.credential.models)
            service = route.service
        grants = self._grants(claims, service)
        # positional, in AccessRequest's field order: this is on the path of every call
        return AccessRequest(
            request.method,
            host,
            path,
            route,
            host_served,
            query,
            body,
            request.headers,
            claims,
            rejection,
            connector,
            grants,
            self.replay_state,
            checks_egress,
            query_text,
            request.content,
            context.flow,
            session,
            (),
            (),
            self._plans if checks_egress else None,  # a SQL statement is judged in full
        )

    def answer(
        self, operation: Operation, params: dict[str, str], request: Request, context: CallContext
    ) -> Response:
        answer = operation.answer
        if answer.kind == "static":
            return static_answer(answer)
        if answer.kind == "collection":
            return self.collections.answer(operation.service, answer, params, request.json)
        return context.recorded or Response(200, {})

    def _model_view(self, route: Route, models: tuple[tuple[str, str], ...]) -> Route:
        """The route in the permission model the connector's credential holds (`models:`)."""
        operation = route.operation
        key = (route.service.name, operation.id, models)  # not id(): an audit event
        found = self._in_model.get(key)
        if found is None or found[0] is not operation:
            service = route.service
            model = dict(models).get(service.name)
            if not model or model == service.model:
                found = (operation, None)
            else:
                operations = self._views.get((service.name, model))
                if operations is None:
                    view = self.workspace.service(service.name, model)
                    operations = {op.id: op for op in view.operations}
                    self._views[(service.name, model)] = operations
                view_route = (self.workspace.service(service.name, model), operations[operation.id])
                found = (operation, view_route)
            self._in_model[key] = found
        if found[1] is None:
            return route
        return Route(found[1][0], found[1][1], route.params)

    def _statement_route(self, database: str, statement: str) -> Route:
        """The route of a recorded statement on a postgres service, found once."""
        key = (database, statement)
        route = self._statement_routes.get(key)
        if route is None:
            service = self._services[database]
            operation = next(op for op in service.statements if op.id == statement)
            route = self._statement_routes[key] = Route(service, operation, {})
        return route

    def _verify(
        self, token: str | None, service: Service | None
    ) -> tuple[Claims | None, TokenRejected | None]:
        """The claims of a token that verifies for `service`, or why it does not."""
        if token is None or service is None:
            return None, None
        try:
            return self.tokens.verify(token, now=self.clock.now, audience=service.name), None
        except TokenRejected as rejected:
            return None, rejected

    def _grants(self, claims: Claims | None, service: Service | None) -> GrantSet | None:
        """The token's grants on `service` (in its permission model), prepared once per
        distinct set of grants."""
        if claims is None or service is None:
            return None
        granted = claims.grants.get(service.name, ())
        key = (service.name, service.model, granted)
        grant_set = self._grant_sets.get(key)
        if grant_set is None:
            grant_set = GrantSet.build((Grant.parse(text) for text in granted), service.universe)
            self._grant_sets[key] = grant_set
        return grant_set

    def _record(
        self,
        verdict: Verdict,
        caller: Claims | None,
        request: Request,
        host: str,
        path: str,
        context: CallContext,
        operation: Operation | None,
        answered: int,
        service: str = "",
        model: str = "",
    ) -> None:
        """Append the call's Decision; `service` names it when no operation was found, `model`
        is the permission model the call was judged in."""
        judged: Judgement | None = None
        if operation is not None:
            service = operation.service
            if verdict.requirement is not None:
                judged = self._judgement(verdict, operation, model)
        log = self.decisions
        # positional, in Decision's field order (sequence, time, identity, binding,
        # environment, service, operation, method, host, path, scopes, outcome, rule,
        # rule_location, reason, satisfied_by, resources, status, flow, step, step_name,
        # judged): matching 22 keywords costs more than the rest of building it
        if caller is not None:
            identity, binding, environment = caller.subject, caller.binding, caller.environment
            scopes = caller.grants.get(service, ())
        else:
            identity = binding = environment = ""
            scopes = ()
        log.append(
            Decision(
                len(log) + 1,
                self.clock.now,
                identity,
                binding,
                environment,
                service,
                operation.id if operation is not None else "",
                request.method,
                host,
                path,
                scopes,
                verdict.outcome,
                verdict.rule,
                verdict.rule_location,
                verdict.reason,
                verdict.satisfied_by,
                verdict.resources,
                verdict.status or answered,
                context.flow,
                context.step,
                context.step_name,
                judged,
            )
        )

    def _judgement(self, verdict: Verdict, operation: Operation, model: str) -> Judgement:
        """What the call was judged by; one object serves every plain call of an operation
        (an operation in another permission model is another object)."""
        assert verdict.requirement is not None
        if verdict.condition or verdict.requirement is not operation.requires:
            # a conditional call: one object per distinct judgement (a value), so that the log
            # does not hold a new one per call
            key = (verdict.requirement, verdict.condition, model)
            found = self._conditional_judgements.get(key)
            if found is None:
                if len(self._conditional_judgements) >= MAX_JUDGEMENTS:
                    self._conditional_judgements.clear()
                found = self._conditional_judgements[key] = Judgement(*key)
            return found
        plain = (operation.service, operation.id, model)  # not id(): an audit event
        held = self._judgements.get(plain)
        if held is None or held[0] is not operation:
            held = self._judgements[plain] = (operation, Judgement(operation.requires, "", model))
        return held[1]

    def _peek(self, token: str | None) -> Claims | None:
        """Identify the caller of a call that fails before authorization (signature still checked)."""
        if token is None:
            return None
        return self.tokens.identify(token)


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


def _token_param(
    service: Service, query: Mapping[str, str], request: Request, body: Any
) -> str | None:
    """A token sent as a query or form parameter the service accepts (RFC 6750 2.2, 2.3)."""
    form = body if request.json is None and isinstance(body, dict) else None  # a form, not JSON
    for fields in (query, form or {}):
        for name in service.token_params:
            if fields.get(name):
                return str(fields[name])
    return None


def _http_refusal(verdict: Verdict, service: Service, operation: Operation) -> Response:
    """The answer a real service gives a call it refuses (RFC 6750 for tokens and scopes)."""
    if verdict.status == 401:
        if verdict.error == "invalid_request":
            return _unauthorized("invalid_request", "a bearer token is required")
        return _unauthorized(verdict.error, verdict.reason)
    if verdict.rule == "argument":
        return Response(400, {"error": "invalid_arguments", "detail": verdict.reason})
    return _forbidden(service, operation, verdict.requirement or operation.requires)


def _unauthorized(error: str, description: str) -> Response:
    header = f'Bearer error="{error}", error_description="{description}"'
    return Response(
        401, {"error": error, "error_description": description}, (("WWW-Authenticate", header),)
    )


def _forbidden(service: Service, operation: Operation, requirement: Requirement) -> Response:
    if service.opaque:
        return Response(403, None)
    headers, required, message = _refusal_texts(operation.qualified, requirement, service.model)
    body = {
        "error": "insufficient_scope",
        "operation": operation.qualified,
        "required": None if required is None else [list(scopes) for scopes in required],
        "message": message,
    }
    return Response(403, body, headers)


@functools.lru_cache(maxsize=4096)
def _refusal_texts(
    qualified: str, requirement: Requirement, model: str
) -> tuple[tuple[tuple[str, str], ...], tuple[tuple[str, ...], ...] | None, str]:
    """The header, required scopes and message of a 403, built once per (operation,
    requirement, model); the body's lists are made new for every answer."""
    if requirement.is_unavailable:  # no scope of the caller's model would do: none to name
        header = 'Bearer error="insufficient_scope"'
        required: tuple[tuple[str, ...], ...] | None = None
    else:
        scope_hint = " ".join(sorted(requirement.any_of[0]))
        header = f'Bearer error="insufficient_scope", scope="{scope_hint}"'
        required = tuple(tuple(scopes) for scopes in requirement.to_data())
    message = f"{qualified} {needs_text(requirement, model)}"
    return (("WWW-Authenticate", header),), required, message


def _sql_refusal(verdict: Verdict, operation: Operation) -> Response:
    """The answer PostgreSQL gives a statement it refuses."""
    if verdict.status == 401:
        return Response(
            401,
            {"error": verdict.reason if verdict.error != "invalid_request" else "no credential"},
        )
    tables = ", ".join(tables_of(verdict.requirement or operation.requires))
    return Response(403, {"error": f"permission denied for table {tables}"})


def _no_route(access: AccessRequest) -> Response:
    """The 404 of a call no operation matches, naming the operations most like it."""
    return Response(
        404,
        {
            "error": "no_route",
            "detail": unmatched(access),
            "nearest": [f"{op.method} {op.path}" for op in access.nearest],
        },
    )
