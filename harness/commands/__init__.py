"""The CLI's subcommands, one module each; `harness.cli` lists them in COMMANDS."""
