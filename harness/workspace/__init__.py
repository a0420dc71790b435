"""The sections of the workspace loader (harness.workspace.loader): one class per kind of file."""
