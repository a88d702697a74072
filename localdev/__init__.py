"""Local development harness: run the SAM template's functions in-process against moto.

- :mod:`localdev.template` reads ``template.yaml`` (routes, tables, function environments).
- :mod:`localdev.moto_atomic` makes each moto DynamoDB request atomic, like the real service.
- :mod:`localdev.server` serves the HTTP API locally (``python -m localdev.server``).
"""
