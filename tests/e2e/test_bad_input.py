"""Bad input never crashes: exit code 2, a located message, and a hint saying what to write.

Each directory of tests/corpus/ is a small workspace that is valid except for one
defect (tests/corpus/README.md lists them). Inputs too big to commit (a file over
the default size limit, deep nesting, a merge-key bomb), invalid TOML (ruff would
trip over it) and workspaces that must not exist are generated into tmp_path by
the GENERATED builders below.

Every case runs the CLI from the directory that holds the case, as
`connector-harness check CASE`, so paths print relative: `CASE/scenarios/x.yaml:3:5:`.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

CORPUS = Path(__file__).resolve().parent.parent / "corpus"
BASE = CORPUS / "_base"
SCENARIO = "scenarios/crm-sync.yaml"
FOOTER = re.compile(r"^\d+ problems? in the workspace; ")

RunCli = Callable[..., tuple[int, str, str]]  # the `run_cli` fixture of conftest.py

# case                          first location printed, inside the case ("" = the case itself)
#                               message fragment expected on that first line
CASES: list[tuple[str, str, str]] = [
    # -- YAML syntax and encoding ---------------------------------------------------------
    ("malformed-yaml", f"{SCENARIO}:10:6", "invalid YAML: expected ',' or ']'"),
    ("several-documents", f"{SCENARIO}:11:1", "several YAML documents"),
    ("duplicate-key", f"{SCENARIO}:13:5", "duplicate key 'review_every'"),
    ("key-not-text", f"{SCENARIO}:20:5", "a mapping key must be text, not bool 'yes'"),
    ("unsupported-tag", f"{SCENARIO}:25:19", "unsupported YAML tag"),
    ("tag-on-key", f"{SCENARIO}:25:12", "unsupported YAML tag '!secret'"),
    ("plain-value-key", f"{SCENARIO}:25:12", "the plain value '=' is read as YAML's `value` type"),
    ("non-utf8", f"{SCENARIO}:4:26", "not UTF-8 text (byte 0xFC"),
    ("control-character", f"{SCENARIO}:4:25", "unprintable character U+0007"),
    ("empty-file", f"{SCENARIO}:1:1", "the file is empty; expected a policy document"),
    # -- resource limits ------------------------------------------------------------------
    ("alias-bomb", f"{SCENARIO}:27:19", "expands to more than 500,000 values"),
    ("size-limit", SCENARIO, "665 bytes, over the limit of 500 bytes"),
    ("size-limit-default", SCENARIO, "over the limit of 2,097,152 bytes"),
    ("deep-nesting", f"{SCENARIO}:26:74", "nested deeper than 64 levels"),
    ("deep-nesting-stack", f"{SCENARIO}:1:71", "nested deeper than 64 levels"),
    ("merge-key-bomb", f"{SCENARIO}:26:11", "expands to more than 500,000 values"),
    # -- schema: unknown keys, wrong types, bad values ------------------------------------
    ("unknown-key", f"{SCENARIO}:4:5", "unknown key `descripton` in `connectors[0]`"),
    ("missing-key", f"{SCENARIO}:3:5", "missing the required key `owner`"),
    ("wrong-type", f"{SCENARIO}:8:20", "`connectors[0].allowed_hosts` must be a list"),
    ("bad-duration", f"{SCENARIO}:7:17", "`connectors[0].credential.lifetime` has an invalid"),
    ("impossible-date", f"{SCENARIO}:13:20", "`2026-02-30` is not a real date"),
    # -- dangling references and cycles ---------------------------------------------------
    ("binding-unknown-role", f"{SCENARIO}:20:13", "binding refers to role `crm-readr`"),
    ("binding-unknown-connector", f"{SCENARIO}:18:16", "refers to connector `crm-synk`"),
    ("flow-unknown-connector", f"{SCENARIO}:24:16", "flow refers to connector `crm-synk`"),
    ("role-undeclared-scope", f"{SCENARIO}:15:13", "`crm.contacts.raed` matches no scope"),
    ("role-unknown-service", f"{SCENARIO}:15:7", "grants scopes of `crmm`, which is not a service"),
    ("audience-unknown-service", f"{SCENARIO}:8:23", "audience `sheets` is not a service"),
    ("role-extends-unknown", f"{SCENARIO}:12:15", "extends `crm-base`, which is not a role"),
    ("role-cycle", "scenarios/base-roles.yaml:3:5", "cycle: crm-base -> crm-reader -> crm-base"),
    ("undefined-variable", f"{SCENARIO}:30:16", "`{{ limt }}` is neither a flow variable"),
    ("duplicate-path-parameter", "mocks/crm.yaml:14:11", "path parameter `{id}` appears more"),
    ("malformed-path-parameter", "mocks/crm.yaml:14:11", "`{id+}` in `/v1/contacts/{id+}` is not"),
    ("misspelled-requirement", "mocks/crm.yaml:15:15", "requires `authenticate`, which is not"),
    ("url-bad-port", f"{SCENARIO}:30:16", "the URL is not valid: Port out of range"),
    # -- conditional requirements, routes, permission models, packs ----------------------
    ("condition-unknown-argument", "mocks/crm.yaml:18:18", "depends on `format`, which is not an"),
    ("condition-without-default", "mocks/crm.yaml:19:18", "`arguments.format` has no `default:`"),
    ("unknown-value-map", "mocks/crm.yaml:18:33", "`of: contact-kind` names no value map"),
    ("argument-not-in-path", "mocks/crm.yaml:15:31", "the path has no `{contact}`"),
    ("path-not-a-template", "mocks/crm.yaml:14:11", "is not a path template: `?` at column 14"),
    ("requires-in-unknown-model", "mocks/crm.yaml:15:24", "`bot` is not a permission model"),
    ("given-unknown-kind", f"{SCENARIO}:25:19", "names a resource of kind `file`"),
    (
        "credential-unknown-model",
        f"{SCENARIO}:7:16",
        "`robot` is not a permission model of `slack`",
    ),
    ("grant-outside-model", f"{SCENARIO}:15:15", "holds slack's `bot` permission model"),
    ("pack-unknown", "connector-harness.yaml:2:9", "there is no bundled pack named `slak`"),
    ("pack-version-mismatch", "connector-harness.yaml:2:9", "pinned to version 2020.01, but"),
    # -- settings -------------------------------------------------------------------------
    ("config-unknown-key", "connector-harness.yaml:2:1", "unknown key `mock`"),
    ("config-bad-value", "connector-harness.yaml:2:11", "`fail_on[0]` cannot be 'misssing'"),
    ("config-impossible-clock", "connector-harness.yaml:2:8", "`clock` is not a valid time"),
    ("config-missing-directory", "connector-harness.yaml:2:16", "'vendor-packs' does not exist"),
    ("config-env-unknown", "connector-harness.yaml:2:6", "`env: prd` names an environment"),
    ("config-binding-unknown", "connector-harness.yaml:2:10", "`binding: crm-synk@prod` names no"),
    ("config-bad-report", "connector-harness.yaml:2:10", "`report[0]` has an invalid value"),
    ("config-report-absolute", "connector-harness.yaml:2:10", "`report[0]` writes outside"),
    ("config-report-dotdot", "connector-harness.yaml:2:10", "`report[0]` writes outside"),
    ("config-report-link-outside", "connector-harness.yaml:1:10", "(a link leads to "),
    ("config-workspace-key", "connector-harness.yaml:2:1", "`workspace` cannot be set in"),
    ("pyproject-bad-value", "pyproject.toml:7:12", "`fail_on[0]` cannot be 'misssing'"),
    ("pyproject-invalid-toml", "pyproject.toml:2:24", "invalid TOML"),
    # -- the workspace itself -------------------------------------------------------------
    ("empty-workspace", "", "no workspace files found"),
    ("missing-workspace", "", "the workspace directory does not exist"),
    ("workspace-is-a-file", "", "the workspace is a file, not a directory"),
    # -- hostile input: line breaks that `$` let through -----------------------------------
    ("lifetime-trailing-newline", f"{SCENARIO}:7:17", "lifetime` has an invalid value '1h\\n'"),
    ("connector-name-trailing-newline", f"{SCENARIO}:3:11", "invalid value 'crm-sync\\n'"),
    ("role-name-trailing-newline", f"{SCENARIO}:11:11", "invalid value 'crm-reader\\n'"),
    ("env-trailing-newline", f"{SCENARIO}:19:10", "`bindings[0].env` has an invalid value"),
    ("review-every-trailing-newline", f"{SCENARIO}:12:19", "invalid value '90d\\n'"),
    ("date-trailing-newline", f"{SCENARIO}:13:20", "invalid value '2026-01-15\\n'"),
    ("service-name-trailing-newline", "mocks/crm.yaml:2:10", "`service` has an invalid value"),
    ("host-trailing-newline", "mocks/crm.yaml:4:9", "`hosts[0]` has an invalid value"),
    ("allowed-host-trailing-newline", f"{SCENARIO}:8:21", "allowed_hosts[0]` has an invalid"),
    ("name-line-separator", f"{SCENARIO}:11:11", "invalid value 'crm\\u2028reader'"),
    ("config-pack-trailing-newline", "connector-harness.yaml:2:9", "invalid value 'slack\\n'"),
    ("config-clock-trailing-newline", "connector-harness.yaml:2:8", "`clock` has an invalid value"),
    ("url-with-newline", f"{SCENARIO}:30:16", "request.url` has an invalid value"),
    ("url-with-control-character", f"{SCENARIO}:30:16", "request.url` has an invalid value"),
    ("header-with-newline", f"{SCENARIO}:31:20", "invalid value 'a\\r\\nX-Injected: 1'"),
    ("header-with-nul", f"{SCENARIO}:31:20", "headers.X-Trace` has an invalid value"),
    ("header-name-with-space", f"{SCENARIO}:31:20", "has an invalid value 'X Trace'"),
    # -- hostile input: numbers and durations too large to convert -------------------------
    ("bigint-in-vars", f"{SCENARIO}:25:19", "the number has more than 4,300 digits"),
    ("bigint-negative", f"{SCENARIO}:25:19", "the number has more than 4,300 digits"),
    ("bigint-in-service", "mocks/crm.yaml:7:18", "the number has more than 4,300 digits"),
    ("bigint-in-response-status", f"{SCENARIO}:32:19", "the number has more than 4,300 digits"),
    ("config-bigint", "connector-harness.yaml:2:17", "the number has more than 4,300 digits"),
    ("pyproject-bigint", "pyproject.toml", "a number has more than 4,300 digits"),
    ("lifetime-too-many-digits", f"{SCENARIO}:7:17", "invalid value '9999999999h'"),
    ("wait-too-many-digits", f"{SCENARIO}:28:15", "steps[0].wait` has an invalid value"),
    ("config-negative-max-file-bytes", "connector-harness.yaml:2:17", "less than the minimum"),
    ("config-infinite-max-file-bytes", "connector-harness.yaml:2:17", "must be a whole number"),
    # -- hostile input: expansion, nesting, chains ------------------------------------------
    ("alias-large-string", f"{SCENARIO}:26:12", "expands to more than 33,554,432 bytes"),
    ("alias-many-strings", f"{SCENARIO}:26:12", "expands to more than 33,554,432 bytes"),
    ("deep-nesting-mappings", f"{SCENARIO}:26:257", "nested deeper than 64 levels"),
    ("pyproject-deep-arrays", "pyproject.toml", "the TOML document is nested too deeply"),
    ("pyproject-deep-tables", "pyproject.toml", "nested deeper than 64 levels"),
    ("extends-chain-unknown", "scenarios/chain.yaml:15000:15", "extends `r-missing`, which is not"),
    ("extends-cycle-3000", "scenarios/chain.yaml:2:5", "r2999 -> r0 (3000 roles)"),
    ("role-extends-itself", f"{SCENARIO}:11:5", "cycle: crm-reader -> crm-reader"),
    ("extends-not-a-list", f"{SCENARIO}:13:14", "`roles[0].extends` must be a list"),
    ("merge-not-a-mapping", f"{SCENARIO}:25:16", "`<<` must merge a mapping"),
    ("binary-tag", f"{SCENARIO}:25:19", "unsupported YAML tag 'tag:yaml.org,2002:binary'"),
    ("set-tag", f"{SCENARIO}:25:19", "unsupported YAML tag 'tag:yaml.org,2002:set'"),
    # -- hostile input: route templates that would backtrack --------------------------------
    ("adjacent-path-parameters", "mocks/crm.yaml:18:11", "`{id}{kind}` in `/v1/contacts/{id}"),
    ("adjacent-spanning-parameters", "mocks/crm.yaml:18:11", "`{+a}{+b}` in `/v1/{+a}{+b}`"),
    ("spanning-then-parameter", "mocks/crm.yaml:18:11", "`{+a}{b}` in `/v1/{+a}{b}`"),
    ("two-spanning-parameters", "mocks/crm.yaml:18:11", "has 2 spanning parameters"),
    # -- hostile input: implications that expand quadratically -------------------------------
    ("implies-chain-5000", "mocks/crm.yaml:1028:3", "imply more than 100,000 scopes in all"),
    # -- hostile input: paths outside the workspace, files that are not files --------------
    ("scenarios-link-outside", "scenarios", "the configured directory leads outside"),
    ("mocks-link-outside", "mocks", "the configured directory leads outside"),
    ("scenario-file-link-outside", SCENARIO, "the file leads outside the workspace"),
    ("configured-link-outside", "connector-harness.yaml:1:13", "is a link leading outside"),
    ("scenario-dev-zero", "scenarios/zero.yaml", "leads outside the workspace (to /dev/zero)"),
    ("scenario-fifo", "scenarios/pipe.yaml", "the file is not a regular file"),
    ("config-scenarios-dotdot", "connector-harness.yaml:2:13", "must be a directory inside"),
    ("config-mocks-absolute", "connector-harness.yaml:2:9", "must be a directory inside"),
    ("config-path-nul", "connector-harness.yaml:2:13", "cannot name a directory"),
    ("config-path-too-long", "connector-harness.yaml:1:13", "cannot name a directory"),
    ("body-file-outside", f"{SCENARIO}:31:22", "'../../../../etc/passwd' does not exist"),
    ("body-file-nul", f"{SCENARIO}:31:22", "body file 'a\\x00b' does not exist"),
    ("body-file-is-directory", f"{SCENARIO}:31:22", "body file '.' does not exist"),
    ("body-file-name-too-long", f"{SCENARIO}:30:22", "bbbbbbbb...' does not exist"),
    ("body-file-too-large", f"{SCENARIO}:30:22", "over the limit of 1,000 bytes"),
    # -- hostile input: a gate with nothing to judge ----------------------------------------
    ("scenarios-missing", "", "nothing to check: no binding found in scenarios/"),
    ("scenarios-empty", "", "(scenarios/ is empty)"),
    ("scenarios-misnamed", "", "holds no .yaml or .yml file, only crm-sync.yaml.txt"),
    ("scenarios-uppercase-extension", "", "holds no .yaml or .yml file, only crm-sync.YAML"),
    ("scenarios-no-bindings", "", "holds 1 YAML file(s) with no `bindings:`"),
    # -- several defects at once (see test_every_problem_is_reported_in_one_run) -----------
    ("several-errors", "mocks/chat.yaml:3:1", "unknown key `host`"),
    ("schema-error-hides-nothing", "scenarios/auditors.yaml:5:5", "unknown key `grant`"),
    ("stages-in-one-run", "scenarios/auditors.yaml:5:5", "unknown key `grant`"),
    ("settings-error-hides-nothing", "connector-harness.yaml:2:11", "cannot be 'misssing'"),
    ("settings-reading-key-broken", "connector-harness.yaml:2:8", "`mocks` must be a list"),
]
SEVERAL = (
    "several-errors",
    "schema-error-hides-nothing",
    "stages-in-one-run",
    "settings-error-hides-nothing",
)  # more than one problem each


def _copy_base(workspace: Path) -> Path:
    shutil.copytree(BASE, workspace)
    return workspace / SCENARIO


def _oversized(workspace: Path) -> None:
    """The base scenario padded with comment lines to one byte over the default 2 MiB."""
    scenario = _copy_base(workspace)
    text = scenario.read_text("utf-8")
    padding = 2 * 1024 * 1024 + 1 - len(text)
    line = "#" * 999 + "\n"
    scenario.write_text(text + line * (padding // 1000) + "#" * (padding % 1000), "utf-8")


def _with_vars(workspace: Path, extra: str) -> None:
    """The base scenario with `extra` added under the flow's `vars:`, from line 26 on."""
    scenario = _copy_base(workspace)
    text = scenario.read_text("utf-8")
    old = '    vars: {limit: "100"}\n'
    assert old in text
    scenario.write_text(text.replace(old, f'    vars:\n      limit: "100"\n{extra}\n'), "utf-8")


