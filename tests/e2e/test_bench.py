"""The benchmarks stay runnable and measure what they claim. No timing is asserted here."""

from __future__ import annotations

import importlib
import json
from pathlib import Path
from types import ModuleType

import pytest
import yaml

from harness.cli import main as cli_main
from harness.engine import run_check
from harness.workspace.loader import load_workspace

BENCH = Path(__file__).resolve().parents[2] / "bench"


@pytest.fixture
def bench(monkeypatch: pytest.MonkeyPatch) -> dict[str, ModuleType]:
    monkeypatch.syspath_prepend(str(BENCH))
    return {name: importlib.import_module(name) for name in ("generate", "check_once", "run")}


def test_generated_workspace_loads_and_exercises_every_finding_kind(
    bench: dict[str, ModuleType], tmp_path: Path
) -> None:
    made = bench["generate"].generate_workspace(tmp_path / "ws", 6, flows=2, calls=12)
    workspace = load_workspace(made.root)
    assert len(workspace.connectors) == 6
    assert len(workspace.bindings) == made.bindings == 12
    assert {b.env for b in workspace.bindings} == {"dev", "prod"}
    assert len(workspace.flows) == made.flows == 12
    assert all(len(flow.steps) == 12 for flow in workspace.flows)
    report = run_check(workspace)
    assert report.calls == 2 * made.steps
    kinds = {finding.kind for result in report.results for finding in result.findings}
    assert {"missing", "excessive", "over-broad", "egress", "unexpected-allow"} <= kinds
    assert any(result.passed for result in report.results)


def test_generator_is_deterministic(bench: dict[str, ModuleType], tmp_path: Path) -> None:
    generate = bench["generate"].generate_workspace
    first = generate(tmp_path / "a", 3, flows=1, calls=5)
    second = generate(tmp_path / "b", 3, flows=1, calls=5)
    files = sorted(p.relative_to(first.root) for p in first.root.rglob("*.yaml"))
    assert files == sorted(p.relative_to(second.root) for p in second.root.rglob("*.yaml"))
    for name in files:
        assert (first.root / name).read_text() == (second.root / name).read_text()
    third = generate(tmp_path / "c", 3, flows=1, calls=5, seed=1)
    connector = Path("scenarios/c0000-crm-export.yaml")
    assert connector in files
    assert (third.root / connector).read_text() != (first.root / connector).read_text()


def test_check_once_writes_what_the_cli_writes(
    bench: dict[str, ModuleType], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    made = bench["generate"].generate_workspace(tmp_path / "ws", 5, flows=1, calls=6)
    assert bench["check_once"].main([str(made.root), str(tmp_path / "bench.json")]) == 0
    figures = json.loads(capsys.readouterr().out)
    assert figures["calls"] == 2 * made.steps
    cli_argv = ["check", str(made.root), "--format", "json", "--output", str(tmp_path / "cli.json")]
    assert cli_main(cli_argv) == 1  # the synthetic workspace has findings
    assert (tmp_path / "bench.json").read_text() == (tmp_path / "cli.json").read_text()


def test_both_mixes_behave_as_declared_and_every_contender_runs(
    bench: dict[str, ModuleType], tmp_path: Path
) -> None:
    run = bench["run"]
    # each raises SystemExit when an outcome differs from what the mix declares
    for setup in (run.direct_setup(), run.vendor_setup(tmp_path / "vendor")):
        run.time_direct(setup, 2)
        _, statuses = run.time_reference(setup, 1)
        _, floor = run.time_floor(setup, 1)
        assert len(statuses) == len(floor) == len(setup.calls)
        assert statuses.count(403) >= 1
        assert floor.count(403) >= 1


def test_the_vendor_mix_reaches_every_pack_and_every_kind_of_decision(
    bench: dict[str, ModuleType], tmp_path: Path
) -> None:
    run = bench["run"]
    setup = run.vendor_setup(tmp_path / "vendor")
    run.write_mix_log(setup, tmp_path / "log.jsonl")
    decisions = [
        json.loads(line)["decision"]
        for line in (tmp_path / "log.jsonl").read_text().splitlines()
        if '"decision"' in line
    ]
    assert {d["service"] for d in decisions if d["operation"]} == {
        "slack", "github", "gmail", "google-drive", "google-sheets", "msgraph",
    }  # fmt: skip
    assert {d["model"] for d in decisions} >= {"app", "oauth", "bot", "application"}
    assert {d["outcome"] for d in decisions} == {"allowed", "denied", "blocked"}
    assert any(d["condition"] and d["outcome"] == "denied" for d in decisions)
    assert any(d["resources"] and d["outcome"] == "denied" for d in decisions)  # narrowed
    assert any(d["rule"] == "egress.host" and d["service"] == "slack" for d in decisions)


def test_bench_quick_run_prints_aligned_tables(
    bench: dict[str, ModuleType], capsys: pytest.CaptureFixture[str]
) -> None:
    argv = ["--quick", "--runs", "1", "--sizes", "1,2", "--direct-calls", "200"]
    assert bench["run"].main([*argv, "--reference-calls", "100", "--floor-calls", "200"]) == 0
    out = capsys.readouterr().out
    assert "direct: Sandbox.handle" in out
    assert "examples: direct / reference" in out
    assert "vendor packs: floor / direct" in out
    lines = out.splitlines()
    top = next(i for i, line in enumerate(lines) if line.strip().startswith("N "))
    rule = lines[top + 1]
    assert set(rule.strip()) <= {"-", " "}
    rows = lines[top + 2 : lines.index("", top)]
    assert [row.split()[0] for row in rows] == ["1", "2"]
    assert all(len(row) <= len(rule) for row in rows)
    assert "Summary" in out


def test_the_pack_bench_calls_real_graph_urls_and_a_spec_of_only_those_operations(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.syspath_prepend(str(BENCH))
    packs = importlib.import_module("packs")
    graph = packs.workspace(tmp_path / "graph", "msgraph", "graph.microsoft.com", "delegated",
                            "Mail.ReadWrite", packs.GRAPH_CALLS)  # fmt: skip
    small = load_workspace(
        packs.workspace(tmp_path / "small", "msgraph", "graph.microsoft.com", "delegated",
                        "Mail.ReadWrite", packs.GRAPH_CALLS, own_spec=packs.only_used(graph))
    )  # fmt: skip
    (service,) = small.services
    assert service.pack == ""
    assert 0 < len(service.operations) <= len(packs.GRAPH_CALLS)
    report = run_check(load_workspace(graph))
    assert [f.kind for f in report.results[0].findings if f.kind == "unroutable"] == []


def test_the_import_bench_imports_every_entry_it_generates(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """bench/import_flow.py times an import whose every entry becomes a step."""
    monkeypatch.syspath_prepend(str(BENCH))
    import_flow = importlib.import_module("import_flow")
    import_flow.time_import(tmp_path, 8)
    text = (tmp_path / "flow-8.yaml").read_text("utf-8")
    steps = yaml.safe_load(text)["flows"][0]["steps"]
    assert len(steps) == 8
    assert "<secret-" in text  # the Authorization tokens were scrubbed, not kept
