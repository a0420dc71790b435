"""One table of options, and one way to resolve them.

Each option is defined once: its name, help, default and how its value is parsed. The
table feeds the CLI flags, the pytest `--harness-*` flags and `harness_*` ini keys, and
the keys of the settings files ([tool.connector-harness] in pyproject.toml,
connector-harness.yaml). `resolve_options` reads the layers that may set an option, the
first that sets it wins, and returns one frozen RunOptions used by the CLI and the
plugin alike:

    CLI:    flag > [tool.connector-harness] of ./pyproject.toml (the workspace only) > default
    pytest: flag > ini > [tool.connector-harness] > connector-harness.yaml > default

The CLI and the API read the workspace's own settings (env, binding, strict, fail_on,
report) with the workspace, where a flag set here overrides them (harness.engine).
`output_targets` says where one CLI run writes, and in which format.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any, Literal

from harness.errors import UsageError
from harness.findings import KINDS
from harness.sharding import ShardSpec, parse_shard
from harness.transports import TRANSPORTS

CHECK_FORMATS = ("text", "json", "markdown", "sarif", "junit", "html")
INVENTORY_FORMATS = ("text", "markdown", "csv", "json")
REPORT_FORMATS = CHECK_FORMATS  # what --harness-report writes: every format `check` writes
RecordMode = Literal["none", "new", "all"]
RECORD_MODES: tuple[RecordMode, ...] = ("none", "new", "all")
LINT_FORMATS = ("text", "json", "sarif")

OptionKind = Literal["string", "bool", "list"]  # how a flag and an ini key take the value

# What a file's name says about its format, for `--output FILE` without `--format`.
EXTENSIONS: dict[str, str] = {
    ".txt": "text",
    ".text": "text",
    ".json": "json",
    ".md": "markdown",
    ".markdown": "markdown",
    ".sarif": "sarif",
    ".xml": "junit",
    ".html": "html",
    ".htm": "html",
    ".csv": "csv",
}


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


def _paths(value: Any) -> tuple[str, ...]:
    entries = [value] if isinstance(value, str) else list(value)
    if not all(isinstance(entry, str) and entry for entry in entries):
        raise ValueError(f"expected file names, not {value!r}")
    return tuple(entries)


def _kinds(value: Any) -> tuple[str, ...]:
    """Finding kinds: `missing,excessive` on a command line, a list in a settings file."""
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list | tuple):
        raise ValueError(f"expected finding kinds, not {value!r}")
    entries = [part.strip() for item in value for part in str(item).split(",")]
    unknown = [entry for entry in entries if entry not in KINDS]
    if unknown or not entries:
        raise ValueError(
            f"{', '.join(map(repr, unknown)) or 'nothing'} is not a finding kind; "
            f"write a comma-separated list of {', '.join(KINDS)}, e.g. missing,excessive"
        )
    return tuple(kind for kind in KINDS if kind in entries)


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
    short: str | None = None  # a CLI flag's one-letter form, e.g. -o

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
        "new (only missing ones), all, none; the flag alone means all "
        "(--harness-record=new, or --harness-record new)",
        default="none",
        choices=RECORD_MODES,
        pytest=True,
        parse=_choice(RECORD_MODES),
    ),
    Option(
        "output",
        "write the output (report, inventory, baseline) to FILE instead of standard output; "
        "repeatable, one run for several files; without --format, FILE's extension "
        "(.json, .sarif, .md, .txt, .xml, .html, .csv) names the format",
        default=(),
        metavar="FILE",
        commands=("check", "inventory", "baseline", "explore", "lint", "merge"),
        kind="list",
        parse=_paths,
        short="-o",
    ),
    Option(
        "fail_on",
        "the finding kinds that fail the gate, comma-separated (default: the settings' "
        "fail_on, else every kind), e.g. missing,egress",
        metavar="KINDS",
        commands=("check",),
        pytest=True,
        kind="list",
        parse=_kinds,
    ),
    Option(
        "quiet",
        "print nothing but the output and errors: no progress, no notes",
        default=False,
        commands=("check", "inventory", "baseline", "explore", "lint", "merge"),
        kind="bool",
        parse=parse_bool,
        short="-q",
    ),
    Option(
        "verbose",
        "print a line for each binding as it is replayed",
        default=False,
        commands=("check", "inventory", "baseline"),
        kind="bool",
        parse=parse_bool,
        short="-v",
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
    outputs: tuple[str, ...] = ()
    fail_on: tuple[str, ...] | None = None  # None: the workspace settings' fail_on
    quiet: bool = False
    verbose: bool = False
    baseline: Path | None = None
    today: date = field(default_factory=date.today)
    transport: str = "direct"
    log: str | None = None
    anchor: str | None = None
    shard: ShardSpec | None = None
    format: str = "text"
    configured: bool = False  # a layer set some option (the plugin collects only then)
    format_given: bool = False  # --format was set, not defaulted

    @property
    def output(self) -> str | None:
        """The first --output FILE (None: standard output)."""
        return self.outputs[0] if self.outputs else None


_FIELDS = {"report": "reports", "output": "outputs"}  # option -> RunOptions field, if not alike
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
    format_given = any(layer.sets(FORMAT) for layer in layers)
    return RunOptions(**values, configured=configured, format_given=format_given)


def flag_layer(values: Mapping[str, Any]) -> Layer:
    """The command line of the CLI (`--today`)."""
    return Layer(values, lambda option: option.flag)


FORMAT = next(iter(FORMAT_OPTIONS.values()))  # each command's --format: the same name


def output_targets(options: RunOptions, command: str) -> tuple[tuple[str, str | None], ...]:
    """Where one run writes and in which format: (format, FILE) per --output, (format, None)
    for standard output. A FILE's extension names its format when --format is not given; an
    extension that names another format than --format, or one the command does not write,
    is a UsageError."""
    if not options.outputs:
        return ((options.format, None),)
    formats = FORMAT_OPTIONS[command].choices if command in FORMAT_OPTIONS else ()
    targets: list[tuple[str, str | None]] = []
    for path in options.outputs:
        suffix = Path(path).suffix.lower()
        named = EXTENSIONS.get(suffix)
        if not formats or named is None:
            targets.append((options.format, path))  # baseline, or a name that says nothing
        elif named not in formats:
            raise UsageError(
                f"--output {path}: `{command}` does not write {named} "
                f"({suffix} files); it writes {', '.join(formats)}"
            )
        elif options.format_given and named != options.format:
            raise UsageError(
                f"--output {path}: a {suffix} file holds {named}, but --format is "
                f"{options.format}; drop --format (the extension names the format) or "
                f"name the file for {options.format}"
            )
        else:
            targets.append((named, path))
    return tuple(targets)
