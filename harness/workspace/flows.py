"""Flows: recorded steps, sidecar bodies, SQL statements and their templates."""

from __future__ import annotations

import hashlib
from typing import Any
from urllib.parse import urlsplit

from harness.errors import Location
from harness.model import Answer, Connector, Flow, Mark, Operation, Service, Step
from harness.paths import read_bounded
from harness.permission_models import resource_kinds
from harness.placeholders import (
    PLACEHOLDER,
    bind_parameters,
    placeholder_names,
    substitute_url,
)
from harness.routing import split_url
from harness.sql import RISK as SQL_RISK
from harness.sql import SqlProblem, statement_needs
from harness.workspace.base import LoaderBase, suggest
from harness.workspace.units import parse_duration
from harness.workspace.yaml_source import YamlDocument


class FlowSection(LoaderBase):
    """Reads the flows of the policy documents, their steps and sidecar bodies."""

    def _flows(
        self,
        documents: list[YamlDocument],
        connectors: dict[str, Connector],
        services: dict[str, Service],
    ) -> list[Flow]:
        self._all_services = services
        flows: list[Flow] = []
        seen: dict[str, Location] = {}
        for doc, index, data in self._entries(documents, "flows"):
            base = ("flows", index)
            if not self._unique(seen, data["name"], "flow", doc.location((*base, "name"))):
                continue
            if data["connector"] not in connectors:
                self._dangling(
                    "policy",
                    doc.location((*base, "connector")),
                    f"flow refers to connector `{data['connector']}`, which is not defined",
                    suggest(data["connector"], connectors),
                    name=data["connector"],
                )
                continue
            variables = dict(data.get("vars", {}))
            known = set(variables)
            steps = []
            for position, step_data in enumerate(data["steps"]):
                step = self._step(
                    doc, (*base, "steps", position), position, step_data, known, variables
                )
                if step is not None:
                    steps.append(step)
                known.update(step_data.get("capture", {}))
            flows.append(
                Flow(
                    name=data["name"],
                    connector=data["connector"],
                    description=data.get("description", ""),
                    marks=tuple(Mark.parse(mark) for mark in data.get("marks", ())),
                    variables=tuple(sorted(variables.items())),
                    steps=tuple(steps),
                    location=doc.location(base),
                    given=self._given(doc, base, data.get("given", {}), services),
                )
            )
        return flows

    def _given(
        self,
        doc: YamlDocument,
        base: tuple[str | int, ...],
        data: dict[str, dict[str, Any]],
        services: dict[str, Service],
    ) -> tuple[tuple[str, str, str, str], ...]:
        """`given: {service: {kind: [id, ...] | {class: [id, ...]}}}`: what the resources the
        flow starts with are to the app (a list: given to it)."""
        found: list[tuple[str, str, str, str]] = []
        for service_name, kinds in data.items():
            service = services.get(service_name)
            if service is None:
                self._dangling(
                    "service",
                    doc.location((*base, "given", service_name), key=True),
                    f"`given` names `{service_name}`, which is not a service",
                    suggest(service_name, services),
                    name=service_name,
                )
                continue
            # a kind named in any permission model (GitHub's `repository` is conditional
            # only in its `oauth` model)
            declared = frozenset().union(
                *(resource_kinds(v) for v in self._model_views if v.name == service_name),
                resource_kinds(service),
            )
            for kind, identifiers in kinds.items():
                if kind not in declared:
                    self._fail(
                        doc.location((*base, "given", service_name, kind), key=True),
                        f"no operation of `{service_name}` names a resource of kind `{kind}`",
                        f"kinds named by its arguments: {', '.join(sorted(declared)) or 'none'}",
                    )
                    continue
                by_class = identifiers if isinstance(identifiers, dict) else {"given": identifiers}
                found.extend(
                    (service_name, kind, str(identifier), name)
                    for name, listed in by_class.items()
                    for identifier in listed
                )
        return tuple(sorted(set(found)))

    def _sidecar(
        self, doc: YamlDocument, path: tuple[str | int, ...], name: str | None
    ) -> bytes | None:
        """The bytes of a sidecar body file next to `doc` (None when absent or unreadable)."""
        if name is None:
            return None
        try:
            target = (doc.path.parent / name).resolve()
            missing = not target.is_relative_to(doc.path.parent.resolve()) or not target.is_file()
        except (OSError, ValueError, RuntimeError):  # too long, a NUL byte, a loop of links
            missing = True
        if missing:
            self._fail(
                doc.location(path),
                f"body file {name[:100] + '...' if len(name) > 100 else name!r} does not "
                "exist next to this file",
                "write a path relative to this file's directory, e.g. flow.bodies/1-request.bin",
            )
            return None
        return read_bounded(target, self.settings.max_file_bytes, where=doc.location(path))

    def _sql_step(
        self,
        doc: YamlDocument,
        base: tuple[str | int, ...],
        index: int,
        data: dict[str, Any],
        known: set[str],
    ) -> Step | None:
        """A recorded SQL statement: its privileges become the requirement of an operation."""
        databases = sorted(s.name for s in self._all_services.values() if s.kind == "postgres")
        database = data.get("database") or (databases[0] if len(databases) == 1 else "")
        if database not in databases:
            where = (*base, "database") if "database" in data else (*base, "sql")
            self._dangling(
                "service",
                doc.location(where),
                f"no postgres service named `{database}`"
                if database
                else "the step does not say which database it runs on",
                f"write `database: NAME` with one of: {', '.join(databases) or 'none defined'}",
                name=database,
            )
            return None
        text: str = data["sql"]
        names = placeholder_names(text)
        for name in sorted(set(names)):
            if name not in known:
                self._fail(
                    doc.location((*base, "sql")),
                    f"`{{{{ {name} }}}}` is neither a flow variable nor captured by an earlier step",
                    f"add `{name}` under the flow's `vars:` ({suggest(name, known)})",
                )
                return None
        parsable = bind_parameters(text, "$")
        service = self._all_services[database]
        try:
            needs = statement_needs(parsable, {t.name: t for t in service.tables})
        except SqlProblem as problem:
            self._fail(doc.location((*base, "sql")), problem.problem, problem.hint)
            return None
        normalized = " ".join(text.split())
        digest = hashlib.sha256(normalized.encode()).hexdigest()[:8]
        operation_id = f"sql.{needs.command.lower()}.{'+'.join(needs.tables)}.{digest}"
        self._statements.setdefault(database, {}).setdefault(
            operation_id,
            Operation(
                service=database,
                id=operation_id,
                method="SQL",
                path=normalized,
                requires=needs.requirement,
                risk=SQL_RISK[needs.command],
                resources=(),
                answer=Answer("recorded"),
                location=doc.location((*base, "sql")),
            ),
        )
        response = data.get("response", {})
        return Step(
            index=index,
            name=data.get("name", f"step {index + 1}"),
            method="SQL",
            url=f"postgres://{database}",
            headers=(),
            body=None,
            response_status=response.get("status"),
            response_json=response.get("json"),
            response_headers=(),
            capture=tuple(sorted(data.get("capture", {}).items())),
            wait_seconds=parse_duration(data["wait"]) if "wait" in data else 0,
            expect=data.get("expect", "allowed"),
            location=doc.location(base),
            sql=text,
            database=database,
            statement=operation_id,
        )

    def _step(
        self,
        doc: YamlDocument,
        base: tuple[str | int, ...],
        index: int,
        data: dict[str, Any],
        known: set[str],
        variables: dict[str, Any],
    ) -> Step | None:
        if "action" in data:
            return Step(
                index=index,
                name=data.get("name", f"{data['action']} the token"),
                method="",
                url="",
                headers=(),
                body=None,
                response_status=None,
                response_json=None,
                response_headers=(),
                capture=(),
                wait_seconds=parse_duration(data["wait"]) if "wait" in data else 0,
                expect="allowed",
                location=doc.location(base),
                action=data["action"],
            )
        if "sql" in data:
            return self._sql_step(doc, base, index, data, known)
        request = data["request"]
        response = data.get("response", {})
        ok = True
        for field, value in (
            ("url", request["url"]),
            ("headers", request.get("headers")),
            ("json", request.get("json")),
        ):
            for name in sorted(set(placeholder_names(str(value)))):
                if name not in known:
                    ok = False
                    self._fail(
                        doc.location((*base, "request", field)),
                        f"`{{{{ {name} }}}}` is neither a flow variable nor captured by an earlier step",
                        f"add `{name}` under the flow's `vars:`, or capture it in an earlier step "
                        f"({suggest(name, known)})",
                    )
        # The flow's variables are known now: the step's URL holds their values, so that it
        # routes (here, in lint, in every report) as it will at replay. A value captured at
        # replay is not known yet: it stays a placeholder, checked here as one segment.
        filled = url = request["url"]
        if "{{" in filled:  # every placeholder starts so; most recorded URLs hold none
            filled = substitute_url(filled, variables, keep_unknown=True)
            url = PLACEHOLDER.sub("placeholder", filled)
        try:
            split_url(url)
        except ValueError as err:  # a bad port or an unclosed [IPv6] bracket
            self._fail(
                doc.location((*base, "request", "url")),
                f"the URL is not valid: {err}",
                "write an absolute URL such as https://api.crm.example/v1/contacts",
            )
            return None
        if not urlsplit(url).hostname:
            ok = False
            self._fail(
                doc.location((*base, "request", "url")),
                "the URL has no host",
                "write an absolute URL such as https://api.crm.example/v1/contacts",
            )
        before = len(self.errors)
        content = self._sidecar(doc, (*base, "request", "body_file"), request.get("body_file"))
        response_content = self._sidecar(
            doc, (*base, "response", "body_file"), response.get("body_file")
        )
        if not ok or len(self.errors) > before:
            return None
        return Step(
            content=content,
            response_content=response_content,
            index=index,
            name=data.get("name", f"step {index + 1}"),
            method=request["method"],
            url=filled,
            headers=tuple(sorted(request.get("headers", {}).items())),
            body=request.get("json"),
            response_status=response.get("status"),
            response_json=response.get("json"),
            response_headers=tuple(sorted(response.get("headers", {}).items())),
            capture=tuple(sorted(data.get("capture", {}).items())),
            wait_seconds=parse_duration(data["wait"]) if "wait" in data else 0,
            expect=data.get("expect", "allowed"),
            location=doc.location(base),
        )