def _deep_nesting(workspace: Path) -> None:
    """A list nested 100 deep: the converter refuses it at depth 65 (column 13 + 61)."""
    _with_vars(workspace, "      deep: " + "[" * 100 + "]" * 100)


def _deep_nesting_stack(workspace: Path) -> None:
    """100,000 nested lists: deeper than Python's stack, so the composer itself gives up."""
    _copy_base(workspace).write_text("flows: " + "[" * 100_000 + "]" * 100_000 + "\n", "utf-8")


def _merge_key_bomb(workspace: Path) -> None:
    """`<<:` merges of 200 aliases, three levels deep: 8 million merged keys, 1 kB of YAML."""
    lines = ["      m0: &m0 {k0: 1, k1: 2}"]
    for level in range(1, 4):
        merges = ", ".join([f"*m{level - 1}"] * 200)
        lines.append(f"      m{level}: &m{level} {{<<: [{merges}]}}")
    _with_vars(workspace, "\n".join(lines))


def _invalid_pyproject(workspace: Path) -> None:
    """Not committed: ruff reads every pyproject.toml under tests/ and stops on bad TOML."""
    _copy_base(workspace)
    (workspace / "pyproject.toml").write_text(
        '[project]\nname = "crm-automations\n\n[tool.connector-harness]\nmocks = ["mocks"]\n',
        "utf-8",
    )


