"""Secrets of calendar connections, kept by AWS KMS (ARCHITECTURE.md invariant 6).

* :class:`TokenVault` — a connection's OAuth tokens are stored only as KMS ciphertext
  (``Encrypt`` with the symmetric key ``TOKEN_KEY_ID``), bound to their workspace and connection
  by the encryption context, so a blob copied to another connection does not decrypt.
* :class:`StateSigner` — the OAuth ``state`` parameter is a payload plus a KMS HMAC
  (``GenerateMac``/``VerifyMac``, HMAC_SHA_256 key ``OAUTH_STATE_KEY_ID``) with an expiry inside
  the signed payload (RFC 6749 §10.12: ``state`` binds the callback to the request that started
  it). No signing secret ever exists outside KMS.

Tokens appear in no log line, exception message or ``repr``.
"""

from __future__ import annotations

import base64
import binascii
import json
from datetime import UTC, datetime
from typing import Any

from botocore.exceptions import ClientError

from slotbook.errors import InvalidRequest
from slotbook.providers.base import OAuthTokens


class TokenVault:
    """Encrypts and decrypts :class:`OAuthTokens` with one KMS key (``kms``: a boto3 KMS client)."""

    def __init__(self, kms: Any, key_id: str) -> None:
        self._kms = kms
        self._key_id = key_id

    def __repr__(self) -> str:
        return f"TokenVault(key_id={self._key_id!r})"

    def seal(self, location_id: str, connection_id: str, tokens: OAuthTokens) -> bytes:
        """The KMS ciphertext of ``tokens`` (JSON), bound to the connection."""
        plain = json.dumps(
            {
                "access_token": tokens.access_token,
                "refresh_token": tokens.refresh_token,
                "expires_at": int(tokens.expires_at.timestamp()),
                "scope": tokens.scope,
                "account_email": tokens.account_email,
            }
        ).encode()
        resp = self._kms.encrypt(
            KeyId=self._key_id, Plaintext=plain, EncryptionContext=_context(location_id, connection_id)
        )
        return bytes(resp["CiphertextBlob"])

    def open(self, location_id: str, connection_id: str, blob: bytes) -> OAuthTokens:
        """The tokens sealed for this connection. Raises botocore's ClientError
        (``InvalidCiphertextException``) for a blob sealed for another connection."""
        resp = self._kms.decrypt(CiphertextBlob=blob, EncryptionContext=_context(location_id, connection_id))
        data = json.loads(resp["Plaintext"])
        return OAuthTokens(
            access_token=data["access_token"],
            refresh_token=data.get("refresh_token"),
            expires_at=datetime.fromtimestamp(int(data["expires_at"]), UTC),
            scope=data.get("scope") or "",
            account_email=data.get("account_email"),
        )

    def seal_text(self, text: str, context: dict[str, str]) -> str:
        """Another short secret (the PKCE verifier of a pending authorisation) as base64 KMS
        ciphertext, bound to ``context``."""
        resp = self._kms.encrypt(KeyId=self._key_id, Plaintext=text.encode(), EncryptionContext=context)
        return base64.b64encode(bytes(resp["CiphertextBlob"])).decode()

    def open_text(self, sealed: str, context: dict[str, str]) -> str:
        """The text :meth:`seal_text` sealed with the same ``context``."""
        resp = self._kms.decrypt(CiphertextBlob=base64.b64decode(sealed), EncryptionContext=context)
        return bytes(resp["Plaintext"]).decode()


def _context(location_id: str, connection_id: str) -> dict[str, str]:
    return {"slotbook:workspace": location_id, "slotbook:connection": connection_id}


class StateSigner:
    """Signs and verifies OAuth ``state`` values: ``<base64url(payload JSON)>.<base64url(mac)>``."""

    ALGORITHM = "HMAC_SHA_256"

    def __init__(self, kms: Any, key_id: str) -> None:
        self._kms = kms
        self._key_id = key_id

    def sign(self, payload: dict[str, Any], expires_at: datetime) -> str:
        """A state carrying ``payload`` until ``expires_at`` (stored in the payload as ``exp``)."""
        body = _b64(
            json.dumps({**payload, "exp": int(expires_at.timestamp())}, separators=(",", ":")).encode()
        )
        mac = self._kms.generate_mac(KeyId=self._key_id, Message=body.encode(), MacAlgorithm=self.ALGORITHM)[
            "Mac"
        ]
        return f"{body}.{_b64(bytes(mac))}"

    def verify(self, state: str, now: datetime) -> dict[str, Any]:
        """The payload of a state this signer made that has not expired. Raises InvalidRequest
        for anything else (malformed, forged, tampered or expired)."""
        body, _, mac_text = state.partition(".")
        try:
            mac = _unb64(mac_text)
            if not body or not mac:
                raise ValueError("empty")
            valid = self._kms.verify_mac(
                KeyId=self._key_id, Message=body.encode(), MacAlgorithm=self.ALGORITHM, Mac=mac
            )["MacValid"]
            payload = json.loads(_unb64(body))
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") != "KMSInvalidMacException":
                raise
            raise InvalidRequest("The OAuth state is invalid.") from exc
        except (ValueError, binascii.Error) as exc:
            raise InvalidRequest("The OAuth state is invalid.") from exc
        if not valid or not isinstance(payload, dict):
            raise InvalidRequest("The OAuth state is invalid.")
        if int(payload.get("exp", 0)) < int(now.timestamp()):
            raise InvalidRequest("The OAuth state has expired; start the authorisation again.")
        return payload


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
