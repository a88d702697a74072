"""Admin function: tenants (locations), their API keys, their recipient directory (contacts and
users) and outgoing-webhook endpoints. Slotbook's own dialect.

Every route needs the admin token (see :mod:`slotbook.http.admin`). API key tokens are returned
once, at creation, and stored only as hashes; a webhook's signing secret is returned once, at
registration, and never listed.
"""

from __future__ import annotations

from typing import Annotated, Any

from aws_lambda_powertools.event_handler.openapi.params import Path
from pydantic import BaseModel, ConfigDict, Field

from slotbook.container import services
from slotbook.domain import ApiKey, Location
from slotbook.http.admin import AdminApi, PersonPut, UserPut, WebhookCreate, person_dto, webhook_dto
from slotbook.timeutil import iso_utc_ms

api = AdminApi()
app = api.app

PersonId = Annotated[str, Path(min_length=1, max_length=128)]
"""A contact, user or webhook id in a path."""


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


# -- recipient directory: contacts and users (issue 5) -------------------------------------------


@app.put("/admin/locations/<locationId>/contacts/<contactId>")
def put_contact(locationId: str, contactId: PersonId, body: PersonPut) -> tuple[dict[str, Any], int]:
    """Create (201) or replace (200) a contact of the directory."""
    person, created = services().directory.put_person(
        locationId,
        "contact",
        contactId,
        name=body.name,
        email=body.email,
        phone=body.phone,
        timezone=body.timezone,
    )
    return {"contact": person_dto(person)}, 201 if created else 200


@app.get("/admin/locations/<locationId>/contacts/<contactId>")
def get_contact(locationId: str, contactId: PersonId) -> dict[str, Any]:
    return {"contact": person_dto(services().directory.get_person(locationId, "contact", contactId))}


@app.delete("/admin/locations/<locationId>/contacts/<contactId>")
def delete_contact(locationId: str, contactId: PersonId) -> dict[str, Any]:
    services().directory.delete_person(locationId, "contact", contactId)
    return {"succeeded": True}


@app.put("/admin/locations/<locationId>/users/<userId>")
def put_user(locationId: str, userId: PersonId, body: UserPut) -> tuple[dict[str, Any], int]:
    """Create (201) or replace (200) a user of the directory."""
    person, created = services().directory.put_person(
        locationId,
        "user",
        userId,
        name=body.name,
        email=body.email,
        phone=body.phone,
        timezone=body.timezone,
        admin=body.isAdmin,
    )
    return {"user": person_dto(person)}, 201 if created else 200


@app.get("/admin/locations/<locationId>/users/<userId>")
def get_user(locationId: str, userId: PersonId) -> dict[str, Any]:
    return {"user": person_dto(services().directory.get_person(locationId, "user", userId))}


@app.delete("/admin/locations/<locationId>/users/<userId>")
def delete_user(locationId: str, userId: PersonId) -> dict[str, Any]:
    services().directory.delete_person(locationId, "user", userId)
    return {"succeeded": True}


# -- outgoing webhook endpoints (issue 5) ------------------------------------------------------


@app.post("/admin/locations/<locationId>/webhooks")
def create_webhook(locationId: str, body: WebhookCreate) -> tuple[dict[str, Any], int]:
    """Register an endpoint; the answer is the only one that shows its signing ``secret``."""
    endpoint = services().directory.create_webhook(locationId, body.url, body.events)
    return {"webhook": webhook_dto(endpoint, with_secret=True)}, 201


@app.get("/admin/locations/<locationId>/webhooks")
def list_webhooks(locationId: str) -> dict[str, Any]:
    """The location's endpoints, oldest first, without secrets."""
    return {"webhooks": [webhook_dto(e) for e in services().directory.list_webhooks(locationId)]}


@app.delete("/admin/locations/<locationId>/webhooks/<webhookId>")
def delete_webhook(locationId: str, webhookId: PersonId) -> dict[str, Any]:
    services().directory.delete_webhook(locationId, webhookId)
    return {"succeeded": True}


# -- delivery log and in-app inbox (issue 5) ----------------------------------------------------


@app.get("/admin/locations/<locationId>/appointments/<appointmentId>/deliveries")
def list_deliveries(locationId: str, appointmentId: PersonId) -> dict[str, Any]:
    """Every delivery attempt of an appointment's notifications, oldest first ("did the
    reminder go out?"): what, to whom, channel, status, provider message id."""
    records = services().delivery.deliveries(locationId, appointmentId)
    return {
        "deliveries": [
            {
                "id": r.id,
                "appointmentId": r.appointment_id,
                "jobId": r.job_id,
                "notificationType": r.notification_type,
                "channel": r.channel.value,
                "receiverType": r.receiver_type,
                "recipient": r.recipient,
                "status": r.status.value,
                "providerMessageId": r.provider_message_id,
                "detail": r.detail,
                "attempt": r.attempt,
                "at": iso_utc_ms(r.at),
            }
            for r in records
        ]
    }


@app.get("/admin/locations/<locationId>/users/<userId>/inbox")
def get_inbox(locationId: str, userId: PersonId) -> dict[str, Any]:
    """A user's in-app notifications, newest first (the latest 100)."""
    items = services().delivery.inbox(locationId, userId)
    return {
        "items": [
            {
                "id": i.id,
                "appointmentId": i.appointment_id,
                "notificationType": i.notification_type,
                "subject": i.subject,
                "body": i.body,
                "at": iso_utc_ms(i.at),
            }
            for i in items
        ]
    }


def lambda_handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    return api.handler(event, context)
