"""Importers: vendor permission data to service specs, recorded traffic to flows.

One module per input format (`openapi`, `discovery`, `github`, `msgraph` for services;
`har`, `vcr` for flows) over small shared helpers (`spec` builds and renders a service
spec, `breadth` infers which scope is broader, `traffic` turns recorded calls into flow
steps); documents are read with locations by `harness.workspace.source_document`.
"""
