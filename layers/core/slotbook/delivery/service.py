"""Delivery: plan jobs when a booking changes, hand out due jobs exactly once, deliver them.

Flow (issue 5; invariant 5 — side effects happen once):

1. :meth:`DeliveryService.on_change` — called by :class:`~slotbook.services.scheduling.SchedulingService`
   after an appointment write commits (or a delete). It reads the calendar's active settings, the
   location's webhook endpoints and the appointment's jobs, plans with :mod:`.planner`, cancels
   the pending jobs the plan drops, writes the new ones (conditional puts: idempotent) and hands
   the immediate ones out at once.
2. :meth:`DeliveryService.sweep` — every minute (EventBridge ``rate(1 minute)``, the
   ``RemindersFunction``): reads the due index for the last :data:`SWEEP_LOOKBACK` (so missed or
   late runs catch up) and hands out every job due by now.
3. Handing out = a conditional claim (pending → claimed; a claim older than :data:`CLAIM_LEASE`
   may be taken over) then ``SendMessage`` to the delivery queue (claimed → queued). Of two
   overlapping sweeps, or a sweep and the booking request, exactly one claims a job. When the
   send fails the claim is released and the next sweep retries.
4. :meth:`DeliveryService.deliver` — the ``DeliveriesFunction`` (SQS) runs it per message:
   re-reads the appointment (a moved, cancelled or ``toNotify: false`` appointment suppresses
   stale reminders), resolves recipients, renders, attaches the ``.ics`` and sends per recipient.
   Each (job, channel, recipient) is taken with a conditional *sent marker* first, so a duplicated
   SQS message or a retried job never re-sends to a recipient already served. Every attempt is
   written to the delivery log. A retryable failure makes the message come back after an
   exponential backoff (:func:`backoff_seconds`, via its visibility timeout); after
   :data:`MAX_ATTEMPTS` receives SQS moves it to the dead-letter queue (RedrivePolicy), where an
   operator can inspect it and redrive it (README). Non-retryable failures are recorded and not
   retried.

Without a queue (``DELIVERY_QUEUE_URL`` unset) the sweep delivers inline, once, without retries.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Any, Protocol

from botocore.exceptions import BotoCoreError, ClientError

from slotbook.delivery import planner, templates
from slotbook.delivery.channels import (
    ChannelUnsupported,
    DeliveryFailed,
    EmailSender,
    InAppSender,
    Sender,
    SmsSender,
    WebhookSender,
    WhatsAppSender,
)
from slotbook.delivery.ics import IcsMethod, Party, invitation
from slotbook.delivery.models import (
    BookingChange,
    Channel,
    DeliveryRecord,
    DeliveryStatus,
    Job,
    JobStatus,
    Message,
    Recipient,
    WebhookEndpoint,
)
from slotbook.domain import AppointmentStatus, Event, EventKind, NotificationSetting, NotificationType
from slotbook.errors import NotFound
from slotbook.ids import new_id
from slotbook.observability import MetricUnit, logger, metrics
from slotbook.store.delivery import InboxItem, address_hash
from slotbook.store.dynamo import DynamoStore
from slotbook.timeutil import iso_utc_ms, zone

MAX_ATTEMPTS = 5
"""Deliveries of one job message before SQS dead-letters it (the queue's ``maxReceiveCount``)."""
BACKOFF_BASE_S = 30
BACKOFF_MAX_S = 900
REPLAN_LOOKBACK = timedelta(days=30)
"""Follow-ups reach at most this far past an appointment's end (notifications.MAX_OFFSET)."""
REPLAN_HORIZON = timedelta(days=731)
"""How far ahead a changed notification setting re-plans existing appointments."""
SWEEP_LOOKBACK = timedelta(minutes=30)
"""How far back the sweep reads the due index: a job stays findable for 30 missed runs."""
CLAIM_LEASE = timedelta(minutes=2)
"""A claim not followed by queueing within this long (its sweep died) may be taken over."""
SEND_LEASE = timedelta(minutes=5)
"""A send marker left ``sending`` this long (its function died mid-send) may be taken over."""
_ICS_TYPES = frozenset(
    {
        NotificationType.BOOKED,
        NotificationType.CONFIRMATION,
        NotificationType.RESCHEDULE,
        NotificationType.CANCELLATION,
        NotificationType.REMINDER,
    }
)
"""Booking emails: they carry an ``.ics`` invitation (a follow-up does not)."""

Clock = Callable[[], datetime]


def backoff_seconds(attempt: int) -> int:
    """Delay before delivery attempt ``attempt + 1``: 30 s, 60 s, 120 s, 240 s … (≤ 15 min)."""
    return min(BACKOFF_MAX_S, BACKOFF_BASE_S * 2 ** max(0, attempt - 1))


class JobQueue(Protocol):
    """Where handed-out jobs go (the SQS delivery queue)."""

    def send(self, body: dict[str, str]) -> None: ...


class SqsQueue:
    """The delivery queue over an SQS client (``sqs:SendMessage``; the consumer also
    ``sqs:ChangeMessageVisibility`` for backoff)."""

    def __init__(self, client: Any, url: str) -> None:
        self._client = client
        self.url = url

    def send(self, body: dict[str, str]) -> None:
        self._client.send_message(QueueUrl=self.url, MessageBody=json.dumps(body, separators=(",", ":")))

    def retry_after(self, receipt_handle: str, seconds: int) -> None:
        """Make a received message visible again in ``seconds`` (its backoff)."""
        self._client.change_message_visibility(
            QueueUrl=self.url, ReceiptHandle=receipt_handle, VisibilityTimeout=seconds
        )


@dataclass
class Outcome:
    """What one delivery attempt of a job did: ``retry`` when some recipient failed in a way a
    later attempt may fix (the message must come back); ``records`` written to the log."""

    retry: bool = False
    records: list[DeliveryRecord] = field(default_factory=list)


@dataclass
class SweepResult:
    found: int = 0
    handed_out: int = 0


class _Scheduling(Protocol):
    def get_event(self, location_id: str, event_id: str, kind: EventKind | None = None) -> Event: ...


class _Directory(Protocol):
    def recipients(
        self, location_id: str, setting: NotificationSetting, event: Event, location_timezone: str
    ) -> tuple[list[Recipient], list[str]]: ...

    def webhook_endpoints(self, location_id: str) -> list[WebhookEndpoint]: ...

    def lookup(self, location_id: str, kind: str, person_id: str | None) -> Any: ...


class DeliveryService:
    """Plans, hands out and delivers notification jobs (see the module docstring).

    ``clients(name)`` returns a boto3 client (``sesv2``, ``sns``), built only when a message needs
    it. ``queue``: the delivery queue, or None to deliver inline from the sweep. ``senders``:
    per-channel overrides (tests, local tools). ``observers`` are called with every delivery
    record written (``make dev`` prints them).
    """

    def __init__(
        self,
        store: DynamoStore,
        clock: Clock,
        scheduling: _Scheduling,
        directory: _Directory,
        *,
        clients: Callable[[str], Any],
        queue: SqsQueue | None = None,
        email_sender: str = "slotbook@example.com",
        public_url: str = "",
        senders: Mapping[Channel, Sender] | None = None,
        allow_private_webhooks: bool = False,
    ) -> None:
        self._allow_private_webhooks = allow_private_webhooks
        self._store = store
        self._clock = clock
        self._scheduling = scheduling
        self._directory = directory
        self._clients = clients
        self.queue = queue
        self._email_sender = email_sender
        self._public_url = public_url
        self.senders: dict[Channel, Sender] = dict(senders or {})
        self.observers: list[Callable[[DeliveryRecord], None]] = []

    # -- 1. planning --------------------------------------------------------------------------

    def on_change(self, before: Event | None, after: Event | None) -> None:
        """Plan the jobs of an appointment change (``before``/``after``: stored states, None when
        absent). Runs after the booking committed: any failure here (storage or not) is logged (and
        counted) rather than failing the request — the booking stands; the sweep cannot recover
        jobs that were never written, which the ``NotificationPlanningFailed`` metric alarms on."""
        subject = after or before
        if subject is None or subject.kind is not EventKind.APPOINTMENT:
            return
        try:
            self._plan(before, after, subject)
        except Exception:  # noqa: BLE001 - any failure: the booking committed, it must answer 2xx
            logger.exception("planning notifications failed", extra={"event_id": subject.id})
            metrics.add_metric(name="NotificationPlanningFailed", unit=MetricUnit.Count, value=1)

    def _plan(self, before: Event | None, after: Event | None, subject: Event) -> None:
        if not planner.relevant(before, after):
            return
        now = self._clock()
        loc = subject.location_id
        live = after is not None and after.to_notify
        settings = (
            self._store.active_notifications(loc, after.calendar_id)
            if live and after is not None and after.calendar_id
            else []
        )
        endpoints = self._directory.webhook_endpoints(loc) if subject.to_notify else []
        pending = [j for j in self._store.appointment_jobs(loc, subject.id) if j.status is JobStatus.PENDING]
        plan = planner.plan(before, after, settings, endpoints, pending, now)
        if after is None and before is not None:  # deleted: its webhook jobs carry it along
            snapshot = appointment_payload(before)
            plan = replace(plan, jobs=[j.model_copy(update={"snapshot": snapshot}) for j in plan.jobs])
        if BookingChange.RESCHEDULED in plan.changes or BookingChange.CANCELLED in plan.changes:
            # RFC 5546: each revision of the event, a CANCEL included, carries a higher SEQUENCE.
            self._store.next_sequence(loc, subject.id)
        for job_id in plan.cancel:
            self._store.cancel_job(loc, subject.id, job_id)
        written = [j for j in plan.jobs if self._store.put_job(j)]
        if self.queue is not None:
            for job in written:
                if job.trigger.startswith("now:"):
                    self._hand_out(loc, job.appointment_id, job.id, now)
        logger.info(
            "notifications planned",
            extra={
                "event_id": subject.id,
                "changes": [c.value for c in plan.changes],
                "jobs": len(written),
                "cancelled": len(plan.cancel),
            },
        )

    def on_settings_change(self, location_id: str, calendar_id: str) -> None:
        """Re-plan the reminders and follow-ups of the calendar's appointments after one of its
        notification settings was created, edited or deleted: a new offset reaches appointments
        booked before it, a removed or deactivated one is withdrawn. Appointments ending from
        :data:`~slotbook.services.notifications.MAX_OFFSET` ago up to :data:`REPLAN_HORIZON`
        ahead are re-planned. Runs after the setting was stored: failures are logged, never
        raised."""
        try:
            now = self._clock()
            settings = self._store.active_notifications(location_id, calendar_id)
            lo, hi = now - REPLAN_LOOKBACK, now + REPLAN_HORIZON
            for event in self._store.calendar_events(location_id, calendar_id, lo, hi):
                if event.kind is not EventKind.APPOINTMENT or event.calendar_id != calendar_id:
                    continue
                jobs = self._store.appointment_jobs(location_id, event.id)
                pending = [j for j in jobs if j.status is JobStatus.PENDING]
                plan = planner.replan(event, settings, pending, now)
                for job_id in plan.cancel:
                    self._store.cancel_job(location_id, event.id, job_id)
                for job in plan.jobs:
                    self._store.put_job(job)
        except Exception:  # noqa: BLE001 - the setting is stored; its request must answer 2xx
            logger.exception("re-planning notifications failed", extra={"calendar_id": calendar_id})
            metrics.add_metric(name="NotificationPlanningFailed", unit=MetricUnit.Count, value=1)

    # -- 2./3. sweep and hand-out -------------------------------------------------------------

    def sweep(self) -> SweepResult:
        """Hand out every job due by now (and not older than :data:`SWEEP_LOOKBACK`)."""
        now = self._clock()
        result = SweepResult()
        for due in self._store.due_jobs(now, SWEEP_LOOKBACK):
            result.found += 1
            if self._hand_out(due.location_id, due.appointment_id, due.job_id, now):
                result.handed_out += 1
        metrics.add_metric(name="DeliveryJobsHandedOut", unit=MetricUnit.Count, value=result.handed_out)
        return result

    def _hand_out(self, loc: str, appointment_id: str, job_id: str, now: datetime) -> bool:
        """Claim a job (exactly one claimer wins) and queue it, or deliver it inline without a
        queue. False when another sweep or request has it."""
        if not self._store.claim_job(loc, appointment_id, job_id, now, now - CLAIM_LEASE):
            return False
        if self.queue is None:
            self._store.job_queued(loc, appointment_id, job_id)
            self.deliver(loc, appointment_id, job_id, attempt=1, final=True)
            return True
        try:
            self.queue.send({"locationId": loc, "appointmentId": appointment_id, "jobId": job_id})
        except (ClientError, BotoCoreError):
            logger.exception(
                "queueing a delivery job failed; the next sweep retries", extra={"job_id": job_id}
            )
            self._store.release_job(loc, appointment_id, job_id)
            return False
        self._store.job_queued(loc, appointment_id, job_id)
        return True

    # -- 4. delivery --------------------------------------------------------------------------

    def deliver(
        self, location_id: str, appointment_id: str, job_id: str, *, attempt: int, final: bool | None = None
    ) -> Outcome:
        """Deliver one job (attempt ``attempt``, 1-based; ``final`` = no further attempt will come,
        default ``attempt >= MAX_ATTEMPTS``). Safe to call again for the same job: recipients
        already served are skipped."""
        final = attempt >= MAX_ATTEMPTS if final is None else final
        found = self._store.get_job(location_id, appointment_id, job_id)
        if found is None:
            return Outcome()
        job, status = found
        if status in (JobStatus.DONE, JobStatus.CANCELLED):
            return Outcome()
        run = _Run(self, job, attempt, final)
        run.execute()
        if run.outcome.retry:
            self._store.finish_job(
                location_id, appointment_id, job_id, JobStatus.FAILED if final else JobStatus.QUEUED, attempt
            )
        else:
            self._store.finish_job(location_id, appointment_id, job_id, JobStatus.DONE, attempt)
        return run.outcome

    # -- reads ----------------------------------------------------------------------------------

    def deliveries(self, location_id: str, appointment_id: str) -> list[DeliveryRecord]:
        """The delivery log of an appointment, oldest first. NotFound for an unknown location."""
        self._location(location_id)
        return self._store.delivery_records(location_id, appointment_id)

    def inbox(self, location_id: str, user_id: str) -> list[InboxItem]:
        """A user's in-app items, newest first. NotFound for an unknown location."""
        self._location(location_id)
        return self._store.inbox(location_id, user_id)

    def _location(self, location_id: str) -> str:
        location = self._store.get_location(location_id)
        if location is None:
            raise NotFound("Location", location_id)
        return location.timezone

    # -- helpers used by _Run -------------------------------------------------------------------

    def _sender(self, channel: Channel, job: Job, endpoint: WebhookEndpoint | None = None) -> Sender:
        if channel in self.senders:
            return self.senders[channel]
        if channel is Channel.EMAIL:
            return EmailSender(self._clients("sesv2"), self._email_sender)
        if channel is Channel.SMS:
            return SmsSender(self._clients("sns"))
        if channel is Channel.IN_APP:
            return InAppSender(
                lambda m: self._store.put_inbox_item(
                    job.location_id, job.appointment_id, job.notification_type, m, job.due_at
                )
            )
        if channel is Channel.WEBHOOK:
            assert endpoint is not None
            secret = endpoint.secret
            return WebhookSender(lambda _m: secret, self._clock, allow_private=self._allow_private_webhooks)
        return WhatsAppSender()

    def _record(self, record: DeliveryRecord) -> None:
        self._store.put_delivery_record(record)
        logger.info(
            "delivery",
            extra={
                "appointment_id": record.appointment_id,
                "job_id": record.job_id,
                "channel": record.channel.value,
                "status": record.status.value,
                "attempt": record.attempt,
            },
        )
        metrics.add_metric(name=f"Delivery_{record.status.value}", unit=MetricUnit.Count, value=1)
        for observer in self.observers:
            observer(record)


class _Run:
    """One delivery attempt of one job."""

    def __init__(self, service: DeliveryService, job: Job, attempt: int, final: bool) -> None:
        self.s = service
        self.store = service._store
        self.job = job
        self.attempt = attempt
        self.final = final
        self.now = service._clock()
        self.outcome = Outcome()

    def execute(self) -> None:
        job = self.job
        endpoint_id = (
            job.setting_id.removeprefix(planner.WEBHOOK_PREFIX)
            if job.setting_id.startswith(planner.WEBHOOK_PREFIX)
            else None
        )
        if job.snapshot is not None:  # appointment.deleted: the appointment is gone
            if endpoint_id is not None:
                self._webhook(job.snapshot, True, endpoint_id)
            return
        try:
            event = self.s._scheduling.get_event(job.location_id, job.appointment_id, EventKind.APPOINTMENT)
        except NotFound:
            return  # deleted meanwhile: its pending jobs were cancelled; nothing to say
        if endpoint_id is not None:
            self._webhook(appointment_payload(event), event.to_notify, endpoint_id)
            return
        calendar = self.store.get_calendar(job.location_id, event.calendar_id) if event.calendar_id else None
        setting = (
            self.store.get_notification(job.location_id, event.calendar_id, job.setting_id)
            if calendar is not None and event.calendar_id
            else None
        )
        if setting is None:
            # The setting is gone, or its calendar is (deleting a calendar leaves its settings
            # stored but out of reach of the API, so they must not send any more): nothing to send.
            return
        channel = Channel(setting.channel.value)
        reason = (
            self._suppressed(event)
            or (
                "the notification setting is no longer active"
                if setting.deleted or not setting.is_active
                else None
            )
            or self._setting_changed(setting)
        )
        if reason:
            self._log(channel, setting.receiver_type.value, "", DeliveryStatus.SUPPRESSED, detail=reason)
            return
        location_tz = self.s._location(job.location_id)
        recipients, problems = self.s._directory.recipients(job.location_id, setting, event, location_tz)
        if self.attempt == 1:
            for problem in problems:
                self._log(channel, setting.receiver_type.value, "", DeliveryStatus.UNRESOLVED, detail=problem)
        if not recipients:
            return
        contact = self.s._directory.lookup(job.location_id, "contact", event.contact_id)
        host = self.s._directory.lookup(job.location_id, "user", event.assigned_user_id)
        subject_t, body_t = templates.templates_for(setting)
        kind = setting.notification_type
        ics_method = IcsMethod.CANCEL if kind is NotificationType.CANCELLATION else IcsMethod.REQUEST
        sequence = self.store.current_sequence(job.location_id, event.id)
        for recipient in recipients:
            context = templates.message_context(
                event,
                calendar.name if calendar else "",
                contact,
                host,
                zone(recipient.timezone),
                self.s._public_url,
            )
            ics = None
            if channel is Channel.EMAIL and kind in _ICS_TYPES:
                ics = invitation(
                    event,
                    method=ics_method,
                    sequence=sequence,
                    stamp=self.now,
                    organizer=Party(host.email, host.name) if host is not None and host.email else None,
                    attendees=[Party(recipient.address, recipient.name)],
                )
            message = Message(
                channel=channel,
                recipient=recipient,
                subject=templates.render(subject_t, context),
                body=templates.render(body_t, context),
                ics=ics,
                idempotency_key=f"{job.id}:{channel.value}:{address_hash(recipient.address)}",
            )
            self._send(message, self.s._sender(channel, job))

    def _suppressed(self, event: Event) -> str | None:
        """Why this job must not go out any more, or None."""
        job = self.job
        if not event.to_notify:
            return "toNotify is false"
        if job.trigger.startswith(("before:", "after:")):
            if event.status in (AppointmentStatus.CANCELLED, AppointmentStatus.INVALID):
                return f"the appointment is {event.status.value}"
            anchor = event.start if job.trigger.startswith("before:") else event.end
            if int(anchor.timestamp()) != job.revision:
                return "the appointment was moved"
            if job.trigger.startswith("before:") and event.start <= self.now:
                return "the appointment has already started"
        elif (
            event.status is AppointmentStatus.CANCELLED
            and job.notification_type != NotificationType.CANCELLATION.value
        ):
            # A late booked/confirmation/reschedule message (a retry after the cancellation) would
            # put the event back into calendars through its REQUEST invitation.
            return "the appointment was cancelled meanwhile"
        return None

    def _setting_changed(self, setting: NotificationSetting) -> str | None:
        """Why a job planned from an earlier version of ``setting`` must not go out: its type
        changed, or the ``beforeTime``/``afterTime`` offset it was planned for was removed."""
        job = self.job
        if setting.notification_type.value != job.notification_type:
            return "the notification setting changed its notificationType"
        side, _, seconds = job.trigger.partition(":")
        if side in ("before", "after"):
            offsets = setting.before if side == "before" else setting.after
            if int(seconds) not in {o.seconds() for o in offsets}:
                return f"the notification setting no longer has this {side}Time offset"
        return None

    def _webhook(self, appointment: dict[str, Any], to_notify: bool, endpoint_id: str) -> None:
        job = self.job
        endpoint = next(
            (e for e in self.s._directory.webhook_endpoints(job.location_id) if e.id == endpoint_id), None
        )
        if endpoint is None:
            return  # unregistered meanwhile
        if not to_notify:
            self._log(
                Channel.WEBHOOK,
                "webhook",
                endpoint.url,
                DeliveryStatus.SUPPRESSED,
                detail="toNotify is false",
            )
            return
        key = f"{job.id}:webhook:{address_hash(endpoint.url)}"
        message = Message(
            channel=Channel.WEBHOOK,
            recipient=Recipient(
                receiver_type="webhook", address=endpoint.url, timezone="UTC", person_id=endpoint.id
            ),
            payload={
                "id": key,
                "type": f"appointment.{job.notification_type}",
                "createdAt": iso_utc_ms(job.created_at),
                "locationId": job.location_id,
                "data": {"appointment": appointment},
            },
            idempotency_key=key,
        )
        self._send(message, self.s._sender(Channel.WEBHOOK, job, endpoint))

    def _send(self, message: Message, sender: Sender) -> None:
        job, channel, address = self.job, message.channel, message.recipient.address
        rtype = message.recipient.receiver_type
        lease_from = self.now - SEND_LEASE
        if not self.store.acquire_send(job.location_id, job.id, channel.value, address, self.now, lease_from):
            return  # served already (or being served right now by a duplicate)
        try:
            provider_id = sender.send(message)
        except ChannelUnsupported as exc:
            self.store.settle_send(job.location_id, job.id, channel.value, address, sent=True)
            self._log(channel, rtype, address, DeliveryStatus.UNSUPPORTED, detail=exc.detail)
        except DeliveryFailed as exc:
            if exc.retryable:
                self.store.settle_send(job.location_id, job.id, channel.value, address, sent=False)
                self.outcome.retry = True
                if self.final:
                    detail = f"{exc.detail}; gave up after {self.attempt} attempts"
                    self._log(channel, rtype, address, DeliveryStatus.FAILED, detail=detail)
                else:
                    self._log(channel, rtype, address, DeliveryStatus.RETRYING, detail=exc.detail)
            else:
                self.store.settle_send(job.location_id, job.id, channel.value, address, sent=True)
                self._log(channel, rtype, address, DeliveryStatus.FAILED, detail=exc.detail)
        else:
            self.store.settle_send(job.location_id, job.id, channel.value, address, sent=True)
            self._log(channel, rtype, address, DeliveryStatus.SENT, provider_message_id=provider_id)

    def _log(
        self,
        channel: Channel,
        receiver_type: str,
        recipient: str,
        status: DeliveryStatus,
        *,
        detail: str = "",
        provider_message_id: str | None = None,
    ) -> None:
        record = DeliveryRecord(
            id=new_id(),
            location_id=self.job.location_id,
            appointment_id=self.job.appointment_id,
            job_id=self.job.id,
            notification_type=self.job.notification_type,
            channel=channel,
            receiver_type=receiver_type,
            recipient=recipient,
            status=status,
            provider_message_id=provider_message_id,
            detail=detail,
            attempt=self.attempt,
            at=self.now,
        )
        self.outcome.records.append(record)
        self.s._record(record)


def appointment_payload(event: Event) -> dict[str, Any]:
    """The appointment as outgoing webhooks carry it (GoHighLevel-style field names, UTC
    instants with an explicit ``Z``)."""
    return {
        "id": event.id,
        "locationId": event.location_id,
        "calendarId": event.calendar_id,
        "contactId": event.contact_id,
        "assignedUserId": event.assigned_user_id,
        "title": event.title,
        "appointmentStatus": event.status.value if event.status else None,
        "startTime": iso_utc_ms(event.start),
        "endTime": iso_utc_ms(event.end),
        "address": event.address,
        "masterEventId": event.master_id,
    }
