"""Importing n8n workflows: exports become connectors, bindings and flows (docs/n8n.md)."""
