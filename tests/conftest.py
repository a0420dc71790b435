"""Shared test set-up: puts tests/ on sys.path so `workspaces` (in-memory builders) imports."""

# pytester, for the pytest-plugin tests in tests/plugin. It is declared here, not in
# tests/plugin/conftest.py: pytest refuses `pytest_plugins` in a conftest that is not
# loaded at start-up, which tests/plugin/conftest.py is not when the whole suite runs.
pytest_plugins = ["pytester"]

from components import docker_engine, mock_image, postgres_dsn  # noqa: E402, F401  # fixtures
