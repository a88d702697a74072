"""Notifications function (GoHighLevel dialect): notification settings of a calendar.

Routes and scopes as reference/seeds/003 lists them. Thin: validate, authorise, call the
notification service, shape the reference's response. Delivery is the reminder service's job;
this function only stores what it will read.
"""

from __future__ import annotations

from typing import Annotated, Any

from aws_lambda_powertools.event_handler.openapi.params import Body, Path, Query

from slotbook.container import services
from slotbook.errors import InvalidRequest
from slotbook.http import ghl_notifications as m
from slotbook.http.ghl import GhlApi
from slotbook.services.notifications import MAX_SETTINGS_PER_REQUEST

api = GhlApi()
app = api.app

CalendarId = Annotated[str, Path(min_length=1, max_length=128)]
NotificationId = Annotated[str, Path(min_length=1, max_length=128)]
MAX_LIMIT = 500
"""Largest ``limit`` of a listing (the reference's default is 100)."""


@api.get("/calendars/<calendarId>/notifications", scope="calendars/events.readonly")
def get_notifications(
    calendarId: CalendarId,
    isActive: Annotated[bool | None, Query()] = None,
    deleted: Annotated[bool, Query()] = False,
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT)] = 100,
    skip: Annotated[int, Query(ge=0)] = 0,
) -> list[dict[str, Any]]:
    """Array of ``CalendarNotificationResponseDTO``, oldest first; soft-deleted settings only
    with ``deleted=true`` (and then only those)."""
    settings = services().notifications.list_settings(
        api.tenant(), calendarId, is_active=isActive, deleted=deleted, skip=skip, limit=limit
    )
    return [m.notification_dto(s) for s in settings]


@api.post("/calendars/<calendarId>/notifications", scope="calendars/events.write")
def create_notifications(
    calendarId: CalendarId,
    body: Annotated[
        list[m.CreateCalendarNotificationDTO], Body(min_length=1, max_length=MAX_SETTINGS_PER_REQUEST)
    ],
) -> list[dict[str, Any]]:
    """Array of the created ``CalendarNotificationResponseDTO`` (all stored, or none)."""
    if any(item.calendarId not in (None, calendarId) for item in body):
        raise InvalidRequest("All notification settings must be for the calendar in the path.")
    created = services().notifications.create_settings(
        api.tenant(), calendarId, [m.new_setting(item) for item in body]
    )
    return [m.notification_dto(s) for s in created]


@api.get("/calendars/<calendarId>/notifications/<notificationId>", scope="calendars/events.readonly")
def get_notification(calendarId: CalendarId, notificationId: NotificationId) -> dict[str, Any]:
    """One ``CalendarNotificationResponseDTO`` (soft-deleted ones too, with ``deleted: true``)."""
    return m.notification_dto(services().notifications.get_setting(api.tenant(), calendarId, notificationId))


@api.put("/calendars/<calendarId>/notifications/<notificationId>", scope="calendars/events.write")
def update_notification(
    calendarId: CalendarId, notificationId: NotificationId, body: m.UpdateCalendarNotificationsDTO
) -> dict[str, Any]:
    """``CalendarNotificationDeleteResponseDTO``; ``deleted`` soft-deletes or restores."""
    services().notifications.update_setting(
        api.tenant(), calendarId, notificationId, lambda current: m.apply_update(body, current)
    )
    return {"message": "Notification updated successfully"}


@api.delete("/calendars/<calendarId>/notifications/<notificationId>", scope="calendars/events.write")
def delete_notification(calendarId: CalendarId, notificationId: NotificationId) -> dict[str, Any]:
    """Soft delete; ``CalendarNotificationDeleteResponseDTO``."""
    services().notifications.delete_setting(api.tenant(), calendarId, notificationId)
    return {"message": "Notification deleted successfully"}


def lambda_handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    return api.handler(event, context)
