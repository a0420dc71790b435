"""connector-harness lint: static checks of a workspace, found before any replay."""
