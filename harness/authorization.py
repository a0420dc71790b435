"""Where a call is allowed, denied or blocked: one pure function, `authorize`, from
everything the call presents (an AccessRequest) to a Verdict.

The rules, in the order they are tried; the first that refuses decides:

channel  a way out that is not an HTTP call (a DNS lookup, a socket, a child process:
         its method names the channel, CHANNELS): blocked, by the channel's rule
route    no operation matches: blocked when no mocked service answers on the host
         (egress), else denied (404)
token    a token was sent that does not verify (expired, revoked, another audience,
         another signer): denied (401)
egress   the connector may not call this host, or this host's region: blocked
argument the call's arguments decide its requirement and hold a value the vendor refuses
         (too many list values, a value not in the operation's `values:`): denied (400)
public   the operation needs no token at all: allowed
token    no token was sent: denied (401)
scope    the requirement of the call (`effective_requirement`) against the token's grants
         on the service, under implication and resource narrowing: allowed, or denied (403)

The requirement of a call is decided in one place, `effective_requirement`: the
operation's requirement, or for a conditional one (harness.conditions) its expression
evaluated on the call's arguments and what the replay did before (ReplayState); a call
continuing an upload session is judged as the call that opened it.

The sandbox verifies the token, routes the call in the permission model of the caller's
connector, builds the AccessRequest, and turns the Verdict into a Decision and a
response; HTTP calls and SQL statements are decided here alike.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from fnmatch import fnmatchcase
from typing import Any, NamedTuple

from harness.arguments import Argument, CallArguments
from harness.call_requirements import Effective
from harness.conditions import ConditionalRequirement, Evaluation, evaluate
from harness.decisions import ALLOWED, BLOCKED, DENIED, Outcome, Rule
from harness.model import Connector, Operation, Service
from harness.replay_state import ReplayState, UploadSession, dig
from harness.routing import Route
from harness.scopes import GrantSet, Requirement, needs_text
from harness.tokens import Claims, TokenRejected


class AccessRequest(NamedTuple):
    """Everything a call presents to authorization, the token already verified.

    A NamedTuple rather than a frozen dataclass, as is Verdict: both are built for every
    call, and a tuple is built four times faster (bench/run.py measures the calls).
    """

    method: str
    host: str
    path: str
    # the operation (in the permission model of the caller's connector) and its path
    # parameters; None: no operation matches
    route: Route | None
    host_served: bool  # a mocked service answers on `host` (only read when `route` is None)
    query: Mapping[str, str]  # the query string's parameters (QueryParameters: parsed lazily)
    body: Any  # the JSON body, or a form body's fields; None when neither
    headers: Mapping[str, str]
    claims: Claims | None  # the verified token; None when none was sent or it was refused
    rejection: TokenRejected | None  # why the token that was sent does not verify
    connector: Connector | None  # the connector the token was issued to
    grants: GrantSet | None  # the token's grants on the route's service
    replay: ReplayState
    checks_egress: bool = True  # False for a SQL statement: a database is not a host
    query_text: str = ""  # the query string as sent (a list argument may repeat a parameter)
    content: bytes | None = None  # a body that is not JSON, as sent (form, multipart)
    flow: str = ""  # the replayed flow (its `given:` resources), "" for a live call
    session: UploadSession | None = None  # the upload session the call continues
    # for a call no operation matches: the services on the host and the operations on it
    # most like the call, which its reason names
    host_services: tuple[str, ...] = ()
    nearest: tuple[Operation, ...] = ()
    # where the sandbox keeps the verdicts that depend on the route, connector, host and
    # grants alone (`Plan`); None: every rule is tried for this call
    plans: dict[Any, Plan] | None = None


MAX_PLANS = 8192  # plans a sandbox keeps; it starts again when full


class Plan(NamedTuple):
    """The verdict every call of `operation` on `service` gets from `connector` holding
    `grants` on one host (touching the same resources, when a grant is narrowed; else its
    touched resources aside: see `authorize`)."""

    operation: Operation
    service: Service
    connector: Connector | None
    grants: GrantSet
    evaluation: Evaluation | None  # of the operation's conditional requirement, if it has one
    verdict: Verdict


class Verdict(NamedTuple):
    """The outcome for one call, the rule that decided it and why."""

    outcome: Outcome
    rule: Rule
    rule_location: str  # file:line:column of the rule (the operation's requirement), or ""
    status: int  # the status of the refusal; 0 when the mock answers (allowed)
    reason: str
    satisfied_by: tuple[str, ...] = ()  # the grants that allowed the call
    resources: tuple[tuple[str, str], ...] = ()  # the resources the call touches, sorted
    requirement: Requirement | None = None  # the requirement judged, when one was
    error: str = ""  # the OAuth error code of a 401 (RFC 6750 3.1)
    condition: str = ""  # the argument values and resource classes that decided `requirement`

    @property
    def allowed(self) -> bool:
        return self.outcome == ALLOWED


def effective_requirement(access: AccessRequest, operation: Operation) -> Effective:
    """What this call needs: its operation's requirement, or for a conditional one its
    expression evaluated on the call's arguments and on what the replay created or was
    given (resource classes); a call continuing an upload session needs what the call
    that opened it needed. `invalid` says why the vendor refuses the call's arguments."""
    session = access.session
    if session is not None:
        opened = session.requirement or Requirement.unavailable()
        if session.service.model != operation_model(access):
            # the session was opened in another permission model: judge it in this one
            opened = effective_requirement(access._replace(session=None), operation).requirement
        condition = f"upload session opened by {operation.id}; {session.condition}"
        return Effective(opened, condition.rstrip("; "))
    conditional = operation.conditional
    if conditional is None:
        return Effective(operation.requires)
    found = _evaluation(access, conditional)
    if found.invalid:
        return Effective(operation.requires, found.condition, found.invalid)
    requirement = found.requirement if found.requirement is not None else Requirement.unavailable()
    return Effective(requirement, found.condition)


