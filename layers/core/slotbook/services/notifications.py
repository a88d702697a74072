"""Calendar notification settings (reference/seeds/003, calendar notifications): stored and
validated here, delivered by the reminder service (issue 5) from
:meth:`DynamoStore.active_notifications`.

Rules, once for every dialect (a broken rule is ValidationFailed, 422, naming the field):

* ``before`` offsets (``beforeTime``) belong to reminders and ``after`` offsets (``afterTime``)
  to follow-ups only; a reminder needs at least one ``before`` offset and a follow-up at least one
  ``after`` offset. Each offset is positive and at most :data:`MAX_OFFSET`; no offset twice.
* receiver ``emails`` needs ``additionalEmailIds`` and receiver ``phoneNumbers`` needs
  ``additionalPhoneNumbers``; those lists are used by no other receiver type, so they are refused
  with one.
* channel and receiver must be able to meet: ``emails`` are reached by the ``email`` channel only,
  ``phoneNumbers`` by ``sms`` or ``whatsapp`` only, and ``inApp`` reaches users only
  (``assignedUser`` or ``business``), never a contact, guest or raw address.
* ``subject`` and ``body`` are templates (:mod:`slotbook.delivery.templates`): balanced
  ``{{``/``}}``, no empty or unknown placeholder — checked here, at save, so a reminder never
  fires with a broken one.
* ``deleted`` is a soft delete: a deleted setting is still readable by id and listed only when
  deleted ones are asked for; an update may restore it.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta

from slotbook.delivery.templates import template_errors
from slotbook.domain import (
    NotificationChannel,
    NotificationOffset,
    NotificationReceiver,
    NotificationSetting,
    NotificationType,
)
from slotbook.errors import ConcurrentUpdate, NotFound, ValidationFailed
from slotbook.services.notes import time_ordered_id
from slotbook.store.dynamo import DynamoStore

MAX_OFFSET = timedelta(days=30)
"""Longest reminder lead or follow-up delay."""
MAX_SETTINGS_PER_REQUEST = 25
"""Settings one create request may carry (they are written in one transaction)."""
MAX_ATTEMPTS = 5
"""Read-modify-write attempts before contention on one setting becomes ConcurrentUpdate (409)."""

Clock = Callable[[], datetime]

_CHANNELS_FOR_RECEIVER: dict[NotificationReceiver, frozenset[NotificationChannel]] = {
    NotificationReceiver.EMAILS: frozenset({NotificationChannel.EMAIL}),
    NotificationReceiver.PHONE_NUMBERS: frozenset({NotificationChannel.SMS, NotificationChannel.WHATSAPP}),
    NotificationReceiver.CONTACT: frozenset(
        {NotificationChannel.EMAIL, NotificationChannel.SMS, NotificationChannel.WHATSAPP}
    ),
    NotificationReceiver.GUEST: frozenset(
        {NotificationChannel.EMAIL, NotificationChannel.SMS, NotificationChannel.WHATSAPP}
    ),
    NotificationReceiver.ASSIGNED_USER: frozenset(NotificationChannel),
    NotificationReceiver.BUSINESS: frozenset(NotificationChannel),
}
"""Which channels can reach each receiver type."""


def setting_errors(setting: NotificationSetting) -> list[str]:
    """Every rule of the module docstring that ``setting`` breaks, in the reference's field names."""
    errors: list[str] = []
    kind, receiver, channel = setting.notification_type, setting.receiver_type, setting.channel
    for field, offsets, owner in (
        ("beforeTime", setting.before, NotificationType.REMINDER),
        ("afterTime", setting.after, NotificationType.FOLLOWUP),
    ):
        if offsets and kind is not owner:
            errors.append(f"{field} is only allowed when notificationType is {owner.value}")
        elif kind is owner and not offsets:
            errors.append(f"{field} must have at least one entry when notificationType is {owner.value}")
        errors.extend(_offset_errors(field, offsets))
    for field, values, owner in (
        ("additionalEmailIds", setting.additional_emails, NotificationReceiver.EMAILS),
        ("additionalPhoneNumbers", setting.additional_phones, NotificationReceiver.PHONE_NUMBERS),
    ):
        if values and receiver is not owner:
            errors.append(f"{field} is only allowed when receiverType is {owner.value}")
        elif receiver is owner and not values:
            errors.append(f"{field} must have at least one entry when receiverType is {owner.value}")
        if len({v.lower() for v in values}) != len(values):
            errors.append(f"{field} must not contain duplicates")
    if channel not in _CHANNELS_FOR_RECEIVER[receiver]:
        allowed = ", ".join(sorted(c.value for c in _CHANNELS_FOR_RECEIVER[receiver]))
        errors.append(f"channel {channel.value} cannot reach receiverType {receiver.value} (use {allowed})")
    if len(set(setting.selected_users)) != len(setting.selected_users):
        errors.append("selectedUsers must not contain duplicates")
    for field, text in (("subject", setting.subject), ("body", setting.body)):
        errors.extend(f"{field}: {e}" for e in template_errors(text or ""))
    return errors


def _offset_errors(field: str, offsets: list[NotificationOffset]) -> list[str]:
    errors = []
    seen: set[int] = set()
    for i, offset in enumerate(offsets):
        seconds = offset.seconds()
        if seconds <= 0:
            errors.append(f"{field}.{i}.timeOffset must be greater than 0")
        elif seconds > MAX_OFFSET.total_seconds():
            errors.append(f"{field}.{i} must be at most {MAX_OFFSET.days} days")
        if seconds in seen:
            errors.append(f"{field}.{i} repeats an earlier offset")
        seen.add(seconds)
    return errors