def _workspace_is_a_file(workspace: Path) -> None:
    workspace.write_text("mocks: [mocks]\n", "utf-8")


def _alias_repeating(size: int, times: int) -> Callable[[Path], None]:
    """One anchored string of `size` bytes, repeated `times` times through aliases: few
    values (under the value limit), but far more text than the byte budget allows."""

    def build(workspace: Path) -> None:
        aliases = ", ".join(["*big"] * times)
        _with_vars(workspace, f"      big: &big {'x' * size}\n      copies: [{aliases}]")

    return build


def _outside(workspace: Path) -> Path:
    """A directory beside the workspace, holding a valid copy of its scenarios."""
    target = workspace.parent / f"{workspace.name}-elsewhere"
    shutil.copytree(BASE / "scenarios", target)
    return target


def _scenarios_link_outside(workspace: Path) -> None:
    _copy_base(workspace)
    shutil.rmtree(workspace / "scenarios")
    (workspace / "scenarios").symlink_to(_outside(workspace), target_is_directory=True)


def _mocks_link_outside(workspace: Path) -> None:
    _copy_base(workspace)
    target = workspace.parent / f"{workspace.name}-mocks"
    shutil.move(workspace / "mocks", target)
    (workspace / "mocks").symlink_to(target, target_is_directory=True)


