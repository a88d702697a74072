"""Webhook signatures: HMAC-SHA256 over ``<t>.<body>``, verified in constant time with a tolerance."""

from __future__ import annotations

import hashlib
import hmac
from datetime import UTC, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from slotbook.delivery import signing
from slotbook.delivery.signing import headers, signature_header, verify

SECRET = "whsec_test_0123456789"
BODY = b'{"id":"d1","type":"appointment.booked"}'
T = 1_803_888_000  # 2027-03-01T08:00Z


def test_header_is_the_documented_recipe() -> None:
    # The recipe, computed independently of the module: t=<unix>,v1=hex(hmac_sha256(secret, "t." + body))
    expected = hmac.new(SECRET.encode(), f"{T}.".encode() + BODY, hashlib.sha256).hexdigest()

    assert signature_header(SECRET, T, BODY) == f"t={T},v1={expected}"
    assert signature_header(SECRET, datetime(2027, 3, 1, 8, 0, 0, 999_000, tzinfo=UTC), BODY) == (
        f"t={T},v1={expected}"
    )


def test_a_fresh_signature_verifies() -> None:
    header = signature_header(SECRET, T, BODY)
    assert verify(SECRET, header, BODY, now=T)
    assert verify(SECRET, header, BODY, now=T + 300)
    assert verify(SECRET, header, BODY, now=T - 300)  # receiver's clock behind the sender's
    assert verify(SECRET, header, BODY, now=datetime.fromtimestamp(T + 10, UTC))


@pytest.mark.parametrize(
    ("secret", "body", "now"),
    [
        (SECRET, BODY.replace(b"booked", b"cancelled"), T),  # tampered body
        (SECRET, BODY + b" ", T),  # re-serialised body
        ("whsec_other", BODY, T),  # wrong secret
        (SECRET, BODY, T + 301),  # stale: replayed after the tolerance
        (SECRET, BODY, T - 301),  # from the future beyond the tolerance
    ],
)
def test_tampering_wrong_secret_and_stale_timestamps_fail(secret: str, body: bytes, now: int) -> None:
    header = signature_header(SECRET, T, BODY)
    assert not verify(secret, header, body, now=now)


def test_a_changed_timestamp_invalidates_the_signature() -> None:
    header = signature_header(SECRET, T, BODY)
    forged = header.replace(f"t={T}", f"t={T + 60}")
    assert not verify(SECRET, forged, BODY, now=T + 60)


def test_tolerance_is_configurable() -> None:
    header = signature_header(SECRET, T, BODY)
    assert not verify(SECRET, header, BODY, now=T + 61, tolerance_s=60)
    assert verify(SECRET, header, BODY, now=T + 3600, tolerance_s=3600)


@pytest.mark.parametrize(
    "header",
    [
        "",
        "garbage",
        f"t={T}",
        "v1=" + "0" * 64,
        f"t=abc,v1={'0' * 64}",
        f"t=-{T},v1={'0' * 64}",
        f"t={T},v1=",
        f"t={T},v0={signature_header(SECRET, T, BODY).split('v1=')[1]}",
        f"t={T},v1=ü",
    ],
)
def test_malformed_headers_are_rejected_not_raised(header: str) -> None:
    assert verify(SECRET, header, BODY, now=T) is False


def test_any_of_several_v1_values_may_match_during_secret_rotation() -> None:
    old = signature_header("whsec_old", T, BODY).split("v1=")[1]
    new = signature_header(SECRET, T, BODY).split("v1=")[1]
    header = f"t={T}, v1={old}, v1={new}"
    assert verify(SECRET, header, BODY, now=T)
    assert verify("whsec_old", header, BODY, now=T)
    assert not verify("whsec_third", header, BODY, now=T)


def test_headers_carry_signature_delivery_id_and_event() -> None:
    sent = headers(SECRET, delivery_id="d1", event_type="appointment.booked", timestamp=T, body=BODY)
    assert sent == {
        signing.SIGNATURE_HEADER: signature_header(SECRET, T, BODY),
        signing.DELIVERY_ID_HEADER: "d1",
        signing.EVENT_HEADER: "appointment.booked",
    }
    assert set(sent) == {"Slotbook-Signature", "Slotbook-Delivery-Id", "Slotbook-Event"}


def test_naive_datetimes_are_refused() -> None:
    with pytest.raises(ValueError):
        signature_header(SECRET, datetime(2027, 3, 1, 8, 0), BODY)


@given(body=st.binary(max_size=512), secret=st.text(min_size=1, max_size=64), flip=st.integers(0, 10_000))
def test_every_body_round_trips_and_every_single_byte_change_fails(
    body: bytes, secret: str, flip: int
) -> None:
    header = signature_header(secret, T, body)
    assert verify(secret, header, body, now=T)
    if body:
        i = flip % len(body)
        tampered = body[:i] + bytes([body[i] ^ 0x01]) + body[i + 1 :]
        assert not verify(secret, header, tampered, now=T)
