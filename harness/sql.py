"""PostgreSQL privileges as scopes: what a recorded SQL statement needs, and GRANT statements.

A `kind: postgres` service has one scope per table privilege (`SELECT(orders)`) and
per column privilege (`SELECT(orders.total)`); a table privilege implies the column
privileges of the same kind, as in PostgreSQL. The privileges a statement needs are
read from PostgreSQL's own parse tree (pglast, i.e. libpg_query):

SELECT      SELECT on every column read; a table read without naming a column
            (`count(*)`) needs SELECT on any one of its columns
INSERT      INSERT on the columns written (all of them when no list is given)
UPDATE      UPDATE on the columns set
DELETE      DELETE on the table
and SELECT on every column any of them reads (WHERE, expressions, RETURNING).

Statements over functions, views or tables the spec does not declare are refused
with a located error rather than guessed.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any, Literal

from harness.scopes import Requirement

TABLE_PRIVILEGES = ("SELECT", "INSERT", "UPDATE", "DELETE")
COLUMN_PRIVILEGES = ("SELECT", "INSERT", "UPDATE")
StatementRisk = Literal["read", "write", "delete"]  # a subset of harness.model.Risk
RISK: dict[str, StatementRisk] = {
    "SELECT": "read",
    "INSERT": "write",
    "UPDATE": "write",
    "DELETE": "delete",
}
MAX_ALTERNATIVES = 64
_GRANT = re.compile(r"^(?P<privilege>[A-Za-z]+)\((?P<objects>[^()]+)\)$")


class SqlProblem(ValueError):
    """A statement or grant the harness cannot judge; `hint` says what to write instead."""

    def __init__(self, problem: str, hint: str = "") -> None:
        super().__init__(problem)
        self.problem = problem
        self.hint = hint


@dataclass(frozen=True, slots=True)
class Table:
    name: str
    columns: tuple[tuple[str, str], ...]  # name -> SQL type
    seed: tuple[dict[str, Any], ...] = ()

    @property
    def column_names(self) -> tuple[str, ...]:
        return tuple(name for name, _ in self.columns)


def table_scope(privilege: str, table: str) -> str:
    return f"{privilege}({table})"


def column_scope(privilege: str, table: str, column: str) -> str:
    return f"{privilege}({table}.{column})"


def scope_universe(tables: Iterable[Table]) -> dict[str, tuple[str, ...]]:
    """Every privilege scope of the tables, each with the scopes it implies."""
    implies: dict[str, tuple[str, ...]] = {}
    for table in tables:
        for privilege in TABLE_PRIVILEGES:
            implied: tuple[str, ...] = ()
            if privilege in COLUMN_PRIVILEGES:
                implied = tuple(column_scope(privilege, table.name, c) for c in table.column_names)
            implies[table_scope(privilege, table.name)] = implied
        for privilege in COLUMN_PRIVILEGES:
            for column in table.column_names:
                implies[column_scope(privilege, table.name, column)] = ()
    return implies


def privilege_operations(
    tables: Iterable[Table],
) -> Iterator[tuple[str, str, str, StatementRisk]]:
    """(table, operation id, required scope, risk) of every single privilege, for breadth."""
    for table in tables:
        for privilege in COLUMN_PRIVILEGES:
            for column in table.column_names:
                yield (
                    table.name,
                    f"{privilege.lower()}.{table.name}.{column}",
                    column_scope(privilege, table.name, column),
                    RISK[privilege],
                )
        yield table.name, f"delete.{table.name}", table_scope("DELETE", table.name), "delete"


def expand_grant(text: str, tables: dict[str, Table]) -> list[str]:
    """`SELECT(orders)`, `SELECT(orders.id, orders.total)` -> canonical scopes, one per object."""
    match = _GRANT.match(text.replace(" ", ""))
    if not match:
        raise SqlProblem(
            f"`{text}` is not a PostgreSQL privilege",
            "write PRIVILEGE(table) or PRIVILEGE(table.column, ...), e.g. SELECT(orders) or "
            "SELECT(orders.id,orders.total)",
        )
    privilege = match["privilege"].upper()
    if privilege not in TABLE_PRIVILEGES:
        raise SqlProblem(
            f"privilege `{privilege}` is not one the harness checks",
            f"use one of {', '.join(TABLE_PRIVILEGES)}",
        )
    scopes = []
    for item in match["objects"].split(","):
        table_name, _, column = item.partition(".")
        table = tables.get(table_name)
        if table is None:
            raise SqlProblem(
                f"table `{table_name}` is not declared in this service's `tables`",
                f"tables: {', '.join(sorted(tables)) or 'none'}",
            )
        if not column:
            scopes.append(table_scope(privilege, table_name))
            continue
        if privilege not in COLUMN_PRIVILEGES:
            raise SqlProblem(
                f"{privilege} is granted on whole tables, not on columns",
                f"write {privilege}({table_name})",
            )
        if column not in table.column_names:
            raise SqlProblem(
                f"column `{column}` is not declared in table `{table_name}`",
                f"columns: {', '.join(table.column_names)}",
            )
        scopes.append(column_scope(privilege, table_name, column))
    return scopes


@dataclass(frozen=True, slots=True)
class StatementNeeds:
    command: str  # SELECT | INSERT | UPDATE | DELETE
    tables: tuple[str, ...]
    requirement: Requirement


def statement_needs(statement: str, tables: dict[str, Table]) -> StatementNeeds:
    """The privileges one SQL statement needs, from PostgreSQL's parser."""
    try:
        import pglast
        from pglast import ast
    except ImportError as err:  # pragma: no cover - the postgres extra is missing
        raise SqlProblem(
            "SQL steps need PostgreSQL's parser",
            "pip install 'connector-harness[postgres]'",
        ) from err
    try:
        parsed = pglast.parse_sql(statement)
    except pglast.parser.ParseError as err:
        raise SqlProblem(
            f"the statement does not parse: {err}", "write one valid SQL statement"
        ) from err
    if len(parsed) != 1:
        raise SqlProblem(
            f"a step holds {len(parsed)} statements", "write exactly one statement per step"
        )
    root: Any = parsed[0].stmt
    commands = {
        ast.SelectStmt: "SELECT",
        ast.InsertStmt: "INSERT",
        ast.UpdateStmt: "UPDATE",
        ast.DeleteStmt: "DELETE",
    }
    command = commands.get(type(root))
    if command is None:
        raise SqlProblem(
            f"{type(root).__name__} statements are not judged",
            "record SELECT, INSERT, UPDATE or DELETE statements",
        )
    aliases: dict[str, str] = {}
    order: list[str] = []
    for node in _walk(root):
        if isinstance(node, ast.RangeVar):
            if node.relname not in tables:
                raise SqlProblem(
                    f"table `{node.relname}` is not declared in this service's `tables`",
                    f"tables: {', '.join(sorted(tables)) or 'none'}",
                )
            aliases[node.relname] = node.relname
            if node.alias is not None:
                aliases[str(node.alias.aliasname)] = node.relname
            if node.relname not in order:
                order.append(node.relname)
        elif isinstance(node, (ast.FuncCall,)) and node.funcname:
            name = node.funcname[-1].sval
            if name not in _SAFE_FUNCTIONS:
                raise SqlProblem(
                    f"function `{name}` may read tables the harness cannot see",
                    f"use built-in functions the harness knows: {', '.join(sorted(_SAFE_FUNCTIONS))}",
                )
    needed: set[str] = set()
    target = root.relation.relname if command != "SELECT" else ""
    if command == "DELETE":
        needed.add(table_scope("DELETE", target))
    elif command == "UPDATE":
        for item in root.targetList:
            needed.add(column_scope("UPDATE", target, _column(item.name, tables[target])))
    elif command == "INSERT":
        columns = [item.name for item in root.cols or ()]
        if not columns:
            width = _values_width(root) or len(tables[target].columns)
            columns = list(tables[target].column_names[:width])
        for name in columns:
            needed.add(column_scope("INSERT", target, _column(name, tables[target])))
    read_tables: set[str] = set()
    output_names = _output_names(root)
    for node in _walk(root):
        if not isinstance(node, ast.ColumnRef):
            continue
        fields: Any = node.fields
        star = isinstance(fields[-1], ast.A_Star)
        qualifier = fields[-2].sval if len(fields) >= 2 else None
        name = None if star else fields[-1].sval
        if qualifier is not None:
            if qualifier not in aliases:
                raise SqlProblem(
                    f"`{qualifier}` names no table of the statement", "qualify columns by table"
                )
            owners = [aliases[qualifier]]
        else:
            owners = [t for t in order if star or name in tables[t].column_names]
        if not owners and name in output_names:
            continue  # ORDER BY an output alias
        if not owners:
            raise SqlProblem(
                f"column `{name}` is in none of the statement's tables ({', '.join(order)})",
                "check the column name against the service's `tables`",
            )
        for owner in owners:
            read_tables.add(owner)
            names = tables[owner].column_names if star else (name,)
            for column in names:
                assert column is not None
                needed.add(column_scope("SELECT", owner, column))
    # A table read without naming a column (count(*), EXISTS, SELECT 1) needs SELECT on any column.
    unnamed = [t for t in order if t not in read_tables and (command == "SELECT" or t != target)]
    alternatives = [frozenset(needed)]
    if unnamed:
        choices = [[column_scope("SELECT", t, c) for c in tables[t].column_names] for t in unnamed]
        product = itertools.islice(itertools.product(*choices), MAX_ALTERNATIVES)
        alternatives = [frozenset(needed | set(picked)) for picked in product]
    return StatementNeeds(command, tuple(order), Requirement(tuple(dict.fromkeys(alternatives))))


