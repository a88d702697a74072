"""Admin function: tenants (locations) and their API keys. Slotbook's own dialect.

Every route needs the admin token (see :mod:`slotbook.http.admin`). API key tokens are returned
once, at creation, and stored only as hashes.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from slotbook.container import services
from slotbook.domain import ApiKey, Location
from slotbook.http.admin import AdminApi
from slotbook.timeutil import iso_utc_ms

api = AdminApi()
app = api.app


class LocationCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str = Field(min_length=1, max_length=200)
    timezone: str = Field(min_length=1, max_length=64)


class ApiKeyCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str = Field(min_length=1, max_length=200)
    scopes: list[str] = Field(min_length=1, max_length=32)


def _location(location: Location) -> dict[str, Any]:
    return {
        "id": location.id,
        "name": location.name,
        "timezone": location.timezone,
        "createdAt": iso_utc_ms(location.created_at),
    }


def _key(key: ApiKey) -> dict[str, Any]:
    return {"id": key.id, "name": key.name, "scopes": key.scopes, "createdAt": iso_utc_ms(key.created_at)}


@app.post("/admin/locations")
def create_location(body: LocationCreate) -> tuple[dict[str, Any], int]:
    location = services().tenancy.create_location(body.name, body.timezone)
    return {"location": _location(location)}, 201


@app.get("/admin/locations/<locationId>")
def get_location(locationId: str) -> dict[str, Any]:
    return {"location": _location(services().tenancy.get_location(locationId))}


@app.post("/admin/locations/<locationId>/api-keys")
def create_api_key(locationId: str, body: ApiKeyCreate) -> tuple[dict[str, Any], int]:
    key, token = services().tenancy.create_api_key(locationId, body.name, body.scopes)
    return {"apiKey": {**_key(key), "token": token}}, 201


@app.delete("/admin/locations/<locationId>/api-keys/<keyId>")
def revoke_api_key(locationId: str, keyId: str) -> tuple[dict[str, Any], int]:
    services().tenancy.revoke_api_key(locationId, keyId)
    return {"succeeded": True}, 200


def lambda_handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    return api.handler(event, context)
