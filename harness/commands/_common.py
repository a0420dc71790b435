"""What several subcommands share: options from the table, running a check, writing output."""

from __future__ import annotations

import argparse
import contextlib
import errno
import os
import secrets
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol, TextIO

from harness.audit import ANCHOR_LABEL, RunHeader, write_log
from harness.baseline import load_baseline
from harness.decisions import Decision
from harness.engine import Progress, Selection, nothing_to_judge, run_check
from harness.errors import HarnessError, UsageError
from harness.gate import GateContext
from harness.model import Binding
from harness.options import (
    OPTIONS,
    Layer,
    Option,
    RunOptions,
    flag_layer,
    options_for,
    output_targets,
    resolve_options,
)
from harness.render.style import Style, part_of, redraw, wants_colour
from harness.report import Report
from harness.sandbox import Sandbox
from harness.sharding import shard_selection
from harness.transports import open_transport
from harness.workspace.loader import load_workspace
from harness.workspace.pyproject import read_pyproject_table

EXIT_PASS, EXIT_FINDINGS, EXIT_INPUT, EXIT_INTERNAL = 0, 1, 2, 3
WORKSPACE = next(option for option in OPTIONS if option.name == "workspace")


class Command(Protocol):
    name: str
    help: str

    def add_arguments(self, parser: argparse.ArgumentParser) -> None: ...

    def run(self, args: argparse.Namespace) -> int: ...


def add_workspace_argument(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "workspace",
        nargs="?",
        default=None,  # see workspace_layer
        help="workspace directory (default: the `workspace` of [tool.connector-harness] in "
        "./pyproject.toml, else .)",
    )


def workspace_layer() -> Layer:
    """Where the workspace is when the command line does not say: the `workspace` key of
    [tool.connector-harness] in ./pyproject.toml, as the pytest plugin reads it."""
    table = read_pyproject_table(Path("pyproject.toml"))
    values = {"workspace": table.values.get("workspace")} if table is not None else {}
    return Layer(values, lambda option: f"[tool.connector-harness] {option.name}")


def workspace_of(args: argparse.Namespace) -> Path:
    """The workspace directory of a command that takes no other option of the table."""
    given = {"workspace": args.workspace} if args.workspace is not None else {}
    return resolve_options([flag_layer(given), workspace_layer()], (WORKSPACE,)).workspace


def add_options(parser: argparse.ArgumentParser, options: tuple[Option, ...]) -> None:
    for option in options:
        flags = [option.flag, *([option.short] if option.short else [])]
        arguments: dict[str, Any] = {
            "dest": option.name,
            "default": None,  # unset: resolve_options applies the table's default
            "help": option.help,
        }
        if option.kind == "bool":
            arguments.update(action="store_const", const=True)
        elif option.kind == "list":
            arguments.update(action="append", metavar=option.metavar)
        else:
            arguments.update(choices=option.choices or None, metavar=option.metavar)
        parser.add_argument(*flags, **arguments)


def seconds(text: str) -> float:
    """An argument that is a number of seconds, more than 0 and at most a day."""
    try:
        value = float(text)
    except ValueError:
        value = -1.0
    if not 0 < value <= 86400:
        raise argparse.ArgumentTypeError(
            f"{text!r} is not a number of seconds between 0 and 86400, e.g. 30 or 0.5"
        )
    return value


def write_decision_log(
    path: str,
    anchor: str | None,
    decisions: Sequence[Decision],
    header: RunHeader,
    *,
    quiet: bool = False,
) -> None:
    """Write the decision log whole or not at all, print its anchor on standard error (even
    when quiet: it is what to keep) and write it to the anchor file when one is named."""
    with replacing(Path(path)) as temporary:
        log = write_log(temporary, decisions, header)
    if not quiet:
        print(f"decision log written to {path}: {log.count} decisions", file=sys.stderr)
    print(f"{ANCHOR_LABEL} {log.anchor}", file=sys.stderr)
    if anchor is not None:
        write_file(Path(anchor), log.anchor + "\n")


def command_options(args: argparse.Namespace, command: str) -> RunOptions:
    """The options of `command` from its command line, parsed by the option table."""
    given = {name: value for name, value in vars(args).items() if value is not None}
    layers = [flag_layer(given), workspace_layer()]
    options = resolve_options(layers, (WORKSPACE, *options_for(command)))
    if options.quiet and options.verbose:
        raise UsageError("--quiet and --verbose contradict each other: give one of them")
    output_targets(options, command)  # a wrong extension stops the run before it starts
    return options


PROGRESS_EVERY = 5.0  # seconds between progress lines when standard error is no terminal


def progress_on(
    stream: TextIO,
    options: RunOptions,
    *,
    every: float = PROGRESS_EVERY,
    clock: Callable[[], float] = time.monotonic,
) -> Progress | None:
    """How a run shows its progress: on a terminal a counter redrawn in place (for runs long
    enough to need one); elsewhere (a CI log) a line every `every` seconds; with --verbose a
    line per binding; with --quiet nothing."""
    if options.quiet:
        return None
    terminal = stream.isatty()
    started = clock()
    last = [started]

    def show(number: int, total: int, binding: Binding) -> None:
        now = clock()
        if options.verbose:
            stream.write(f"[{number}/{total}] replaying {binding.name}\n")
        elif terminal:
            if total >= 20:
                end = "\n" if number == total else ""
                redraw(stream, f"[{number}/{total}] replaying {binding.name}{end}")
        elif now - last[0] >= every:
            last[0] = now
            stream.write(
                f"[{number}/{total}] replaying {binding.name} ({now - started:.0f} s so far)\n"
            )
        else:
            return
        stream.flush()

    return show


