"""Checks on the raw API Gateway event shared by every dialect, made before routing."""

from __future__ import annotations

import base64
import binascii
import json
from typing import Any

from slotbook.errors import InvalidRequest


def check_body(event: dict[str, Any]) -> None:
    """Raise InvalidRequest (400) for a body no JSON handler can take safely.

    Refused: bytes that are not UTF-8 (API Gateway base64-encodes them), JSON nested deeper
    than Python's parser recurses, and strings with unpaired surrogates (``"\\ud800"``), which
    are valid JSON escapes but not Unicode text. Malformed JSON is left to the resolver (400).
    """
    body = event.get("body")
    if not body:
        return
    if event.get("isBase64Encoded"):
        try:
            body = base64.b64decode(body, validate=True).decode("utf-8")
        except (binascii.Error, UnicodeDecodeError) as exc:
            raise InvalidRequest("Request body must be UTF-8 encoded JSON") from exc
    try:
        parsed = json.loads(body)
    except RecursionError as exc:
        raise InvalidRequest("Request body is nested too deeply") from exc
    except ValueError:
        return  # malformed JSON: the resolver answers 400
    try:
        json.dumps(parsed, ensure_ascii=False).encode("utf-8")
    except UnicodeEncodeError as exc:
        raise InvalidRequest("Request body contains a string that is not valid Unicode") from exc
