"""Notifications that go out (issue 5): triggers, the sweep, the queue, retries, the log.

Everything runs through the real handlers on moto (DynamoDB, SQS with a dead-letter queue, SES,
SNS); time is frozen (``clock``) and moved by hand, never slept. ``drain`` plays the Lambda SQS
event source: it receives what is visible, invokes the deliveries function and deletes what the
function did not report as failed.
"""

from __future__ import annotations

import json
import threading
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from email import message_from_bytes
from http.server import BaseHTTPRequestHandler, HTTPServer
from typing import Any

import boto3
import pytest
from icalendar import Calendar as ICalendar

from slotbook import container
from slotbook.delivery import signing
from tests.conftest import FrozenClock, Tenant
from tests.integration.conftest import Client, local_api, make_calendar

START = datetime(2027, 3, 2, 9, 0, tzinfo=UTC)  # Tuesday 10:00 in Copenhagen
SENDER = "slotbook@example.com"
ANNA = {
    "name": "Anna Berg",
    "email": "anna@example.com",
    "phone": "+4512345678",
    "timezone": "America/New_York",
}


# --------------------------------------------------------------------------------------------------------
# Harness
# --------------------------------------------------------------------------------------------------------


@pytest.fixture
def queues(aws: str, monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    """The delivery queue (dead-letters after 5 receives) and its DLQ; the functions use it."""
    sqs = boto3.client("sqs")
    dlq = sqs.create_queue(QueueName="deliveries-dlq")["QueueUrl"]
    dlq_arn = sqs.get_queue_attributes(QueueUrl=dlq, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    url = sqs.create_queue(
        QueueName="deliveries",
        Attributes={
            "VisibilityTimeout": "360",
            "RedrivePolicy": json.dumps({"deadLetterTargetArn": dlq_arn, "maxReceiveCount": "5"}),
        },
    )["QueueUrl"]
    boto3.client("ses").verify_email_identity(EmailAddress=SENDER)
    monkeypatch.setenv("DELIVERY_QUEUE_URL", url)
    monkeypatch.setenv("EMAIL_SENDER", SENDER)
    container.reset()
    return {"url": url, "dlq": dlq}


@pytest.fixture
def calendar(client: Client, admin: Client, tenant: Tenant, queues: dict[str, str]) -> dict[str, Any]:
    """A calendar hosted by host-1; the directory knows contact c1 (Anna) and user host-1."""
    cal = make_calendar(client, tenant.location_id)
    loc = tenant.location_id
    assert admin.put(f"/admin/locations/{loc}/contacts/c1", ANNA).status == 201
    user = {"name": "Hugo Host", "email": "host@example.com", "timezone": "Europe/Copenhagen"}
    assert admin.put(f"/admin/locations/{loc}/users/host-1", user).status == 201
    return cal


def settings(client: Client, cal: dict[str, Any], *items: dict[str, Any]) -> None:
    reply = client.post(f"/calendars/{cal['id']}/notifications", list(items))
    assert reply.status in (200, 201), reply.body


def book(client: Client, cal: dict[str, Any], tenant: Tenant, start: datetime = START, **extra: Any) -> str:
    body = {
        "calendarId": cal["id"],
        "locationId": tenant.location_id,
        "contactId": "c1",
        "startTime": start.isoformat(),
        **extra,
    }
    reply = client.post("/calendars/events/appointments", body)
    assert reply.status in (200, 201), reply.body
    return str(reply.body["id"])


def sweep() -> dict[str, int]:
    event = {
        "version": "0",
        "id": str(uuid.uuid4()),
        "detail-type": "Scheduled Event",
        "source": "aws.events",
        "time": container.clock().strftime("%Y-%m-%dT%H:%M:%SZ"),
        "resources": ["arn:aws:events:us-east-1:123456789012:rule/sweep"],
        "detail": {},
    }
    return local_api().functions.invoke("RemindersFunction", event)


def _sqs_event(messages: list[dict[str, Any]], queue_arn: str) -> dict[str, Any]:
    return {
        "Records": [
            {
                "messageId": m["MessageId"],
                "receiptHandle": m["ReceiptHandle"],
                "body": m["Body"],
                "attributes": {
                    "ApproximateReceiveCount": m["Attributes"]["ApproximateReceiveCount"],
                    "SentTimestamp": m["Attributes"]["SentTimestamp"],
                    "SenderId": "local",
                    "ApproximateFirstReceiveTimestamp": m["Attributes"]["SentTimestamp"],
                },
                "messageAttributes": {},
                "md5OfBody": m["MD5OfBody"],
                "eventSource": "aws:sqs",
                "eventSourceARN": queue_arn,
                "awsRegion": "us-east-1",
            }
            for m in messages
        ]
    }


def drain(url: str, *, backoff_elapsed: bool = True) -> list[str]:
    """One poll of the event source: deliver the visible messages; returns the failed message
    ids. ``backoff_elapsed``: make failed messages visible again at once (their backoff passed)."""
    sqs = boto3.client("sqs")
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    received = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, AttributeNames=["All"])
    messages = received.get("Messages", [])
    if not messages:
        return []
    result = local_api().functions.invoke("DeliveriesFunction", _sqs_event(messages, arn))
    failed = {f["itemIdentifier"] for f in result["batchItemFailures"]}
    for m in messages:
        if m["MessageId"] in failed:
            if backoff_elapsed:
                sqs.change_message_visibility(
                    QueueUrl=url, ReceiptHandle=m["ReceiptHandle"], VisibilityTimeout=0
                )
        else:
            sqs.delete_message(QueueUrl=url, ReceiptHandle=m["ReceiptHandle"])
    return sorted(failed)


def log(admin: Client, tenant: Tenant, appointment_id: str) -> list[dict[str, Any]]:
    reply = admin.get(f"/admin/locations/{tenant.location_id}/appointments/{appointment_id}/deliveries")
    assert reply.status == 200, reply.body
    return list(reply.body["deliveries"])


def brief(records: list[dict[str, Any]]) -> list[tuple[str, str, str, str]]:
    return [(r["notificationType"], r["channel"], r["recipient"], r["status"]) for r in records]


def sent_emails() -> list[Any]:
    from moto.ses.models import ses_backends

    return list(ses_backends["123456789012"]["us-east-1"].sent_messages)


def ics_of(raw: str) -> ICalendar:
    mail = message_from_bytes(raw.encode() if isinstance(raw, str) else raw)
    for part in mail.walk():
        if part.get_content_type() == "text/calendar":
            return ICalendar.from_ical(part.get_payload(decode=True))
    raise AssertionError("no text/calendar part")


def queue_depth(url: str) -> int:
    attrs = boto3.client("sqs").get_queue_attributes(QueueUrl=url, AttributeNames=["All"])["Attributes"]
    return int(attrs["ApproximateNumberOfMessages"]) + int(attrs["ApproximateNumberOfMessagesNotVisible"])


# --------------------------------------------------------------------------------------------------------
# Immediate triggers
# --------------------------------------------------------------------------------------------------------

BOOKED_EMAIL = {"receiverType": "contact", "channel": "email", "notificationType": "booked"}
CONFIRMATION_SMS = {"receiverType": "contact", "channel": "sms", "notificationType": "confirmation"}
REMINDER_EMAIL = {
    "receiverType": "contact",
    "channel": "email",
    "notificationType": "reminder",
    "subject": "See you at {{appointment.start_time}}",
    "beforeTime": [{"timeOffset": 1, "unit": "hours"}],
}


def test_booking_sends_booked_email_with_ics_and_confirmation_sms_at_once(
    client: Client, admin: Client, tenant: Tenant, calendar: dict[str, Any], queues: dict[str, str]
) -> None:
    settings(client, calendar, BOOKED_EMAIL, CONFIRMATION_SMS)
    appt = book(client, calendar, tenant)
    # Queued by the booking itself: no sweep needed
    assert queue_depth(queues["url"]) == 2
    assert drain(queues["url"]) == []
    records = log(admin, tenant, appt)
    assert sorted(brief(records)) == [
        ("booked", "email", "anna@example.com", "sent"),
        ("confirmation", "sms", "+4512345678", "sent"),
    ]
    assert all(r["providerMessageId"] for r in records)
    (mail,) = sent_emails()
    invite = ics_of(mail.raw_data)
    assert str(invite["METHOD"]) == "REQUEST"
    (vevent,) = invite.walk("VEVENT")
    assert vevent.decoded("DTSTART") == START
    assert vevent.decoded("DTEND") == START + timedelta(minutes=30)
    assert int(vevent["SEQUENCE"]) == 0
    # The subject is rendered in Anna's zone (New York: 04:00)
    assert "Booked:" in message_from_bytes(mail.raw_data.encode())["Subject"]
    # Nothing left for the sweep
    assert sweep() == {"found": 0, "handedOut": 0}


def test_reminder_goes_out_at_its_offset_exactly_once(
    client: Client,
    admin: Client,
    tenant: Tenant,
    calendar: dict[str, Any],
    queues: dict[str, str],
    clock: FrozenClock,
) -> None:
    settings(client, calendar, REMINDER_EMAIL)
    appt = book(client, calendar, tenant)
    clock.now = START - timedelta(hours=1, minutes=1)
    assert sweep() == {"found": 0, "handedOut": 0}
    # Due: two overlapping sweeps (the second one finds it claimed) hand it out once
    clock.now = START - timedelta(hours=1) + timedelta(seconds=20)
    assert sweep() == {"found": 1, "handedOut": 1}
    assert sweep() == {"found": 0, "handedOut": 0}
    assert queue_depth(queues["url"]) == 1
    assert drain(queues["url"]) == []
    records = log(admin, tenant, appt)
    assert brief(records) == [("reminder", "email", "anna@example.com", "sent")]
    assert sent_emails()[0].raw_data.count("See you at Tuesday") or "See you at" in sent_emails()[0].raw_data
    # Later sweeps find nothing
    clock.now += timedelta(minutes=5)
    assert sweep() == {"found": 0, "handedOut": 0}


def test_interleaved_sweeps_claim_each_job_once(
    client: Client, tenant: Tenant, calendar: dict[str, Any], queues: dict[str, str], clock: FrozenClock
) -> None:
    settings(client, calendar, REMINDER_EMAIL)
    book(client, calendar, tenant)
    clock.now = START - timedelta(hours=1)
    store = container.services().store
    from slotbook.delivery.service import CLAIM_LEASE, SWEEP_LOOKBACK

    # Both sweeps read the index before either claims
    first, second = store.due_jobs(clock.now, SWEEP_LOOKBACK), store.due_jobs(clock.now, SWEEP_LOOKBACK)
    assert len(first) == len(second) == 1
    stale = clock.now - CLAIM_LEASE
    wins = [
        store.claim_job(d.location_id, d.appointment_id, d.job_id, clock.now, stale) for d in first + second
    ]
    assert wins == [True, False]


def test_duplicate_queue_message_sends_once(
    client: Client, admin: Client, tenant: Tenant, calendar: dict[str, Any], queues: dict[str, str]
) -> None:
    settings(client, calendar, BOOKED_EMAIL)
    appt = book(client, calendar, tenant)
    sqs = boto3.client("sqs")
    (message,) = sqs.receive_message(QueueUrl=queues["url"], VisibilityTimeout=0)["Messages"]
    sqs.send_message(QueueUrl=queues["url"], MessageBody=message["Body"])  # at-least-once: a twin
    assert drain(queues["url"]) == []
    assert drain(queues["url"]) == []
    assert len(sent_emails()) == 1
    assert brief(log(admin, tenant, appt)) == [("booked", "email", "anna@example.com", "sent")]


def test_reschedule_moves_the_reminder_and_bumps_the_ics_sequence(
    client: Client,
    admin: Client,
    tenant: Tenant,
    calendar: dict[str, Any],
    queues: dict[str, str],
    clock: FrozenClock,
) -> None:
    reschedule = {"receiverType": "contact", "channel": "email", "notificationType": "reschedule"}
    settings(client, calendar, REMINDER_EMAIL, reschedule)
    appt = book(client, calendar, tenant)
    moved = START + timedelta(days=1)
    reply = client.put(f"/calendars/events/appointments/{appt}", {"startTime": moved.isoformat()})
    assert reply.status == 200, reply.body
    assert drain(queues["url"]) == []
    (mail,) = sent_emails()
    (vevent,) = ics_of(mail.raw_data).walk("VEVENT")
    assert (vevent.decoded("DTSTART"), int(vevent["SEQUENCE"])) == (moved, 1)
    # The old reminder time passes without a message
    clock.now = START - timedelta(hours=1)
    assert sweep() == {"found": 0, "handedOut": 0}
    # The new one goes out
    clock.now = moved - timedelta(hours=1)
    assert sweep()["handedOut"] == 1
    assert drain(queues["url"]) == []
    assert brief(log(admin, tenant, appt)) == [
        ("reschedule", "email", "anna@example.com", "sent"),
        ("reminder", "email", "anna@example.com", "sent"),
    ]


def test_cancel_sends_a_cancel_invitation_and_removes_reminders(
    client: Client,
    admin: Client,
    tenant: Tenant,
    calendar: dict[str, Any],
    queues: dict[str, str],
    clock: FrozenClock,
) -> None:
    cancellation = {"receiverType": "contact", "channel": "email", "notificationType": "cancellation"}
    settings(client, calendar, REMINDER_EMAIL, cancellation)
    appt = book(client, calendar, tenant)
    reply = client.put(f"/calendars/events/appointments/{appt}", {"appointmentStatus": "cancelled"})
    assert reply.status == 200, reply.body
    assert drain(queues["url"]) == []
    (mail,) = sent_emails()
    invite = ics_of(mail.raw_data)
    assert str(invite["METHOD"]) == "CANCEL"
    clock.now = START - timedelta(hours=1)
    assert sweep() == {"found": 0, "handedOut": 0}
    assert brief(log(admin, tenant, appt)) == [("cancellation", "email", "anna@example.com", "sent")]


def test_delete_removes_pending_jobs_without_a_message(
    client: Client,
    admin: Client,
    tenant: Tenant,
    calendar: dict[str, Any],
    queues: dict[str, str],
    clock: FrozenClock,
) -> None:
    settings(client, calendar, REMINDER_EMAIL)
    appt = book(client, calendar, tenant)
    assert client.delete(f"/calendars/events/{appt}", {}).status in (200, 201)
    clock.now = START - timedelta(hours=1)
    assert sweep() == {"found": 0, "handedOut": 0}
    assert queue_depth(queues["url"]) == 0
    assert log(admin, tenant, appt) == []


def test_to_notify_false_suppresses_everything(
    client: Client,
    admin: Client,
    tenant: Tenant,
    calendar: dict[str, Any],
    queues: dict[str, str],
    clock: FrozenClock,
) -> None:
    settings(client, calendar, BOOKED_EMAIL, REMINDER_EMAIL)
    quiet = book(client, calendar, tenant, toNotify=False)
    assert queue_depth(queues["url"]) == 0
    # Switched off after booking: the pending reminder goes too
    loud = book(client, calendar, tenant, start=START + timedelta(hours=2))
    assert drain(queues["url"]) == []  # the booked email of the second one
    reply = client.put(f"/calendars/events/appointments/{loud}", {"toNotify": False, "title": "quiet now"})
    assert reply.status == 200, reply.body
    clock.now = START + timedelta(hours=1)
    assert sweep() == {"found": 0, "handedOut": 0}
    assert log(admin, tenant, quiet) == []
    assert brief(log(admin, tenant, loud)) == [("booked", "email", "anna@example.com", "sent")]


def test_followup_goes_out_after_the_end(
    client: Client,
    admin: Client,
    tenant: Tenant,
    calendar: dict[str, Any],
    queues: dict[str, str],
    clock: FrozenClock,
) -> None:
    followup = {
        "receiverType": "contact",
        "channel": "sms",
        "notificationType": "followup",
        "afterTime": [{"timeOffset": 30, "unit": "mins"}],
    }
    settings(client, calendar, followup)
    appt = book(client, calendar, tenant)
    clock.now = START + timedelta(minutes=59)
    assert sweep()["handedOut"] == 0
    clock.now = START + timedelta(minutes=60)
    assert sweep()["handedOut"] == 1
    assert drain(queues["url"]) == []
    assert brief(log(admin, tenant, appt)) == [("followup", "sms", "+4512345678", "sent")]


def test_in_app_items_and_unresolved_recipients(
    client: Client, admin: Client, tenant: Tenant, calendar: dict[str, Any], queues: dict[str, str]
) -> None:
    in_app = {"receiverType": "assignedUser", "channel": "inApp", "notificationType": "booked"}
    unknown = {"receiverType": "emails", "channel": "email", "notificationType": "booked"}
    guest = {"receiverType": "guest", "channel": "email", "notificationType": "booked"}
    settings(client, calendar, in_app, {**unknown, "additionalEmailIds": ["ops@example.com"]}, guest)
    appt = book(client, calendar, tenant)
    assert drain(queues["url"]) == []
    records = log(admin, tenant, appt)
    assert sorted(brief(records)) == [
        ("booked", "email", "", "unresolved"),
        ("booked", "email", "ops@example.com", "sent"),
        ("booked", "inApp", "host-1", "sent"),
    ]
    inbox = admin.get(f"/admin/locations/{tenant.location_id}/users/host-1/inbox")
    assert inbox.status == 200
    (item,) = inbox.body["items"]
    assert item["appointmentId"] == appt and item["notificationType"] == "booked"
    assert item["subject"].startswith("Booked:")
    # Another tenant's admin view of an unknown location: 404
    assert admin.get("/admin/locations/nope/users/host-1/inbox").status == 404


# --------------------------------------------------------------------------------------------------------
# Webhooks: signatures, dedupe ids, retries, dead-letter queue, redrive
# --------------------------------------------------------------------------------------------------------


class Receiver:
    """A webhook receiver on 127.0.0.1 answering ``status`` and keeping what it got."""

    def __init__(self) -> None:
        self.status = 500
        self.got: list[tuple[dict[str, str], bytes]] = []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                receiver.got.append(({k.lower(): v for k, v in self.headers.items()}, body))
                self.send_response(receiver.status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        self.server = HTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    r = Receiver()
    yield r
    r.server.shutdown()
    r.server.server_close()


def test_webhook_retries_with_backoff_end_in_the_dlq_and_redrive_delivers_signed(
    client: Client,
    admin: Client,
    tenant: Tenant,
    calendar: dict[str, Any],
    queues: dict[str, str],
    receiver: Receiver,
    clock: FrozenClock,
) -> None:
    made = admin.post(
        f"/admin/locations/{tenant.location_id}/webhooks", {"url": receiver.url, "events": ["booked"]}
    )
    assert made.status == 201, made.body
    secret = made.body["webhook"]["secret"]
    appt = book(client, calendar, tenant)
    # Five attempts fail (receiver answers 500); each is reported for a retry
    for _ in range(5):
        assert len(drain(queues["url"])) == 1
    # The sixth receive moves it to the dead-letter queue
    assert drain(queues["url"]) == []
    assert queue_depth(queues["url"]) == 0
    assert queue_depth(queues["dlq"]) == 1
    statuses = [r["status"] for r in log(admin, tenant, appt)]
    assert statuses == ["retrying"] * 4 + ["failed"]
    ids = {headers["slotbook-delivery-id"] for headers, _ in receiver.got}
    assert len(receiver.got) == 5 and len(ids) == 1  # one delivery id across retries
    # The receiver recovers; the operator redrives the DLQ (here: by hand, as the move task does)
    clock.now += timedelta(hours=1)
    receiver.status = 204
    sqs = boto3.client("sqs")
    (dead,) = sqs.receive_message(QueueUrl=queues["dlq"])["Messages"]
    sqs.send_message(QueueUrl=queues["url"], MessageBody=dead["Body"])
    sqs.delete_message(QueueUrl=queues["dlq"], ReceiptHandle=dead["ReceiptHandle"])
    assert drain(queues["url"]) == []
    assert log(admin, tenant, appt)[-1]["status"] == "sent"
    headers, body = receiver.got[-1]
    # A receiver written from the README: HMAC-SHA256 over "<t>.<body>" with the secret
    assert signing.verify(secret, headers["slotbook-signature"], body, clock.now)
    assert not signing.verify("wrong", headers["slotbook-signature"], body, clock.now)
    payload = json.loads(body)
    assert payload["type"] == "appointment.booked"
    assert payload["id"] == headers["slotbook-delivery-id"]
    assert payload["data"]["appointment"]["id"] == appt
    assert payload["data"]["appointment"]["startTime"] == "2027-03-02T09:00:00.000Z"
    # Redelivering the same message again sends nothing more
    sqs.send_message(QueueUrl=queues["url"], MessageBody=dead["Body"])
    assert drain(queues["url"]) == []
    assert len(receiver.got) == 6


def test_non_retryable_failure_is_recorded_and_not_retried(
    client: Client, admin: Client, tenant: Tenant, calendar: dict[str, Any], queues: dict[str, str]
) -> None:
    whatsapp = {"receiverType": "contact", "channel": "whatsapp", "notificationType": "booked"}
    settings(client, calendar, whatsapp)
    appt = book(client, calendar, tenant)
    assert drain(queues["url"]) == []
    assert queue_depth(queues["url"]) == 0
    assert brief(log(admin, tenant, appt)) == [("booked", "whatsapp", "+4512345678", "unsupported")]
