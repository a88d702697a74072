"""Every DynamoDB key Slotbook builds, in one place (see the access-pattern table in
:mod:`slotbook.store.dynamo`). Nothing outside ``slotbook.store`` sees these strings, and no
key ever reaches a response.
"""

from __future__ import annotations

from datetime import datetime

from slotbook.timeutil import sort_key

PK, SK = "PK", "SK"
GSI1 = "GSI1"
GSI1PK, GSI1SK = "GSI1PK", "GSI1SK"

LOCATION_SK = "LOCATION"
VERSION_SK = "VERSION"
KEY_SK = "APIKEY"


def location(location_id: str) -> dict[str, str]:
    return {PK: f"LOC#{location_id}", SK: LOCATION_SK}


def location_pk(location_id: str) -> str:
    return f"LOC#{location_id}"


def api_key_by_hash(digest: str) -> dict[str, str]:
    return {PK: f"APIKEY#{digest}", SK: KEY_SK}


def api_key_record(location_id: str, key_id: str) -> dict[str, str]:
    return {PK: f"LOC#{location_id}", SK: f"APIKEY#{key_id}"}


def calendar(location_id: str, calendar_id: str) -> dict[str, str]:
    return {PK: f"LOC#{location_id}", SK: f"CAL#{calendar_id}"}


CALENDAR_PREFIX = "CAL#"


def event(location_id: str, event_id: str) -> dict[str, str]:
    return {PK: f"LOC#{location_id}", SK: f"EVT#{event_id}"}


def host_timeline_pk(location_id: str, host_id: str) -> str:
    """Partition holding one host's busy time (appointments they attend, their block slots)."""
    return f"TL#{location_id}#HOST#{host_id}"


def host_version(location_id: str, host_id: str) -> dict[str, str]:
    """The optimistic-concurrency item of a host, checked by every booking transaction."""
    return {PK: host_timeline_pk(location_id, host_id), SK: VERSION_SK}


def timeline_sk(start: datetime, event_id: str) -> str:
    return f"{sort_key(start)}#{event_id}"


def host_entry(location_id: str, host_id: str, start: datetime, event_id: str) -> dict[str, str]:
    return {PK: host_timeline_pk(location_id, host_id), SK: timeline_sk(start, event_id)}


def calendar_appointments_gsi(location_id: str, calendar_id: str) -> str:
    return f"CAL#{location_id}#{calendar_id}"


def calendar_blocks_gsi(location_id: str, calendar_id: str) -> str:
    return f"CALBLK#{location_id}#{calendar_id}"


def range_bounds(lo: datetime, hi: datetime) -> tuple[str, str]:
    """Sort-key bounds selecting entries that start in ``[lo, hi]`` (inclusive)."""
    return sort_key(lo), sort_key(hi) + "#\uffff"


# -- calendar groups (pattern 12-14) ------------------------------------------------------------

GROUP_PREFIX = "GRP#"


def group(location_id: str, group_id: str) -> dict[str, str]:
    return {PK: f"LOC#{location_id}", SK: f"{GROUP_PREFIX}{group_id}"}


def group_slug(location_id: str, slug: str) -> dict[str, str]:
    """The uniqueness lock of a group slug within a location (written with the group)."""
    return {PK: f"LOC#{location_id}", SK: f"GRPSLUG#{slug}"}


# -- availability schedules (patterns 15-16) ---------------------------------------------------

SCHEDULE_PREFIX = "SCHED#"


def schedule(location_id: str, schedule_id: str) -> dict[str, str]:
    return {PK: f"LOC#{location_id}", SK: f"{SCHEDULE_PREFIX}{schedule_id}"}


def user_schedules_gsi(location_id: str, user_id: str) -> str:
    """GSI1 partition listing one user's schedules (GSI1SK = :func:`user_schedule_sk`)."""
    return f"SCHEDUSER#{location_id}#{user_id}"


def user_schedule_sk(created_at: datetime, schedule_id: str) -> str:
    """GSI1SK of a schedule in its user's partition: creation instant then id, so a user's
    schedules list oldest first and skip/limit pages stay stable as schedules are added."""
    return f"{sort_key(created_at)}#{schedule_id}"


# -- resources: rooms and equipments (patterns 17-20) ------------------------------------------


def resource(location_id: str, resource_type: str, resource_id: str) -> dict[str, str]:
    return {PK: f"LOC#{location_id}", SK: f"RES#{resource_type}#{resource_id}"}