class NotificationService:
    """Notification settings of calendars over one store. ``clock`` returns an aware UTC now."""

    def __init__(
        self, store: DynamoStore, clock: Clock, on_change: Callable[[str, str], None] | None = None
    ) -> None:
        self._store = store
        self._clock = clock
        self._on_change = on_change
        """Told ``(location_id, calendar_id)`` after a reminder or follow-up setting was stored
        (created, edited, deleted): delivery re-plans the calendar's appointments (issue 5)."""

    def _changed(self, location_id: str, calendar_id: str, *settings: NotificationSetting) -> None:
        scheduled = (NotificationType.REMINDER, NotificationType.FOLLOWUP)
        if self._on_change is not None and any(s.notification_type in scheduled for s in settings):
            self._on_change(location_id, calendar_id)

    def list_settings(
        self,
        location_id: str,
        calendar_id: str,
        *,
        is_active: bool | None = None,
        deleted: bool = False,
        skip: int = 0,
        limit: int = 100,
    ) -> list[NotificationSetting]:
        """A calendar's settings, oldest first (request order within one create), filtered
        (``deleted`` False = only live ones, True = only soft-deleted ones; ``is_active`` None =
        both) and paged. NotFound for an unknown calendar."""
        self._calendar(location_id, calendar_id)
        found = self._store.list_notifications(location_id, calendar_id, deleted=deleted, is_active=is_active)
        found.sort(key=lambda s: s.id)  # ids sort by creation, then by position in the request
        return found[skip : skip + limit]

    def create_settings(
        self, location_id: str, calendar_id: str, drafts: list[NotificationSetting]
    ) -> list[NotificationSetting]:
        """Store 1..:data:`MAX_SETTINGS_PER_REQUEST` new settings of one calendar, all or none.
        Ids, owner and stamps of ``drafts`` are assigned here. NotFound for an unknown calendar;
        ValidationFailed listing every broken rule, prefixed with the entry's index."""
        if not 0 < len(drafts) <= MAX_SETTINGS_PER_REQUEST:
            raise ValidationFailed([f"between 1 and {MAX_SETTINGS_PER_REQUEST} notifications per request"])
        now = self._clock()
        settings = [
            d.model_copy(
                update={
                    "id": time_ordered_id(now, i),
                    "location_id": location_id,
                    "calendar_id": calendar_id,
                    "deleted": False,
                    "created_at": now,
                    "updated_at": now,
                }
            )
            for i, d in enumerate(drafts)
        ]
        errors = [f"{i}.{e}" for i, s in enumerate(settings) for e in setting_errors(s)]
        if errors:
            raise ValidationFailed(errors)
        self._calendar(location_id, calendar_id)
        self._store.create_notifications(settings)
        self._changed(location_id, calendar_id, *settings)
        return settings

    def get_setting(self, location_id: str, calendar_id: str, notification_id: str) -> NotificationSetting:
        """One setting (soft-deleted ones too). NotFound for an unknown calendar or setting."""
        self._calendar(location_id, calendar_id)
        return self._setting(location_id, calendar_id, notification_id)

    def update_setting(
        self,
        location_id: str,
        calendar_id: str,
        notification_id: str,
        change: Callable[[NotificationSetting], NotificationSetting],
    ) -> NotificationSetting:
        """Apply ``change`` (the dialect's merge of the sent fields) to the current setting,
        validate the result and store it unless it changed meanwhile (then re-read and apply
        again). NotFound, ValidationFailed, ConcurrentUpdate after repeated contention."""
        self._calendar(location_id, calendar_id)
        for _ in range(MAX_ATTEMPTS):
            current = self._setting(location_id, calendar_id, notification_id)
            updated = change(current).model_copy(
                update={
                    "id": current.id,
                    "location_id": current.location_id,
                    "calendar_id": current.calendar_id,
                    "created_at": current.created_at,
                    "updated_at": self._clock(),
                }
            )
            errors = setting_errors(updated)
            if errors:
                raise ValidationFailed(errors)
            try:
                self._store.replace_notification(updated, current)
            except ConcurrentUpdate:
                continue
            self._changed(location_id, calendar_id, current, updated)
            return updated
        raise ConcurrentUpdate("The notification is being changed by other requests; please retry.")

    def delete_setting(self, location_id: str, calendar_id: str, notification_id: str) -> NotificationSetting:
        """Soft delete (``deleted`` = true; deleting a deleted setting changes nothing). NotFound."""
        current = self.get_setting(location_id, calendar_id, notification_id)
        if current.deleted:
            return current
        return self.update_setting(
            location_id, calendar_id, notification_id, lambda s: s.model_copy(update={"deleted": True})
        )

    def _calendar(self, location_id: str, calendar_id: str) -> None:
        if self._store.get_calendar(location_id, calendar_id) is None:
            raise NotFound("Calendar", calendar_id)

    def _setting(self, location_id: str, calendar_id: str, notification_id: str) -> NotificationSetting:
        setting = self._store.get_notification(location_id, calendar_id, notification_id)
        if setting is None:
            raise NotFound("Notification", notification_id)
        return setting
