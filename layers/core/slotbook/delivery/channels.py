"""Channel adapters: each turns one rendered :class:`~slotbook.delivery.models.Message` into one
delivery and returns the provider's message id, or raises :class:`DeliveryFailed`.

* email — Amazon SES v2 ``SendEmail`` (:class:`EmailSender`): simple content, or raw MIME with a
  ``text/calendar`` part and an ``.ics`` attachment when the message carries an invitation;
* SMS — Amazon SNS ``Publish`` to a phone number (:class:`SmsSender`), transactional;
* WhatsApp — no provider is configured: :class:`WhatsAppSender` raises :class:`ChannelUnsupported`;
* in-app — an item stored for the host to read (:class:`InAppSender`, the store is injected);
* webhook — a signed HTTP POST of JSON (:class:`WebhookSender`, see :mod:`.signing`).

``DeliveryFailed.retryable`` tells the caller whether trying again later can help (throttling,
provider 5xx, timeouts, connection errors) or not (bad address, rejected message, a 4xx answer,
an unsupported channel). The caller owns retries and backoff; senders never retry themselves
(beyond botocore's own retry of throttled calls). Boto3 clients are passed in — this module
creates none, at import time or otherwise.
"""

from __future__ import annotations

import http.client
import ipaddress
import json
import re
import socket
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Mapping
from datetime import datetime
from email.errors import MessageError
from email.headerregistry import Address
from email.message import EmailMessage
from email.policy import SMTP
from email.utils import formataddr
from typing import Any, Protocol

from botocore.exceptions import (
    ClientError,
    ConnectionClosedError,
    ConnectTimeoutError,
    EndpointConnectionError,
    ReadTimeoutError,
)

from slotbook.delivery import ics as ics_module
from slotbook.delivery import signing
from slotbook.delivery.models import Channel, Message

WEBHOOK_TIMEOUT_S = 5.0
"""Upper bound of each socket operation of a webhook POST (connect, send, each read)."""
USER_AGENT = "Slotbook-Webhooks/1"
_E164 = re.compile(r"^\+[1-9]\d{1,14}$")
_NETWORK_ERRORS = (EndpointConnectionError, ConnectTimeoutError, ReadTimeoutError, ConnectionClosedError)
_MIME_POLICY = SMTP.clone(cte_type="7bit")
"""CRLF lines, non-ASCII text transfer-encoded (quoted-printable/base64) and headers RFC 2047-encoded."""


class DeliveryFailed(Exception):
    """A delivery did not happen. ``retryable``: whether the same message may succeed later
    (the caller retries with backoff, then dead-letters); ``detail``: a short, loggable reason
    (no secrets, no message content)."""

    def __init__(self, detail: str, *, retryable: bool) -> None:
        super().__init__(detail)
        self.detail = detail
        self.retryable = retryable


class ChannelUnsupported(DeliveryFailed):
    """The channel has no provider configured (WhatsApp): recorded as ``unsupported``, never retried."""

    def __init__(self, detail: str) -> None:
        super().__init__(detail, retryable=False)


class Sender(Protocol):
    """Delivers one message on one channel."""

    def send(self, message: Message) -> str:
        """Deliver ``message``; return the provider's message id. Raises :class:`DeliveryFailed`."""
        ...


def dispatch(senders: Mapping[Channel, Sender], message: Message) -> str:
    """Send ``message`` with the sender of its channel. A channel without a sender raises
    :class:`ChannelUnsupported`."""
    sender = senders.get(message.channel)
    if sender is None:
        raise ChannelUnsupported(f"unsupported: no sender for channel {message.channel.value}")
    return sender.send(message)


# --- AWS errors ---------------------------------------------------------------------------------

