from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from harness.errors import InputErrors
from harness.model import Settings
from harness.workspace.settings import load_settings


def test_defaults_without_any_settings_file(tmp_path: Path) -> None:
    assert load_settings(tmp_path) == Settings()


def test_connector_harness_yaml_wins_over_pyproject(tmp_path: Path) -> None:
    for name in ("specs", "packs"):
        (tmp_path / name).mkdir()
    (tmp_path / "pyproject.toml").write_text('[tool.connector-harness]\nmocks = ["from-toml"]\n')
    (tmp_path / "connector-harness.yaml").write_text(
        "mocks: [specs, packs]\nclock: '2027-05-01T12:00:00Z'\nfail_on: [missing]\n"
    )
    settings = load_settings(tmp_path)
    assert settings.mocks == ("specs", "packs")
    assert settings.scenarios == ("scenarios",)
    assert settings.clock == datetime(2027, 5, 1, 12, tzinfo=UTC)
    assert settings.fail_on == ("missing",)


def test_pyproject_table_is_read_and_validated(tmp_path: Path) -> None:
    pyproject = tmp_path / "pyproject.toml"
    (tmp_path / "flows").mkdir()
    pyproject.write_text(
        '[project]\nname = "x"\n\n[tool.connector-harness]\nscenarios = ["flows"]\n'
    )
    assert load_settings(tmp_path).scenarios == ("flows",)
    pyproject.write_text('[tool.connector-harness]\nscenario = ["flows"]\n')
    with pytest.raises(InputErrors) as caught:
        load_settings(tmp_path)
    (error,) = caught.value.errors
    assert str(error.location) == f"{pyproject}:2:1"
    assert error.problem == "unknown key `scenario` in the document"
    assert error.hint.startswith("did you mean `scenarios`?")


@pytest.mark.parametrize(
    ("settings", "problem", "hint"),
    [
        (
            "mocks: [mocks, ../elsewhere]\n",
            "`mocks[1]` must be a directory inside the workspace, not '../elsewhere'",
            "write a path relative to the workspace directory, e.g. mocks: [mocks]",
        ),
        (
            "mocks: [mocks, vendor]\n",
            "`mocks[1]`: the directory 'vendor' does not exist in the workspace",
            "create it, or list an existing one (exports, mocks)",
        ),
        (
            "n8n: {workflows: [exports, /srv/n8n]}\n",
            "`n8n.workflows[1]` must be a directory inside the workspace, not '/srv/n8n'",
            "write a path relative to the workspace directory, e.g. exports/",
        ),
        (
            "n8n: {credentials: exports}\n",
            "`n8n.credentials`: the file 'exports' does not exist in the workspace",
            "create it, or correct the path",
        ),
    ],
)
def test_configured_paths_are_inside_the_workspace_and_exist(
    tmp_path: Path, settings: str, problem: str, hint: str
) -> None:
    for name in ("mocks", "exports"):
        (tmp_path / name).mkdir()
    (tmp_path / "connector-harness.yaml").write_text(settings, "utf-8")
    with pytest.raises(InputErrors) as caught:
        load_settings(tmp_path)
    (error,) = caught.value.errors
    assert (error.problem, error.hint) == (problem, hint)
    assert str(error.location).startswith(f"{tmp_path / 'connector-harness.yaml'}:1:")
