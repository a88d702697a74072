"""DynamoDB access for calendar notification settings (pattern 22).

Part of the one store door: :class:`slotbook.store.dynamo.DynamoStore` mixes this class in; the
access patterns are listed in :mod:`slotbook.store.dynamo` and every key comes from
:mod:`slotbook.store.keys`. Methods use the core's plumbing (``self._client``, ``self._name``,
``self._query``, ``self._batch_get``, ``self._transact``).

Items: ``NOTIF#<calendarId>#<notificationId>`` under the location, holding ``doc`` (the
:class:`~slotbook.domain.NotificationSetting` JSON) and top-level booleans ``active`` and
``deleted`` mirroring the document, so listings filter on them inside the one Query.
"""

from __future__ import annotations

from typing import Any

from boto3.dynamodb.conditions import Attr, Key
from botocore.exceptions import ClientError

from slotbook.domain import NotificationSetting
from slotbook.errors import ConcurrentUpdate, NotFound
from slotbook.store import keys as k

MAX_SETTINGS_PER_WRITE = 100
"""Settings one :meth:`NotificationStore.create_notifications` call may write (one transaction)."""


class NotificationStore:
    """Calendar notification settings (pattern 22) (mixed into DynamoStore)."""

    def create_notifications(self, settings: list[NotificationSetting]) -> None:
        """Store new settings all together or none (one TransactWriteItems of at most
        :data:`MAX_SETTINGS_PER_WRITE` puts). ConcurrentUpdate if an id is taken (never, in
        practice) or a concurrent transaction interfered; nothing is written then."""
        assert 0 < len(settings) <= MAX_SETTINGS_PER_WRITE
        items = [
            {
                "Put": {
                    "TableName": self._name,  # type: ignore[attr-defined]
                    "Item": _item(s),
                    "ConditionExpression": "attribute_not_exists(PK)",
                }
            }
            for s in settings
        ]
        try:
            self._client.transact_write_items(TransactItems=items)  # type: ignore[attr-defined]
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") == "TransactionCanceledException":
                raise ConcurrentUpdate("The notifications could not be stored; please retry.") from exc
            raise

    def get_notification(
        self, location_id: str, calendar_id: str, notification_id: str
    ) -> NotificationSetting | None:
        """One setting of a calendar, deleted or not (strongly consistent), or None."""
        item = self._client.get_item(  # type: ignore[attr-defined]
            TableName=self._name,  # type: ignore[attr-defined]
            Key=k.notification(location_id, calendar_id, notification_id),
            ConsistentRead=True,
        ).get("Item")
        return NotificationSetting.model_validate_json(item["doc"]) if item else None

    def list_notifications(
        self, location_id: str, calendar_id: str, *, deleted: bool = False, is_active: bool | None = None
    ) -> list[NotificationSetting]:
        """Pattern 22: a calendar's settings whose ``deleted`` flag equals ``deleted`` and, when
        ``is_active`` is given, whose ``active`` flag equals it (unordered)."""
        flt = Attr("deleted").eq(deleted)
        if is_active is not None:
            flt = flt & Attr("active").eq(is_active)
        cond = Key(k.PK).eq(k.location_pk(location_id)) & Key(k.SK).begins_with(
            k.notification_prefix(calendar_id)
        )
        items = self._query(KeyConditionExpression=cond, FilterExpression=flt)  # type: ignore[attr-defined]
        return [NotificationSetting.model_validate_json(i["doc"]) for i in items]

    def active_notifications(self, location_id: str, calendar_id: str) -> list[NotificationSetting]:
        """The settings delivery must honour for a calendar: active and not deleted (pattern 22,
        one Query; unordered). Each names its ``notification_type`` (booked, confirmation,
        cancellation, reminder, followup, reschedule), ``channel``, ``receiver_type`` with its
        additional recipients, the template or subject/body, and for reminders the ``before`` /
        for follow-ups the ``after`` offsets (:meth:`NotificationOffset.seconds`) relative to
        the appointment's start / end. Read by the reminder service (issue 5)."""
        return self.list_notifications(location_id, calendar_id, deleted=False, is_active=True)

    def replace_notification(self, setting: NotificationSetting, previous: NotificationSetting) -> None:
        """Replace ``previous`` with ``setting`` only if nobody changed it meanwhile. NotFound if
        it is gone, ConcurrentUpdate if it changed (re-read and retry)."""
        try:
            self._client.update_item(  # type: ignore[attr-defined]
                TableName=self._name,  # type: ignore[attr-defined]
                Key=k.notification(setting.location_id, setting.calendar_id, setting.id),
                UpdateExpression="SET #doc = :doc, #active = :active, #deleted = :deleted",
                ConditionExpression="#doc = :prev",
                ExpressionAttributeNames={"#doc": "doc", "#active": "active", "#deleted": "deleted"},
                ExpressionAttributeValues={
                    ":doc": setting.model_dump_json(),
                    ":active": setting.is_active,
                    ":deleted": setting.deleted,
                    ":prev": previous.model_dump_json(),
                },
            )
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") != "ConditionalCheckFailedException":
                raise
            if self.get_notification(setting.location_id, setting.calendar_id, setting.id) is None:
                raise NotFound("Notification", setting.id) from exc
            raise ConcurrentUpdate("The notification was changed by another request; please retry.") from exc


def _item(setting: NotificationSetting) -> dict[str, Any]:
    return {
        **k.notification(setting.location_id, setting.calendar_id, setting.id),
        "doc": setting.model_dump_json(),
        "active": setting.is_active,
        "deleted": setting.deleted,
    }