_SES_RETRYABLE = frozenset(
    {
        "TooManyRequestsException",
        "LimitExceededException",
        "Throttling",
        "ThrottlingException",
        "InternalFailure",
        "ServiceUnavailable",
    }
)
_SNS_RETRYABLE = frozenset(
    {
        "Throttling",
        "ThrottledException",
        "ThrottlingException",
        "InternalError",
        "InternalErrorException",
        "InternalFailure",
        "ServiceUnavailable",
        "KMSThrottlingException",
    }
)


def _client_failure(service: str, error: ClientError, retryable_codes: frozenset[str]) -> DeliveryFailed:
    """Classify an AWS error: throttling and 5xx are retryable; everything else (a bad address,
    ``MessageRejected``, an unverified sender, a paused account...) is not."""
    code = str(error.response.get("Error", {}).get("Code", ""))
    status = int(error.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0) or 0)
    retryable = code in retryable_codes or status >= 500
    return DeliveryFailed(f"{service} {code or status}", retryable=retryable)


# --- email: SES v2 ------------------------------------------------------------------------------


class EmailSender:
    """Email through Amazon SES v2 ``SendEmail`` from ``from_address`` (a verified identity; may
    be ``"Name <addr>"``), optionally in a configuration set (delivery/bounce events).

    Without an ``.ics`` the message is sent as simple content (UTF-8 subject and text body).
    With one it is sent raw: ``multipart/mixed`` [ ``multipart/alternative`` [ ``text/plain``,
    ``text/calendar; method=REQUEST|CANCEL`` ], ``invite.ics`` attachment ] — the inline calendar
    part is what Gmail/Outlook/Apple Mail turn into an invitation, the attachment serves the rest.
    Raw messages carry ``X-Slotbook-Delivery-Id`` = the message's idempotency key.
    """

    def __init__(self, client: Any, from_address: str, configuration_set: str | None = None) -> None:
        self._client = client
        self._from = from_address
        self._configuration_set = configuration_set

    def send(self, message: Message) -> str:
        """Send; returns SES's ``MessageId``. Raises :class:`DeliveryFailed` (throttling, SES 5xx,
        network → retryable; a rejected message, a bad address, no recipient → not)."""
        address = message.recipient.address
        if "@" not in address:
            raise DeliveryFailed("email: recipient has no email address", retryable=False)
        subject = _one_line(message.subject)
        try:  # an address the MIME/SES headers cannot carry (a non-ASCII local part, a stray ",")
            to = formataddr((_one_line(message.recipient.name), address), charset="utf-8")
            raw = self._mime(message, message.ics, subject) if message.ics else None
        except (ValueError, MessageError) as error:
            raise DeliveryFailed("email: the address cannot be used in a message", retryable=False) from error
        request: dict[str, Any] = {
            "FromEmailAddress": self._from,
            "Destination": {"ToAddresses": [address] if message.ics else [to]},
        }
        if self._configuration_set:
            request["ConfigurationSetName"] = self._configuration_set
        if raw is not None:
            request["Content"] = {"Raw": {"Data": raw}}
        else:
            request["Content"] = {
                "Simple": {
                    "Subject": {"Data": subject, "Charset": "UTF-8"},
                    "Body": {"Text": {"Data": message.body, "Charset": "UTF-8"}},
                }
            }
        try:
            response = self._client.send_email(**request)
        except ClientError as error:
            raise _client_failure("ses", error, _SES_RETRYABLE) from error
        except _NETWORK_ERRORS as error:
            raise DeliveryFailed(f"ses unreachable: {type(error).__name__}", retryable=True) from error
        return str(response["MessageId"])

    def _mime(self, message: Message, ics: bytes, subject: str) -> bytes:
        method = ics_module.method_of(ics)
        mime = EmailMessage(policy=_MIME_POLICY)
        mime["Subject"] = subject
        mime["From"] = self._from
        mime["To"] = Address(
            display_name=_one_line(message.recipient.name), addr_spec=message.recipient.address
        )
        mime["X-Slotbook-Delivery-Id"] = message.idempotency_key
        mime.set_content(message.body)
        mime.add_alternative(ics.decode("utf-8"), subtype="calendar", params={"method": method.value})
        mime.add_attachment(
            ics,
            maintype="application",
            subtype="ics",
            filename="invite.ics" if method is ics_module.IcsMethod.REQUEST else "cancel.ics",
        )
        return mime.as_bytes()


