"""Importers: vendor permission data to service specs, recorded traffic to flows.

One module per input format (`openapi`, `discovery`, `github` for services;
`har`, `vcr` for flows) over small shared helpers (`_source` reads documents
with locations, `spec` builds and renders a service spec, `breadth` infers which
scope is broader, `traffic` turns recorded calls into flow steps).
"""
