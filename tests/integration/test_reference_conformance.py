"""The GoHighLevel routes match the reference (tests/reference, a copy of the OpenAPI document):
every route exists there, requires exactly the scope the reference lists for it, and every
operation this service implements is routed in template.yaml."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import pytest

from localdev.template import Router, load_template, routes
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


GROUPS = sorted({r.code_dir.name for r in routes(load_template()) if r.path.startswith("/calendars")})
"""Every GoHighLevel-dialect function (read from template.yaml, so a new one cannot be missed)."""

SERVICE_MENU = "/calendars/services/"
"""The service menu is its own issue; every other reference operation must be routed."""


@pytest.mark.parametrize("group", GROUPS)
def test_every_route_requires_the_reference_scope(group: str) -> None:
    reference = _reference_scopes()
    for key, scope in _function_api(group).scopes.items():
        assert key in reference, f"{key} is not an operation of the reference"
        assert scope == reference[key], key


def test_every_reference_operation_has_a_route() -> None:
    """The route-coverage check: each operation of the reference (service menu aside) is a route
    of template.yaml, and the template routes nothing else under /calendars."""
    reference = {key for key in _reference_scopes() if SERVICE_MENU not in key}
    routed = {route_key(r.method, r.path) for r in routes(load_template())}
    missing = sorted(reference - routed)
    assert not missing, f"reference operations without a route: {missing}"
    assert {key for key in routed if " /calendars" in key} == reference


def test_every_route_is_implemented_by_the_function_it_reaches() -> None:
    """Each /calendars route of the template is served by a function that declares it (with its
    scope), and no operation is declared by two functions."""
    declared: dict[str, str] = {}
    for group in GROUPS:
        for key in _function_api(group).scopes:
            assert key not in declared, f"{key} declared by {declared[key]} and {group}"
            declared[key] = group
    for route in routes(load_template()):
        key = route_key(route.method, route.path)
        if " /calendars" in key:
            assert declared.get(key) == route.code_dir.name, f"{key} routes to {route.code_dir.name}"
    assert set(declared) <= {route_key(r.method, r.path) for r in routes(load_template())}


@pytest.mark.parametrize(
    ("method", "path", "expected"),
    [
        ("GET", "/calendars/groups", "GET /calendars/groups"),
        ("POST", "/calendars/groups/validate-slug", "POST /calendars/groups/validate-slug"),
        ("GET", "/calendars/schedules/search", "GET /calendars/schedules/search"),
        (
            "GET",
            "/calendars/schedules/event-calendar/c1",
            "GET /calendars/schedules/event-calendar/{calendarId}",
        ),
        ("GET", "/calendars/events", "GET /calendars/events"),
        ("GET", "/calendars/blocked-slots", "GET /calendars/blocked-slots"),
        ("GET", "/calendars/resources/rooms", "GET /calendars/resources/{resourceType}"),
        ("GET", "/calendars/c1/notifications", "GET /calendars/{calendarId}/notifications"),
        ("GET", "/calendars/c1", "GET /calendars/{calendarId}"),
    ],
)
def test_literal_paths_are_not_shadowed_by_parameters(method: str, path: str, expected: str) -> None:
    resolved = Router(routes(load_template())).resolve(method, path)
    assert resolved is not None
    assert route_key(resolved[0].method, resolved[0].path) == expected


def test_reference_versions_and_paths_are_what_the_gate_expects() -> None:
    versions = {
        param["schema"]["enum"][0]
        for operations in REFERENCE["paths"].values()
        for operation in operations.values()
        for param in operation.get("parameters", [])
        if param["name"] == "Version"
    }
    assert versions == {"v3"}  # the SDK's value; the gate also accepts the dated versions of the docs


OHALLO_ROUTES = {
    # seeds/000 and 001, as documented
    "GET /api/workspaces/{workspaceId}/calendar-connections",
    "GET /api/calendar-connections/{connectionId}",
    "PATCH /api/calendar-connections/{connectionId}",
    "DELETE /api/calendar-connections/{connectionId}",
    "GET /api/calendar-connections/{connectionId}/calendars",
    "GET /api/workspaces/{workspaceId}/bookings",
    # the seed's "initiate the OAuth authorisation flow" and its callback (issue 4)
    "POST /api/workspaces/{workspaceId}/calendar-connections/oauth/{provider}",
    "GET /api/calendar-connections/oauth/callback",
    # "oHallo can check availability, create bookings": the additions
    "GET /api/calendar-connections/{connectionId}/free-slots",
    "POST /api/workspaces/{workspaceId}/bookings",
    "GET /api/bookings/{bookingId}",
    "PATCH /api/bookings/{bookingId}",
    "POST /api/bookings/{bookingId}/cancel",
}
"""The oHallo dialect's routes (reference/seeds/000, 001 and issue 4)."""
OHALLO_PUBLIC = {"GET /api/calendar-connections/oauth/callback"}
"""Reached without a token: the user's browser returning from the provider's consent screen."""


def test_ohallo_routes_and_scopes() -> None:
    """Every /api route of the template is an oHallo route, served by the function that declares
    it, with the seed's scope: ``calendar:read`` for GET, ``calendar:write`` for writes; only the
    OAuth callback is public."""
    from slotbook.http.ohallo import PUBLIC, READ, WRITE

    template_routes = {route_key(r.method, r.path): r.code_dir.name for r in routes(load_template())}
    routed = {key: group for key, group in template_routes.items() if " /api/" in key}
    assert set(routed) == OHALLO_ROUTES
    for group in set(routed.values()):
        declared = _function_api(group).scopes
        assert set(declared) == {key for key, g in routed.items() if g == group}, group
        for key, scope in declared.items():
            expected = PUBLIC if key in OHALLO_PUBLIC else READ if key.startswith("GET ") else WRITE
            assert scope == expected, key
