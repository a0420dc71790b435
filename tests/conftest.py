"""Shared test set-up: puts tests/ on sys.path so `workspaces` (in-memory builders) imports."""
