"""PostgreSQL database connectors: real GRANTs on a role per binding, recorded statements."""

from __future__ import annotations

from pathlib import Path

import pytest

from harness.engine import run_check
from harness.render.jsonfmt import render_json
from harness.sandbox import Sandbox
from harness.transports.postgres import PostgresDatabase
from harness.workspace.loader import load_workspace

EXAMPLE = Path(__file__).resolve().parents[2] / "docs" / "examples" / "postgres"


def test_the_modelled_check_finds_the_deliberate_flaws() -> None:
    workspace = load_workspace(EXAMPLE)
    report = run_check(workspace)
    prod = next(r for r in report.results if r.binding == "billing-job@prod")
    assert [f.kind for f in prod.findings if f.kind in ("missing", "excessive", "over-broad")] == [
        "missing",
        "excessive",
        "over-broad",
        "over-broad",
    ]
    assert "GRANT INSERT (amount, id, order_id) ON invoices" in prod.suggested_role
    assert next(r for r in report.results if r.binding == "billing-job@dev").passed


@pytest.mark.postgres
def test_a_real_server_decides_as_the_model_and_denies_with_permission_denied(
    postgres_dsn: str,
) -> None:
    workspace = load_workspace(EXAMPLE)
    modelled = Sandbox(workspace)
    expected = run_check(workspace, sandbox=modelled)
    real = Sandbox(workspace)
    with PostgresDatabase(real, postgres_dsn):
        report = run_check(workspace, sandbox=real)
    assert [d.outcome for d in real.decisions] == [d.outcome for d in modelled.decisions]
    denied = [d for d in real.decisions if d.outcome == "denied"]
    assert len(denied) == 1
    assert denied[0].reason.endswith("PostgreSQL: permission denied for table invoices")
    assert render_json(report.to_data()) == render_json(expected.to_data())


@pytest.mark.postgres
def test_every_replay_starts_from_the_seed_rows_and_everything_is_dropped(
    postgres_dsn: str,
) -> None:
    import psycopg

    workspace = load_workspace(EXAMPLE)
    sandbox = Sandbox(workspace)
    with PostgresDatabase(sandbox, postgres_dsn) as database:
        run_check(workspace, sandbox=sandbox)
        run_check(workspace, sandbox=sandbox)  # the same INSERT twice: no duplicate key
        schema, roles = database.schema, list(database.roles.values())
    assert all(d.rule != "database" for d in sandbox.decisions)
    with psycopg.connect(postgres_dsn) as check:
        assert (
            check.execute("SELECT 1 FROM pg_namespace WHERE nspname = %s", [schema]).fetchall()
            == []
        )
        left = check.execute("SELECT rolname FROM pg_roles WHERE rolname = ANY(%s)", [roles])
        assert left.fetchall() == []
