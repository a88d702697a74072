"""The recipient directory, recipient resolution, template checks at save and the webhook registry.

Admin routes go through the real HTTP stack with the admin token; resolution is exercised on the
directory service over the same moto table, for every receiverType × channel.
Time is frozen at 2027-03-01 08:00 UTC; the tenant's location is in Europe/Copenhagen.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from slotbook import container
from slotbook.domain import (
    AppointmentStatus,
    Event,
    EventKind,
    NotificationChannel,
    NotificationReceiver,
    NotificationSetting,
    NotificationType,
)
from slotbook.services.directory import MAX_WEBHOOKS
from tests.conftest import FROZEN_NOW, Tenant
from tests.integration.conftest import Client, make_calendar

LOCATION_TZ = "Europe/Copenhagen"
ADA = {
    "name": "Ada Lovelace",
    "email": "ada@example.com",
    "phone": "+4520123456",
    "timezone": "Europe/London",
}
GRACE = {
    "name": "Grace Hopper",
    "email": "grace@example.com",
    "phone": "+12025550143",
    "timezone": "America/New_York",
}


def base(tenant: Tenant) -> str:
    return f"/admin/locations/{tenant.location_id}"


def unprocessable(reply: Any, *fragments: str) -> list[str]:
    assert reply.status == 422, reply.body
    assert reply.body["error"] == "Unprocessable Entity"
    messages = reply.body["message"]
    for fragment in fragments:
        assert any(fragment in m for m in messages), (fragment, messages)
    return messages


# -- admin: contacts and users --------------------------------------------------------------------


def test_put_creates_then_replaces_a_contact(admin, tenant):
    path = f"{base(tenant)}/contacts/c1"
    # Given no entry, a PUT creates it (201) ...
    created = admin.put(path, ADA)
    assert created.status == 201, created.body
    expected = {
        "id": "c1",
        "locationId": tenant.location_id,
        **ADA,
        "updatedAt": "2027-03-01T08:00:00.000Z",
    }
    assert created.body == {"contact": expected}
    assert admin.get(path).body == {"contact": expected}
    # ... and a second PUT replaces the whole entry (200): fields it leaves out become null
    replaced = admin.put(path, {"name": "Ada King", "email": "ada.king@example.com"})
    assert replaced.status == 200, replaced.body
    assert replaced.body["contact"] == {
        **expected,
        "name": "Ada King",
        "email": "ada.king@example.com",
        "phone": None,
        "timezone": None,
    }
    assert admin.get(path).body == replaced.body


def test_users_carry_an_admin_flag_and_contacts_do_not(admin, tenant):
    user = admin.put(f"{base(tenant)}/users/u1", {**GRACE, "isAdmin": True})
    assert user.status == 201, user.body
    assert user.body["user"]["isAdmin"] is True
    assert admin.get(f"{base(tenant)}/users/u1").body == user.body
    # Contacts and users are separate namespaces: the same id is a different entry
    assert admin.get(f"{base(tenant)}/contacts/u1").status == 404
    unprocessable(admin.put(f"{base(tenant)}/contacts/c1", {**ADA, "isAdmin": True}), "isAdmin")


def test_delete_removes_an_entry_once(admin, tenant):
    for kind in ("contacts", "users"):
        path = f"{base(tenant)}/{kind}/p1"
        admin.put(path, {"name": "P"})
        assert admin.delete(path).body == {"succeeded": True}
        assert admin.get(path).status == 404
        again = admin.delete(path)
        assert again.status == 404
        assert again.body["message"] == f"{kind[:-1].capitalize()} p1 not found"


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"email": "not-an-address"}, "email"),
        ({"email": "a@b"}, "email"),
        ({"phone": "004520123456"}, "phone"),
        ({"phone": "+45 20 12 34 56"}, "phone"),
        ({"phone": "+1"}, "phone"),
        ({"timezone": "Mars/Olympus"}, "timezone"),
        ({"timezone": "cet "}, "timezone"),
        ({"name": "n" * 201}, "name"),
        ({"nickname": "x"}, "nickname"),
        ({"email": 5}, "email"),
    ],
)
def test_bad_fields_are_422_naming_the_field_and_store_nothing(admin, tenant, body, field):
    for kind in ("contacts", "users"):
        path = f"{base(tenant)}/{kind}/p1"
        unprocessable(admin.put(path, {"name": "P", **body}), field)
        assert admin.get(path).status == 404


def test_unknown_location_is_404_on_every_route(admin, aws):
    path = "/admin/locations/nope"
    for reply in (
        admin.put(f"{path}/contacts/c1", ADA),
        admin.get(f"{path}/contacts/c1"),
        admin.delete(f"{path}/contacts/c1"),
        admin.put(f"{path}/users/u1", GRACE),
        admin.get(f"{path}/users/u1"),
        admin.delete(f"{path}/users/u1"),
        admin.post(f"{path}/webhooks", {"url": "https://h.example.com"}),
        admin.get(f"{path}/webhooks"),
        admin.delete(f"{path}/webhooks/w1"),
    ):
        assert reply.status == 404, reply.body
        assert reply.body["message"] == "Location nope not found"


def test_entries_belong_to_their_location(admin, tenant):
    other = admin.post("/admin/locations", {"name": "Other", "timezone": "UTC"}).body["location"]["id"]
    admin.put(f"{base(tenant)}/contacts/c1", ADA)
    assert admin.get(f"/admin/locations/{other}/contacts/c1").status == 404
    assert admin.delete(f"/admin/locations/{other}/contacts/c1").status == 404
    assert admin.get(f"{base(tenant)}/contacts/c1").status == 200


def test_the_directory_needs_the_admin_token(admin, tenant):
    path = f"{base(tenant)}/contacts/c1"
    for client in (Client(None, version=None), Client("wrong", version=None), Client(tenant.token)):
        assert client.put(path, ADA).status == 401
        assert client.get(path).status == 401
        assert client.delete(path).status == 401
        assert client.post(f"{base(tenant)}/webhooks", {"url": "https://h.example.com"}).status == 401
        assert client.get(f"{base(tenant)}/webhooks").status == 401
    assert admin.get(path).status == 404  # nothing was written


def test_remember_contact_fills_and_merges_the_directory(admin, tenant):
    directory = container.services().directory
    loc = tenant.location_id
    # Given a booking payload with contact details, an entry appears
    directory.remember_contact(loc, "c7", name=" Ada ", email="ada@example.com", phone="not a phone")
    got = admin.get(f"{base(tenant)}/contacts/c7").body["contact"]
    assert (got["name"], got["email"], got["phone"], got["timezone"]) == (
        "Ada",
        "ada@example.com",
        None,
        None,
    )
    # A later payload fills what it carries and keeps the rest; invalid values are skipped
    directory.remember_contact(loc, "c7", phone="+4520123456", timezone="Nowhere/Zone", email="broken@")
    got = admin.get(f"{base(tenant)}/contacts/c7").body["contact"]
    assert (got["name"], got["email"], got["phone"], got["timezone"]) == (
        "Ada",
        "ada@example.com",
        "+4520123456",
        None,
    )


# -- resolution -----------------------------------------------------------------------------------


def _event(**fields: Any) -> Event:
    start = datetime(2027, 3, 8, 9, 0, tzinfo=UTC)
    values: dict[str, Any] = {
        "id": "appt-1",
        "location_id": "x",
        "kind": EventKind.APPOINTMENT,
        "calendar_id": "cal-1",
        "assigned_user_id": "u1",
        "hosts": ["u1"],
        "contact_id": "c1",
        "status": AppointmentStatus.CONFIRMED,
        "start": start,
        "end": start + timedelta(minutes=30),
        "created_at": FROZEN_NOW,
        "updated_at": FROZEN_NOW,
    }
    values.update(fields)
    return Event.model_validate(values)


def _setting(receiver: str, channel: str, **fields: Any) -> NotificationSetting:
    return NotificationSetting(
        id="n1",
        location_id="x",
        calendar_id="cal-1",
        receiver_type=NotificationReceiver(receiver),
        channel=NotificationChannel(channel),
        notification_type=NotificationType.BOOKED,
        created_at=FROZEN_NOW,
        updated_at=FROZEN_NOW,
        **fields,
    )


@pytest.fixture
def people(admin: Client, tenant: Tenant) -> str:
    """A directory: contacts c1 (everything), c2 (phone only); users u1 (everything, admin),
    u2 (email only, no zone, admin), u3 (phone only)."""
    b = base(tenant)
    for path, body in (
        (f"{b}/contacts/c1", ADA),
        (f"{b}/contacts/c2", {"name": "Bob", "phone": "+4520000002"}),
        (f"{b}/users/u1", {**GRACE, "isAdmin": True}),
        (f"{b}/users/u2", {"name": "Linus", "email": "linus@example.com", "isAdmin": True}),
        (f"{b}/users/u3", {"name": "Margaret", "phone": "+4520000003"}),
    ):
        assert admin.put(path, body).status == 201
    return tenant.location_id


def resolve(
    loc: str, setting: NotificationSetting, event: Event | None = None
) -> tuple[list[tuple], list[str]]:
    """(receiver, address, name, timezone, person id) of each recipient, and the reasons."""
    found, problems = container.services().directory.recipients(loc, setting, event or _event(), LOCATION_TZ)
    return [(r.receiver_type, r.address, r.name, r.timezone, r.person_id) for r in found], problems


@pytest.mark.parametrize(
    ("channel", "address"),
    [("email", "ada@example.com"), ("sms", "+4520123456"), ("whatsapp", "+4520123456")],
)
def test_contact_is_the_appointments_contact_in_its_own_zone(people, channel, address):
    assert resolve(people, _setting("contact", channel)) == (
        [("contact", address, "Ada Lovelace", "Europe/London", "c1")],
        [],
    )


def test_contact_unresolved_reasons(people):
    assert resolve(people, _setting("contact", "inApp")) == (
        [],
        ["contact c1 cannot receive in-app notifications (users only)"],
    )
    assert resolve(people, _setting("contact", "email"), _event(contact_id="c2")) == (
        [],
        ["contact c2 has no email"],
    )
    assert resolve(people, _setting("contact", "sms"), _event(contact_id="c2"))[0] == [
        ("contact", "+4520000002", "Bob", LOCATION_TZ, "c2")  # no zone of its own: the location's
    ]
    assert resolve(people, _setting("contact", "sms"), _event(contact_id="c9")) == (
        [],
        ["contact c9 is not in the directory"],
    )
    assert resolve(people, _setting("contact", "email"), _event(contact_id=None)) == (
        [],
        ["the appointment has no contact"],
    )


@pytest.mark.parametrize("channel", ["email", "sms", "whatsapp", "inApp"])
def test_guests_are_reported_unresolved(people, channel):
    found, problems = resolve(people, _setting("guest", channel))
    assert found == []
    assert problems == ["guest recipients cannot be resolved: appointments do not store guests yet"]


@pytest.mark.parametrize(
    ("channel", "address"),
    [("email", "grace@example.com"), ("sms", "+12025550143"), ("whatsapp", "+12025550143"), ("inApp", "u1")],
)
def test_assigned_user_on_every_channel(people, channel, address):
    assert resolve(people, _setting("assignedUser", channel)) == (
        [("assignedUser", address, "Grace Hopper", "America/New_York", "u1")],
        [],
    )


def test_assigned_user_unresolved_reasons(people):
    assert resolve(people, _setting("assignedUser", "sms"), _event(assigned_user_id="u2")) == (
        [],
        ["user u2 has no phone number"],
    )
    assert resolve(people, _setting("assignedUser", "email"), _event(assigned_user_id="u3")) == (
        [],
        ["user u3 has no email"],
    )
    assert resolve(people, _setting("assignedUser", "email"), _event(assigned_user_id="u9")) == (
        [],
        ["user u9 is not in the directory"],
    )
    # In-app needs only the user id: a user missing from the directory still gets the item
    assert resolve(people, _setting("assignedUser", "inApp"), _event(assigned_user_id="u9")) == (
        [("assignedUser", "u9", "", LOCATION_TZ, "u9")],
        [],
    )
    assert resolve(people, _setting("assignedUser", "inApp"), _event(assigned_user_id=None)) == (
        [],
        ["the appointment has no assigned user"],
    )


def test_business_reaches_the_selected_users_and_reports_the_rest(people):
    found, problems = resolve(people, _setting("business", "email", selected_users=["u1", "u3", "u9", "u2"]))
    assert found == [
        ("business", "grace@example.com", "Grace Hopper", "America/New_York", "u1"),
        ("business", "linus@example.com", "Linus", LOCATION_TZ, "u2"),
    ]
    assert problems == ["user u3 has no email", "user u9 is not in the directory"]
    found, problems = resolve(people, _setting("business", "sms", selected_users=["u3", "u1"]))
    assert [r[1] for r in found] == ["+4520000003", "+12025550143"]
    assert problems == []
    found, _ = resolve(people, _setting("business", "inApp", selected_users=["u3"]))
    assert found == [("business", "u3", "Margaret", LOCATION_TZ, "u3")]


@pytest.mark.parametrize("selected", [["sub_account_admin"], [], ["u1", "sub_account_admin"]])
def test_business_sub_account_admin_means_the_admin_users(people, selected):
    # u1 and u2 are flagged admin; u1 named twice is reached once
    found, problems = resolve(people, _setting("business", "whatsapp", selected_users=selected))
    assert found == [("business", "+12025550143", "Grace Hopper", "America/New_York", "u1")]
    assert problems == ["user u2 has no phone number"]
    found, problems = resolve(people, _setting("business", "inApp", selected_users=selected))
    assert [r[1] for r in found] == ["u1", "u2"]
    assert problems == []


def test_business_without_admin_users(admin, tenant):
    admin.put(f"{base(tenant)}/users/u1", GRACE)  # not an admin
    found, problems = resolve(
        tenant.location_id, _setting("business", "email", selected_users=["sub_account_admin"])
    )
    assert found == []
    assert problems == ["sub_account_admin: no user of the location's directory is flagged isAdmin"]


def test_extra_emails_and_phone_numbers_in_the_locations_zone(people):
    emails = _setting(
        "emails", "email", additional_emails=["a@example.com", "b@example.com", "A@example.com"]
    )
    assert resolve(people, emails) == (
        [
            ("emails", "a@example.com", "", LOCATION_TZ, None),
            ("emails", "b@example.com", "", LOCATION_TZ, None),
        ],
        [],
    )
    for channel in ("sms", "whatsapp"):
        phones = _setting("phoneNumbers", channel, additional_phones=["+4511111111", "+4522222222"])
        assert resolve(people, phones) == (
            [
                ("phoneNumbers", "+4511111111", "", LOCATION_TZ, None),
                ("phoneNumbers", "+4522222222", "", LOCATION_TZ, None),
            ],
            [],
        )


@pytest.mark.parametrize(
    ("receiver", "channel", "reason"),
    [
        ("emails", "sms", "additionalEmailIds cannot be reached over sms"),
        ("emails", "inApp", "additionalEmailIds cannot be reached over inApp"),
        ("phoneNumbers", "email", "additionalPhoneNumbers cannot be reached over email"),
        ("phoneNumbers", "inApp", "additionalPhoneNumbers cannot be reached over inApp"),
    ],
)
def test_extra_addresses_on_a_channel_that_cannot_carry_them(people, receiver, channel, reason):
    # (The settings API refuses these combinations; a stored one still resolves safely.)
    setting = _setting(
        receiver, channel, additional_emails=["a@example.com"], additional_phones=["+4511111111"]
    )
    assert resolve(people, setting) == ([], [reason])


def test_resolution_reads_only_its_own_location(people, admin):
    other = admin.post("/admin/locations", {"name": "Other", "timezone": "UTC"}).body["location"]["id"]
    found, problems = resolve(other, _setting("contact", "email"))
    assert found == [] and problems == ["contact c1 is not in the directory"]


# -- templates are checked when a notification setting is saved ----------------------------------


@pytest.fixture
def calendar(client: Client, tenant: Tenant) -> dict[str, Any]:
    return make_calendar(client, tenant.location_id)


BOOKED = {"receiverType": "contact", "channel": "email", "notificationType": "booked"}


@pytest.mark.parametrize(
    ("fields", "expected"),
    [
        ({"subject": "Hi {{contact.nme}}"}, "0.subject: unknown placeholder {{contact.nme}}"),
        ({"body": "Hi {{contact.name"}, "0.body: unclosed '{{'"),
        ({"body": "Hi }} there"}, "0.body: '}}' without an opening"),
        ({"subject": "{{ }}"}, "0.subject: empty placeholder"),
    ],
)
def test_a_bad_template_is_422_at_create_and_nothing_is_stored(client, calendar, fields, expected):
    path = f"/calendars/{calendar['id']}/notifications"
    reply = client.post(path, [{**BOOKED, **fields}])
    messages = unprocessable(reply, expected)
    assert all(m.startswith("0.") for m in messages)
    assert client.get(path).body == []


def test_a_bad_template_is_422_at_update_and_the_setting_is_unchanged(client, calendar):
    path = f"/calendars/{calendar['id']}/notifications"
    good = {**BOOKED, "subject": "Booked: {{appointment.title}}", "body": "Hi {{ contact.first_name }}"}
    created = client.post(path, [good])
    assert created.status == 200, created.body
    one = f"{path}/{created.body[0]['_id']}"
    unprocessable(client.put(one, {"body": "See you {{appointment.start}}"}), "body: unknown placeholder")
    unprocessable(client.put(one, {"subject": "{{calendar.name}"}), "subject: unclosed")
    got = client.get(one).body
    assert (got["subject"], got["body"]) == (good["subject"], good["body"])
    # A good template is accepted
    assert client.put(one, {"body": "Moved to {{appointment.start_time}}"}).status == 200
    assert client.get(one).body["body"] == "Moved to {{appointment.start_time}}"


# -- webhook endpoints ------------------------------------------------------------------------


def test_register_list_and_delete_a_webhook(admin, tenant, clock):
    path = f"{base(tenant)}/webhooks"
    reply = admin.post(path, {"url": "https://hooks.example.com/slotbook", "events": ["booked", "cancelled"]})
    assert reply.status == 201, reply.body
    hook = reply.body["webhook"]
    secret = hook.pop("secret")
    assert secret.startswith("whsec_") and len(secret) >= 40
    assert hook == {
        "id": hook["id"],
        "locationId": tenant.location_id,
        "url": "https://hooks.example.com/slotbook",
        "events": ["booked", "cancelled"],
        "active": True,
        "createdAt": "2027-03-01T08:00:00.000Z",
    }
    # Listed oldest first without its secret; the delivery code gets it from the service
    clock.now += timedelta(seconds=1)
    second = admin.post(path, {"url": "http://localhost:8080/hook"}).body["webhook"]
    listed = admin.get(path)
    assert listed.status == 200
    assert listed.body == {"webhooks": [hook, {k: v for k, v in second.items() if k != "secret"}]}
    assert secret not in str(listed.body)
    endpoints = container.services().directory.webhook_endpoints(tenant.location_id)
    assert [(e.id, e.secret, e.events) for e in endpoints] == [
        (hook["id"], secret, ["booked", "cancelled"]),
        (second["id"], second["secret"], []),
    ]
    assert secret not in repr(endpoints)
    # Deleted once
    assert admin.delete(f"{path}/{hook['id']}").body == {"succeeded": True}
    assert admin.delete(f"{path}/{hook['id']}").status == 404
    assert [e["id"] for e in admin.get(path).body["webhooks"]] == [second["id"]]


def test_each_registration_gets_its_own_secret(admin, tenant):
    path = f"{base(tenant)}/webhooks"
    secrets = {admin.post(path, {"url": "https://h.example.com"}).body["webhook"]["secret"] for _ in range(3)}
    assert len(secrets) == 3


@pytest.mark.parametrize(
    ("body", "fragment"),
    [
        ({"url": "http://hooks.example.com/x"}, "url must be https"),
        ({"url": "http://10.0.0.5/x"}, "url must be https"),
        ({"url": "ftp://hooks.example.com/x"}, "url must be https"),
        ({"url": "hooks.example.com/x"}, "url must be https"),
        ({"url": "https:///path-only"}, "url must be https"),
        ({"url": "https://user:pw@hooks.example.com/x"}, "credentials"),
        ({"url": "https://hooks.example.com/a b"}, "valid URL"),
        ({"url": "https://[::1/x"}, "valid URL"),
        ({"url": "https://hooks.example.com:99999/x"}, "valid URL"),
        ({"url": "https://h.example.com/" + "a" * 2048}, "url"),
        ({"url": ""}, "url"),
        ({}, "url"),
        ({"url": "https://h.example.com", "events": ["booked", "exploded"]}, "events.1 must be one of"),
        ({"url": "https://h.example.com", "events": ["booked", "booked"]}, "duplicates"),
        ({"url": "https://h.example.com", "secret": "mine"}, "secret"),
    ],
)
def test_bad_registrations_are_422_and_store_nothing(admin, tenant, body, fragment):
    path = f"{base(tenant)}/webhooks"
    unprocessable(admin.post(path, body), fragment)
    assert admin.get(path).body == {"webhooks": []}


@pytest.mark.parametrize(
    "url", ["http://localhost/hook", "http://127.0.0.1:9000/hook", "https://10.0.0.5:8443/x"]
)
def test_local_http_and_any_https_are_accepted(admin, tenant, url):
    assert admin.post(f"{base(tenant)}/webhooks", {"url": url}).status == 201


def test_a_location_has_at_most_max_webhooks(admin, tenant):
    path = f"{base(tenant)}/webhooks"
    for i in range(MAX_WEBHOOKS):
        assert admin.post(path, {"url": f"https://h.example.com/{i}"}).status == 201
    unprocessable(admin.post(path, {"url": "https://h.example.com/one-more"}), f"at most {MAX_WEBHOOKS}")
    assert len(admin.get(path).body["webhooks"]) == MAX_WEBHOOKS


def test_webhooks_belong_to_their_location(admin, tenant):
    other = admin.post("/admin/locations", {"name": "Other", "timezone": "UTC"}).body["location"]["id"]
    hook = admin.post(f"{base(tenant)}/webhooks", {"url": "https://h.example.com"}).body["webhook"]
    assert admin.get(f"/admin/locations/{other}/webhooks").body == {"webhooks": []}
    assert admin.delete(f"/admin/locations/{other}/webhooks/{hook['id']}").status == 404
    assert container.services().directory.webhook_endpoints(other) == []
    assert len(admin.get(f"{base(tenant)}/webhooks").body["webhooks"]) == 1


def test_webhook_secrets_never_reach_the_logs(admin, tenant, capsys, caplog, powertools_logs):
    # Slotbook's own log lines at every level, everything else at INFO. (botocore's DEBUG wire
    # log prints DynamoDB responses verbatim, and the stored endpoint holds the secret.)
    caplog.set_level(logging.INFO)
    caplog.set_level(logging.DEBUG, logger="slotbook")
    path = f"{base(tenant)}/webhooks"
    secret = admin.post(path, {"url": "https://h.example.com/x"}).body["webhook"]["secret"]
    admin.get(path)
    admin.post(path, {"url": "http://nope.example.com"})  # a refused one logs too
    container.services().directory.webhook_endpoints(tenant.location_id)
    out = capsys.readouterr()
    logs = out.out + out.err + caplog.text + powertools_logs.getvalue()
    assert logs, "the handlers are expected to log something"
    assert secret not in logs
    assert secret.removeprefix("whsec_") not in logs
