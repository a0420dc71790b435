"""resolve_options: the first layer that sets an option wins, each value parsed by its option."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from harness.errors import UsageError
from harness.options import OPTIONS, Layer, RunOptions, flag_layer, pytest_options, resolve_options


def _layer(name: str, **values: object) -> Layer:
    return Layer(values, lambda option: f"{name} {option.name}")


def test_the_first_layer_that_sets_an_option_wins_and_unset_options_keep_their_default() -> None:
    resolved = resolve_options(
        [_layer("flag", env="prod"), _layer("ini", env="dev", strict="false"), _layer("toml")],
        pytest_options(),
        base=Path("/repo"),
    )
    assert (resolved.env, resolved.strict, resolved.record, resolved.reports) == (
        "prod",
        False,
        "none",
        (),
    )
    assert resolved.workspace == Path("/repo")  # the default ".", under the base directory
    assert resolved.configured


def test_values_are_parsed_by_their_option() -> None:
    resolved = resolve_options(
        [
            _layer(
                "toml",
                strict=True,  # a TOML boolean
                today=date(2026, 3, 1),  # a TOML date
                report=["json:out/lp.json", "markdown:lp.md"],
                baseline="approved.yaml",
                workspace="sub",
            )
        ],
        pytest_options(),
        base=Path("/repo"),
    )
    assert resolved == RunOptions(
        workspace=Path("/repo/sub"),
        strict=True,
        reports=(("json", Path("out/lp.json")), ("markdown", Path("lp.md"))),
        baseline=Path("/repo/approved.yaml"),
        today=date(2026, 3, 1),
        configured=True,
    )


@pytest.mark.parametrize(
    ("values", "message"),
    [
        ({"strict": "maybe"}, "flag strict: expected true or false, not 'maybe'"),
        ({"record": "sometimes"}, "flag record: 'sometimes' is not one of none, new, all"),
        ({"today": "2026-02-30"}, "flag today: '2026-02-30' is not a date; write YYYY-MM-DD"),
        ({"report": ["yaml:x"]}, "flag report: 'yaml:x': write FORMAT:PATH with FORMAT one of"),
        ({"env": 3}, "flag env: expected text, not 3"),
    ],
)
def test_a_value_that_does_not_parse_names_where_it_was_set(
    values: dict[str, object], message: str
) -> None:
    with pytest.raises(UsageError) as raised:
        resolve_options([_layer("flag", **values)], pytest_options())
    assert str(raised.value).startswith(message)


def test_the_cli_reads_its_flags_and_the_table_defaults() -> None:
    resolved = resolve_options([flag_layer({"format": "json"})], OPTIONS)
    assert (resolved.format, resolved.transport, resolved.today) == ("text", "direct", date.today())
    assert not resolved.configured  # `format` is no option of the shared table: not read