_SAFE_FUNCTIONS = frozenset(
    {
        "count", "sum", "avg", "min", "max", "coalesce", "lower", "upper", "now",
        "length", "round", "abs", "date_trunc", "greatest", "least", "concat",
    }
)  # fmt: skip


def _column(name: str, table: Table) -> str:
    if name not in table.column_names:
        raise SqlProblem(
            f"column `{name}` is not declared in table `{table.name}`",
            f"columns: {', '.join(table.column_names)}",
        )
    return name


def _values_width(insert: Any) -> int:
    select = insert.selectStmt
    values = getattr(select, "valuesLists", None) if select is not None else None
    return len(values[0]) if values else 0


def _output_names(root: Any) -> set[str]:
    return {
        item.name for item in getattr(root, "targetList", None) or () if getattr(item, "name", None)
    }


def _walk(node: Any) -> Iterator[Any]:
    from pglast import ast

    if isinstance(node, (list, tuple)):
        for item in node:
            yield from _walk(item)
        return
    if not isinstance(node, ast.Node):
        return
    yield node
    for name in getattr(type(node), "__slots__", ()):
        value = getattr(node, name, None)
        if isinstance(value, (ast.Node, list, tuple)):
            yield from _walk(value)


def tables_of(requirement: Requirement) -> list[str]:
    """The tables a requirement's privileges name (`SELECT(orders.total)` -> orders), sorted."""
    tables = set()
    for scope in requirement.scopes():
        match = _GRANT.match(scope)
        if match:
            tables.add(match["objects"].partition(".")[0])
    return sorted(tables)