def resource_prefix(resource_type: str) -> str:
    return f"RES#{resource_type}#"


def resource_timeline_pk(location_id: str, resource_id: str) -> str:
    """Partition holding the bookings that occupy a resource (like a host's timeline)."""
    return f"TL#{location_id}#RES#{resource_id}"


def resource_version(location_id: str, resource_id: str) -> dict[str, str]:
    return {PK: resource_timeline_pk(location_id, resource_id), SK: VERSION_SK}


def resource_entry(location_id: str, resource_id: str, start: datetime, event_id: str) -> dict[str, str]:
    return {PK: resource_timeline_pk(location_id, resource_id), SK: timeline_sk(start, event_id)}


# -- appointment notes (pattern 21) ----------------------------------------------------------


def note(location_id: str, appointment_id: str, note_id: str) -> dict[str, str]:
    return {PK: f"LOC#{location_id}", SK: f"NOTE#{appointment_id}#{note_id}"}


def note_prefix(appointment_id: str) -> str:
    return f"NOTE#{appointment_id}#"


# -- calendar notification settings (pattern 22) -------------------------------------------------


def notification(location_id: str, calendar_id: str, notification_id: str) -> dict[str, str]:
    return {PK: f"LOC#{location_id}", SK: f"NOTIF#{calendar_id}#{notification_id}"}


def notification_prefix(calendar_id: str) -> str:
    return f"NOTIF#{calendar_id}#"


# -- recurring series (patterns 23-24) ----------------------------------------------------------


def calendar_series_gsi(location_id: str, calendar_id: str) -> str:
    """GSI1 partition listing the recurring series (masters) of a calendar (GSI1SK = master id)."""
    return f"CALSERIES#{location_id}#{calendar_id}"


SERIES_ATTR_PREFIX = "series_"
"""Host VERSION items carry one attribute ``series_<masterId>`` per recurring series occupying
the host (its rule, duration, buffers and exceptions), read with the version."""


# -- recipient directory and webhook endpoints (patterns 25-28) ---------------------------------


def person(location_id: str, kind: str, person_id: str) -> dict[str, str]:
    """A directory entry of a location (``kind`` is ``contact`` or ``user``)."""
    return {PK: f"LOC#{location_id}", SK: f"{person_prefix(kind)}{person_id}"}


def person_prefix(kind: str) -> str:
    return f"PERSON#{kind}#"


def webhook(location_id: str, webhook_id: str) -> dict[str, str]:
    return {PK: f"LOC#{location_id}", SK: f"{WEBHOOK_PREFIX}{webhook_id}"}


WEBHOOK_PREFIX = "WEBHOOK#"


# -- delivery jobs, sent markers, delivery log, in-app inbox (patterns 29-34) ------------------


DUE_SHARDS = 2
"""Partitions per minute of the due-jobs index (spreads a burst of reminders due together)."""


def job(location_id: str, appointment_id: str, job_id: str) -> dict[str, str]:
    """A delivery job, under its appointment (pattern 30 lists an appointment's jobs)."""
    return {PK: f"LOC#{location_id}", SK: f"{job_prefix(appointment_id)}{job_id}"}


def job_prefix(appointment_id: str) -> str:
    return f"JOB#{appointment_id}#"


def due_bucket(minute: datetime, shard: int) -> str:
    """GSI1 partition of the jobs due in one UTC minute (``DUE#2027-03-01T08:05#<shard>``); only
    jobs still to hand out carry it (a sparse index)."""
    return f"DUE#{minute:%Y-%m-%dT%H:%M}#{shard}"


def due_sk(due: datetime, location_id: str, job_id: str) -> str:
    return f"{sort_key(due)}#{location_id}#{job_id}"


def sequence(location_id: str, appointment_id: str) -> dict[str, str]:
    """The reschedule counter of an appointment (the ``.ics`` SEQUENCE)."""
    return {PK: f"LOC#{location_id}", SK: f"JOBSEQ#{appointment_id}"}


def sent_marker(location_id: str, job_id: str, channel: str, address_hash: str) -> dict[str, str]:
    """One (job, channel, recipient) delivery: written conditionally before sending, so a retried
    or duplicated job never re-sends to a recipient already served."""
    return {PK: f"LOC#{location_id}", SK: f"SENT#{job_id}#{channel}#{address_hash}"}