def _scenario_file_link_outside(workspace: Path) -> None:
    _copy_base(workspace)
    (workspace / SCENARIO).unlink()
    (workspace / SCENARIO).symlink_to(_outside(workspace) / "crm-sync.yaml")


def _configured_link_outside(workspace: Path) -> None:
    _copy_base(workspace)
    shutil.rmtree(workspace / "scenarios")
    (workspace / "policies").symlink_to(_outside(workspace), target_is_directory=True)
    (workspace / "connector-harness.yaml").write_text("scenarios: [policies]\n", "utf-8")


def _scenario_dev_zero(workspace: Path) -> None:
    _copy_base(workspace)
    (workspace / "scenarios" / "zero.yaml").symlink_to("/dev/zero")


def _scenario_fifo(workspace: Path) -> None:
    _copy_base(workspace)
    os.mkfifo(workspace / "scenarios" / "pipe.yaml")


def _scenarios_empty(workspace: Path) -> None:
    _copy_base(workspace)
    (workspace / SCENARIO).unlink()


def _roles(count: int, last_extends: str) -> str:
    """`count` roles, each extending the next; the last one extends `last_extends`."""
    lines = ["roles:"]
    for index in range(count):
        parent = f"r{index + 1}" if index + 1 < count else last_extends
        lines += [
            f"  - name: r{index}",
            "    review_every: 90d",
            "    last_reviewed: 2026-01-15",
            f"    extends: [{parent}]",
            "    grants: {crm: [crm.contacts.read]}",
        ]
    return "\n".join(lines) + "\n"


