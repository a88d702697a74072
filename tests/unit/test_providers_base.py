"""PKCE pairs for the provider OAuth flows (RFC 7636, method S256)."""

from __future__ import annotations

import base64
import hashlib
import re

import pytest

from slotbook.providers import base
from slotbook.providers.base import pkce_pair

_UNRESERVED = re.compile(r"[A-Za-z0-9\-._~]{43,128}")  # RFC 7636 §4.1 code-verifier ABNF
_RFC_VERIFIER = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"  # RFC 7636 Appendix B
_RFC_CHALLENGE = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"


def test_the_challenge_matches_the_rfc_7636_worked_example(monkeypatch: pytest.MonkeyPatch) -> None:
    # Given the verifier of RFC 7636 Appendix B comes out of the random source
    monkeypatch.setattr(base.secrets, "token_urlsafe", lambda nbytes: _RFC_VERIFIER)

    # Then the S256 challenge is the RFC's, without padding
    assert pkce_pair() == (_RFC_VERIFIER, _RFC_CHALLENGE)


def test_a_pair_is_a_fresh_verifier_and_its_unpadded_base64url_sha256() -> None:
    pairs = [pkce_pair() for _ in range(50)]

    for verifier, challenge in pairs:
        assert _UNRESERVED.fullmatch(verifier)
        assert len(challenge) == 43 and "=" not in challenge
        digest = base64.urlsafe_b64decode(challenge + "=")
        assert digest == hashlib.sha256(verifier.encode("ascii")).digest()
    assert len({verifier for verifier, _ in pairs}) == len(pairs)  # never reused
