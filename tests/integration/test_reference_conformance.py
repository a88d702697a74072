"""The GoHighLevel routes match the reference (tests/reference, a copy of the OpenAPI document):
every route exists there, requires exactly the scope the reference lists for it, and every
operation this service implements is routed in template.yaml."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import pytest

from localdev.template import load_template, routes
from slotbook.http.ghl import GhlApi, route_key

ROOT = Path(__file__).resolve().parents[2]
REFERENCE = json.loads((ROOT / "tests/reference/ghl-calendars-v3.openapi.json").read_text())


def _function_api(group: str) -> GhlApi:
    spec = importlib.util.spec_from_file_location(
        f"conformance_{group}", ROOT / "functions" / group / "app.py"
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.api


def _reference_scopes() -> dict[str, str]:
    scopes = {}
    for path, operations in REFERENCE["paths"].items():
        for method, operation in operations.items():
            (requirement,) = operation["security"]
            (scope,) = next(iter(requirement.values()))
            scopes[route_key(method, path)] = scope
    return scopes


@pytest.mark.parametrize("group", ["calendars", "events"])
def test_every_route_requires_the_reference_scope(group: str) -> None:
    reference = _reference_scopes()
    for key, scope in _function_api(group).scopes.items():
        assert key in reference, f"{key} is not an operation of the reference"
        assert scope == reference[key], key


def test_every_implemented_operation_is_routed_in_the_template() -> None:
    implemented = {**_function_api("calendars").scopes, **_function_api("events").scopes}
    routed = {route_key(r.method, r.path) for r in routes(load_template())}
    assert set(implemented) <= routed
    # and each GoHighLevel route of the template is implemented by some function
    assert {k for k in routed if " /calendars" in k} == set(implemented)


def test_reference_versions_and_paths_are_what_the_gate_expects() -> None:
    versions = {
        param["schema"]["enum"][0]
        for operations in REFERENCE["paths"].values()
        for operation in operations.values()
        for param in operation.get("parameters", [])
        if param["name"] == "Version"
    }
    assert versions == {"v3"}  # the SDK's value; the gate also accepts the dated versions of the docs
