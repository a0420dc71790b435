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
public   the operation needs no token at all: allowed
token    no token was sent: denied (401)
scope    the requirement of the call (`call_requirement`) against the token's grants on
         the service, under implication and resource narrowing: allowed, or denied (403)

The sandbox verifies the token, builds the AccessRequest, and turns the Verdict into a
Decision and a response; HTTP calls and SQL statements are decided here alike.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from dataclasses import dataclass, field
from fnmatch import fnmatchcase
from typing import Any, NamedTuple

from harness.decisions import ALLOWED, BLOCKED, DENIED, Outcome, Rule
from harness.model import Connector, Operation, Service
from harness.routing import Route
from harness.scopes import GrantSet, Requirement
from harness.tokens import Claims, TokenRejected


@dataclass(slots=True)
class ReplayState:
    """What the current replay has done so far that a requirement may depend on.

    `created` holds the resources the replay created through the mocks, as (service,
    collection, id): a grant that reaches only what the app itself created (Google's
    `drive.file`) is judged against it. The sandbox empties it on every reset.
    """

    created: set[tuple[str, str, str]] = field(default_factory=set)


class AccessRequest(NamedTuple):
    """Everything a call presents to authorization, the token already verified.

    A NamedTuple rather than a frozen dataclass, as is Verdict: both are built for every
    call, and a tuple is built four times faster (bench/run.py measures the calls).
    """

    method: str
    host: str
    path: str
    route: Route | None  # the operation and its path parameters; None: no operation matches
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

    @property
    def allowed(self) -> bool:
        return self.outcome == ALLOWED


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


def call_requirement(access: AccessRequest, operation: Operation) -> Requirement:
    """What this call needs: its operation's requirement, whatever the call's arguments."""
    return operation.requires


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
        return Verdict(
            DENIED, "route", "", 404, f"no operation matches {access.method} {access.path}"
        )
    service, operation = route.service, route.operation
    if access.rejection is not None:
        return Verdict(
            DENIED,
            "token",
            "",
            401,
            access.rejection.reason,
            resources=_sorted(call_resources(access, operation)),
            error=access.rejection.error,
        )
    if access.claims is not None and access.checks_egress:
        refused = _egress(access, service)
        if refused is not None:
            return refused
    location = str(operation.location)
    requirement = call_requirement(access, operation)
    if requirement.is_public:
        return Verdict(ALLOWED, "public", location, 0, "the operation is public")
    if access.claims is None or access.grants is None:
        sent = "no bearer token was sent" if access.checks_egress else "no credential was presented"
        return Verdict(DENIED, "token", "", 401, sent, error="invalid_request")
    resources = call_resources(access, operation)
    grants = access.grants
    index = grants.allows(requirement, resources)
    if index is None:
        granted = access.claims.grants.get(service.name, ())
        return Verdict(
            DENIED,
            "scope",
            location,
            403,
            f"requires {requirement}; granted: {', '.join(granted) or 'nothing'}",
            resources=_sorted(resources),
            requirement=requirement,
            error="insufficient_scope",
        )
    used = grants.grants_for(requirement.any_of[index], resources)
    satisfied_by = tuple(str(grant) for grant in used)
    touched = tuple(sorted(resources.items())) if resources else ()
    # positional: the verdict of most calls (outcome, rule, location, status, reason, ...)
    return Verdict(
        ALLOWED, "scope", location, 0, _requires(requirement), satisfied_by, touched, requirement
    )


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


def call_resources(access: AccessRequest, operation: Operation) -> dict[str, str]:
    """The resources the call touches, by the operation's locators (`path.channel`,
    `query.q`, `header.X-Bucket`, `body.channel`)."""
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
            value = _dig(access.body, name)
        if value is not None and not isinstance(value, (dict, list)):
            found[key] = str(value)
    return found


def _dig(data: Any, dotted: str) -> Any:
    for part in dotted.split("."):
        if isinstance(data, dict):
            data = data.get(part)
        elif isinstance(data, list) and part.isdigit() and int(part) < len(data):
            data = data[int(part)]
        else:
            return None
    return data


def _sorted(resources: Mapping[str, str]) -> tuple[tuple[str, str], ...]:
    return tuple(sorted(resources.items())) if resources else ()
