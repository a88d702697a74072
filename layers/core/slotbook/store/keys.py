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