# --- SMS: SNS -----------------------------------------------------------------------------------


class SmsSender:
    """SMS through Amazon SNS ``Publish`` to an E.164 phone number, as a transactional message
    (``AWS.SNS.SMS.SMSType``), with an optional sender id where the destination country allows it.
    The text is the message body (the subject is not sent)."""

    def __init__(self, client: Any, sender_id: str | None = None) -> None:
        self._client = client
        self._sender_id = sender_id

    def send(self, message: Message) -> str:
        """Publish; returns SNS's ``MessageId``. Raises :class:`DeliveryFailed` (a number that is
        not E.164 or an invalid parameter → not retryable; throttling, SNS 5xx, network → retryable)."""
        phone = message.recipient.address
        if not _E164.match(phone):
            raise DeliveryFailed("sms: recipient has no E.164 phone number", retryable=False)
        attributes = {"AWS.SNS.SMS.SMSType": {"DataType": "String", "StringValue": "Transactional"}}
        if self._sender_id:
            attributes["AWS.SNS.SMS.SenderID"] = {"DataType": "String", "StringValue": self._sender_id}
        try:
            response = self._client.publish(
                PhoneNumber=phone, Message=message.body, MessageAttributes=attributes
            )
        except ClientError as error:
            raise _client_failure("sns", error, _SNS_RETRYABLE) from error
        except _NETWORK_ERRORS as error:
            raise DeliveryFailed(f"sns unreachable: {type(error).__name__}", retryable=True) from error
        return str(response["MessageId"])


# --- WhatsApp, in-app ---------------------------------------------------------------------------


class WhatsAppSender:
    """WhatsApp: delegates to ``provider`` when one is configured; none is, so every message
    raises :class:`ChannelUnsupported` (recorded as ``unsupported``, never retried)."""

    def __init__(self, provider: Sender | None = None) -> None:
        self._provider = provider

    def send(self, message: Message) -> str:
        if self._provider is None:
            raise ChannelUnsupported("unsupported: no WhatsApp provider configured")
        return self._provider.send(message)


class InAppSender:
    """In-app: ``store_item(message)`` stores an item the host reads and returns its id (which
    becomes the provider message id). The store must be idempotent on ``message.idempotency_key``
    so a retried delivery does not show twice."""

    def __init__(self, store_item: Callable[[Message], str]) -> None:
        self._store_item = store_item

    def send(self, message: Message) -> str:
        return self._store_item(message)


# --- webhooks -----------------------------------------------------------------------------------


class _NoRedirects(urllib.request.HTTPRedirectHandler):
    """A 3xx answer is a failure of its own (a redirect would drop or resend the signed body)."""

    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None


