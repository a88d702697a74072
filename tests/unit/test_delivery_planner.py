"""The delivery planner (pure): which jobs a booking change writes and which pending ones it cancels."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from slotbook.delivery import planner
from slotbook.delivery.models import BookingChange, JobStatus, WebhookEndpoint
from slotbook.domain import (
    AppointmentStatus,
    Event,
    EventKind,
    NotificationChannel,
    NotificationOffset,
    NotificationReceiver,
    NotificationSetting,
    NotificationType,
)

NOW = datetime(2027, 3, 1, 8, 0, tzinfo=UTC)
START = datetime(2027, 3, 2, 9, 0, tzinfo=UTC)


def appt(**changes: object) -> Event:
    base = Event(
        id="a1",
        location_id="L",
        kind=EventKind.APPOINTMENT,
        calendar_id="C",
        status=AppointmentStatus.CONFIRMED,
        start=START,
        end=START + timedelta(minutes=30),
        created_at=NOW,
        updated_at=NOW,
    )
    return base.model_copy(update=changes)


def setting(
    sid: str, kind: NotificationType, before: list[int] = (), after: list[int] = ()
) -> NotificationSetting:
    return NotificationSetting(
        id=sid,
        location_id="L",
        calendar_id="C",
        receiver_type=NotificationReceiver.CONTACT,
        channel=NotificationChannel.EMAIL,
        notification_type=kind,
        before=[NotificationOffset(value=m, unit="mins") for m in before],
        after=[NotificationOffset(value=m, unit="mins") for m in after],
        created_at=NOW,
        updated_at=NOW,
    )


SETTINGS = [
    setting("b", NotificationType.BOOKED),
    setting("c", NotificationType.CONFIRMATION),
    setting("r", NotificationType.RESCHEDULE),
    setting("x", NotificationType.CANCELLATION),
    setting("rem", NotificationType.REMINDER, before=[60, 24 * 60 * 3]),  # 3 days before: past
    setting("fu", NotificationType.FOLLOWUP, after=[30]),
]
HOOK = WebhookEndpoint(
    id="w", location_id="L", url="https://h.example/x", secret="s", events=[], created_at=NOW
)


def kinds(plan: planner.Plan) -> list[tuple[str, str, datetime]]:
    return sorted((j.setting_id, j.trigger, j.due_at) for j in plan.jobs)


def test_a_new_confirmed_booking_sends_booked_and_confirmation_and_schedules_the_rest() -> None:
    plan = planner.plan(None, appt(), SETTINGS, [HOOK], [], NOW)
    assert plan.changes == [BookingChange.BOOKED, BookingChange.CONFIRMED]
    assert kinds(plan) == [
        ("b", "now:booked", NOW),
        ("c", "now:confirmed", NOW),
        ("fu", "after:1800", START + timedelta(minutes=60)),
        ("rem", "before:3600", START - timedelta(hours=1)),  # the 3-day offset is already past
        ("webhook:w", "now:booked", NOW),
        ("webhook:w", "now:confirmed", NOW),
    ]
    assert plan.cancel == []
    # Planning the same change again gives the same ids (idempotent writes)
    assert [j.id for j in planner.plan(None, appt(), SETTINGS, [HOOK], [], NOW).jobs] == [
        j.id for j in plan.jobs
    ]


def test_reschedule_makes_new_reminder_ids_and_cancels_the_old_ones() -> None:
    first = planner.plan(None, appt(), SETTINGS, [], [], NOW)
    moved = appt(start=START + timedelta(days=1), end=START + timedelta(days=1, minutes=30), updated_at=NOW)
    pending = [j for j in first.jobs if not j.trigger.startswith("now:")]
    plan = planner.plan(appt(), moved, SETTINGS, [], pending, NOW)
    assert plan.changes == [BookingChange.RESCHEDULED]
    assert sorted(plan.cancel) == sorted(j.id for j in pending)
    assert ("r", "now:rescheduled", NOW) in kinds(plan)
    assert ("rem", "before:3600", moved.start - timedelta(hours=1)) in kinds(plan)


def test_cancel_sends_cancellation_and_drops_reminders() -> None:
    pending = [
        j for j in planner.plan(None, appt(), SETTINGS, [], [], NOW).jobs if j.trigger.startswith("before")
    ]
    plan = planner.plan(appt(), appt(status=AppointmentStatus.CANCELLED), SETTINGS, [], pending, NOW)
    assert plan.changes == [BookingChange.CANCELLED]
    assert kinds(plan) == [("x", "now:cancelled", NOW)]
    assert plan.cancel == [pending[0].id]


def test_delete_and_to_notify_false_only_cancel() -> None:
    pending = planner.plan(None, appt(), SETTINGS, [], [], NOW).jobs
    deleted = planner.plan(appt(), None, SETTINGS, [HOOK], pending, NOW)
    assert (deleted.changes, len(deleted.cancel)) == ([BookingChange.DELETED], len(pending))
    assert kinds(deleted) == [("webhook:w", "now:deleted", NOW)]  # only the appointment.deleted webhook
    quiet = planner.plan(None, appt(to_notify=False), SETTINGS, [HOOK], [], NOW)
    assert quiet.jobs == []
    switched_off = planner.plan(appt(), appt(to_notify=False), SETTINGS, [], pending, NOW)
    assert len(switched_off.cancel) == len(pending) and switched_off.jobs == []


def test_block_slots_series_and_irrelevant_edits() -> None:
    block = appt(kind=EventKind.BLOCK, status=None)
    assert planner.plan(None, block, SETTINGS, [HOOK], [], NOW) == planner.Plan()
    series = appt(rrule="FREQ=DAILY;COUNT=3", rrule_timezone="UTC")
    assert {j.trigger for j in planner.plan(None, series, SETTINGS, [], [], NOW).jobs} == {
        "now:booked",
        "now:confirmed",
    }
    assert planner.plan(appt(), appt(title="renamed"), SETTINGS, [HOOK], [], NOW) == planner.Plan()


def test_webhook_subscriptions_and_inactive_settings() -> None:
    only_cancel = HOOK.model_copy(update={"events": ["cancelled"]})
    off = setting("b", NotificationType.BOOKED).model_copy(update={"is_active": False})
    plan = planner.plan(None, appt(status=AppointmentStatus.NEW), [off], [only_cancel], [], NOW)
    assert plan.jobs == []
    assert all(j.status is JobStatus.PENDING for j in planner.plan(None, appt(), SETTINGS, [], [], NOW).jobs)