def _evaluation(access: AccessRequest, conditional: ConditionalRequirement) -> Evaluation:
    """A conditional requirement evaluated on the call's arguments and the replay's state."""
    state, flow = access.replay, access.flow

    def classes(argument: Argument, value: str) -> frozenset[str]:
        return state.classes(argument.resource, value, flow)

    return evaluate(conditional, call_arguments(access), classes)


def operation_model(access: AccessRequest) -> str:
    """The permission model the call is judged in ("": its service has one)."""
    return access.route.service.model if access.route is not None else ""


def call_arguments(access: AccessRequest) -> CallArguments:
    """The call's arguments, parsed on first read (only conditional operations read them)."""
    params = access.route.params if access.route is not None else {}
    body = access.body if access.content is None else None  # a form is parsed from `content`
    return CallArguments(access.query_text, params, access.headers, body, access.content)


# The ways out that are not HTTP calls, by the method an attempt is presented with
# (harness.egress_guard, harness.boundary): the rule that blocks it and why, worded
# from the attempt's host and path (`:PORT`).
CHANNELS: Mapping[str, tuple[Rule, str]] = {
    "RESOLVE": (
        "egress.dns",
        "a DNS lookup of {host}: the sandbox resolves no names; its services are reached "
        "through requests, httpx or its loopback servers",
    ),
    "CONNECT": (
        "egress.tcp",
        "a TCP connection to {host}{path}: no route leads out of the sandbox",
    ),
    "SEND": ("egress.udp", "a UDP datagram to {host}{path}: no route leads out of the sandbox"),
    "RAW": ("egress.raw", "a raw network socket ({host}): no packet leaves the sandbox"),
    "EXEC": (
        "egress.process",
        "a child process ({host}): the in-process sandbox cannot see what it sends; run it "
        "inside the network boundary (docs/security.md)",
    ),
}


def authorize(access: AccessRequest) -> Verdict:
    """The verdict on one call; see the module's docstring for the order of the rules."""
    route = access.route
    if route is None:
        channel = CHANNELS.get(access.method)
        if channel is not None:
            rule, reason = channel
            return Verdict(BLOCKED, rule, "", 0, reason.format(host=access.host, path=access.path))
        if not access.host_served:
            reason = f"no mocked service answers on {access.host}; the call was not sent"
            return Verdict(BLOCKED, "egress.host", "", 0, reason)
        return Verdict(DENIED, "route", "", 404, unroutable_reason(access))
    service, operation = route.service, route.operation
    if access.rejection is not None:
        return Verdict(
            DENIED,
            "token",
            "",
            401,
            access.rejection.reason,
            resources=_sorted(resources_of(access, operation)),
            error=access.rejection.error,
        )
    plans, grants = access.plans, access.grants
    if (
        plans is not None
        and grants is not None
        and access.claims is not None
        and access.session is None
    ):
        conditional = operation.conditional
        # evaluated before egress is checked: an evaluation reads the call, changes nothing
        found = None if conditional is None else _evaluation(access, conditional)
        return _planned(access, plans, service, operation, grants, found)
    return _judged(access, service, operation)


