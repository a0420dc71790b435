"""One table of options, and one way to resolve them.

Each option is defined once: its name, help, default and how its value is parsed. The
table feeds the CLI flags, the pytest `--harness-*` flags and `harness_*` ini keys, and
the keys of the settings files ([tool.connector-harness] in pyproject.toml,
connector-harness.yaml). `resolve_options` reads the layers that may set an option, the
first that sets it wins, and returns one frozen RunOptions used by the CLI and the
plugin alike:

    CLI:    flag > default
    pytest: flag > ini > [tool.connector-harness] > connector-harness.yaml > default
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any, Literal

from harness.errors import UsageError
from harness.sharding import ShardSpec, parse_shard
from harness.transports import TRANSPORTS

CHECK_FORMATS = ("text", "json", "markdown", "sarif", "junit", "html")
INVENTORY_FORMATS = ("text", "markdown", "csv", "json")
REPORT_FORMATS = ("json", "markdown", "text")  # what --harness-report writes
RecordMode = Literal["none", "new", "all"]
RECORD_MODES: tuple[RecordMode, ...] = ("none", "new", "all")
LINT_FORMATS = ("text", "json")

OptionKind = Literal["string", "bool", "list"]  # how a flag and an ini key take the value


def _text(value: Any) -> str:
    if not isinstance(value, str):
        raise ValueError(f"expected text, not {value!r}")
    return value


def parse_bool(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    lowered = str(value).strip().lower()
    if lowered in ("1", "true", "yes", "on"):
        return True
    if lowered in ("0", "false", "no", "off"):
        return False
    raise ValueError(f"expected true or false, not {value!r}")


def _date(value: Any) -> date:
    if isinstance(value, date):  # a TOML date
        return value
    try:
        return date.fromisoformat(str(value))
    except ValueError:
        raise ValueError(f"{value!r} is not a date; write YYYY-MM-DD, e.g. 2027-01-31") from None


def _choice(choices: tuple[str, ...]) -> Callable[[Any], str]:
    def parse(value: Any) -> str:
        if value not in choices:
            raise ValueError(f"{value!r} is not one of {', '.join(choices)}")
        return str(value)

    return parse


def _reports(value: Any) -> tuple[tuple[str, Path], ...]:
    entries = [value] if isinstance(value, str) else list(value)
    reports = []
    for entry in entries:
        kind, _, path = str(entry).partition(":")
        if kind not in REPORT_FORMATS or not path:
            raise ValueError(
                f"{entry!r}: write FORMAT:PATH with FORMAT one of {', '.join(REPORT_FORMATS)}, "
                "e.g. --harness-report json:least-privilege.json"
            )
        reports.append((kind, Path(path)))
    return tuple(reports)


@dataclass(frozen=True, slots=True)
class Option:
    name: str
    help: str
    default: Any = None
    choices: tuple[str, ...] = ()
    metavar: str | None = None
    commands: tuple[str, ...] = ()  # CLI subcommands that take it as --NAME
    pytest: bool = False  # offered as --harness-NAME, ini harness_NAME, settings key NAME
    kind: OptionKind = "string"
    parse: Callable[[Any], Any] = _text  # a set value -> the option's value; ValueError: why not

    @property
    def flag(self) -> str:
        return "--" + self.name.replace("_", "-")

    @property
    def pytest_flag(self) -> str:
        return "--harness-" + self.name.replace("_", "-")

    @property
    def ini_name(self) -> str:
        return "harness_" + self.name


OPTIONS: tuple[Option, ...] = (
    Option(
        "workspace",
        "workspace directory (default: the rootdir)",
        default=".",
        metavar="DIR",
        pytest=True,
    ),
    Option(
        "env",
        "only bindings of this environment (e.g. prod)",
        metavar="ENV",
        commands=("check", "inventory", "explore"),
        pytest=True,
    ),
    Option(
        "binding",
        "only this binding (CONNECTOR@ENV, or a connector name)",
        metavar="NAME",
        commands=("check", "inventory", "explore"),
        pytest=True,
    ),
    Option(
        "strict",
        "excessive and over-broad grants fail their items (false: they warn)",
        default=True,
        pytest=True,
        kind="bool",
        parse=parse_bool,
    ),
    Option(
        "report",
        "write the full report, FORMAT:PATH with FORMAT one of "
        + ", ".join(REPORT_FORMATS)
        + " (repeatable)",
        default=(),
        metavar="FORMAT:PATH",
        pytest=True,
        kind="list",
        parse=_reports,
    ),
    Option(
        "record",
        "record live flow code run in the `sandbox` fixture as flow files: "
        "new (only missing ones), all, none",
        default="none",
        choices=RECORD_MODES,
        pytest=True,
        parse=_choice(RECORD_MODES),
    ),
    Option(
        "output",
        "write the output (report, inventory, baseline) to FILE instead of standard output",
        metavar="FILE",
        commands=("check", "inventory", "baseline", "explore", "lint", "merge"),
    ),
    Option(
        "baseline",
        "the approved grants (from `connector-harness baseline`): grants outside it are escalations",
        metavar="FILE",
        commands=("check",),
        pytest=True,
    ),
    Option(
        "today",
        "the date waivers and reviews are judged on (default: today)",
        metavar="YYYY-MM-DD",
        commands=("check", "lint"),
        pytest=True,
        parse=_date,
    ),
    Option(
        "transport",
        "how replayed calls reach the mocks: direct (default, fastest), responses, httpx, "
        "http (loopback servers) or docker (containers)",
        default="direct",
        choices=TRANSPORTS,
        commands=("check",),
        parse=_choice(TRANSPORTS),
    ),
    Option(
        "log",
        "write every decision to FILE as a hash-chained JSON-lines log",
        metavar="FILE",
        commands=("check",),
    ),
    Option(
        "anchor",
        "with --log: also write the log's final hash to FILE, to store outside the log "
        "(`audit verify LOG --anchor FILE` checks it)",
        metavar="FILE",
        commands=("check",),
    ),
    Option(
        "shard",
        "judge only shard I of N of the bindings (sorted by name, every Nth) and write a "
        "shard report; `connector-harness merge` joins the N reports",
        metavar="I/N",
        commands=("check",),
        parse=parse_shard,
    ),
)

FORMAT_OPTIONS = {
    command: Option("format", help, "text", choices, commands=(command,), parse=_choice(choices))
    for command, help, choices in (
        ("explore", "output format", ("text", "json")),
        ("check", "report format", CHECK_FORMATS),
        ("merge", "report format", CHECK_FORMATS),
        ("inventory", "inventory format", INVENTORY_FORMATS),
        ("lint", "lint report format", LINT_FORMATS),
    )
}


def options_for(command: str) -> tuple[Option, ...]:
    """The options of one CLI subcommand, in help order."""
    formats = (FORMAT_OPTIONS[command],) if command in FORMAT_OPTIONS else ()
    return (*(o for o in OPTIONS if command in o.commands), *formats)


def pytest_options() -> tuple[Option, ...]:
    return tuple(o for o in OPTIONS if o.pytest)


@dataclass(frozen=True, slots=True)
class Layer:
    """One place options are set: its values by option name, and how it names an option
    in a message (`--today`, `harness_strict`, `[tool.connector-harness] env`)."""

    values: Mapping[str, Any]
    name_of: Callable[[Option], str]

    def sets(self, option: Option) -> bool:
        return self.values.get(option.name) not in (None, "", [], ())


@dataclass(frozen=True, slots=True)
class RunOptions:
    """Every option of one run, resolved and parsed; fields not set keep their defaults."""

    workspace: Path = Path(".")
    env: str | None = None
    binding: str | None = None
    strict: bool = True
    reports: tuple[tuple[str, Path], ...] = ()
    record: RecordMode = "none"
    output: str | None = None
    baseline: Path | None = None
    today: date = field(default_factory=date.today)
    transport: str = "direct"
    log: str | None = None
    anchor: str | None = None
    shard: ShardSpec | None = None
    format: str = "text"
    configured: bool = False  # a layer set some option (the plugin collects only then)


_FIELDS = {"report": "reports"}  # option name -> RunOptions field, where they differ
_PATHS = ("workspace", "baseline")  # relative to the `base` directory


def resolve_options(
    layers: Sequence[Layer], options: Iterable[Option], *, base: Path = Path(".")
) -> RunOptions:
    """Each option from the first layer that sets it, parsed; else its default. A value
    that does not parse is a UsageError naming where it was set and what to write."""
    values: dict[str, Any] = {}
    configured = False
    for option in options:
        layer = next((layer for layer in layers if layer.sets(option)), None)
        if layer is not None:
            configured = True
            try:
                value = option.parse(layer.values[option.name])
            except ValueError as err:
                raise UsageError(f"{layer.name_of(option)}: {err}") from err
        elif option.default is not None:
            value = option.parse(option.default)
        else:
            continue
        if option.name in _PATHS:
            value = base / value
        values[_FIELDS.get(option.name, option.name)] = value
    return RunOptions(**values, configured=configured)


def flag_layer(values: Mapping[str, Any]) -> Layer:
    """The command line of the CLI (`--today`)."""
    return Layer(values, lambda option: option.flag)
