"""Which delivery jobs a booking change creates, moves or cancels (pure: no I/O, no clock).

:func:`changes` names what happened between an appointment's stored state before and after a
write; :func:`plan` turns that, the calendar's active notification settings and the location's
webhook endpoints into :class:`Plan` — jobs to write and pending job ids to cancel.

Rules (issue 5):

* **Immediate** — booked (a new appointment; plus ``confirmation`` when it is created
  confirmed), confirmation (status changed to confirmed), reschedule (start, end or calendar changed),
  cancellation (status changed to cancelled): every active setting of the matching
  ``notificationType`` and every active webhook endpoint subscribed to the change gets one job
  due ``now``. Job ids carry the appointment's ``updated_at`` (µs), so replaying the same change
  plans the same ids (idempotent) and a later change of the same kind plans new ones.
* **Scheduled** — ``reminder`` settings fire at each ``beforeTime`` offset before the start,
  ``followup`` settings at each ``afterTime`` offset after the end; offsets already in the past
  are skipped. Their ids carry the start (reminders) / end (follow-ups) epoch, so a reschedule
  plans new ids and the old ones, still pending, are cancelled ("rescheduling moves pending
  reminders").
* **Suppression** — ``toNotify: false`` plans nothing and cancels every pending job; a cancelled
  appointment keeps no reminders or follow-ups; a deleted one only loses its pending jobs (no
  message but the ``appointment.deleted`` webhook: deleting is not cancelling). Block slots never notify.
* **Recurring series** (a master, :attr:`Event.is_series`): immediate notifications are sent once
  for the whole series; no reminders or follow-ups are planned for its expanded occurrences (a
  documented limit — a series can be unbounded, and nothing re-plans when time passes). An
  occurrence edited on its own becomes a stored appointment (``master_id`` set, no rule) and is
  planned like any appointment, reminders included.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from slotbook.delivery.models import BookingChange, Job, JobStatus, WebhookEndpoint
from slotbook.domain import AppointmentStatus, Event, EventKind, NotificationSetting, NotificationType

IMMEDIATE_TYPES: dict[BookingChange, NotificationType] = {
    BookingChange.BOOKED: NotificationType.BOOKED,
    BookingChange.CONFIRMED: NotificationType.CONFIRMATION,
    BookingChange.RESCHEDULED: NotificationType.RESCHEDULE,
    BookingChange.CANCELLED: NotificationType.CANCELLATION,
}
"""The notification type each booking change sends at once."""

WEBHOOK_PREFIX = "webhook:"
"""``Job.setting_id`` of an outgoing-webhook job: ``webhook:<endpointId>``."""

_NO_SCHEDULE = (AppointmentStatus.CANCELLED, AppointmentStatus.INVALID)
"""Statuses whose appointments keep no reminders or follow-ups."""


@dataclass(frozen=True)
class Plan:
    """What a change does to an appointment's jobs: ``jobs`` to write (pending) and ``cancel``,
    ids of pending jobs to cancel. ``changes`` are the booking changes it was planned for."""

    changes: list[BookingChange] = field(default_factory=list)
    jobs: list[Job] = field(default_factory=list)
    cancel: list[str] = field(default_factory=list)

    @property
    def immediate(self) -> list[Job]:
        """The jobs due at once (enqueued right after they are written)."""
        return [j for j in self.jobs if j.trigger.startswith("now:")]


def changes(before: Event | None, after: Event | None) -> list[BookingChange]:
    """The booking changes between two stored states of one appointment (``None`` = absent).

    New → ``[booked]`` (+ ``confirmed`` when created confirmed); gone → ``[deleted]``; status to
    cancelled → ``[cancelled]`` (nothing else); otherwise ``rescheduled`` when start or end moved
    and ``confirmed`` when the status became confirmed. Block slots: ``[]``.
    """
    subject = after or before
    if subject is None or subject.kind is not EventKind.APPOINTMENT:
        return []
    if after is None:
        return [BookingChange.DELETED]
    if before is None:
        out = [BookingChange.BOOKED]
        if after.status is AppointmentStatus.CONFIRMED:
            out.append(BookingChange.CONFIRMED)
        return out
    if after.status is AppointmentStatus.CANCELLED:
        return [] if before.status is AppointmentStatus.CANCELLED else [BookingChange.CANCELLED]
    out = []
    if (after.start, after.end, after.calendar_id) != (before.start, before.end, before.calendar_id):
        out.append(BookingChange.RESCHEDULED)
    if after.status is AppointmentStatus.CONFIRMED and before.status is not AppointmentStatus.CONFIRMED:
        out.append(BookingChange.CONFIRMED)
    return out


def relevant(before: Event | None, after: Event | None) -> bool:
    """Whether a write can change an appointment's jobs: a booking change, or ``toNotify``
    switched (off: its pending jobs go; on again: its reminders come back)."""
    if changes(before, after):
        return True
    # A status change without a booking change (cancelled → new, → invalid) still adds or
    # drops reminders and follow-ups.
    # So does an occurrence of a series becoming an appointment of its own (edited without
    # moving it): it now gets the reminders and follow-ups its series' occurrences do not.
    return (
        before is not None
        and after is not None
        and after.kind is EventKind.APPOINTMENT
        and (
            before.to_notify != after.to_notify
            or before.status != after.status
            or (before.rrule is not None and after.rrule is None)
        )
    )


def job_id(appointment_id: str, setting_id: str, trigger: str, revision: int) -> str:
    """``<appointmentId>.<settingId>.<trigger>.<revision>`` (see :class:`Job`)."""
    return f"{appointment_id}.{setting_id}.{trigger}.{revision}"


def plan(
    before: Event | None,
    after: Event | None,
    settings: Iterable[NotificationSetting],
    endpoints: Iterable[WebhookEndpoint],
    pending: Iterable[Job],
    now: datetime,
) -> Plan:
    """The jobs a change writes and the pending ones it cancels.

    ``settings``: the calendar's active, non-deleted notification settings; ``endpoints``: the
    location's webhook endpoints; ``pending``: the appointment's jobs still pending; ``now``: an
    aware UTC instant (immediate jobs are due then; scheduled ones before it are skipped).
    """
    happened = changes(before, after)
    pending = list(pending)
    if not relevant(before, after):
        return Plan()
    if after is None:
        # Deleted: its pending jobs go; subscribed webhooks are told (appointment.deleted).
        assert before is not None
        gone: list[Job] = []
        if before.to_notify:
            revision = int(before.updated_at.timestamp() * 1_000_000)
            deleted = BookingChange.DELETED.value
            trigger = f"now:{deleted}"
            for endpoint in endpoints:
                if endpoint.active and (not endpoint.events or deleted in endpoint.events):
                    setting_id = f"{WEBHOOK_PREFIX}{endpoint.id}"
                    gone.append(_job(before, setting_id, deleted, trigger, now, revision, now))
        return Plan(happened, gone, [j.id for j in pending])
    if not after.to_notify:
        return Plan(happened, [], [j.id for j in pending])
    settings = [s for s in settings if s.is_active and not s.deleted]
    jobs: list[Job] = []
    revision = int(after.updated_at.timestamp() * 1_000_000)
    for change in happened:
        wanted = IMMEDIATE_TYPES.get(change)
        if wanted is None:
            continue
        trigger = f"now:{change.value}"
        for setting in settings:
            if setting.notification_type is wanted:
                jobs.append(_job(after, setting.id, wanted.value, trigger, now, revision, now))
        for endpoint in endpoints:
            if endpoint.active and (not endpoint.events or change.value in endpoint.events):
                setting_id = f"{WEBHOOK_PREFIX}{endpoint.id}"
                jobs.append(_job(after, setting_id, change.value, trigger, now, revision, now))
    if after.status not in _NO_SCHEDULE and not after.is_series:
        jobs.extend(_scheduled(after, settings, now))
    keep = {j.id for j in jobs}
    # Only scheduled jobs are replaced by a later change; an immediate one still pending (its
    # queueing failed, the sweep will hand it out) reports a change that did happen.
    cancel = [
        j.id
        for j in pending
        if j.id not in keep and j.status is JobStatus.PENDING and not j.trigger.startswith("now:")
    ]
    return Plan(happened, jobs, cancel)


def replan(
    event: Event, settings: Iterable[NotificationSetting], pending: Iterable[Job], now: datetime
) -> Plan:
    """The reminders and follow-ups of an unchanged appointment after its calendar's settings
    changed (one added, edited, deactivated or deleted): the scheduled jobs the current settings
    want (existing ids are kept: writes are idempotent) and the pending scheduled ones they no
    longer want. Immediate jobs are left alone."""
    jobs: list[Job] = []
    if (
        event.kind is EventKind.APPOINTMENT
        and event.to_notify
        and event.status not in _NO_SCHEDULE
        and not event.is_series
    ):
        jobs = _scheduled(event, [s for s in settings if s.is_active and not s.deleted], now)
    keep = {j.id for j in jobs}
    cancel = [
        j.id
        for j in pending
        if j.id not in keep and j.status is JobStatus.PENDING and j.trigger.startswith(("before:", "after:"))
    ]
    return Plan([], jobs, cancel)


def _scheduled(event: Event, settings: list[NotificationSetting], now: datetime) -> list[Job]:
    out: list[Job] = []
    start_epoch, end_epoch = int(event.start.timestamp()), int(event.end.timestamp())
    for setting in settings:
        if setting.notification_type is NotificationType.REMINDER:
            for offset in setting.before:
                seconds = offset.seconds()
                due = event.start - timedelta(seconds=seconds)
                if due >= now:
                    trigger = f"before:{seconds}"
                    out.append(_job(event, setting.id, "reminder", trigger, due, start_epoch, now))
        elif setting.notification_type is NotificationType.FOLLOWUP:
            for offset in setting.after:
                seconds = offset.seconds()
                due = event.end + timedelta(seconds=seconds)
                if due >= now:
                    trigger = f"after:{seconds}"
                    out.append(_job(event, setting.id, "followup", trigger, due, end_epoch, now))
    # Two offsets of one setting that are equal make one job.
    return list({j.id: j for j in out}.values())


def _job(
    event: Event,
    setting_id: str,
    notification_type: str,
    trigger: str,
    due: datetime,
    revision: int,
    now: datetime,
) -> Job:
    return Job(
        id=job_id(event.id, setting_id, trigger, revision),
        location_id=event.location_id,
        appointment_id=event.id,
        setting_id=setting_id,
        notification_type=notification_type,
        trigger=trigger,
        due_at=due,
        revision=revision,
        created_at=now,
    )
