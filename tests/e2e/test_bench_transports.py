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


def test_the_mix_is_checked_before_timing(bench: ModuleType) -> None:
    contender = bench._Contender("connector-harness")
    try:
        assert contender.statuses() == [status for _, status in contender.mix]
        assert [status for _, status in contender.mix] == [200, 200, 200, 403]
    finally:
        contender.stop()
