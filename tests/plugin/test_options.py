"""Options from one table: --harness-* flags > ini harness_* keys > [tool.connector-harness]
in pyproject.toml > defaults."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from conftest import PluginWorkspace

ENVS = ("dev", "stage", "prod")


def three_envs(ws: PluginWorkspace) -> None:
    """`bot` bound in dev, stage and prod, one flow; no pytest.ini."""
    text = ws.policy({env: ["svc.read"] for env in ENVS}, {"list-items": ["GET /items"]})
    ws.write({"bot.yaml": text}, ini=None)


def collected_envs(result: pytest.RunResult) -> list[str]:
    prefix = "scenarios/bot.yaml::list-items[bot@"
    return [line[len(prefix) : -1] for line in result.outlines if line.startswith(prefix)]


@pytest.mark.parametrize(
    ("pyproject", "ini", "flag", "expected"),
    [
        (None, None, None, ["dev", "prod", "stage"]),  # bindings in name order
        ("dev", None, None, ["dev"]),
        (None, "stage", None, ["stage"]),
        (None, None, "prod", ["prod"]),
        ("dev", "stage", None, ["stage"]),  # ini > pyproject
        ("dev", None, "prod", ["prod"]),  # flag > pyproject
        (None, "stage", "prod", ["prod"]),  # flag > ini
        ("dev", "stage", "prod", ["prod"]),  # flag > ini > pyproject
    ],
)
def test_env_precedence(
    pytester: pytest.Pytester,
    ws: PluginWorkspace,
    pyproject: str | None,
    ini: str | None,
    flag: str | None,
    expected: list[str],
) -> None:
    three_envs(ws)
    toml = ""
    if pyproject:
        toml += f'[tool.connector-harness]\nenv = "{pyproject}"\n'
    if ini:
        toml += f'[tool.pytest.ini_options]\nharness_env = "{ini}"\n'
    if toml:
        (pytester.path / "pyproject.toml").write_text(toml, "utf-8")
    args = ["--collect-only", "-q", *(["--harness-env", flag] if flag else [])]
    result = pytester.runpytest(*args)
    assert result.ret == pytest.ExitCode.OK
    assert collected_envs(result) == expected


def test_pytest_ini_beats_pyproject_table(pytester: pytest.Pytester, ws: PluginWorkspace) -> None:
    """The ini key read from pytest.ini, the table from pyproject.toml next to it."""
    three_envs(ws)
    (pytester.path / "pyproject.toml").write_text(
        '[tool.connector-harness]\nenv = "dev"\nbinding = "bot@dev"\n', "utf-8"
    )
    pytester.makeini("[pytest]\nharness_env = stage\nharness_binding = bot@stage\n")
    assert collected_envs(pytester.runpytest("--co", "-q")) == ["stage"]
    result = pytester.runpytest("--co", "-q", "--harness-env", "prod", "--harness-binding", "bot")
    assert collected_envs(result) == ["prod"]


EXCESSIVE = {"prod": ["svc.read", "svc.delete"]}


@pytest.mark.parametrize(
    ("pyproject", "ini", "flag", "strict"),
    [
        (None, None, None, True),
        ("false", None, None, False),
        ("false", "true", None, True),
        (None, "false", None, False),
        ("true", "false", "true", True),
        ("true", "true", "false", False),
    ],
)
def test_strict_precedence(
    pytester: pytest.Pytester,
    ws: PluginWorkspace,
    pyproject: str | None,
    ini: str | None,
    flag: str | None,
    strict: bool,
) -> None:
    ws.write({"bot.yaml": ws.policy(EXCESSIVE, {"sync": ["GET /items"]})}, ini=None)
    toml = ""
    if pyproject:
        toml += f"[tool.connector-harness]\nstrict = {pyproject}\n"  # a TOML boolean
    if ini:
        toml += f'[tool.pytest.ini_options]\nharness_strict = "{ini}"\n'
    if toml:
        (pytester.path / "pyproject.toml").write_text(toml, "utf-8")
    # in-process, the outer project's `filterwarnings = error` would turn the warning of a
    # lenient run into a failure; -W puts a filter in front of it
    args = ["-W", "always::UserWarning", *(["--harness-strict", flag] if flag else [])]
    result = pytester.runpytest(*args)
    if strict:
        result.assert_outcomes(failed=1)
        result.stdout.fnmatch_lines(["FAIL  bot@prod  0 missing  1 excessive  0 over-broad"])
    else:
        result.assert_outcomes(passed=1, warnings=1)
        result.stdout.fnmatch_lines(["PASS  bot@prod  0 missing  1 excessive  0 over-broad"])


@pytest.mark.parametrize(
    ("layers", "written"),
    [
        ({"pyproject"}, "from-pyproject.json"),
        ({"pyproject", "ini"}, "from-ini.md"),
        ({"pyproject", "ini", "flag"}, "from-flag.txt"),
    ],
)
def test_report_precedence(
    pytester: pytest.Pytester, ws: PluginWorkspace, layers: set[str], written: str
) -> None:
    ws.write({"bot.yaml": ws.policy({"prod": ["svc.read"]}, {"sync": ["GET /items"]})}, ini=None)
    toml = ""
    if "pyproject" in layers:
        toml += '[tool.connector-harness]\nreport = ["json:from-pyproject.json"]\n'
    if "ini" in layers:
        toml += '[tool.pytest.ini_options]\nharness_report = ["markdown:from-ini.md"]\n'
    (pytester.path / "pyproject.toml").write_text(toml, "utf-8")
    args = ["--harness-report", "text:from-flag.txt"] if "flag" in layers else []
    result = pytester.runpytest(*args)
    result.assert_outcomes(passed=1)
    reports = {"from-pyproject.json", "from-ini.md", "from-flag.txt"}
    assert {name for name in reports if (pytester.path / name).exists()} == {written}
    result.stdout.fnmatch_lines([f"0 of 1 binding fail least privilege; full report: {written}"])


def test_workspace_option(pytester: pytest.Pytester, ws: PluginWorkspace) -> None:
    """The workspace in a sub-directory, named by flag or by the pyproject table."""
    sub = pytester.path / "sub"
    (sub / "mocks").mkdir(parents=True)
    (sub / "scenarios").mkdir()
    (sub / "mocks" / "svc.yaml").write_text(ws.SERVICE, "utf-8")
    text = ws.policy({"prod": ["svc.read"]}, {"sync": ["GET /items"]})
    (sub / "scenarios" / "bot.yaml").write_text(text, "utf-8")
    expected = ["sub/scenarios/bot.yaml::sync[[]bot@prod[]]", "", "1 test collected in *"]
    result = pytester.runpytest("--co", "-q")
    assert result.ret == pytest.ExitCode.NO_TESTS_COLLECTED  # the rootdir is no workspace
    result = pytester.runpytest("--co", "-q", "--harness-workspace", "sub")
    result.stdout.fnmatch_lines(expected, consecutive=True)
    (pytester.path / "pyproject.toml").write_text(
        '[tool.connector-harness]\nworkspace = "sub"\n', "utf-8"
    )
    result = pytester.runpytest("--co", "-q")
    result.stdout.fnmatch_lines(expected, consecutive=True)


@pytest.mark.parametrize(
    ("args", "ini", "message"),
    [
        ((), "harness_strict = maybe", "*harness_strict: expected true or false, not 'maybe'*"),
        ((), "harness_record = sometimes", "*harness_record: 'sometimes' is not one of*"),
        (("--harness-strict", "maybe"), None, "*argument --harness-strict: invalid choice*"),
    ],
)
def test_bad_option_values_are_usage_errors(
    pytester: pytest.Pytester,
    ws: PluginWorkspace,
    args: tuple[str, ...],
    ini: str | None,
    message: str,
) -> None:
    ws.write(ini=None)
    if ini:
        pytester.makeini(f"[pytest]\n{ini}\n")
    result = pytester.runpytest(*args)
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines([message])


@pytest.mark.parametrize(
    ("pyproject", "yaml", "expected"),
    [
        (None, "dev", ["dev"]),  # connector-harness.yaml sets an option
        ("stage", "dev", ["stage"]),  # [tool.connector-harness] > connector-harness.yaml
    ],
)
def test_the_workspace_settings_file_is_the_last_layer_before_the_default(
    pytester: pytest.Pytester,
    ws: PluginWorkspace,
    pyproject: str | None,
    yaml: str,
    expected: list[str],
) -> None:
    three_envs(ws)
    (pytester.path / "connector-harness.yaml").write_text(f"env: {yaml}\n", "utf-8")
    if pyproject:
        (pytester.path / "pyproject.toml").write_text(
            f'[tool.connector-harness]\nenv = "{pyproject}"\n', "utf-8"
        )
    assert collected_envs(pytester.runpytest("--co", "-q")) == expected


def test_a_bad_value_names_the_settings_file_it_was_set_in(
    pytester: pytest.Pytester, ws: PluginWorkspace
) -> None:
    ws.write(ini=None)
    (pytester.path / "connector-harness.yaml").write_text("record: sometimes\n", "utf-8")
    result = pytester.runpytest()
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(
        ["*connector-harness.yaml: record: 'sometimes' is not one of none, new, all"]
    )
    (pytester.path / "pyproject.toml").write_text(
        '[tool.connector-harness]\nstrict = "maybe"\n', "utf-8"
    )
    result = pytester.runpytest()
    result.stderr.fnmatch_lines(
        ["*[[]tool.connector-harness[]] strict: expected true or false, not 'maybe'"]
    )


def test_fail_on_names_the_kinds_that_fail_items(
    pytester: pytest.Pytester, ws: PluginWorkspace
) -> None:
    """--harness-fail-on, like `check --fail-on`: only missing grants fail here, so the
    excessive gamma@prod and the egress of delta@prod pass; the report says so too."""
    ws.write(ws.mixed_scenarios())
    result = pytester.runpytest(
        "-rA", "--harness-fail-on", "missing", "--harness-report", "json:lp.json"
    )
    assert ws.outcomes(result.outlines) == {
        ("PASSED", "scenarios/alpha.yaml::alpha-list[alpha@prod]"),
        ("PASSED", "scenarios/beta.yaml::beta-sync[beta@dev]"),
        ("FAILED", "scenarios/beta.yaml::beta-sync[beta@prod]"),
        ("PASSED", "scenarios/delta.yaml::delta-hook[delta@prod]"),
        ("PASSED", "scenarios/gamma.yaml::gamma-show[gamma@prod]"),
    }
    assert json.loads((pytester.path / "lp.json").read_text("utf-8"))["fail_on"] == ["missing"]
    wrong = pytester.runpytest("--harness-fail-on", "mising")
    assert wrong.ret == pytest.ExitCode.USAGE_ERROR
    wrong.stderr.fnmatch_lines(["*--harness-fail-on: 'mising' is not a finding kind; write*"])
