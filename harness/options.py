"""One table of options: it feeds the CLI flags, the pytest `--harness-*` flags and ini
keys, and the `[tool.connector-harness]` keys of pyproject.toml.

The pytest plugin resolves each option as flag > ini > pyproject > default.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

CHECK_FORMATS = ("text", "json", "markdown", "sarif", "junit", "html")
INVENTORY_FORMATS = ("text", "markdown", "csv", "json")
REPORT_FORMATS = ("json", "markdown", "text")
RECORD_MODES = ("none", "new", "all")
LINT_FORMATS = ("text", "json")


@dataclass(frozen=True, slots=True)
class Option:
    name: str
    help: str
    default: Any = None
    choices: tuple[str, ...] = ()
    metavar: str | None = None
    commands: tuple[str, ...] = ()  # CLI subcommands that take it as --NAME
    pytest: bool = False  # offered as --harness-NAME, ini harness_NAME, pyproject NAME
    kind: str = "string"  # string | bool | list

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
    Option("workspace", "workspace directory (default: the rootdir)", metavar="DIR", pytest=True),
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
    ),
    Option(
        "record",
        "record live flow code run in the `sandbox` fixture as flow files: "
        "new (only missing ones), all, none",
        default="none",
        choices=RECORD_MODES,
        pytest=True,
    ),
    Option(
        "output",
        "write the output (report, inventory, baseline) to FILE instead of standard output",
        metavar="FILE",
        commands=("check", "inventory", "baseline", "explore", "lint"),
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
    ),
    Option(
        "transport",
        "how replayed calls reach the mocks: direct (default, fastest), responses, httpx, "
        "http (loopback servers) or docker (containers)",
        default="direct",
        choices=("direct", "responses", "httpx", "http", "docker"),
        commands=("check",),
    ),
    Option(
        "log",
        "write every decision to FILE as a hash-chained JSON-lines log",
        metavar="FILE",
        commands=("check",),
    ),
)

FORMAT_OPTIONS = {
    "explore": Option("format", "output format", "text", ("text", "json"), commands=("explore",)),
    "check": Option("format", "report format", "text", CHECK_FORMATS, commands=("check",)),
    "inventory": Option(
        "format", "inventory format", "text", INVENTORY_FORMATS, commands=("inventory",)
    ),
    "lint": Option("format", "lint report format", "text", LINT_FORMATS, commands=("lint",)),
}


def options_for(command: str) -> tuple[Option, ...]:
    """The options of one CLI subcommand, in help order."""
    formats = (FORMAT_OPTIONS[command],) if command in FORMAT_OPTIONS else ()
    return (*(o for o in OPTIONS if command in o.commands), *formats)


def pytest_options() -> tuple[Option, ...]:
    return tuple(o for o in OPTIONS if o.pytest)


def parse_bool(text: str) -> bool:
    lowered = text.strip().lower()
    if lowered in ("1", "true", "yes", "on"):
        return True
    if lowered in ("0", "false", "no", "off"):
        return False
    raise ValueError(f"expected true or false, not {text!r}")