def _extends_chain(last_extends: str) -> Callable[[Path], None]:
    def build(workspace: Path) -> None:
        _copy_base(workspace)
        (workspace / "scenarios" / "chain.yaml").write_text(_roles(3000, last_extends), "utf-8")

    return build


def _implies_chain(workspace: Path) -> None:
    """5,000 scopes, each implying the next: 12.5 million implied pairs, which every check
    would walk grant by grant (quadratic in the chain: minutes, hours at 2 MiB)."""
    _copy_base(workspace)
    spec = workspace / "mocks" / "crm.yaml"
    chain = "".join(f"  s{i}: {{implies: [s{i + 1}]}}\n" for i in range(5000))
    chain += "  s5000: {implies: [crm.contacts.read]}\n"
    text = spec.read_text("utf-8").replace("operations:\n", chain + "operations:\n")
    spec.write_text(text, "utf-8")
    scenario = workspace / SCENARIO
    text = scenario.read_text("utf-8").replace("crm: [crm.contacts.read]", "crm: [s0]")
    scenario.write_text(text, "utf-8")


def _report_link_outside(workspace: Path) -> None:
    """`report: [json:out/r.json]`, where out/ (in the directory the check runs in) is a
    symbolic link to a directory elsewhere."""
    _copy_base(workspace)
    elsewhere = workspace.parent.parent / f"{workspace.parent.name}-elsewhere"
    elsewhere.mkdir()
    (workspace.parent / "out").symlink_to(elsewhere)
    (workspace / "connector-harness.yaml").write_text('report: ["json:out/r.json"]\n', "utf-8")


