"""Delivery channels against moto (SES v2, SNS) and real local HTTP receivers (webhooks).

The webhook receiver that checks signatures is the one the README documents: the test extracts
its fenced ``python`` block and runs it, so the recipe a reader follows is the one tested.
"""

from __future__ import annotations

import email
import email.policy
import json
import re
import socket
import sys
import threading
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError, EndpointConnectionError
from icalendar import Calendar
from moto import mock_aws
from moto.core import DEFAULT_ACCOUNT_ID
from moto.ses.models import ses_backends
from moto.sns.models import sns_backends

from slotbook.delivery import signing
from slotbook.delivery.channels import (
    ChannelUnsupported,
    DeliveryFailed,
    EmailSender,
    InAppSender,
    SmsSender,
    WebhookSender,
    WhatsAppSender,
    dispatch,
)
from slotbook.delivery.ics import IcsMethod, Party, invitation
from slotbook.delivery.models import Channel, Message, Recipient
from slotbook.domain import Event, EventKind

README = Path(__file__).resolve().parents[2] / "README.md"
"""The README, whose "Outgoing webhooks" section holds the receiver this test runs."""
REGION = "us-east-1"
SENDER = "Slotbook <noreply@slotbook.test>"
SECRET = "whsec_test_5f2b9c0d"
NOW = datetime(2027, 3, 1, 8, 0, tzinfo=UTC)


def real_clock() -> datetime:
    """Webhook tests sign with the wall clock: the README receiver checks against ``time.time()``."""
    return datetime.now(UTC)


def message(channel: Channel, address: str, **fields: Any) -> Message:
    recipient = Recipient(
        receiver_type=fields.pop("receiver_type", "contact"),
        address=address,
        name=fields.pop("name", "Zoë Martin"),
        timezone="Europe/Paris",
    )
    fields.setdefault("idempotency_key", "apt-1.set-1.now:booked.0")
    return Message(channel=channel, recipient=recipient, **fields)


def appointment() -> Event:
    return Event(
        id="apt-1",
        location_id="loc-1",
        kind=EventKind.APPOINTMENT,
        title="Consultation",
        start=datetime(2027, 3, 2, 9, 0, tzinfo=UTC),
        end=datetime(2027, 3, 2, 9, 30, tzinfo=UTC),
        address="1 Main St",
        created_at=NOW,
        updated_at=NOW,
    )


