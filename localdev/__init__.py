"""Local development harness: run the SAM template's functions in-process against moto.

- :mod:`localdev.template` reads ``template.yaml`` (routes, tables, function environments).
- :mod:`localdev.moto_atomic` makes each moto DynamoDB request atomic, like the real service.
- :mod:`localdev.powertools_isolation` gives each local Lambda environment its own Powertools event
  (Powertools keeps it on a class, shared by the environments running as threads here).
- :mod:`localdev.server` serves the HTTP API locally (``python -m localdev.server``).
"""
