"""PostgreSQL database connectors against a real server.

`PostgresDatabase(sandbox, dsn)` creates, for one run, a schema holding the tables
of every `kind: postgres` service (with their seed rows) and one role per binding
that holds exactly the binding's grants as real `GRANT`s. While attached to the
sandbox, each recorded statement runs on the server as the binding's role: a
statement refused with `insufficient_privilege` (permission denied for table ...)
is a denied call. Every replay runs in one transaction that is rolled back, so
each starts from the seed rows; each statement runs in a savepoint, so a denied
one does not end the flow. Everything created is dropped on close.
"""

from __future__ import annotations

import re
import uuid
from typing import Any

from harness.calls import CallContext, Request, Response
from harness.errors import SandboxError
from harness.placeholders import bind_parameters
from harness.sandbox import Sandbox
from harness.sql import grant_statements, quote_identifier

DSN_VARIABLE = "CONNECTOR_HARNESS_POSTGRES"
INSUFFICIENT_PRIVILEGE = "42501"


def role_name(run: str, binding: str) -> str:
    """A PostgreSQL role name for a binding (at most 63 bytes, unique per run)."""
    cleaned = re.sub(r"[^a-z0-9]+", "_", binding.lower()).strip("_")
    return f"ch_{run}_{cleaned}"[:63]


class PostgresDatabase:
    """The postgres services of a sandbox on a real server, for one run (a context manager)."""

    def __init__(self, sandbox: Sandbox, dsn: str) -> None:
        try:
            import psycopg
        except ImportError as err:
            raise SandboxError(
                "PostgreSQL connectors need psycopg: pip install 'connector-harness[postgres]'"
            ) from err
        self.sandbox = sandbox
        self.run = uuid.uuid4().hex[:8]
        self.schema = f"connector_harness_{self.run}"
        self.services = [s for s in sandbox.workspace.services if s.kind == "postgres"]
        try:
            self.connection = psycopg.connect(dsn, autocommit=True)
        except psycopg.Error as err:
            raise SandboxError(
                f"cannot connect to PostgreSQL ({dsn}): {str(err).strip().splitlines()[0]}\n"
                f"  start a server and set {DSN_VARIABLE} to its connection string"
            ) from err
        self.roles: dict[str, str] = {}
        self._generation = -1
        self._in_transaction = False

    def __enter__(self) -> PostgresDatabase:
        self._create()
        self.sandbox.database = self
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.sandbox.database = None
        self.close()

    def _create(self) -> None:
        run = self.connection.execute
        schema = quote_identifier(self.schema)
        run(f"CREATE SCHEMA {schema}")
        for service in self.services:
            for table in service.tables:
                name = f"{schema}.{quote_identifier(table.name)}"
                columns = ", ".join(f"{quote_identifier(c)} {kind}" for c, kind in table.columns)
                run(f"CREATE TABLE {name} ({columns})")
                for row in table.seed:
                    keys = list(row)
                    run(
                        f"INSERT INTO {name} ({', '.join(map(quote_identifier, keys))}) "
                        f"VALUES ({', '.join(['%s'] * len(keys))})",
                        [row[key] for key in keys],
                    )
        for binding in self.sandbox.workspace.bindings:
            role = role_name(self.run, binding.name)
            run(f"CREATE ROLE {quote_identifier(role)} NOLOGIN")
            self.roles[binding.name] = role
            run(f"GRANT USAGE ON SCHEMA {schema} TO {quote_identifier(role)}")
            grants = [
                str(source.grant)
                for source in self.sandbox.workspace.binding_grants(binding)
                if any(source.service == service.name for service in self.services)
            ]
            for statement in grant_statements(role, grants, self.schema):
                run(statement)

    def execute(self, binding: str, request: Request, context: CallContext) -> Response:
        """Run one statement as the binding's role, in the replay's transaction."""
        import psycopg

        run = self.connection.execute
        if self._generation != self.sandbox.generation:
            if self._in_transaction:
                run("ROLLBACK")
            run("BEGIN")
            run(f"SET LOCAL search_path TO {quote_identifier(self.schema)}")
            self._generation, self._in_transaction = self.sandbox.generation, True
        role = self.roles.get(binding)
        if role is None:
            return Response(403, {"error": f"binding {binding} has no role on this server"})
        statement = request.json["statement"].replace("%", "%%")
        statement = bind_parameters(statement, "%s")
        run("SAVEPOINT statement")
        try:
            run(f"SET LOCAL ROLE {quote_identifier(role)}")
            cursor = run(statement, request.json["params"] or None)
            rows = _rows(cursor)
            run("RESET ROLE")
            run("RELEASE SAVEPOINT statement")
        except psycopg.Error as err:
            run("ROLLBACK TO SAVEPOINT statement")
            run("RESET ROLE")
            message = (err.diag.message_primary or str(err)).strip()
            status = 403 if err.sqlstate == INSUFFICIENT_PRIVILEGE else 400
            return Response(status, {"error": message})
        return Response(200, {"rows": rows})

    def close(self) -> None:
        run = self.connection.execute
        try:
            if self._in_transaction:
                run("ROLLBACK")
                self._in_transaction = False
            run(f"DROP SCHEMA IF EXISTS {quote_identifier(self.schema)} CASCADE")
            for role in self.roles.values():
                run(f"DROP OWNED BY {quote_identifier(role)}")
                run(f"DROP ROLE IF EXISTS {quote_identifier(role)}")
        finally:
            self.connection.close()


def _rows(cursor: Any) -> list[dict[str, Any]]:
    if cursor.description is None:
        return []
    names = [column.name for column in cursor.description]
    return [
        {name: _json_value(value) for name, value in zip(names, row, strict=True)}
        for row in cursor.fetchall()
    ]


def _json_value(value: Any) -> Any:
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    try:
        return float(value)  # Decimal
    except (TypeError, ValueError):
        return str(value)
