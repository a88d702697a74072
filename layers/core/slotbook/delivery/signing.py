"""HMAC-SHA256 signatures of outgoing webhooks (the recipe receivers follow is in the README,
section "Outgoing webhooks").

Each POST carries::

    Slotbook-Signature:   t=<unix seconds>,v1=<hex HMAC-SHA256(secret, "<t>." + body)>
    Slotbook-Delivery-Id: <delivery id; the same on every retry of one delivery>
    Slotbook-Event:       appointment.booked | ... (the body's "type")

The key is the endpoint's secret as UTF-8 bytes; the signed bytes are the decimal timestamp, a
``.``, and the raw request body exactly as sent. Signing the timestamp with the body lets a
receiver reject replays older than a tolerance (5 minutes by default). A header may carry several
``v1=`` values (e.g. while a secret is rotated); one match is enough.
"""

from __future__ import annotations

import hashlib
import hmac
from datetime import datetime

SIGNATURE_HEADER = "Slotbook-Signature"
DELIVERY_ID_HEADER = "Slotbook-Delivery-Id"
EVENT_HEADER = "Slotbook-Event"
SCHEME = "v1"
DEFAULT_TOLERANCE_S = 300


def _unix(timestamp: int | datetime) -> int:
    if isinstance(timestamp, datetime):
        if timestamp.tzinfo is None:
            raise ValueError("naive datetime: timestamps must be timezone-aware")
        return int(timestamp.timestamp())
    return int(timestamp)


def _digest(secret: str, timestamp: int, body: bytes) -> str:
    signed = f"{timestamp}.".encode() + body
    return hmac.new(secret.encode("utf-8"), signed, hashlib.sha256).hexdigest()


def signature_header(secret: str, timestamp: int | datetime, body: bytes) -> str:
    """The ``Slotbook-Signature`` value for ``body`` sent at ``timestamp`` (unix seconds, or an
    aware datetime truncated to the second): ``t=<unix>,v1=<64 lowercase hex chars>``."""
    t = _unix(timestamp)
    return f"t={t},{SCHEME}={_digest(secret, t, body)}"


def headers(
    secret: str, *, delivery_id: str, event_type: str, timestamp: int | datetime, body: bytes
) -> dict[str, str]:
    """Every Slotbook header of one webhook POST (signature, delivery id, event type)."""
    return {
        SIGNATURE_HEADER: signature_header(secret, timestamp, body),
        DELIVERY_ID_HEADER: delivery_id,
        EVENT_HEADER: event_type,
    }


def verify(
    secret: str,
    header: str,
    body: bytes,
    now: int | datetime,
    tolerance_s: int = DEFAULT_TOLERANCE_S,
) -> bool:
    """Whether ``header`` is a valid signature of ``body`` under ``secret``, made within
    ``tolerance_s`` seconds of ``now`` (either side, to allow clock skew). Malformed headers are
    invalid (never an exception); digests are compared in constant time."""
    timestamp: int | None = None
    candidates: list[str] = []
    for part in header.split(","):
        key, sep, value = part.strip().partition("=")
        if not sep:
            continue
        if key == "t" and value.isascii() and value.isdigit():
            timestamp = int(value)
        elif key == SCHEME:
            candidates.append(value)
    if timestamp is None or not candidates:
        return False
    if abs(_unix(now) - timestamp) > tolerance_s:
        return False
    expected = _digest(secret, timestamp, body)
    # Check every candidate (no early exit) so timing does not reveal which one matched.
    matches = [hmac.compare_digest(expected.encode(), c.encode("utf-8")) for c in candidates]
    return any(matches)
