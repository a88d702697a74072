"""GoHighLevel calendar-notification request bodies and response shaping.

Field names and enums follow ``CreateCalendarNotificationDTO``, ``UpdateCalendarNotificationsDTO``,
``SchedulesDTO`` and ``CalendarNotificationResponseDTO`` of
``reference/ghl-calendars-v3.openapi.json``. Unknown fields are refused (422). Bounds the
reference leaves open (documented here, enforced as 422):

* ``timeOffset`` a whole number, ``unit`` one of ``mins|hours|days``; at most
  :data:`MAX_OFFSETS` offsets per list (their values are checked by the notification service);
* ``additionalEmailIds`` are e-mail addresses, ``additionalPhoneNumbers`` and ``fromNumber`` E.164
  numbers (``+`` and 7-15 digits), at most :data:`MAX_RECIPIENTS` each; ``selectedUsers`` at most
  :data:`MAX_SELECTED_USERS` ids;
* ``subject`` ≤ :data:`MAX_SUBJECT`, ``body`` ≤ :data:`MAX_BODY`, ``fromName`` ≤ :data:`MAX_FROM_NAME`
  characters; ``templateId`` an id.

A create item may name its ``calendarId`` (the reference: "all notification settings must be for
single calendar only"); one that names another calendar than the path's is refused with 400.

Updates are partial: a field that is absent or ``null`` keeps its value; ``""`` clears an optional
text and ``[]`` a list. When ``notificationType`` (``receiverType``) changes, offsets (additional
recipients) that only served the old type are dropped unless the request sends new ones.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, Field

from slotbook.domain import (
    NotificationChannel,
    NotificationOffset,
    NotificationReceiver,
    NotificationSetting,
    NotificationType,
)
from slotbook.http.ghl_models import Body, Id
from slotbook.services.directory import is_email

MAX_OFFSETS = 10
MAX_RECIPIENTS = 20
MAX_SELECTED_USERS = 50
MAX_SUBJECT = 500
MAX_BODY = 20_000
MAX_FROM_NAME = 100

Receiver = Literal["contact", "guest", "assignedUser", "emails", "phoneNumbers", "business"]
Channel = Literal["email", "inApp", "sms", "whatsapp"]
Kind = Literal["booked", "confirmation", "cancellation", "reminder", "followup", "reschedule"]
OffsetUnit = Literal["mins", "hours", "days"]


def _an_email(value: str) -> str:
    if not is_email(value):
        raise ValueError("must be an e-mail address")
    return value


Email = Annotated[str, Field(max_length=254), AfterValidator(_an_email)]
Phone = Annotated[str, Field(pattern=r"^\+[1-9][0-9]{6,14}$")]
Subject = Annotated[str, Field(max_length=MAX_SUBJECT)]
Text = Annotated[str, Field(max_length=MAX_BODY)]
FromName = Annotated[str, Field(max_length=MAX_FROM_NAME)]
TemplateId = Annotated[str, Field(max_length=128)]


class SchedulesDTO(Body):
    timeOffset: int
    unit: OffsetUnit


Offsets = Annotated[list[SchedulesDTO], Field(max_length=MAX_OFFSETS)]
Emails = Annotated[list[Email], Field(max_length=MAX_RECIPIENTS)]
Phones = Annotated[list[Phone], Field(max_length=MAX_RECIPIENTS)]
Users = Annotated[list[Id], Field(max_length=MAX_SELECTED_USERS)]


class CreateCalendarNotificationDTO(Body):
    receiverType: Receiver
    channel: Channel
    notificationType: Kind
    calendarId: Annotated[str | None, Field(default=None, max_length=128)]
    isActive: bool = True
    templateId: TemplateId | None = None
    body: Text | None = None
    subject: Subject | None = None
    afterTime: Offsets | None = None
    beforeTime: Offsets | None = None
    additionalEmailIds: Emails | None = None
    additionalPhoneNumbers: Phones | None = None
    selectedUsers: Users | None = None
    fromAddress: Email | Literal[""] | None = None
    fromName: FromName | None = None
    fromNumber: Phone | Literal[""] | None = None


class UpdateCalendarNotificationsDTO(Body):
    receiverType: Receiver | None = None
    additionalEmailIds: Emails | None = None
    additionalPhoneNumbers: Phones | None = None
    selectedUsers: Users | None = None
    channel: Channel | None = None
    notificationType: Kind | None = None
    isActive: bool | None = None
    deleted: bool | None = None
    templateId: TemplateId | None = None
    body: Text | None = None
    subject: Subject | None = None
    afterTime: Offsets | None = None
    beforeTime: Offsets | None = None
    fromAddress: Email | Literal[""] | None = None
    fromNumber: Phone | Literal[""] | None = None
    fromName: FromName | None = None


def _offsets(items: list[SchedulesDTO] | None) -> list[NotificationOffset]:
    return [NotificationOffset(value=o.timeOffset, unit=o.unit) for o in items or []]


def new_setting(body: CreateCalendarNotificationDTO) -> NotificationSetting:
    """A draft setting from one create item (id, owner and stamps are the service's)."""
    epoch = datetime.fromtimestamp(0, UTC)
    return NotificationSetting(
        id="-",
        location_id="-",
        calendar_id="-",
        receiver_type=NotificationReceiver(body.receiverType),
        channel=NotificationChannel(body.channel),
        notification_type=NotificationType(body.notificationType),
        is_active=body.isActive,
        template_id=body.templateId or None,
        subject=body.subject or None,
        body=body.body or None,
        before=_offsets(body.beforeTime),
        after=_offsets(body.afterTime),
        additional_emails=list(body.additionalEmailIds or []),
        additional_phones=list(body.additionalPhoneNumbers or []),
        selected_users=list(body.selectedUsers or []),
        from_address=body.fromAddress or None,
        from_name=body.fromName or None,
        from_number=body.fromNumber or None,
        created_at=epoch,
        updated_at=epoch,
    )


def apply_update(body: UpdateCalendarNotificationsDTO, current: NotificationSetting) -> NotificationSetting:
    """``current`` with the fields ``body`` sets (see the module docstring for the merge rules)."""
    given = {name: getattr(body, name) for name in body.model_fields_set if getattr(body, name) is not None}
    update: dict[str, Any] = {}
    for name, target in (("receiverType", "receiver_type"), ("channel", "channel")):
        if name in given:
            update[target] = given[name]
    if "notificationType" in given:
        update["notification_type"] = NotificationType(given["notificationType"])
    for name, target in (("isActive", "is_active"), ("deleted", "deleted")):
        if name in given:
            update[target] = given[name]
    for name, target in (
        ("templateId", "template_id"),
        ("subject", "subject"),
        ("body", "body"),
        ("fromAddress", "from_address"),
        ("fromName", "from_name"),
        ("fromNumber", "from_number"),
    ):
        if name in given:
            update[target] = given[name] or None
    for name, target in (
        ("additionalEmailIds", "additional_emails"),
        ("additionalPhoneNumbers", "additional_phones"),
        ("selectedUsers", "selected_users"),
    ):
        if name in given:
            update[target] = list(given[name])
    for name, target in (("beforeTime", "before"), ("afterTime", "after")):
        if name in given:
            update[target] = _offsets(given[name])
    kind = update.get("notification_type", current.notification_type)
    if kind is not current.notification_type:
        if kind is not NotificationType.REMINDER and "before" not in update:
            update["before"] = []
        if kind is not NotificationType.FOLLOWUP and "after" not in update:
            update["after"] = []
    receiver = NotificationReceiver(update.get("receiver_type", current.receiver_type))
    if receiver is not current.receiver_type:
        if receiver is not NotificationReceiver.EMAILS and "additional_emails" not in update:
            update["additional_emails"] = []
        if receiver is not NotificationReceiver.PHONE_NUMBERS and "additional_phones" not in update:
            update["additional_phones"] = []
    return current.model_validate({**current.model_dump(), **update})


def notification_dto(setting: NotificationSetting) -> dict[str, Any]:
    """The reference's ``CalendarNotificationResponseDTO`` (``_id``); optional texts only when
    set, plus the sender fields the request may set (``fromAddress``, ``fromName``, ``fromNumber``)."""
    out: dict[str, Any] = {
        "_id": setting.id,
        "receiverType": setting.receiver_type.value,
        "channel": setting.channel.value,
        "notificationType": setting.notification_type.value,
        "isActive": setting.is_active,
        "deleted": setting.deleted,
        "additionalEmailIds": list(setting.additional_emails),
        "additionalPhoneNumbers": list(setting.additional_phones),
        "selectedUsers": list(setting.selected_users),
        "beforeTime": [{"timeOffset": o.value, "unit": o.unit} for o in setting.before],
        "afterTime": [{"timeOffset": o.value, "unit": o.unit} for o in setting.after],
    }
    for key, value in (
        ("templateId", setting.template_id),
        ("subject", setting.subject),
        ("body", setting.body),
        ("fromAddress", setting.from_address),
        ("fromName", setting.from_name),
        ("fromNumber", setting.from_number),
    ):
        if value is not None:
            out[key] = value
    return out
