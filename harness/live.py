"""Live flow code in the sandbox: LiveSandbox, a context manager usable from any test
framework or a plain script, and the assertions on the calls made inside it.

    with LiveSandbox(workspace) as sandbox:
        crm = sandbox.binding("crm-sync", env="prod")
        requests.get("https://api.crm.example/v1/contacts", headers=crm.headers)
        sandbox.assert_least_privilege()

While it is active, `requests` (through responses) and `httpx` calls reach the mocks and
every other way out of the process (a name lookup, a socket, a child process) is refused
and recorded as a blocked decision (harness.egress_guard). HttpSandbox serves the mocks on
loopback ports instead, for flow code in any language. The pytest fixtures (`sandbox`,
`http_sandbox`) are thin wrappers of these. See docs/api.md.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from fnmatch import fnmatchcase
from typing import Self

from harness.analysis import analyse_binding
from harness.calls import CallContext
from harness.decisions import ALLOWED, BLOCKED, DENIED, Decision, Exchange
from harness.errors import Location
from harness.findings import CREDENTIAL, EGRESS, EXCESSIVE, MISSING, OVER_BROAD
from harness.interception import Interceptor
from harness.model import Binding, GrantSource, Role, Workspace
from harness.render.style import Style
from harness.render.text import finding_lines
from harness.replay import replay
from harness.sandbox import Sandbox
from harness.scopes import Grant
from harness.settlement import settle_shared_roles
from harness.transports.loopback import LoopbackServer

DEFAULT_KINDS = (MISSING, EXCESSIVE, OVER_BROAD, EGRESS, CREDENTIAL)


@dataclass(frozen=True, slots=True)
class BindingHandle:
    """What flow code needs to act as a binding: its token and where the services are."""

    name: str
    connector: str
    env: str
    token: str
    base_urls: dict[str, str]  # service -> https://host

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}

    @property
    def environ(self) -> dict[str, str]:
        """Environment variables for flow code that reads its settings from the environment."""
        variables = {"HARNESS_TOKEN": self.token, "HARNESS_BINDING": self.name}
        for service, url in self.base_urls.items():
            variables[f"{service.upper().replace('-', '_')}_BASE_URL"] = url
        return variables


class LiveSandbox:
    """Mock services for live flow code while active: its bindings, the calls made so far,
    and assertions on them. `name` names the calls' flow in decisions and recordings."""

    def __init__(self, workspace: Workspace, *, name: str = "live") -> None:
        self.sandbox = Sandbox(workspace)
        self.name = name
        self.bindings_used: dict[str, Binding] = {}
        # grants given with binding(..., grants=...): they replace the binding's roles for
        # the token and for the analysis alike
        self.grants_given: dict[str, dict[str, tuple[str, ...]]] = {}
        self._numbers = itertools.count()
        self._asserted: set[int] = set()  # decisions (by sequence) an assertion named
        self.interceptor = Interceptor(self.sandbox, self._context)

    def _context(self) -> CallContext:
        number = next(self._numbers)
        return CallContext(self.name, number, f"call {number + 1}")

    def __enter__(self) -> Self:
        self.interceptor.__enter__()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.interceptor.__exit__(*exc_info)

    @property
    def workspace(self) -> Workspace:
        return self.sandbox.workspace

    @property
    def exchanges(self) -> list[Exchange]:
        return self.interceptor.exchanges

    @property
    def decisions(self) -> list[Decision]:
        return [exchange.decision for exchange in self.interceptor.exchanges]

    def binding(
        self,
        name: str,
        env: str | None = None,
        *,
        grants: Mapping[str, Iterable[str]] | None = None,
        lifetime: int | None = None,
    ) -> BindingHandle:
        """A binding's token: `binding("crm-sync", env="prod")` or `binding("crm-sync@prod")`;
        `grants={"crm": [...]}` replaces its roles' grants (for exploring scope sets)."""
        connector, _, at_env = name.partition("@")
        wanted_env = env or at_env or None
        candidates = [
            b
            for b in self.workspace.bindings
            if b.connector == connector and (wanted_env is None or b.env == wanted_env)
        ]
        if len(candidates) != 1:
            known = ", ".join(b.name for b in self.workspace.bindings)
            problem = "no binding" if not candidates else "several bindings"
            raise LookupError(f"{problem} matches {name!r} (env {wanted_env!r}); bindings: {known}")
        chosen = candidates[0]
        self.bindings_used[chosen.name] = chosen
        if grants is None:
            self.grants_given.pop(chosen.name, None)
        else:
            given = {service: tuple(values) for service, values in grants.items()}
            self.grants_given[chosen.name] = given
            grants = given
        token = self.sandbox.issue_token(chosen, grants=grants, lifetime=lifetime)
        return BindingHandle(chosen.name, chosen.connector, chosen.env, token, self.base_urls)

    @property
    def base_urls(self) -> dict[str, str]:
        """Service name -> `https://HOST` of each HTTP service (a database has no URL)."""
        return {
            service.name: f"https://{service.hosts[0]}"
            for service in self.workspace.services
            if service.hosts
        }

    def calls_text(self) -> str:
        """Every call made so far with its outcome and why, one per line."""
        if not self.exchanges:
            return "  (no calls were made)"
        return "\n".join(
            _call_line(number, exchange.decision)
            for number, exchange in enumerate(self.exchanges, start=1)
        )

    def assert_least_privilege(
        self, binding: str | None = None, kinds: Iterable[str] = DEFAULT_KINDS
    ) -> None:
        """Fail when the binding holds more than its calls needed, or when any call was
        denied or blocked, whatever refused it (a missing scope, no token, an expired,
        revoked or foreign one, egress): the message lists each finding, each refused
        call that no finding names, and every call."""
        names = [binding] if binding else sorted(self.bindings_used)
        if not names:
            lines = ["assert_least_privilege: no binding was used; call binding(...) first"]
            if self.exchanges:
                lines += ["calls made:", self.calls_text()]
            raise AssertionError("\n".join(lines))
        problems = self.least_privilege_problems(names, kinds)
        if problems:
            raise AssertionError(
                "\n".join(
                    ["least privilege does not hold:", *problems, "calls made:", self.calls_text()]
                )
            )

    def least_privilege_problems(
        self, names: Iterable[str], kinds: Iterable[str] = DEFAULT_KINDS
    ) -> list[str]:
        """The lines of what breaks least privilege for the bindings `names`: each binding's
        findings of `kinds`, then each refused call no finding names; empty when it holds."""
        wanted = set(kinds)
        names = list(names)
        problems: list[str] = []
        explained: set[int] = set()  # the refused calls a finding names, by sequence
        for name in names:
            target = self.bindings_used.get(name) or next(
                b for b in self.workspace.bindings if b.name == name
            )
            decisions = [
                d
                for d in self.decisions
                if d.binding == target.name or (d.outcome == BLOCKED and not d.binding)
            ]
            judged, target = self._as_held(target)
            # a role other bindings share is never edited for this one alone
            (result,) = settle_shared_roles(
                judged, [analyse_binding(judged, target, decisions, wanted)], final=False
            )
            findings = [f for f in result.findings if f.kind in wanted]
            if findings:
                problems.append(f"binding {target.name}:")
                problems.extend(finding_lines(findings, Style(False)))
                named = {evidence for finding in findings for evidence in finding.evidence}
                explained.update(d.sequence for d in decisions if _evidence(d) in named)
        # A refused call fails the assertion even when no finding of `kinds` names it: one
        # no binding can be blamed for (no token, a foreign one), or one a kind left out.
        refused = [
            _call_line(number, d)
            for number, d in enumerate(self.decisions, start=1)
            if d.outcome != ALLOWED
            and (not d.binding or d.binding in names)
            and d.sequence not in explained
        ]
        if refused:
            problems += ["refused calls:", *refused]
        return problems

    def _as_held(self, binding: Binding) -> tuple[Workspace, Binding]:
        """The workspace and binding as the binding's token held them: with the grants given
        to `binding(..., grants=...)` as its one role, in place of its roles."""
        given = self.grants_given.get(binding.name)
        if given is None:
            return self.workspace, binding
        name = f"binding({binding.name}, grants=...)"
        where = Location(f"<{name}>")
        sources = tuple(
            GrantSource(service, Grant.parse(text), name, where)
            for service, texts in sorted(given.items())
            for text in texts
        )
        role = Role(name, "", "", None, None, (), sources, where, where)
        held = replace(binding, roles=(name,))
        bindings = tuple(held if b.name == binding.name else b for b in self.workspace.bindings)
        roles = (*(r for r in self.workspace.roles if r.name != name), role)
        return replace(self.workspace, roles=roles, bindings=bindings), held

    def assert_denied(
        self, method: str | None = None, url: str | None = None, *, operation: str | None = None
    ) -> Decision:
        """Fail unless a matching call was denied or blocked; return its decision."""

        def matches(decision: Decision) -> bool:
            if method and decision.method != method.upper():
                return False
            if url and not f"https://{decision.host}{decision.path}".startswith(url.split("?")[0]):
                return False
            return not operation or operation in (
                decision.operation,
                f"{decision.service}:{decision.operation}",
            )

        found = [d for d in self.decisions if matches(d)]
        refused = [d for d in found if d.outcome != ALLOWED]
        if refused:
            self._asserted.update(d.sequence for d in refused)
            return refused[0]
        wanted = " ".join(part for part in (method, url, operation) if part)
        problem = "was allowed" if found else "was never made"
        raise AssertionError(
            f"expected a denied call matching {wanted}, but it {problem}. "
            f"Calls made:\n{self.calls_text()}"
        )

    def assert_flow_passes(
        self, flow: str, binding: str, grants: Mapping[str, Iterable[str]] | None = None
    ) -> None:
        """Replay a workspace flow under `binding` (or under `grants` instead of its roles) and
        fail naming each refused step: with `@given(scopes=scope_subsets(...))`, Hypothesis
        shrinks to the smallest grant set that breaks the flow."""
        target = next((b for b in self.workspace.bindings if b.name == binding), None)
        chosen = next((f for f in self.workspace.flows if f.name == flow), None)
        if target is None or chosen is None:
            known = ", ".join(f.name for f in self.workspace.flows)
            raise LookupError(f"no flow {flow!r} or binding {binding!r} (flows: {known})")
        expected_denied = {step.index for step in chosen.steps if step.expect == DENIED}
        refused = [
            f"  step {d.step + 1} ({d.step_name}): {d.method} {d.host}{d.path} {d.outcome}: {d.reason}"
            for d in replay(Sandbox(self.workspace), chosen, target, grants=grants)
            if d.allowed == (d.step in expected_denied)
        ]
        if refused:
            held = (
                "its roles"
                if grants is None
                else "; ".join(f"{s}: {', '.join(g)}" for s, g in sorted(grants.items()))
                or "no grants"
            )
            raise AssertionError(
                "\n".join([f"flow {flow} fails under {binding} with {held}:", *refused])
            )

    def assert_blocked(self, host: str | None = None, *, channel: str | None = None) -> Decision:
        """Fail unless an attempt to leave the sandbox matching `host` (a name, an address
        or a program; globs allowed) and `channel` (dns, tcp, udp, raw, process, host,
        region) was blocked; return its decision. A test that expects its code to try
        to leave says so with this, or the `sandbox` fixture fails it."""
        rule = f"egress.{channel}" if channel else None
        blocked = [
            d
            for d in self.decisions
            if d.outcome == BLOCKED
            and (host is None or d.host == host or fnmatchcase(d.host, host))
            and (rule is None or d.rule == rule)
        ]
        if blocked:
            self._asserted.update(d.sequence for d in blocked)
            return blocked[0]
        wanted = " ".join(part for part in (host, f"({channel})" if channel else None) if part)
        raise AssertionError(
            f"expected a blocked attempt to leave the sandbox{' matching ' + wanted if wanted else ''}"
            f", but none was made. Calls made:\n{self.calls_text()}"
        )

    def asserted_refusals(self) -> frozenset[int]:
        """The refused calls (by decision sequence) an assert_denied or assert_blocked named:
        what the test expected to be refused."""
        return frozenset(self._asserted)

    def unasserted_blocks(self) -> list[Decision]:
        """The attempts to leave the sandbox that no assert_blocked or assert_denied named."""
        return [
            d for d in self.decisions if d.outcome == BLOCKED and d.sequence not in self._asserted
        ]

    def blocked_text(self) -> str:
        """The attempts of `unasserted_blocks`, one per line, numbered as in `calls_text`."""
        unasserted = {d.sequence for d in self.unasserted_blocks()}
        return "\n".join(
            _call_line(number, exchange.decision)
            for number, exchange in enumerate(self.exchanges, start=1)
            if exchange.decision.sequence in unasserted
        )

    def reset(self) -> None:
        """Forget the calls so far and restart the clock and collections (e.g. per Hypothesis example)."""
        self.sandbox.reset()
        self.interceptor.exchanges.clear()
        self.bindings_used.clear()
        self.grants_given.clear()
        self._asserted.clear()