def _planned(
    access: AccessRequest,
    plans: dict[Any, Plan],
    service: Service,
    operation: Operation,
    grants: GrantSet,
    evaluation: Evaluation | None,
) -> Verdict:
    """The verdict of a call not continuing an upload session: a function of the
    operation, its service, the connector, the host, the grants, the evaluation of a
    conditional requirement (which read the call's arguments and the replay's state) and the
    resources the call touches (read from every call); with grants that are not narrowed,
    the resources only fill in the verdict's `resources`. Judged once per plan by `_judged`;
    the plan keeps the objects it was judged for and serves only those (a remembered
    evaluation is one object for every call that reads alike)."""
    assert access.claims is not None
    connector = access.connector
    granted = access.claims.grants.get(service.name, ())
    narrowed = grants.has_narrowing
    touched = _sorted(resources_of(access, operation)) if narrowed else None
    # by names, not `id()` (an audit event: every audit hook would hear each call's)
    key = (
        service.name, service.model, operation.id, connector.name if connector else None,
        access.host, granted, touched, evaluation.serial if evaluation is not None else 0,
    )  # fmt: skip
    plan = plans.get(key)
    if (
        plan is None
        or plan.operation is not operation
        or plan.service is not service
        or plan.connector is not connector
        or plan.grants is not grants
        or plan.evaluation is not evaluation
    ):
        if len(plans) >= MAX_PLANS:
            plans.clear()
        verdict = _judged(access, service, operation)
        plan = plans[key] = Plan(operation, service, connector, grants, evaluation, verdict)
    verdict = plan.verdict
    rule = verdict.rule
    if narrowed or (rule != "scope" and rule != "argument"):
        return verdict  # judged with the call's own resources, or names none
    touched = _sorted(resources_of(access, operation))
    if touched is verdict.resources:
        return verdict
    return Verdict(
        verdict.outcome,
        rule,
        verdict.rule_location,
        verdict.status,
        verdict.reason,
        verdict.satisfied_by,
        touched,
        verdict.requirement,
        verdict.error,
        verdict.condition,
    )


def _judged(access: AccessRequest, service: Service, operation: Operation) -> Verdict:
    """The rules after the token's: egress, argument, public, token, scope."""
    if access.claims is not None and access.checks_egress:
        refused = _egress(access, service)
        if refused is not None:
            return refused
    location = str(operation.location)
    requirement, condition, invalid = effective_requirement(access, operation)
    if invalid:
        return Verdict(
            DENIED,
            "argument",
            location,
            400,
            invalid,
            resources=_sorted(resources_of(access, operation)),
            requirement=requirement,
            condition=condition,
        )
    if requirement.is_public:
        return Verdict(
            ALLOWED,
            "public",
            location,
            0,
            "the operation is public",
            requirement=requirement,
            condition=condition,
        )
    if access.claims is None or access.grants is None:
        sent = "no bearer token was sent" if access.checks_egress else "no credential was presented"
        return Verdict(
            DENIED,
            "token",
            "",
            401,
            sent,
            requirement=requirement,
            error="invalid_request",
            condition=condition,
        )
    resources = resources_of(access, operation)
    grants = access.grants
    index = grants.allows(requirement, resources)
    if index is None:
        granted = access.claims.grants.get(service.name, ())
        return Verdict(
            DENIED,
            "scope",
            location,
            403,
            f"{_needs(requirement, service.model)}; granted: {', '.join(granted) or 'nothing'}",
            resources=_sorted(resources),
            requirement=requirement,
            error="insufficient_scope",
            condition=condition,
        )
    used = grants.grants_for(requirement.any_of[index], resources)
    satisfied_by = tuple(str(grant) for grant in used)
    touched = _sorted(resources)
    if condition:
        return Verdict(
            ALLOWED,
            "scope",
            location,
            0,
            _requires(requirement),
            satisfied_by,
            touched,
            requirement,
            condition=condition,
        )
    # positional: the verdict of most calls (outcome, rule, location, status, reason, ...)
    return Verdict(
        ALLOWED, "scope", location, 0, _requires(requirement), satisfied_by, touched, requirement
    )


