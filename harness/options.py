"""One table of options, read by the CLI (and by the pytest plugin as --harness-* flags)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Option:
    name: str
    help: str
    default: str | None = None
    choices: tuple[str, ...] = ()
    metavar: str | None = None
    commands: tuple[str, ...] = ("check", "inventory")

    @property
    def flag(self) -> str:
        return "--" + self.name.replace("_", "-")


CHECK_FORMATS = ("text", "json", "markdown")
INVENTORY_FORMATS = ("text", "markdown", "csv", "json")

OPTIONS: tuple[Option, ...] = (
    Option("env", "only bindings of this environment (e.g. prod)", metavar="ENV"),
    Option("binding", "only this binding (CONNECTOR@ENV, or a connector name)", metavar="NAME"),
    Option("output", "write the report to FILE instead of standard output", metavar="FILE"),
)

FORMAT_OPTIONS = {
    "check": Option("format", "report format", "text", CHECK_FORMATS, commands=("check",)),
    "inventory": Option(
        "format", "inventory format", "text", INVENTORY_FORMATS, commands=("inventory",)
    ),
}


def options_for(command: str) -> tuple[Option, ...]:
    return (*(o for o in OPTIONS if command in o.commands), FORMAT_OPTIONS[command])
