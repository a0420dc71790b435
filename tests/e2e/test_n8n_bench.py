"""The n8n benchmark stays runnable and measures what it claims. No timing is asserted."""

from __future__ import annotations

import importlib
from datetime import UTC, datetime
from pathlib import Path
from types import ModuleType

import pytest

from harness.n8n.importer import read_exports, run_nodes

BENCH = Path(__file__).resolve().parents[2] / "bench"


@pytest.fixture
def generator(monkeypatch: pytest.MonkeyPatch, n8n_packages: Path) -> ModuleType:
    monkeypatch.syspath_prepend(str(BENCH))
    return importlib.import_module("n8n_generate")


def test_generated_workflows_are_exports_of_service_nodes_that_make_calls(
    generator: ModuleType, tmp_path: Path
) -> None:
    paths = generator.generate_workflows(tmp_path, 4, nodes=5, seed=3)
    workflows, errors = read_exports(paths, [p.name for p in paths])
    assert errors == []
    assert [len(w.nodes) for w in workflows] == [6, 6, 6, 6]  # a trigger and five service nodes
    run = run_nodes(workflows, clock=datetime(2026, 1, 1, tzinfo=UTC))
    with_calls, services = run.share_with_calls()
    assert services == 20
    assert with_calls >= 15  # the share the benchmark reports is measured, not assumed
    again = generator.generate_workflows(tmp_path / "again", 4, nodes=5, seed=3)
    assert [p.read_bytes() for p in paths] == [p.read_bytes() for p in again]


def test_the_benchmark_reports_every_figure(
    generator: ModuleType, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    bench = importlib.import_module("n8n")
    monkeypatch.setattr("sys.argv", ["n8n.py", "--workflows", "3", "--nodes", "3", "--sample", "1"])
    assert bench.main() == 0
    out = capsys.readouterr().out
    for label in (
        "total",
        "workflows/s",
        "node operations/s",
        "reference",
        "service nodes with calls",
    ):
        assert f"  {label}" in out