def _pyproject(text: str) -> Callable[[Path], None]:
    def build(workspace: Path) -> None:
        _copy_base(workspace)
        (workspace / "pyproject.toml").write_text(text, "utf-8")

    return build


def _long_configured_path(workspace: Path) -> None:
    _copy_base(workspace)
    (workspace / "connector-harness.yaml").write_text(f"scenarios: [{'a' * 5000}]\n", "utf-8")


def _long_body_file(workspace: Path) -> None:
    scenario = _copy_base(workspace)
    text = scenario.read_text("utf-8")
    old = "          url: https://api.crm.example/v1/contacts?limit={{ limit }}\n"
    scenario.write_text(text.replace(old, old + f"          body_file: {'b' * 5000}\n"), "utf-8")


def _deep_mappings(workspace: Path) -> None:
    """Mappings nested 100 deep in flow style: refused at depth 65 like lists."""
    _with_vars(workspace, "      deep: " + "{a: " * 100 + "1" + "}" * 100)


GENERATED: dict[str, Callable[[Path], None]] = {
    "alias-large-string": _alias_repeating(1024 * 1024, 40),
    "alias-many-strings": _alias_repeating(64 * 1024, 600),
    "scenarios-link-outside": _scenarios_link_outside,
    "mocks-link-outside": _mocks_link_outside,
    "scenario-file-link-outside": _scenario_file_link_outside,
    "configured-link-outside": _configured_link_outside,
    "scenario-dev-zero": _scenario_dev_zero,
    "scenario-fifo": _scenario_fifo,
    "scenarios-empty": _scenarios_empty,
    "extends-chain-unknown": _extends_chain("r-missing"),
    "extends-cycle-3000": _extends_chain("r0"),
    "implies-chain-5000": _implies_chain,
    "config-report-link-outside": _report_link_outside,
    "pyproject-deep-arrays": _pyproject(
        "[tool.connector-harness]\nfail_on = " + "[" * 5000 + "]" * 5000 + "\n"
    ),
    "pyproject-deep-tables": _pyproject(
        "[tool.connector-harness]\nn8n = " + "{a = " * 100 + "1" + "}" * 100 + "\n"
    ),
    "pyproject-bigint": _pyproject(f"[tool.connector-harness]\nmax_file_bytes = {'9' * 5000}\n"),
    "config-path-too-long": _long_configured_path,
    "body-file-name-too-long": _long_body_file,
    "deep-nesting-mappings": _deep_mappings,
    "size-limit-default": _oversized,
    "deep-nesting": _deep_nesting,
    "deep-nesting-stack": _deep_nesting_stack,
    "merge-key-bomb": _merge_key_bomb,
    "pyproject-invalid-toml": _invalid_pyproject,
    "missing-workspace": lambda workspace: None,
    "workspace-is-a-file": _workspace_is_a_file,
}


def _problems(stderr: str) -> list[str]:
    """The located lines of stderr (one per problem), without hints and the footer."""
    return [
        line
        for line in stderr.splitlines()
        if line and not line.startswith(" ") and not FOOTER.match(line)
    ]


def _assert_reported(code: int, stdout: str, stderr: str, where: str, fragment: str) -> None:
    assert code == 2, stderr
    assert "Traceback" not in stderr
    assert stdout == ""
    lines = stderr.splitlines()
    assert lines, "nothing on stderr"
    assert lines[0].startswith(f"{where}: "), lines[0]
    assert fragment in lines[0]
    assert len(lines) > 1, "no hint line"
    assert lines[1].startswith("  "), f"no hint line after {lines[0]!r}"
    assert lines[1].strip(), "the hint line is blank"


