"""Shared test set-up: puts tests/ on sys.path so `workspaces` (in-memory builders) imports."""

import os
import shutil
import tempfile

import pytest

from harness.workspace import cache

# pytester, for the pytest-plugin tests in tests/plugin. It is declared here, not in
# tests/plugin/conftest.py: pytest refuses `pytest_plugins` in a conftest that is not
# loaded at start-up, which tests/plugin/conftest.py is not when the whole suite runs.
pytest_plugins = ["pytester"]

from components import (  # noqa: E402, F401  # fixtures
    docker_engine,
    mock_image,
    n8n_packages,
    network_boundary,
    postgres_dsn,
)


def pytest_configure(config: pytest.Config) -> None:
    """Keep the suite's workspace cache out of the user's cache directory (and start empty)."""
    directory = tempfile.mkdtemp(prefix="harness-test-cache-")
    config.stash[_CACHE] = (os.environ.get(cache.VARIABLE), directory)
    os.environ[cache.VARIABLE] = directory


def pytest_unconfigure(config: pytest.Config) -> None:
    previous, directory = config.stash[_CACHE]
    shutil.rmtree(directory, ignore_errors=True)
    if previous is None:
        os.environ.pop(cache.VARIABLE, None)
    else:
        os.environ[cache.VARIABLE] = previous


_CACHE = pytest.StashKey[tuple[str | None, str]]()
