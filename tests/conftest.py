"""Shared test set-up: puts tests/ on sys.path so `workspaces` (in-memory builders) imports."""

from components import docker_engine, mock_image, postgres_dsn  # noqa: E402, F401  # fixtures