class WebhookSender:
    """Outgoing webhooks: ``POST`` of ``json.dumps(message.payload)`` (UTF-8) to
    ``message.recipient.address`` (an http/https URL) with ``Content-Type: application/json`` and
    the :mod:`.signing` headers — ``Slotbook-Signature`` (HMAC-SHA256 under the endpoint's secret,
    ``secret_for(message)``), ``Slotbook-Delivery-Id`` = ``message.idempotency_key`` (the same on
    every retry: receivers dedupe on it) and ``Slotbook-Event`` = the payload's ``type``.

    Redirects are not followed; each socket operation times out after ``timeout_s`` (<= 5 s).
    """

    def __init__(
        self,
        secret_for: Callable[[Message], str],
        clock: Callable[[], datetime],
        timeout_s: float = WEBHOOK_TIMEOUT_S,
        *,
        allow_private: bool = False,
    ) -> None:
        self._allow_private = allow_private
        if not 0 < timeout_s <= WEBHOOK_TIMEOUT_S:
            raise ValueError(f"timeout_s must be in (0, {WEBHOOK_TIMEOUT_S}]")
        self._secret_for = secret_for
        self._clock = clock
        self._timeout_s = timeout_s
        self._opener = urllib.request.build_opener(_NoRedirects)

    def send(self, message: Message) -> str:
        """POST; returns the delivery id once the receiver answers 2xx. Raises
        :class:`DeliveryFailed`: 429, 5xx, timeouts and connection errors are retryable; any other
        answer (3xx, 4xx), a non-http(s) URL or a message without payload is not."""
        url = message.recipient.address
        parts = urllib.parse.urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise DeliveryFailed("webhook: endpoint is not an http(s) URL", retryable=False)
        if message.payload is None:
            raise DeliveryFailed("webhook: message has no payload", retryable=False)
        if not self._allow_private:
            _refuse_private_target(parts.hostname, parts.port or (443 if parts.scheme == "https" else 80))
        body = json.dumps(message.payload, separators=(",", ":"), ensure_ascii=False).encode("utf-8")
        request = urllib.request.Request(url, data=body, method="POST")
        request.add_header("Content-Type", "application/json; charset=utf-8")
        request.add_header("User-Agent", USER_AGENT)
        for name, value in signing.headers(
            self._secret_for(message),
            delivery_id=message.idempotency_key,
            event_type=str(message.payload.get("type", "")),
            timestamp=self._clock(),
            body=body,
        ).items():
            request.add_header(name, value)
        try:
            with self._opener.open(request, timeout=self._timeout_s) as response:
                response.read(4096)
                status = response.status
        except urllib.error.HTTPError as error:
            error.close()
            retryable = error.code == 429 or error.code >= 500
            raise DeliveryFailed(f"webhook: HTTP {error.code}", retryable=retryable) from error
        except urllib.error.URLError as error:  # connect failures, DNS, TLS, connect timeouts
            raise DeliveryFailed(f"webhook: {_reason(error.reason)}", retryable=True) from error
        except (TimeoutError, OSError, http.client.HTTPException) as error:  # read timeout, reset
            raise DeliveryFailed(f"webhook: {_reason(error)}", retryable=True) from error
        if not 200 <= status < 300:
            raise DeliveryFailed(f"webhook: HTTP {status}", retryable=status >= 500)
        return message.idempotency_key


def _refuse_private_target(host: str, port: int) -> None:
    """DeliveryFailed (not retryable) when ``host`` resolves to a loopback, private, link-local,
    multicast, reserved or unspecified address — a registered URL must not reach the VPC, the
    instance metadata service or the function itself (server-side request forgery). A name that
    does not resolve now is retryable. (The connection resolves again; a DNS answer changed in
    between is not caught — acceptable for a notification, not for a security boundary.)"""
    try:
        infos = socket.getaddrinfo(host, port, proto=socket.IPPROTO_TCP)
    except (socket.gaierror, UnicodeError) as error:
        raise DeliveryFailed(f"webhook: cannot resolve {host[:100]}", retryable=True) from error
    for info in infos:
        address = ipaddress.ip_address(str(info[4][0]).split("%", 1)[0])
        if (
            address.is_private
            or address.is_loopback
            or address.is_link_local
            or address.is_multicast
            or address.is_reserved
            or address.is_unspecified
        ):
            raise DeliveryFailed("webhook: endpoint resolves to a non-public address", retryable=False)


def _one_line(text: str) -> str:
    """Header-safe text: line breaks (from rendered placeholders) become spaces."""
    return " ".join(text.splitlines()).strip()


def _reason(error: object) -> str:
    if isinstance(error, TimeoutError):
        return "timed out"
    return type(error).__name__ if isinstance(error, BaseException) else str(error)