def delivery_record(location_id: str, appointment_id: str, at: datetime, record_id: str) -> dict[str, str]:
    return {PK: f"LOC#{location_id}", SK: f"{delivery_prefix(appointment_id)}{sort_key(at)}#{record_id}"}


def delivery_prefix(appointment_id: str) -> str:
    return f"DLV#{appointment_id}#"


def inbox_item(location_id: str, user_id: str, at: datetime, item_key: str) -> dict[str, str]:
    """An in-app item of a user; ``at`` (the job's due instant) first, so newest-first listing is a
    descending Query, and ``item_key`` (the message's idempotency key) makes a retry rewrite it."""
    return {PK: f"LOC#{location_id}", SK: f"{inbox_prefix(user_id)}{sort_key(at)}#{item_key}"}


def inbox_prefix(user_id: str) -> str:
    return f"INBOX#{user_id}#"


# -- calendar connections and provider sync (patterns 35-46) ------------------------------------

CONNECTION_PREFIX = "CXN#"
SYNC_SHARDS = 4
"""Partitions of the sync-due index (GSI1 ``CXNDUE#<shard>``), one Query each per sweep."""
CONNECTION_ATTR_PREFIX = "cxn_"
"""Host VERSION items carry one attribute ``cxn_<connectionId>`` per calendar connection linked
to the host (pattern 46), read with the version."""
BUSY_ATTR_PREFIX = "e_"
"""A provider busy-day item holds one attribute ``e_<providerEventId>`` = ``[startTs, endTs]``
per provider event touching that UTC day."""


def connection(location_id: str, connection_id: str) -> dict[str, str]:
    return {PK: f"LOC#{location_id}", SK: f"{CONNECTION_PREFIX}{connection_id}"}


def connection_secret(location_id: str, connection_id: str) -> dict[str, str]:
    """The KMS-encrypted OAuth tokens of a connection."""
    return {PK: f"LOC#{location_id}", SK: f"CXNSECRET#{connection_id}"}


def connection_sync(location_id: str, connection_id: str) -> dict[str, str]:
    """A connection's sync state: cursor, watch channel, lease, next due instant."""
    return {PK: f"LOC#{location_id}", SK: f"CXNSYNC#{connection_id}"}


def sync_due_gsi(shard: int) -> str:
    return f"CXNDUE#{shard}"


def sync_due_sk(due: datetime, location_id: str, connection_id: str) -> str:
    return f"{sort_key(due)}#{location_id}#{connection_id}"


def channel(channel_id: str) -> dict[str, str]:
    """A provider watch channel (Google) or subscription (Graph) by its id: the webhook's lookup.
    Not under a location: the provider's callback names only the channel."""
    return {PK: f"CHANNEL#{channel_id}", SK: "CHANNEL"}


def busy_pk(location_id: str, connection_id: str) -> str:
    """Partition of a connection's provider busy time (day items, event pointers, own events)."""
    return f"CXBUSY#{location_id}#{connection_id}"


def busy_day(location_id: str, connection_id: str, day: str) -> dict[str, str]:
    """``day``: a UTC date ``YYYY-MM-DD``; day sort keys sort before ``EV#``/``OWN#``."""
    return {PK: busy_pk(location_id, connection_id), SK: day}


def busy_pointer(location_id: str, connection_id: str, event_id: str) -> dict[str, str]:
    """Which day items hold a provider event (so a change or deletion finds them)."""
    return {PK: busy_pk(location_id, connection_id), SK: f"EV#{event_id}"}


def own_event(location_id: str, connection_id: str, event_id: str) -> dict[str, str]:
    """A provider event Slotbook wrote for one of its bookings (never stored as busy time)."""
    return {PK: busy_pk(location_id, connection_id), SK: f"OWN#{event_id}"}


def provider_copy(location_id: str, event_id: str, connection_id: str) -> dict[str, str]:
    """The provider copy of a booking on one connection (its provider event id)."""
    return {PK: f"LOC#{location_id}", SK: f"CXCOPY#{event_id}#{connection_id}"}


def provider_copy_prefix(event_id: str) -> str:
    return f"CXCOPY#{event_id}#"


def connection_bookings_gsi(location_id: str, connection_id: str) -> str:
    return f"CXNBK#{location_id}#{connection_id}"


def oauth_state(nonce: str) -> dict[str, str]:
    """A pending OAuth authorisation (PKCE verifier), single use, expiring (TTL)."""
    return {PK: f"OAUTH#{nonce}", SK: "OAUTH"}
