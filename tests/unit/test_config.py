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