def grant_statements(role: str, scopes: Iterable[str], schema: str = "") -> list[str]:
    """Minimal GRANT statements for `scopes`: whole-table privileges, then columns per table."""
    prefix = f"{quote_identifier(schema)}." if schema else ""
    whole: dict[str, list[str]] = {}
    columns: dict[tuple[str, str], list[str]] = {}
    for scope in sorted(scopes):
        match = _GRANT.match(scope)
        if not match:
            continue
        table, _, column = match["objects"].partition(".")
        if column:
            columns.setdefault((match["privilege"], table), []).append(column)
        else:
            whole.setdefault(table, []).append(match["privilege"])
    grantee = quote_identifier(role)
    lines = [
        f"GRANT {', '.join(sorted(privileges))} ON {prefix}{quote_identifier(table)} TO {grantee};"
        for table, privileges in sorted(whole.items())
    ]
    lines += [
        f"GRANT {privilege} ({', '.join(quote_identifier(c) for c in names)}) "
        f"ON {prefix}{quote_identifier(table)} TO {grantee};"
        for (privilege, table), names in sorted(columns.items(), key=lambda i: (i[0][1], i[0][0]))
    ]
    return lines


def quote_identifier(name: str) -> str:
    if re.fullmatch(r"[a-z_][a-z0-9_]*", name):
        return name
    return '"' + name.replace('"', '""') + '"'
