"""Delivery domain models (issue 5). Instants are aware UTC datetimes.

Vocabulary follows the calendar notification settings of the GoHighLevel reference
(``CalendarNotificationResponseDTO``): ``notificationType`` booked | confirmation | cancellation |
reschedule | reminder | followup; ``channel`` email | sms | whatsapp | inApp; ``receiverType``
contact | guest | assignedUser | emails | phoneNumbers | business. Outgoing webhooks are a fifth
channel of Slotbook's own, registered per location.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ConfigDict, Field


class Model(BaseModel):
    model_config = ConfigDict(extra="forbid", validate_assignment=True)


class BookingChange(StrEnum):
    """What happened to an appointment; maps to the notification types sent at once."""

    BOOKED = "booked"
    CONFIRMED = "confirmed"
    RESCHEDULED = "rescheduled"
    CANCELLED = "cancelled"
    DELETED = "deleted"


class Channel(StrEnum):
    EMAIL = "email"
    SMS = "sms"
    WHATSAPP = "whatsapp"
    IN_APP = "inApp"
    WEBHOOK = "webhook"


class Person(Model):
    """A directory entry (contact or user) of a location: who a message can reach, and the zone
    its times are shown in. Any of email/phone may be missing."""

    id: str
    location_id: str
    kind: str  # "contact" | "user"
    name: str = ""
    email: str | None = None
    phone: str | None = None
    timezone: str | None = None
    admin: bool = False
    """Users only: a location admin, reached by ``selectedUsers: ["sub_account_admin"]``."""
    updated_at: datetime


class Recipient(Model):
    """One resolved addressee of a message (``address`` is an email, an E.164 phone number, a
    user id for in-app, or a URL for webhooks)."""

    receiver_type: str
    address: str
    name: str = ""
    timezone: str
    person_id: str | None = None


class Message(Model):
    """A rendered message for one recipient on one channel."""

    channel: Channel
    recipient: Recipient
    subject: str = ""
    body: str = ""
    ics: bytes | None = None
    """An ``.ics`` invitation attached to booking emails (METHOD REQUEST or CANCEL)."""
    payload: dict[str, Any] | None = None
    """The JSON body of a webhook delivery."""
    idempotency_key: str
    """Stable for the same logical delivery: retries and duplicate sweeps reuse it, receivers and
    providers may dedupe on it (invariant 5)."""


class JobStatus(StrEnum):
    """pending (in the due index) → claimed (a sweep or the booking won the conditional claim)
    → queued (on the delivery queue) → done | failed; or cancelled while pending."""

    PENDING = "pending"
    CLAIMED = "claimed"
    QUEUED = "queued"
    DONE = "done"
    CANCELLED = "cancelled"
    FAILED = "failed"


class Job(Model):
    """One notification due at ``due_at`` for one appointment: a setting (or a webhook endpoint)
    × one trigger (an immediate change, or one ``beforeTime``/``afterTime`` offset).

    ``id`` is deterministic — ``<appointmentId>.<settingId>.<trigger>.<revision>`` — so planning
    the same change twice writes the same job (idempotent), and ``revision`` (the appointment's
    schedule revision: bumped on reschedule) makes a moved reminder a new job.
    """

    id: str
    location_id: str
    appointment_id: str
    setting_id: str
    """Notification setting id, or ``webhook:<endpointId>`` for an outgoing webhook."""
    notification_type: str
    trigger: str
    """``now:<change>`` for immediate ones, ``before:<seconds>`` / ``after:<seconds>``."""
    due_at: datetime
    revision: int = 0
    status: JobStatus = JobStatus.PENDING
    attempts: int = 0
    created_at: datetime
    snapshot: dict[str, Any] | None = None
    """``appointment.deleted`` webhook jobs: the appointment as it was (the webhook payload's
    shape) — it no longer exists when the job is delivered."""


class DeliveryStatus(StrEnum):
    SENT = "sent"
    FAILED = "failed"
    RETRYING = "retrying"
    UNRESOLVED = "unresolved"
    UNSUPPORTED = "unsupported"
    SUPPRESSED = "suppressed"


class DeliveryRecord(Model):
    """One delivery attempt, readable per appointment ("did the reminder go out?")."""

    id: str
    location_id: str
    appointment_id: str
    job_id: str
    notification_type: str
    channel: Channel
    receiver_type: str
    recipient: str = ""
    status: DeliveryStatus
    provider_message_id: str | None = None
    detail: str = ""
    attempt: int = 1
    at: datetime


class WebhookEndpoint(Model):
    """An outgoing-webhook endpoint a location registered: booking events are POSTed to ``url`` as
    JSON, signed with HMAC-SHA256 under ``secret`` (shown once at registration, never again)."""

    id: str
    location_id: str
    url: str
    secret: str = Field(repr=False)
    events: list[str] = Field(default_factory=list)
    """Booking changes to send (:class:`BookingChange` values); empty = all."""
    active: bool = True
    created_at: datetime