@pytest.mark.parametrize(("case", "location", "fragment"), CASES, ids=[c[0] for c in CASES])
def test_bad_input_exits_2_with_a_located_message_and_a_hint(
    run_cli: RunCli, tmp_path: Path, case: str, location: str, fragment: str
) -> None:
    if case in GENERATED:
        GENERATED[case](tmp_path / case)
        cwd = tmp_path
    else:
        cwd = CORPUS
    code, stdout, stderr = run_cli("check", case, cwd=cwd)
    where = f"{case}/{location}" if location else case
    _assert_reported(code, stdout, stderr, where, fragment)
    if case not in SEVERAL:
        assert len(_problems(stderr)) == 1, stderr


def test_a_misspelled_special_requirement_is_suggested(run_cli: RunCli) -> None:
    _, _, stderr = run_cli("check", "misspelled-requirement", cwd=CORPUS)
    assert stderr.splitlines()[1] == "  did you mean `authenticated`?"


def test_the_table_covers_every_corpus_directory() -> None:
    committed = {path.name for path in CORPUS.iterdir() if path.is_dir()} - {BASE.name}
    tabled = {case for case, _, _ in CASES} - set(GENERATED)
    assert committed == tabled
    assert not set(GENERATED) & committed


def test_the_shared_base_is_valid(run_cli: RunCli) -> None:
    """Each case is the base plus one defect, so the base itself must pass cleanly."""
    code, _, stderr = run_cli("check", BASE.name, cwd=CORPUS)
    assert code == 0, stderr


def test_every_problem_is_reported_in_one_run(run_cli: RunCli) -> None:
    code, _, stderr = run_cli("check", "several-errors", cwd=CORPUS)
    assert code == 2
    problems = _problems(stderr)
    assert [line.split(": ", 1)[0] for line in problems] == [
        "several-errors/mocks/chat.yaml:3:1",
        "several-errors/scenarios/auditors.yaml:5:13",
        "several-errors/scenarios/crm-sync.yaml:13:20",
        "several-errors/scenarios/crm-sync.yaml:30:16",
    ]
    assert "unknown key `host`" in problems[0]
    assert "`crm.contacts.export` matches no scope" in problems[1]
    assert "`2026-02-30` is not a real date" in problems[2]
    assert "`{{ limt }}` is neither a flow variable" in problems[3]
    # every problem carries its own hint line
    lines = stderr.splitlines()
    for problem in problems:
        assert lines[lines.index(problem) + 1].startswith("  ")
    assert "4 problems in the workspace" in stderr


def test_a_file_that_fails_its_schema_hides_no_problem_of_the_others(run_cli: RunCli) -> None:
    """auditors.yaml fails its schema but still defines role `crm-auditor`: the binding
    naming it is not reported, the one naming `crm-writer` (defined nowhere) is."""
    code, _, stderr = run_cli("check", "schema-error-hides-nothing", cwd=CORPUS)
    assert code == 2
    assert _problems(stderr) == [
        "schema-error-hides-nothing/scenarios/auditors.yaml:5:5: unknown key `grant` in `roles[0]`",
        "schema-error-hides-nothing/scenarios/crm-sync.yaml:21:38: binding refers to role"
        " `crm-writer`, which is not defined",
    ]


def test_a_schema_error_does_not_hide_the_errors_of_a_later_stage(run_cli: RunCli) -> None:
    """The permission-model check runs after the model is built; a schema error elsewhere
    does not skip it."""
    code, _, stderr = run_cli("check", "stages-in-one-run", cwd=CORPUS)
    assert code == 2
    assert [line.split(": ", 1)[0] for line in _problems(stderr)] == [
        "stages-in-one-run/scenarios/auditors.yaml:5:5",
        "stages-in-one-run/scenarios/crm-sync.yaml:15:15",
    ]
    assert "holds slack's `bot` permission model" in _problems(stderr)[1]


