"""bench/transports.py's loopback part runs both servers over the same calls and prints the
table it claims. No timing is asserted here."""

from __future__ import annotations

import importlib
from pathlib import Path
from types import ModuleType

import pytest

BENCH = Path(__file__).resolve().parents[2] / "bench"


@pytest.fixture
def bench(monkeypatch: pytest.MonkeyPatch) -> ModuleType:
    monkeypatch.syspath_prepend(str(BENCH))
    return importlib.import_module("transports")


def test_both_servers_answer_the_mix_alike_and_the_table_has_a_row_per_client_count(
    bench: ModuleType, capsys: pytest.CaptureFixture[str]
) -> None:
    samples = bench.loopback_against_http_server(rounds=2, calls=40)
    assert set(samples) == {
        (stack, clients) for stack in bench.STACKS for clients in bench.CLIENT_COUNTS
    }
    assert all(len(runs) == 2 and all(rate > 0 for rate, _ in runs) for runs in samples.values())
    bench.print_loopback_table(samples, 2, 40)
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].startswith("loopback server against a bare http.server")
    assert lines[1].split() == [
        "clients",
        "http.server",
        "calls/s",
        "connector-harness",
        "calls/s",
        "ratio",
        "per-round",
        "ratio",
        "min",
        "/",
        "max",
        "server",
        "CPU",
        "us/call:",
        "http.server",
        "/",
        "ours",
        "ratio",
    ]
    rows = lines[3:]
    assert [int(row.split()[0]) for row in rows] == [1, 2, 4]
    assert len({len(line) for line in lines[1:]}) == 1  # aligned columns


def test_clients_as_threads_and_a_baseline_server_join_the_same_rounds(bench: ModuleType) -> None:
    """`--clients-in threads` measures as the bench did before; `--baseline` adds the server of
    another copy of the repository (here this one) as a third contender."""
    root = BENCH.parent
    samples = bench.loopback_against_http_server(
        rounds=1, calls=40, clients_in="threads", baseline=root
    )
    stacks = (*bench.STACKS, bench.BASELINE)
    assert set(samples) == {(stack, clients) for stack in stacks for clients in bench.CLIENT_COUNTS}
    assert all(len(runs) == 1 and runs[0][0] > 0 for runs in samples.values())


def test_the_mix_is_checked_before_timing(bench: ModuleType) -> None:
    contender = bench._Contender("connector-harness")
    try:
        assert contender.statuses() == [status for _, status in contender.mix]
        assert [status for _, status in contender.mix] == [200, 200, 200, 403]
    finally:
        contender.stop()


def test_the_container_bench_compares_one_service_with_the_example_workspace(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """The one-service workspace of bench/containers.py loads with the one HTTP service and
    the binding the bench calls with; the example workspace has the nine it compares."""
    monkeypatch.syspath_prepend(str(BENCH))
    containers = importlib.import_module("containers")
    from harness.workspace.loader import load_workspace

    one = load_workspace(containers.one_service_workspace(tmp_path / "one"))
    assert [s.name for s in one.services if s.hosts] == ["crm"]
    assert [b.name for b in one.bindings] == ["crm-reader@dev"]
    nine = load_workspace(containers.ROOT)
    assert sum(1 for s in nine.services if s.hosts) == 9
    assert "crm-sync@dev" in {b.name for b in nine.bindings}


@pytest.mark.docker
def test_the_container_bench_gets_its_first_answer_from_a_container(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, mock_image: str
) -> None:
    monkeypatch.syspath_prepend(str(BENCH))
    containers = importlib.import_module("containers")
    root = containers.one_service_workspace(tmp_path / "one")
    start = containers.first_response(root, "crm-reader@dev", mock_image)
    assert (start.services, start.containers) == (1, 1)
    assert start.seconds > 0
