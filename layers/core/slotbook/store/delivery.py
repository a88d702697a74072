"""DynamoDB access for notification delivery (patterns 29-34): jobs, their due index, sent
markers, the delivery log and in-app items.

Part of the one store door: :class:`slotbook.store.dynamo.DynamoStore` mixes this class in; the
access patterns are listed in :mod:`slotbook.store.dynamo` and every key comes from
:mod:`slotbook.store.keys`.

Items (all under ``PK=LOC#<loc>``):

* ``JOB#<appointment>#<jobId>`` — a :class:`~slotbook.delivery.models.Job` (``doc``) with a
  top-level ``status`` (pending → claimed → queued → done | failed; pending → cancelled) and,
  while it is pending or claimed, ``GSI1PK=DUE#<UTC minute>#<shard>`` / ``GSI1SK=<due>#<loc>#<id>``
  (a sparse index: a queued, done or cancelled job leaves it). Every status change is a
  conditional UpdateItem, so two sweeps (or a sweep and a booking) never both hand out a job.
* ``JOBSEQ#<appointment>`` — the appointment's reschedule counter (``.ics`` SEQUENCE).
* ``SENT#<jobId>#<channel>#<sha256(address)>`` — one (job, channel, recipient) delivery:
  ``sending`` (leased) → ``sent``, or back to ``retry``; taken with a conditional PutItem.
* ``DLV#<appointment>#<at>#<recordId>`` — a :class:`~slotbook.delivery.models.DeliveryRecord`.
* ``INBOX#<user>#<at>#<key>`` — an in-app item (idempotent on the message key).
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from boto3.dynamodb.conditions import Key
from botocore.exceptions import ClientError

from slotbook.delivery.models import DeliveryRecord, Job, JobStatus, Message
from slotbook.store import keys as k
from slotbook.timeutil import iso_utc_ms, sort_key

_CHECK_FAILED = "ConditionalCheckFailedException"


@dataclass(frozen=True)
class DueJob:
    """A job found in the due index: enough to claim it (its key) and to log it."""

    location_id: str
    appointment_id: str
    job_id: str
    due_at: str


@dataclass(frozen=True)
class InboxItem:
    """An in-app notification stored for a user (readable by the host)."""

    id: str
    user_id: str
    appointment_id: str
    notification_type: str
    subject: str
    body: str
    at: datetime


def address_hash(address: str) -> str:
    """A short stable digest of a recipient address (sent-marker keys hold no personal data)."""
    return hashlib.sha256(address.strip().lower().encode()).hexdigest()[:32]


class DeliveryStore:
    """Delivery jobs and their log (patterns 29-34) (mixed into DynamoStore)."""

    # -- jobs -------------------------------------------------------------------------------------

    def put_job(self, job: Job) -> bool:
        """Write a pending job unless it exists (a replayed plan changes nothing: a delivered job
        stays delivered); a *cancelled* job of the same id is revived (an appointment moved back,
        ``toNotify`` switched on again). True if written. PutItem, conditional."""
        due = job.due_at.astimezone(UTC)
        item = {
            **k.job(job.location_id, job.appointment_id, job.id),
            k.GSI1PK: k.due_bucket(due, _shard(job.id)),
            k.GSI1SK: k.due_sk(due, job.location_id, job.id),
            "doc": job.model_dump_json(),
            "status": JobStatus.PENDING.value,
            "loc": job.location_id,
            "appt": job.appointment_id,
            "jobId": job.id,
        }
        try:
            self._client.put_item(  # type: ignore[attr-defined]
                TableName=self._name,  # type: ignore[attr-defined]
                Item=item,
                ConditionExpression="attribute_not_exists(PK) OR #s = :cancelled",
                ExpressionAttributeNames={"#s": "status"},
                ExpressionAttributeValues={":cancelled": JobStatus.CANCELLED.value},
            )
        except ClientError as exc:
            if _code(exc) == _CHECK_FAILED:
                return False
            raise
        return True

    def get_job(self, location_id: str, appointment_id: str, job_id: str) -> tuple[Job, JobStatus] | None:
        """A job and its current status (strongly consistent), or None."""
        item = self._client.get_item(  # type: ignore[attr-defined]
            TableName=self._name,  # type: ignore[attr-defined]
            Key=k.job(location_id, appointment_id, job_id),
            ConsistentRead=True,
        ).get("Item")
        if not item:
            return None
        return _job(item), JobStatus(item["status"])

    def appointment_jobs(self, location_id: str, appointment_id: str) -> list[Job]:
        """Pattern 30: every job of an appointment, each with its current status (one Query)."""
        cond = Key(k.PK).eq(k.location_pk(location_id)) & Key(k.SK).begins_with(k.job_prefix(appointment_id))
        items = self._query(KeyConditionExpression=cond)  # type: ignore[attr-defined]
        return [_job(i) for i in items]

    def cancel_job(self, location_id: str, appointment_id: str, job_id: str) -> bool:
        """pending → cancelled (and out of the due index). False if it was no longer pending."""
        return self._transition(
            location_id,
            appointment_id,
            job_id,
            "SET #s = :to REMOVE GSI1PK, GSI1SK",
            "#s = :pending",
            {":to": JobStatus.CANCELLED.value, ":pending": JobStatus.PENDING.value},
        )

    def claim_job(
        self, location_id: str, appointment_id: str, job_id: str, now: datetime, stale_before: datetime
    ) -> bool:
        """pending → claimed, or take over a claim made before ``stale_before`` (its claimer died
        between claiming and queueing). Exactly one of several concurrent claimers wins."""
        return self._transition(
            location_id,
            appointment_id,
            job_id,
            "SET #s = :to, claimedAt = :now",
            "#s = :pending OR (#s = :to AND claimedAt < :stale)",
            {
                ":to": JobStatus.CLAIMED.value,
                ":pending": JobStatus.PENDING.value,
                ":now": sort_key(now),
                ":stale": sort_key(stale_before),
            },
        )

    def job_queued(self, location_id: str, appointment_id: str, job_id: str) -> bool:
        """claimed → queued (on the delivery queue; out of the due index)."""
        return self._transition(
            location_id,
            appointment_id,
            job_id,
            "SET #s = :to REMOVE GSI1PK, GSI1SK",
            "#s = :claimed",
            {":to": JobStatus.QUEUED.value, ":claimed": JobStatus.CLAIMED.value},
        )

    def release_job(self, location_id: str, appointment_id: str, job_id: str) -> bool:
        """claimed → pending (queueing failed: the next sweep hands it out again)."""
        return self._transition(
            location_id,
            appointment_id,
            job_id,
            "SET #s = :to REMOVE claimedAt",
            "#s = :claimed",
            {":to": JobStatus.PENDING.value, ":claimed": JobStatus.CLAIMED.value},
        )

    def finish_job(
        self, location_id: str, appointment_id: str, job_id: str, status: JobStatus, attempts: int
    ) -> None:
        """Record the outcome of a delivery attempt (done, failed) and its attempt count; a
        cancelled job stays cancelled."""
        self._transition(
            location_id,
            appointment_id,
            job_id,
            "SET #s = :to, attempts = :n REMOVE GSI1PK, GSI1SK",
            "attribute_exists(PK) AND #s <> :cancelled",
            {":to": status.value, ":n": attempts, ":cancelled": JobStatus.CANCELLED.value},
        )

    def due_jobs(self, now: datetime, lookback: timedelta) -> list[DueJob]:
        """Pattern 29: jobs due in ``(now - lookback, now]`` still pending or claimed, oldest first:
        one Query of GSI1 per minute bucket and shard (eventually consistent; the claim is what
        decides)."""
        now = now.astimezone(UTC)
        minute = now.replace(second=0, microsecond=0)
        first = (now - lookback).replace(second=0, microsecond=0)
        found: list[DueJob] = []
        while minute >= first:
            for shard in range(k.DUE_SHARDS):
                cond = Key(k.GSI1PK).eq(k.due_bucket(minute, shard)) & Key(k.GSI1SK).lte(
                    sort_key(now) + "#\uffff"
                )
                for item in self._query(  # type: ignore[attr-defined]
                    IndexName=k.GSI1,
                    KeyConditionExpression=cond,
                    ProjectionExpression="#l, appt, jobId, GSI1SK",
                    ExpressionAttributeNames={"#l": "loc"},
                ):
                    found.append(DueJob(item["loc"], item["appt"], item["jobId"], item["GSI1SK"]))
            minute -= timedelta(minutes=1)
        return sorted(found, key=lambda d: d.due_at)

    def next_sequence(self, location_id: str, appointment_id: str) -> int:
        """Add one to the appointment's reschedule counter; the new value (UpdateItem ADD)."""
        out = self._client.update_item(  # type: ignore[attr-defined]
            TableName=self._name,  # type: ignore[attr-defined]
            Key=k.sequence(location_id, appointment_id),
            UpdateExpression="ADD #n :one",
            ExpressionAttributeNames={"#n": "n"},
            ExpressionAttributeValues={":one": 1},
            ReturnValues="UPDATED_NEW",
        )
        return int(out["Attributes"]["n"])

    def current_sequence(self, location_id: str, appointment_id: str) -> int:
        """The appointment's reschedule count (0 if never rescheduled)."""
        item = self._client.get_item(  # type: ignore[attr-defined]
            TableName=self._name,  # type: ignore[attr-defined]
            Key=k.sequence(location_id, appointment_id),
        ).get("Item")
        return int(item["n"]) if item else 0

    # -- sent markers ------------------------------------------------------------------------------

    def acquire_send(
        self, location_id: str, job_id: str, channel: str, address: str, now: datetime, stale_before: datetime
    ) -> bool:
        """Take the right to send job ``job_id`` to ``address`` on ``channel``: False when it was
        sent already or another attempt is sending it now (its lease, taken after
        ``stale_before``, still holds). Conditional PutItem."""
        try:
            self._client.put_item(  # type: ignore[attr-defined]
                TableName=self._name,  # type: ignore[attr-defined]
                Item={
                    **k.sent_marker(location_id, job_id, channel, address_hash(address)),
                    "state": "sending",
                    "at": sort_key(now),
                },
                ConditionExpression=(
                    "attribute_not_exists(PK) OR #st = :retry OR (#st = :sending AND #at < :stale)"
                ),
                ExpressionAttributeNames={"#st": "state", "#at": "at"},
                ExpressionAttributeValues={
                    ":retry": "retry",
                    ":sending": "sending",
                    ":stale": sort_key(stale_before),
                },
            )
        except ClientError as exc:
            if _code(exc) == _CHECK_FAILED:
                return False
            raise
        return True

    def settle_send(self, location_id: str, job_id: str, channel: str, address: str, *, sent: bool) -> None:
        """Mark a taken send ``sent`` (never again) or ``retry`` (a later attempt may send it)."""
        self._client.update_item(  # type: ignore[attr-defined]
            TableName=self._name,  # type: ignore[attr-defined]
            Key=k.sent_marker(location_id, job_id, channel, address_hash(address)),
            UpdateExpression="SET #st = :state",
            ExpressionAttributeNames={"#st": "state"},
            ExpressionAttributeValues={":state": "sent" if sent else "retry"},
        )

    # -- delivery log ------------------------------------------------------------------------------

    def put_delivery_record(self, record: DeliveryRecord) -> None:
        self._client.put_item(  # type: ignore[attr-defined]
            TableName=self._name,  # type: ignore[attr-defined]
            Item={
                **k.delivery_record(record.location_id, record.appointment_id, record.at, record.id),
                "doc": record.model_dump_json(),
            },
        )

    def delivery_records(self, location_id: str, appointment_id: str) -> list[DeliveryRecord]:
        """Pattern 32: an appointment's delivery attempts, oldest first (one Query)."""
        cond = Key(k.PK).eq(k.location_pk(location_id)) & Key(k.SK).begins_with(
            k.delivery_prefix(appointment_id)
        )
        records = [
            DeliveryRecord.model_validate_json(i["doc"])
            for i in self._query(KeyConditionExpression=cond)  # type: ignore[attr-defined]
        ]
        return sorted(records, key=lambda r: (r.at, r.attempt))  # stable within one second

    # -- in-app items ------------------------------------------------------------------------------

    def put_inbox_item(
        self, location_id: str, appointment_id: str, notification_type: str, message: Message, at: datetime
    ) -> str:
        """Store an in-app item for the user ``message.recipient.address``; the same message (by
        idempotency key) rewrites the same item. Returns the item id."""
        user_id = message.recipient.address
        item_id = hashlib.sha256(message.idempotency_key.encode()).hexdigest()[:24]
        self._client.put_item(  # type: ignore[attr-defined]
            TableName=self._name,  # type: ignore[attr-defined]
            Item={
                **k.inbox_item(location_id, user_id, at, item_id),
                "doc": json.dumps(
                    {
                        "id": item_id,
                        "userId": user_id,
                        "appointmentId": appointment_id,
                        "notificationType": notification_type,
                        "subject": message.subject,
                        "body": message.body,
                        "at": iso_utc_ms(at),
                    }
                ),
            },
        )
        return item_id

    def inbox(self, location_id: str, user_id: str, limit: int = 100) -> list[InboxItem]:
        """Pattern 33: a user's in-app items, newest first (one Query page of ``limit``)."""
        cond = Key(k.PK).eq(k.location_pk(location_id)) & Key(k.SK).begins_with(k.inbox_prefix(user_id))
        pages = self._pages(  # type: ignore[attr-defined]
            KeyConditionExpression=cond, ScanIndexForward=False, Limit=limit
        )
        items = next(iter(pages)).get("Items", [])
        out = []
        for item in items:
            doc = json.loads(item["doc"])
            if doc["userId"] != user_id:
                continue  # another user whose id starts with "<user_id>#" (the prefix is shared)
            out.append(
                InboxItem(
                    id=doc["id"],
                    user_id=doc["userId"],
                    appointment_id=doc["appointmentId"],
                    notification_type=doc["notificationType"],
                    subject=doc["subject"],
                    body=doc["body"],
                    at=datetime.fromisoformat(doc["at"].replace("Z", "+00:00")),
                )
            )
        return out

    # -- internals ---------------------------------------------------------------------------------

    def _transition(
        self,
        location_id: str,
        appointment_id: str,
        job_id: str,
        update: str,
        condition: str,
        values: dict[str, Any],
    ) -> bool:
        try:
            self._client.update_item(  # type: ignore[attr-defined]
                TableName=self._name,  # type: ignore[attr-defined]
                Key=k.job(location_id, appointment_id, job_id),
                UpdateExpression=update,
                ConditionExpression=condition,
                ExpressionAttributeNames={"#s": "status"},
                ExpressionAttributeValues=values,
            )
        except ClientError as exc:
            if _code(exc) == _CHECK_FAILED:
                return False
            raise
        return True


def _job(item: dict[str, Any]) -> Job:
    job = Job.model_validate_json(item["doc"])
    return job.model_copy(
        update={"status": JobStatus(item["status"]), "attempts": int(item.get("attempts", 0))}
    )


def _shard(job_id: str) -> int:
    return int(hashlib.sha256(job_id.encode()).hexdigest()[:8], 16) % k.DUE_SHARDS


def _code(exc: ClientError) -> str:
    return str(exc.response.get("Error", {}).get("Code", ""))
