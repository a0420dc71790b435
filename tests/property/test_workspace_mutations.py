"""Random mutations of a valid workspace, run through the commands users run: every
outcome is a verdict (exit 0 or 1) or a located input error (exit 2), never an internal
error (exit 3) or a traceback.

A mutation edits one to three lines of the base workspace (tests/corpus/_base, with a
settings file): a value replaced by one of the values that broke the loader before
(huge numbers and durations, dates at the end of the calendar, YAML syntax, templates,
paths), a character inserted, a line deleted, repeated or re-indented. Bounded: a few
dozen examples, derandomized so that a run is repeatable; `make fuzz` runs FUZZ_EXAMPLES
of them with a fresh seed.
"""

from __future__ import annotations

import contextlib
import io
import os
import shutil
import tempfile
from pathlib import Path
from unittest import mock

from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from harness.cli import main

BASE = Path(__file__).resolve().parents[1] / "corpus" / "_base"
SETTINGS = (
    "fail_on: [missing, excessive]\n"
    'clock: "2026-03-01T00:00:00Z"\n'
    "max_file_bytes: 200000\n"
    "env: prod\n"
)
FILES = ("scenarios/crm-sync.yaml", "mocks/crm.yaml", "connector-harness.yaml")
VALUES = (
    "",
    "~",
    "[]",
    "{}",
    "-1",
    "0",
    "9" * 5000,
    "99999999999",
    "10000000000000000",
    ".inf",
    ".nan",
    "1e400",
    "999999999w",
    "9999999999h",
    "1h\\n",
    "9999-12-31",
    "0001-01-01",
    "2026-02-30",
    '"9999-12-31T23:59:59Z"',
    "*undefined",
    "&a [*a]",
    "!!binary aGk=",
    "!!python/object/apply:os.system [x]",
    "[[[[[[[[[[[[]]]]]]]]]]]]",
    "{+a}{+b}",
    "/v1/{id}{kind}",
    "{{ limt }}",
    "../../etc/passwd",
    "/dev/zero",
    "'a\\u2028b'",
    '"a\\x00b"',
    "https://u:p@api.crm.example:99999/x",
    "crm.contacts.write",
    "[crm.contacts.write, crm.contacts.read]",
    "prod",
    "yes",
    "=",
)
CHARACTERS = [*":-{}[]&*!<>|'\"#\t ,?%@`~0.\\/+=", "\x00", "\u2028", "\ufeff", "\x1b"]

# Keys of the base workspace and its settings: an edit may set one of them (in whichever
# file holds it) to one of VALUES, which finds the values each key chokes on far sooner
# than editing lines at random.
KEYS = (
    "max_file_bytes",
    "clock",
    "fail_on",
    "env",
    "lifetime",
    "review_every",
    "last_reviewed",
    "allowed_hosts",
    "grants",
    "implies",
    "requires",
    "path",
    "method",
    "url",
    "status",
    "vars",
    "json",
    "roles",
    "hosts",
)

EDIT = st.one_of(
    st.tuples(st.just("key"), st.sampled_from(KEYS), st.sampled_from(VALUES)),
    st.tuples(st.just("value"), st.integers(0, 200), st.sampled_from(VALUES)),
    st.tuples(
        st.just("insert"),
        st.integers(0, 200),
        st.integers(0, 80),
        st.text(st.sampled_from(CHARACTERS), min_size=1, max_size=3),
    ),
    st.tuples(st.just("delete"), st.integers(0, 200)),
    st.tuples(st.just("repeat"), st.integers(0, 200)),
    st.tuples(st.just("indent"), st.integers(0, 200), st.booleans()),
)


def mutated(text: str, edits: list[tuple[object, ...]]) -> str:
    lines = text.split("\n")
    for kind, at, *rest in edits:
        if kind == "key":  # every line setting the key, in this file
            for index, line in enumerate(lines):
                name, colon, _ = line.partition(":")
                if colon and name.strip().lstrip("- ") == at:
                    lines[index] = f"{name}: {rest[0]}"
            continue
        assert isinstance(at, int)
        index = at % len(lines)
        line = lines[index]
        if kind == "value":  # the value after `key: ` or `- `, else appended
            key, colon, _ = line.partition(": ")
            if colon:
                lines[index] = f"{key}: {rest[0]}"
            elif line.lstrip().startswith("- "):
                lines[index] = line[: len(line) - len(line.lstrip())] + f"- {rest[0]}"
            else:
                lines[index] = f"{line}{rest[0]}"
        elif kind == "insert":
            column = int(str(rest[0])) % (len(line) + 1)
            lines[index] = line[:column] + str(rest[1]) + line[column:]
        elif kind == "delete" and len(lines) > 1:
            del lines[index]
        elif kind == "repeat":
            lines.insert(index, line)
        elif kind == "indent":
            lines[index] = "  " + line if rest[0] else line[2:]
    return "\n".join(lines)


def run(argv: list[str], cwd: Path) -> tuple[int, str]:
    """The CLI's exit code and everything it wrote, run in-process from `cwd`."""
    out = io.StringIO()
    previous = Path.cwd()
    os.chdir(cwd)
    try:
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(out):
            code = main(argv)
    finally:
        os.chdir(previous)
    return code, out.getvalue()


@settings(
    max_examples=int(os.environ.get("FUZZ_EXAMPLES", "40")),
    deadline=None,
    derandomize="FUZZ_EXAMPLES" not in os.environ,
    suppress_health_check=[HealthCheck.too_slow],
)
@given(
    target=st.sampled_from(FILES),
    edits=st.lists(EDIT, min_size=1, max_size=3),
    command=st.sampled_from(["check", "lint", "inventory", "explore", "baseline"]),
)
# Mutations that crashed a command before (each with exit 3), kept as explicit examples.
@example(  # read(limit) allocated all of the limit: a MemoryError
    target=FILES[2], edits=[("key", "max_file_bytes", "99999999999")], command="check"
)
@example(  # a review due after 9999-12-31: an OverflowError in lint
    target=FILES[0], edits=[("key", "review_every", "999999999w")], command="lint"
)
@example(target=FILES[0], edits=[("key", "last_reviewed", "9999-12-31")], command="lint")
def test_a_mutated_workspace_is_judged_or_refused_never_a_crash(
    target: str, edits: list[tuple[object, ...]], command: str
) -> None:
    with (
        tempfile.TemporaryDirectory() as directory,
        mock.patch.dict(os.environ, {"CONNECTOR_HARNESS_CACHE": "off"}),
    ):
        root = Path(directory)
        workspace = root / "ws"
        shutil.copytree(BASE, workspace)
        (workspace / "connector-harness.yaml").write_text(SETTINGS, "utf-8")
        for name in FILES:  # line edits change `target`; key edits, whichever file has it
            path = workspace / name
            chosen = edits if name == target else [e for e in edits if e[0] == "key"]
            text = path.read_text("utf-8")
            path.write_text(mutated(text, chosen), "utf-8", errors="surrogatepass")
        argv = [command, "ws"] + (["-o", "baseline.yaml"] if command == "baseline" else [])
        code, output = run(argv, root)
    assert code in (0, 1, 2), output
    assert "Traceback" not in output
    assert "internal error" not in output