def unmatched(access: AccessRequest) -> str:
    """`no operation of SERVICE matches METHOD PATH`, for a call to a mocked host."""
    names = ", ".join(access.host_services)
    return f"no operation {f'of {names} ' if names else ''}matches {access.method} {access.path}"


def unroutable_reason(access: AccessRequest) -> str:
    """Why a call to a mocked host cannot be judged: no operation of its services matches;
    the nearest operations are named, so the step can be fixed."""
    if not access.nearest:
        return unmatched(access)
    listed = "; ".join(_nearby(op) for op in access.nearest)
    return f"{unmatched(access)}; nearest: {listed}"


def _nearby(operation: Operation) -> str:
    """`METHOD TEMPLATE (service:id)`; an id that spells out the path again (GitHub's
    `get:/repos/:owner/:repo`) is left out, so that three of them stay one short line."""
    named = "" if "/" in operation.id else f" ({operation.qualified})"
    return f"{operation.method} {operation.path}{named}"


# the text of what a refused call needs, memoised as `_requires`
_needs = functools.lru_cache(maxsize=4096)(needs_text)


@functools.lru_cache(maxsize=4096)
def _requires(requirement: Requirement) -> str:
    """The reason of an allowed call; memoised, since most calls of a replay repeat a few."""
    return f"requires {requirement}"


def judged_by_database(
    verdict: Verdict, requirement: Requirement, status: int, error: str
) -> Verdict:
    """The verdict on a SQL statement that a real server ran as the binding's role: the
    server's answer decides; the grants the model found are kept as what allowed it."""
    location = verdict.rule_location
    if status == 403:
        return Verdict(
            DENIED, "scope", location, 403, f"requires {requirement}; PostgreSQL: {error}"
        )
    if status >= 400:
        return Verdict(DENIED, "database", location, status, f"PostgreSQL: {error}")
    return Verdict(
        ALLOWED,
        "scope",
        location,
        0,
        f"requires {requirement}",
        satisfied_by=verdict.satisfied_by if verdict.allowed else (),
        requirement=requirement,
    )


def _egress(access: AccessRequest, service: Service) -> Verdict | None:
    connector, host = access.connector, access.host
    if connector is None:
        return None
    if not _host_allowed(connector.allowed_hosts, host):
        reason = f"{host} is not in the allowed hosts of connector {connector.name}"
        return Verdict(BLOCKED, "egress.host", "", 0, reason)
    region = service.region_of(host)
    if connector.regions and region and region not in connector.regions:
        reason = f"{host} is in region {region}, outside {', '.join(connector.regions)}"
        return Verdict(BLOCKED, "egress.region", "", 0, reason)
    return None


@functools.lru_cache(maxsize=4096)
def _host_allowed(allowed_hosts: tuple[str, ...], host: str) -> bool:
    """`host` matches one of the connector's allowed hosts (globs); memoised per pair."""
    return any(host == allowed or fnmatchcase(host, allowed) for allowed in allowed_hosts)


def resources_of(access: AccessRequest, operation: Operation) -> dict[str, str]:
    """The resources the call touches: those of the upload session it continues, or those
    the operation's locators read from the call (`path.channel`, `query.q`,
    `header.X-Bucket`, `body.channel`)."""
    if access.session is not None:
        return access.session.resources
    if not operation.resources:
        return {}
    params = access.route.params if access.route is not None else {}
    found: dict[str, str] = {}
    for key, locator in operation.resources:
        source, _, name = locator.partition(".")
        value: Any = None
        if source == "path":
            value = params.get(name)
        elif source == "query":
            value = access.query.get(name)
        elif source == "header":
            lowered = name.lower()
            value = next((v for k, v in access.headers.items() if k.lower() == lowered), None)
        else:
            value = dig(access.body, name.split("."))
        if value is not None and not isinstance(value, (dict, list)):
            found[key] = str(value)
    return found


def _sorted(resources: Mapping[str, str]) -> tuple[tuple[str, str], ...]:
    """The resources as sorted pairs, one object per distinct value (`_interned`)."""
    return _interned(tuple(sorted(resources.items()))) if resources else ()


@functools.lru_cache(maxsize=4096)
def _interned(pairs: tuple[tuple[str, str], ...]) -> tuple[tuple[str, str], ...]:
    """The first equal tuple of pairs seen: every Decision touching the same resources holds
    the same one, and the log adds no object per call for the garbage collector to follow
    (a tuple of tuples stays tracked by it, unlike a tuple of strings)."""
    return pairs