@pytest.fixture
def moto_aws(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    for key, value in {
        "AWS_DEFAULT_REGION": REGION,
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_SESSION_TOKEN": "testing",
    }.items():
        monkeypatch.setenv(key, value)
    with mock_aws():
        yield


@pytest.fixture
def ses(moto_aws: None) -> Any:
    client = boto3.client("sesv2", region_name=REGION)
    client.create_email_identity(EmailIdentity="slotbook.test")  # SES sends only from verified identities
    return client


def sent_emails() -> list[Any]:
    return ses_backends[DEFAULT_ACCOUNT_ID][REGION].sent_messages


class FailingClient:
    """Stands in for a boto3 client whose call raises ``error`` (throttling, 5xx, network)."""

    def __init__(self, error: Exception) -> None:
        self.error = error
        self.calls = 0

    def _fail(self, **_: Any) -> dict[str, Any]:
        self.calls += 1
        raise self.error

    send_email = publish = _fail


def client_error(code: str, status: int, operation: str) -> ClientError:
    return ClientError(
        {"Error": {"Code": code, "Message": "x"}, "ResponseMetadata": {"HTTPStatusCode": status}}, operation
    )


# --- email (SES v2) -----------------------------------------------------------------------------


def test_email_without_invitation_is_sent_as_simple_content(ses: Any) -> None:
    sender = EmailSender(ses, SENDER)

    message_id = sender.send(
        message(Channel.EMAIL, "zoe@example.com", subject="Booked: Tuesday 10:00", body="See you — Zoë")
    )

    [sent] = sent_emails()
    assert sent.id == message_id
    assert sent.source == SENDER
    assert sent.subject == "Booked: Tuesday 10:00"
    assert sent.body == "See you — Zoë"
    [to] = sent.destinations["ToAddresses"]
    assert to.endswith("<zoe@example.com>")
    assert "=?utf-8?" in to  # the non-ASCII display name is RFC 2047-encoded


def test_email_with_invitation_is_raw_mime_with_a_calendar_part_and_an_attachment(ses: Any) -> None:
    # Given a booking invitation for the appointment
    ics = invitation(
        appointment(),
        method=IcsMethod.REQUEST,
        sequence=0,
        stamp=NOW,
        organizer=Party("noreply@slotbook.test", "Slotbook"),
        attendees=[Party("zoe@example.com", "Zoë Martin")],
    )

    # When it is emailed
    message_id = EmailSender(ses, SENDER).send(
        message(Channel.EMAIL, "zoe@example.com", subject="Réservé", body="À mardi !", ics=ics)
    )

    # Then SES received one raw MIME message: text, inline text/calendar; method=REQUEST, attachment
    [sent] = sent_emails()
    assert sent.id == message_id
    assert sent.destinations[0] == "zoe@example.com"
    mime = email.message_from_string(sent.raw_data, policy=email.policy.default)
    assert isinstance(mime, EmailMessage)
    assert mime.get_content_type() == "multipart/mixed"
    assert str(mime["Subject"]) == "Réservé"
    assert str(mime["From"]) == SENDER
    assert str(mime["To"]) == "Zoë Martin <zoe@example.com>"
    assert mime["X-Slotbook-Delivery-Id"] == "apt-1.set-1.now:booked.0"
    parts = list(mime.walk())
    text = next(p for p in parts if p.get_content_type() == "text/plain")
    assert text.get_content().strip() == "À mardi !"
    inline = next(p for p in parts if p.get_content_type() == "text/calendar")
    assert inline.get_param("method") == "REQUEST"
    assert inline.get_content_disposition() is None
    attachment = next(p for p in parts if p.get_content_disposition() == "attachment")
    assert attachment.get_filename() == "invite.ics"
    assert attachment.get_content_type() == "application/ics"
    # And both calendar parts parse back to the appointment's instants
    for data in (inline.get_content().encode(), attachment.get_content()):
        [vevent] = Calendar.from_ical(data).walk("VEVENT")
        assert vevent.decoded("dtstart") == datetime(2027, 3, 2, 9, 0, tzinfo=UTC)
        assert vevent.decoded("dtend") == datetime(2027, 3, 2, 9, 30, tzinfo=UTC)
        assert str(vevent["uid"]) == "apt-1@slotbook"


def test_cancellation_email_carries_method_cancel(ses: Any) -> None:
    ics = invitation(appointment(), method=IcsMethod.CANCEL, sequence=3, stamp=NOW)

    EmailSender(ses, SENDER).send(message(Channel.EMAIL, "zoe@example.com", subject="Cancelled", ics=ics))

    [sent] = sent_emails()
    mime = email.message_from_string(sent.raw_data, policy=email.policy.default)
    inline = next(p for p in mime.walk() if p.get_content_type() == "text/calendar")
    assert inline.get_param("method") == "CANCEL"
    attachment = next(p for p in mime.walk() if p.get_content_disposition() == "attachment")
    assert attachment.get_filename() == "cancel.ics"


@pytest.mark.parametrize("with_ics", [False, True])
def test_line_breaks_in_subject_and_name_do_not_break_the_headers(ses: Any, with_ics: bool) -> None:
    # Given placeholders rendered with line breaks (an appointment title typed over two lines)
    ics = invitation(appointment(), method=IcsMethod.REQUEST, sequence=0, stamp=NOW) if with_ics else None
    item = message(
        Channel.EMAIL, "zoe@example.com", name="Zoë\r\nBcc: x@evil.test", subject="Booked:\nHaircut", ics=ics
    )

    EmailSender(ses, SENDER).send(item)

    [sent] = sent_emails()
    if with_ics:
        mime = email.message_from_string(sent.raw_data, policy=email.policy.default)
        assert str(mime["Subject"]) == "Booked: Haircut"
        assert mime["Bcc"] is None
        assert str(mime["To"]).endswith("<zoe@example.com>")
    else:
        assert sent.subject == "Booked: Haircut"
        [to] = sent.destinations["ToAddresses"]
        assert "\n" not in to


@pytest.mark.parametrize("with_ics", [False, True])
def test_email_from_an_unverified_identity_is_rejected_for_good(moto_aws: None, with_ics: bool) -> None:
    # Given no verified identity: SES answers MessageRejected
    sender = EmailSender(boto3.client("sesv2", region_name=REGION), SENDER)
    ics = invitation(appointment(), method=IcsMethod.REQUEST, sequence=0, stamp=NOW) if with_ics else None

    with pytest.raises(DeliveryFailed) as failed:
        sender.send(message(Channel.EMAIL, "zoe@example.com", subject="s", body="b", ics=ics))

    assert failed.value.retryable is False
    assert "MessageRejected" in failed.value.detail
    assert sent_emails() == []


@pytest.mark.parametrize("address", ["zoe@", "", "+15555550123"])
def test_email_to_a_bad_address_is_not_retryable(ses: Any, address: str) -> None:
    with pytest.raises(DeliveryFailed) as failed:
        EmailSender(ses, SENDER).send(message(Channel.EMAIL, address, subject="s", body="b"))
    assert failed.value.retryable is False
    assert sent_emails() == []


@pytest.mark.parametrize(
    ("error", "retryable"),
    [
        (client_error("TooManyRequestsException", 429, "SendEmail"), True),
        (client_error("LimitExceededException", 400, "SendEmail"), True),
        (client_error("InternalFailure", 500, "SendEmail"), True),
        (client_error("SomethingNew", 503, "SendEmail"), True),
        (EndpointConnectionError(endpoint_url="https://email.us-east-1.amazonaws.com"), True),
        (client_error("MessageRejected", 400, "SendEmail"), False),
        (client_error("BadRequestException", 400, "SendEmail"), False),
        (client_error("MailFromDomainNotVerifiedException", 400, "SendEmail"), False),
        (client_error("AccountSuspendedException", 400, "SendEmail"), False),
    ],
)
def test_email_failures_are_classified(error: Exception, retryable: bool) -> None:
    client = FailingClient(error)
    with pytest.raises(DeliveryFailed) as failed:
        EmailSender(client, SENDER).send(message(Channel.EMAIL, "zoe@example.com", subject="s", body="b"))
    assert failed.value.retryable is retryable
    assert client.calls == 1


# --- SMS (SNS) ----------------------------------------------------------------------------------


def test_sms_is_published_to_the_phone_number_as_transactional(moto_aws: None) -> None:
    client = boto3.client("sns", region_name=REGION)
    published: list[dict[str, Any]] = []
    client.meta.events.register(
        "provide-client-params.sns.Publish", lambda params, **_: published.append(dict(params))
    )

    message_id = SmsSender(client, sender_id="Slotbook").send(
        message(Channel.SMS, "+15555550123", subject="ignored", body="Reminder: tomorrow 10:00")
    )

    assert sns_backends[DEFAULT_ACCOUNT_ID][REGION].sms_messages[message_id] == (
        "+15555550123",
        "Reminder: tomorrow 10:00",
    )
    [params] = published
    assert params["MessageAttributes"] == {
        "AWS.SNS.SMS.SMSType": {"DataType": "String", "StringValue": "Transactional"},
        "AWS.SNS.SMS.SenderID": {"DataType": "String", "StringValue": "Slotbook"},
    }


@pytest.mark.parametrize("phone", ["5555550123", "+0123", "zoe@example.com", "", "+1 555 555 0123"])
def test_sms_to_a_number_that_is_not_e164_is_not_retryable(moto_aws: None, phone: str) -> None:
    client = FailingClient(AssertionError("must not be called"))
    with pytest.raises(DeliveryFailed) as failed:
        SmsSender(client).send(message(Channel.SMS, phone, body="b"))
    assert failed.value.retryable is False
    assert client.calls == 0


@pytest.mark.parametrize(
    ("error", "retryable"),
    [
        (client_error("Throttling", 400, "Publish"), True),
        (client_error("InternalError", 500, "Publish"), True),
        (EndpointConnectionError(endpoint_url="https://sns.us-east-1.amazonaws.com"), True),
        (client_error("InvalidParameter", 400, "Publish"), False),
        (client_error("AuthorizationError", 403, "Publish"), False),
    ],
)
def test_sms_failures_are_classified(error: Exception, retryable: bool) -> None:
    with pytest.raises(DeliveryFailed) as failed:
        SmsSender(FailingClient(error)).send(message(Channel.SMS, "+15555550123", body="b"))
    assert failed.value.retryable is retryable


# --- WhatsApp, in-app, dispatch -----------------------------------------------------------------


def test_whatsapp_without_a_provider_is_unsupported_and_not_retried() -> None:
    with pytest.raises(ChannelUnsupported) as failed:
        WhatsAppSender().send(message(Channel.WHATSAPP, "+15555550123", body="b"))
    assert failed.value.retryable is False
    assert failed.value.detail == "unsupported: no WhatsApp provider configured"
    assert isinstance(failed.value, DeliveryFailed)


def test_whatsapp_with_a_provider_delegates_to_it() -> None:
    class Provider:
        def send(self, message: Message) -> str:
            return f"wa-{message.recipient.address}"

    assert WhatsAppSender(Provider()).send(message(Channel.WHATSAPP, "+1555", body="b")) == "wa-+1555"


def test_in_app_stores_the_item_and_returns_its_id() -> None:
    stored: list[Message] = []

    def store_item(item: Message) -> str:
        stored.append(item)
        return f"inapp-{len(stored)}"

    item = message(Channel.IN_APP, "user-7", receiver_type="assignedUser", subject="New booking", body="b")
    assert InAppSender(store_item).send(item) == "inapp-1"
    assert stored == [item]


def test_dispatch_routes_by_channel_and_reports_a_channel_without_sender() -> None:
    senders = {Channel.IN_APP: InAppSender(lambda m: "item-1"), Channel.WHATSAPP: WhatsAppSender()}
    assert dispatch(senders, message(Channel.IN_APP, "user-7", body="b")) == "item-1"
    with pytest.raises(ChannelUnsupported):
        dispatch(senders, message(Channel.WHATSAPP, "+15555550123", body="b"))
    with pytest.raises(ChannelUnsupported):
        dispatch(senders, message(Channel.SMS, "+15555550123", body="b"))


# --- webhooks -----------------------------------------------------------------------------------


class QuietServer(ThreadingHTTPServer):
    """Ignores clients that hung up (the sender timed out); reports every other handler error."""

    def handle_error(self, request: Any, client_address: Any) -> None:
        if not isinstance(sys.exc_info()[1], ConnectionError):
            super().handle_error(request, client_address)


def serve(handler: type[BaseHTTPRequestHandler]) -> Iterator[str]:
    server = QuietServer(("127.0.0.1", 0), handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/hooks/slotbook"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)


def readme_receiver(monkeypatch: pytest.MonkeyPatch) -> dict[str, Any]:
    """Run the README's receiver snippet (the fenced ``python`` block of the webhooks section)."""
    text = README.read_text(encoding="utf-8")
    blocks = [b for b in re.findall(r"```python\n(.*?)```", text, re.DOTALL) if "Slotbook-Signature" in b]
    assert len(blocks) == 1, "the README must hold exactly one receiver snippet"
    monkeypatch.setenv("SLOTBOOK_WEBHOOK_SECRET", SECRET)
    namespace: dict[str, Any] = {"__name__": "readme_receiver"}
    exec(compile(blocks[0], str(README), "exec"), namespace)
    return namespace


def booking_payload(delivery_id: str) -> dict[str, Any]:
    return {
        "id": delivery_id,
        "type": "appointment.booked",
        "createdAt": "2027-03-01T08:00:00.000Z",
        "locationId": "loc-1",
        "data": {"appointment": {"id": "apt-1", "calendarId": "cal-1", "title": "Zoë's consultation"}},
    }


def webhook(url: str, delivery_id: str = "dlv-1") -> Message:
    return message(
        Channel.WEBHOOK,
        url,
        receiver_type="webhook",
        idempotency_key=delivery_id,
        payload=booking_payload(delivery_id),
    )


@pytest.fixture
def receiver(monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[str, dict[str, Any], list[dict[str, Any]]]]:
    """The README receiver listening locally; yields (url, its namespace, events it handled)."""
    namespace = readme_receiver(monkeypatch)
    handled: list[dict[str, Any]] = []
    namespace["handle"] = handled.append  # the snippet's "your code" hook
    namespace["Receiver"].log_message = lambda *args: None
    for url in serve(namespace["Receiver"]):
        yield url, namespace, handled


def test_the_readme_receiver_verifies_a_delivery_and_dedupes_its_retry(
    receiver: tuple[str, dict[str, Any], list[dict[str, Any]]],
) -> None:
    url, namespace, handled = receiver
    sender = WebhookSender(lambda m: SECRET, real_clock, allow_private=True)

    # When a delivery is sent, then sent again (a retry after a lost answer: same delivery id)
    first = sender.send(webhook(url, "dlv-1"))
    again = sender.send(webhook(url, "dlv-1"))
    other = sender.send(webhook(url, "dlv-2"))

    # Then both were accepted, and the receiver handled each delivery id once
    assert (first, again, other) == ("dlv-1", "dlv-1", "dlv-2")
    assert handled == [booking_payload("dlv-1"), booking_payload("dlv-2")]
    assert namespace["SEEN"] == {"dlv-1", "dlv-2"}


@pytest.mark.parametrize(
    ("secret", "clock"),
    [
        ("whsec_someone_else", real_clock),  # not signed with the endpoint's secret
        (SECRET, lambda: real_clock() - timedelta(minutes=10)),  # a replay of an old delivery
        (SECRET, lambda: real_clock() + timedelta(minutes=10)),  # a timestamp from the future
    ],
)
def test_the_readme_receiver_refuses_bad_signatures(
    receiver: tuple[str, dict[str, Any], list[dict[str, Any]]],
    secret: str,
    clock: Callable[[], datetime],
) -> None:
    url, _, handled = receiver

    with pytest.raises(DeliveryFailed) as failed:
        WebhookSender(lambda m: secret, clock, allow_private=True).send(webhook(url))

    assert failed.value.detail == "webhook: HTTP 401"
    assert failed.value.retryable is False
    assert handled == []


def test_the_readme_verifier_rejects_a_tampered_body(monkeypatch: pytest.MonkeyPatch) -> None:
    verify = readme_receiver(monkeypatch)["verify_signature"]
    body = json.dumps(booking_payload("dlv-1")).encode()
    header = signing.signature_header(SECRET, NOW, body)
    now = NOW.timestamp()

    assert verify(SECRET, header, body, now=now)
    assert not verify(SECRET, header, body.replace(b"booked", b"cancelled"), now=now)
    assert not verify(SECRET, header, body, now=now + 301)
    assert not verify(SECRET, "t=abc,v1=00", body, now=now)
    assert not verify(SECRET, "", body, now=now)


class Scripted(BaseHTTPRequestHandler):
    """A receiver answering ``status`` (or hanging until released) and recording requests."""

    status = 200
    hang: threading.Event | None = None
    requests: list[tuple[str, dict[str, str], bytes]] = []

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        type(self).requests.append((self.path, dict(self.headers.items()), body))
        if self.hang is not None:
            self.hang.wait(5)
        self.send_response(self.status)
        if 300 <= self.status < 400:
            self.send_header("Location", "/elsewhere")
        self.send_header("Content-Length", "2")
        self.end_headers()
        self.wfile.write(b"ok")

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture
def scripted() -> Iterator[tuple[str, type[Scripted]]]:
    handler = type("Handler", (Scripted,), {"status": 200, "hang": None, "requests": []})
    for url in serve(handler):
        yield url, handler
        if handler.hang is not None:
            handler.hang.set()


def test_webhook_posts_the_payload_as_signed_json(scripted: tuple[str, type[Scripted]]) -> None:
    url, handler = scripted
    sent_at = datetime(2027, 3, 1, 8, 0, 5, tzinfo=UTC)
    secrets: list[Message] = []

    def secret_for(m: Message) -> str:
        secrets.append(m)
        return SECRET

    delivery = webhook(url, "dlv-42")
    assert WebhookSender(secret_for, lambda: sent_at, allow_private=True).send(delivery) == "dlv-42"

    [(path, headers, body)] = handler.requests
    assert path == "/hooks/slotbook"
    assert secrets == [delivery]
    assert json.loads(body) == booking_payload("dlv-42")
    assert headers["Content-Type"] == "application/json; charset=utf-8"
    assert headers["Slotbook-Delivery-Id"] == "dlv-42"
    assert headers["Slotbook-Event"] == "appointment.booked"
    assert headers["Slotbook-Signature"].startswith(f"t={int(sent_at.timestamp())},v1=")
    assert signing.verify(SECRET, headers["Slotbook-Signature"], body, now=sent_at)


@pytest.mark.parametrize(
    ("status", "outcome"),
    [
        (200, "sent"),
        (202, "sent"),
        (204, "sent"),
        (500, "retry"),
        (502, "retry"),
        (503, "retry"),
        (429, "retry"),
        (410, "fail"),
        (400, "fail"),
        (401, "fail"),
        (404, "fail"),
        (301, "fail"),
        (308, "fail"),
    ],
)
def test_webhook_answers_decide_sent_retry_or_fail(
    scripted: tuple[str, type[Scripted]], status: int, outcome: str
) -> None:
    url, handler = scripted
    handler.status = status
    sender = WebhookSender(lambda m: SECRET, real_clock, allow_private=True)

    if outcome == "sent":
        assert sender.send(webhook(url)) == "dlv-1"
    else:
        with pytest.raises(DeliveryFailed) as failed:
            sender.send(webhook(url))
        assert failed.value.retryable is (outcome == "retry")
        assert failed.value.detail == f"webhook: HTTP {status}"
    assert len(handler.requests) == 1  # redirects are not followed


def test_webhook_timeout_is_retryable(scripted: tuple[str, type[Scripted]]) -> None:
    url, handler = scripted
    handler.hang = threading.Event()

    with pytest.raises(DeliveryFailed) as failed:
        WebhookSender(lambda m: SECRET, real_clock, timeout_s=0.2, allow_private=True).send(webhook(url))

    assert failed.value.retryable is True
    assert failed.value.detail == "webhook: timed out"


def test_webhook_to_a_closed_port_is_retryable() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    # The port is free again: nothing listens there.

    with pytest.raises(DeliveryFailed) as failed:
        WebhookSender(lambda m: SECRET, real_clock, allow_private=True).send(
            webhook(f"http://127.0.0.1:{port}/x")
        )

    assert failed.value.retryable is True


@pytest.mark.parametrize(
    "url", ["ftp://example.com/x", "file:///etc/passwd", "example.com/hook", "http:///nohost", "javascript:x"]
)
def test_webhook_refuses_urls_that_are_not_http(url: str) -> None:
    with pytest.raises(DeliveryFailed) as failed:
        WebhookSender(lambda m: SECRET, real_clock, allow_private=True).send(webhook(url))
    assert failed.value.retryable is False


def test_webhook_without_payload_is_not_retryable(scripted: tuple[str, type[Scripted]]) -> None:
    url, handler = scripted
    with pytest.raises(DeliveryFailed) as failed:
        WebhookSender(lambda m: SECRET, real_clock, allow_private=True).send(
            message(Channel.WEBHOOK, url, idempotency_key="d")
        )
    assert failed.value.retryable is False
    assert handler.requests == []


@pytest.mark.parametrize("timeout_s", [0, -1, 5.5, 30])
def test_webhook_timeout_is_at_most_five_seconds(timeout_s: float) -> None:
    with pytest.raises(ValueError):
        WebhookSender(lambda m: SECRET, real_clock, timeout_s=timeout_s, allow_private=True)


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:9/hook",
        "http://localhost/hook",
        "https://10.0.0.5/hook",
        "https://169.254.169.254/latest/meta-data",
        "https://[::1]/hook",
        "https://192.168.1.20/hook",
    ],
)
def test_webhooks_to_non_public_addresses_are_refused_by_default(url):
    sender = WebhookSender(lambda m: SECRET, real_clock)
    with pytest.raises(DeliveryFailed) as raised:
        sender.send(webhook(url))
    assert raised.value.retryable is False
    assert "non-public" in str(raised.value)