def test_a_settings_error_does_not_hide_the_workspace_errors(run_cli: RunCli) -> None:
    """A settings key that fails its schema but does not say which files to read (here
    `fail_on`) leaves the workspace readable: its own problems are reported in the same run."""
    code, _, stderr = run_cli("check", "settings-error-hides-nothing", cwd=CORPUS)
    assert code == 2
    assert [line.split(": ", 1)[0] for line in _problems(stderr)] == [
        "settings-error-hides-nothing/connector-harness.yaml:2:11",
        "settings-error-hides-nothing/scenarios/crm-sync.yaml:5:5",
    ]
    assert "unknown key `descripton` in `connectors[0]`" in _problems(stderr)[1]
    assert "2 problems in the workspace" in stderr


def test_a_broken_reading_key_reports_the_settings_alone(run_cli: RunCli) -> None:
    """While `mocks` is broken, which files to read is unknown: the scenario's own defect is
    not reported (it would be judged against the wrong services), and the hint says so."""
    code, _, stderr = run_cli("check", "settings-reading-key-broken", cwd=CORPUS)
    assert code == 2
    assert len(_problems(stderr)) == 1, stderr
    assert "the workspace's files are read once this is fixed" in stderr


def test_pyproject_settings_errors_and_workspace_errors_in_one_run(
    run_cli: RunCli, tmp_path: Path
) -> None:
    """The same in [tool.connector-harness]: a misspelt finding kind (at its own line of a
    multi-line array), a bad clock and an unknown key, and the workspace's problem."""
    scenario = _copy_base(tmp_path / "ws")
    text = scenario.read_text("utf-8")
    scenario.write_text(text.replace("    owner:", "    ownr:", 1), "utf-8")
    (tmp_path / "ws/pyproject.toml").write_text(
        '[project]\nname = "x"\n\n[tool.connector-harness]\nfail_on = [\n  "missing",\n'
        '  "misssing",  # ] and , in a comment\n]\nclock = "2026-02-30T00:00:00Z"\n'
        'mock = ["mocks"]\n',
        "utf-8",
    )
    code, _, stderr = run_cli("check", "ws", cwd=tmp_path)
    assert code == 2
    assert [line.split(": ", 1)[0] for line in _problems(stderr)] == [
        "ws/pyproject.toml:7:3",
        "ws/pyproject.toml:9:9",
        "ws/pyproject.toml:10:1",
        "ws/scenarios/crm-sync.yaml:3:5",
    ]
    assert "unknown key `ownr`" in _problems(stderr)[3]


def test_a_broken_service_spec_does_not_also_report_references_to_it(
    run_cli: RunCli, tmp_path: Path
) -> None:
    """The role granting `crm` scopes is fine; only the broken spec defining `crm` is reported."""
    _copy_base(tmp_path / "ws")
    (tmp_path / "ws/mocks/crm.yaml").write_text("", "utf-8")
    code, _, stderr = run_cli("check", "ws", cwd=tmp_path)
    assert code == 2
    assert _problems(stderr) == [
        "ws/mocks/crm.yaml:1:1: the file is empty; expected a service spec"
    ]


def test_an_unreadable_file_is_an_input_error(
    run_cli: RunCli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _copy_base(tmp_path / "ws")
    open_file = os.open

    def refuse(path: str | Path, flags: int, *args: int, **kwargs: int) -> int:
        if Path(path).name == "crm-sync.yaml":
            raise PermissionError(13, "Permission denied", str(path))
        return open_file(path, flags, *args, **kwargs)

    monkeypatch.setattr(os, "open", refuse)
    result = run_cli("check", "ws", cwd=tmp_path)
    _assert_reported(*result, f"ws/{SCENARIO}", "cannot read the file: Permission denied")


def test_inventory_reports_bad_input_the_same_way(run_cli: RunCli) -> None:
    result = run_cli("inventory", "role-cycle", cwd=CORPUS)
    _assert_reported(*result, "role-cycle/scenarios/base-roles.yaml:3:5", "inheritance cycle")


def _console_script() -> str:
    script = Path(sys.executable).with_name("connector-harness")
    found = str(script) if script.exists() else shutil.which("connector-harness")
    if found is None:
        pytest.fail("the connector-harness console script is not installed")
    return found


@pytest.mark.parametrize("case", ["alias-bomb", "unsupported-tag", "non-utf8"])
def test_the_installed_command_exits_2_without_a_traceback(case: str) -> None:
    location, fragment = next((loc, frag) for name, loc, frag in CASES if name == case)
    completed = subprocess.run(
        [_console_script(), "check", case],
        cwd=CORPUS,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    _assert_reported(
        completed.returncode, completed.stdout, completed.stderr, f"{case}/{location}", fragment
    )
