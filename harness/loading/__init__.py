"""The sections of the workspace loader (harness.loader): one class per kind of file."""