@dataclass(frozen=True, slots=True)
class CheckRun:
    report: Report
    sandbox: Sandbox

    @property
    def settings_reports(self) -> tuple[tuple[str, str], ...]:
        """The reports the workspace settings ask every check to write (`report:`)."""
        return self.report.workspace.settings.reports


def gate_context(options: RunOptions) -> GateContext:
    """The date and baseline the gate judges by, from --today and --baseline."""
    baseline = load_baseline(options.baseline) if options.baseline is not None else None
    return GateContext(options.today, baseline)


def run_workspace_check(
    options: RunOptions, *, keep_decisions: bool = True, require_bindings: bool = True
) -> CheckRun:
    """Load the workspace named on the command line and check the selected bindings; a
    workspace with no binding is an input error unless `require_bindings` is false."""
    workspace = load_workspace(options.workspace)
    keep_decisions = keep_decisions or any(k == "html" for k, _ in workspace.settings.reports)
    empty = nothing_to_judge(workspace) if require_bindings else None
    if empty is not None:
        raise empty
    sandbox = Sandbox(workspace)
    selection = Selection(options.env, options.binding)
    if options.shard is not None:
        selection = shard_selection(workspace, selection, options.shard)
    context = gate_context(options)
    with open_transport(options.transport, sandbox) as transport:
        report = run_check(
            workspace,
            selection,
            progress=progress_on(sys.stderr, options),
            sandbox=sandbox,
            context=context,
            transport=transport,
            keep_decisions=keep_decisions,
            fail_on=options.fail_on,
        )
    return CheckRun(report, sandbox)


def write_outputs(
    targets: Sequence[tuple[str, str | None]], render: Callable[[str, Style], str]
) -> None:
    """Render each format once and write it to each of its targets: standard output (in
    colour on a terminal), or a file written whole or not at all (see `write_file`)."""
    rendered: dict[str, str] = {}
    for kind, path in targets:
        if path is None:
            sys.stdout.write(render(kind, Style(wants_colour(sys.stdout))))
            continue
        if kind not in rendered:
            rendered[kind] = render(kind, Style(False))
        write_file(Path(path), rendered[kind])


def written(targets: Sequence[tuple[str, str | None]]) -> str:
    """The files of `targets`, for a note on standard error ("" when none)."""
    return ", ".join(path for _, path in targets if path is not None)


def note_report_written(targets: Sequence[tuple[str, str | None]], report: Report) -> None:
    """Say on standard error which files hold the report, and its verdict."""
    files = written(targets)
    if not files:
        return
    verdict = (
        "every binding passes"
        if report.passed
        else f"{part_of(len(report.failed), len(report.results), 'binding', 'fail')} the gate"
    )
    print(f"report written to {files}: {verdict}", file=sys.stderr)


def emit(text: str, output: str | None) -> None:
    """Write to standard output, or to the file given with --output."""
    if output is None:
        sys.stdout.write(text)
    else:
        write_file(Path(output), text)


def write_file(path: Path, text: str) -> None:
    """Write `text` to `path` whole or not at all (see `replacing`)."""
    with replacing(path) as target:
        mode = "w" if target == path else "x"  # a new file beside it, or a device in place
        with target.open(mode, encoding="utf-8", newline="") as out:
            out.write(text)


@contextlib.contextmanager
def replacing(path: Path, *, what: str = "") -> Iterator[Path]:
    """A new file beside `path` to write, renamed over `path` once the block completes, so
    that an error or Ctrl-C leaves no partial file (and the previous one, if any, intact).
    Missing parent folders are created; an OSError is a HarnessError naming `path` (as
    `what`, e.g. "the decision log", when given). A path that is no regular file nor
    directory (/dev/stdout, a pipe) is written in place."""
    named = f"{what} {path}" if what else str(path)
    if path.exists() and not path.is_file() and not path.is_dir():
        try:
            yield path
        except OSError as err:
            raise HarnessError(f"cannot write {named}: {err.strerror or err}") from err
        return
    if path.is_dir():
        raise HarnessError(
            f"cannot write {named}: {os.strerror(errno.EISDIR)}; name a file, e.g. {path / 'report'}"
        )
    blocking = next((p for p in path.parents if p.exists() and not p.is_dir()), None)
    if blocking is not None:
        raise HarnessError(
            f"cannot write {named}: {os.strerror(errno.ENOTDIR)}: {blocking} is a file; "
            "name a path in a folder"
        )
    temporary = path.with_name(f".{path.name}.{secrets.token_hex(4)}.partial")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        yield temporary
        os.replace(temporary, path)
    except BaseException as err:
        with contextlib.suppress(OSError):
            temporary.unlink(missing_ok=True)
        if isinstance(err, OSError):
            raise HarnessError(f"cannot write {named}: {err.strerror or err}") from err
        raise
