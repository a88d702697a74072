"""Identifier and secret generation."""

from __future__ import annotations

import hashlib
import secrets
import string

_ALPHABET = string.ascii_letters + string.digits


def new_id(length: int = 20) -> str:
    """An opaque id like GoHighLevel's: ``length`` random base-62 characters."""
    return "".join(secrets.choice(_ALPHABET) for _ in range(length))


def new_api_token() -> str:
    """A fresh API key token: ``sb_`` + 43 url-safe characters (256 bits)."""
    return "sb_" + secrets.token_urlsafe(32)


def token_hash(token: str) -> str:
    """Hex SHA-256 of a token; the only form in which tokens are stored (invariant 6)."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()
