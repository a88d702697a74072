"""Checks on the raw API Gateway event shared by every dialect, made before routing."""

from __future__ import annotations

import base64
import binascii
from typing import Any

from slotbook.errors import InvalidRequest


def check_body_encoding(event: dict[str, Any]) -> None:
    """Raise InvalidRequest (400) when the body is not UTF-8 text.

    API Gateway base64-encodes bodies it does not take for text; JSON APIs accept only UTF-8,
    and Powertools would otherwise fail with a 500 while decoding.
    """
    body = event.get("body")
    if not body or not event.get("isBase64Encoded"):
        return
    try:
        base64.b64decode(body, validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError) as exc:
        raise InvalidRequest("Request body must be UTF-8 encoded JSON") from exc