def _call_line(number: int, decision: Decision) -> str:
    """One call of `calls_text`: what was called, its outcome, and the rule's reason."""
    why = (
        f"{decision.service}:{decision.operation}: {decision.reason}"
        if decision.operation
        else decision.reason  # which names the host
    )
    return f"  {number}. {decision.method} {decision.host}{decision.path} -> {decision.outcome} ({why})"


def _evidence(decision: Decision) -> str:
    """How a finding names the call that shows it (harness.analysis words it alike)."""
    return f"{decision.flow} step {decision.step + 1} ({decision.step_name})"


class HttpSandbox(LiveSandbox):
    """Mock services on loopback HTTP ports while active, for flow code in any language.

    Nothing is patched: its `exchanges` log every call the servers answered, and
    `binding(...)` gives tokens whose `base_urls` point at the loopback servers
    (`http://127.0.0.1:PORT`).
    """

    def __init__(self, workspace: Workspace, *, name: str = "live") -> None:
        super().__init__(workspace, name=name)
        self.server: LoopbackServer | None = None

    def __enter__(self) -> Self:
        self.server = LoopbackServer(
            self.sandbox, listeners=(self.interceptor.exchanges.append,)
        ).start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        if self.server is not None:
            self.server.stop()
            self.server = None

    @property
    def base_urls(self) -> dict[str, str]:
        """Service name -> `http://127.0.0.1:PORT` serving it."""
        assert self.server is not None, "the loopback servers run only inside `with`"
        return dict(self.server.base_urls)
