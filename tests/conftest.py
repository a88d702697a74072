"""Shared fixtures: AWS on moto with tables built from template.yaml, a frozen clock, tenants.

Every fixture cleans up what it creates: moto's state lives only inside the ``aws`` fixture,
and the services container is reset around it.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import cache

import boto3
import pytest
from moto import mock_aws
from moto.kms import models as moto_kms_models

from localdev import moto_atomic
from localdev.template import create_kms_keys, create_tables, load_template
from slotbook import container
from slotbook.store.dynamo import DynamoStore

TABLE = "slotbook-test"
ADMIN_TOKEN = "test-admin-token-0123456789"
FROZEN_NOW = datetime(2027, 3, 1, 8, 0, tzinfo=UTC)
"""Tests run at this instant (a Monday), never at the wall clock."""


class FrozenClock:
    """A settable clock: ``clock()`` returns ``clock.now``."""

    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> FrozenClock:
    frozen = FrozenClock(FROZEN_NOW)
    monkeypatch.setattr(container, "clock", frozen)
    return frozen


_moto_private_key = moto_kms_models.generate_private_key


@cache
def _shared_private_key() -> object:
    return _moto_private_key("RSA_2048")


def _private_key(key_spec: str) -> object:
    """moto generates an RSA key pair (~50 ms) for every KMS key, even symmetric and HMAC ones
    that never sign; those share one here. Asymmetric keys keep their own."""
    if key_spec.startswith(("RSA_", "ECC_", "SM2")):
        return _moto_private_key(key_spec)
    return _shared_private_key()


@pytest.fixture
def aws(monkeypatch: pytest.MonkeyPatch, clock: FrozenClock) -> Iterator[str]:
    """moto with the template's table and KMS keys (``TOKEN_KEY_ID``, ``OAUTH_STATE_KEY_ID`` set
    to them); yields the table name."""
    for key, value in {
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_SESSION_TOKEN": "testing",
        "TABLE_NAME": TABLE,
        "SLOTBOOK_ADMIN_TOKEN": ADMIN_TOKEN,
        "POWERTOOLS_TRACE_DISABLED": "true",
        "POWERTOOLS_METRICS_NAMESPACE": "Slotbook",
        "SLOTBOOK_WEBHOOK_PRIVATE_TARGETS": "true",  # test receivers listen on 127.0.0.1
    }.items():
        monkeypatch.setenv(key, value)
    monkeypatch.delenv("ADMIN_TOKEN_HASH_PARAMETER", raising=False)
    container.reset()
    monkeypatch.setattr(moto_kms_models, "generate_private_key", _private_key)
    with mock_aws():
        moto_atomic.install()
        template = load_template()
        create_tables(boto3.client("dynamodb"), {"SlotbookTable": TABLE}, template=template)
        keys = create_kms_keys(boto3.client("kms"), template=template)
        monkeypatch.setenv("TOKEN_KEY_ID", keys["TokenKey"])
        monkeypatch.setenv("OAUTH_STATE_KEY_ID", keys["OAuthStateKey"])
        yield TABLE
    container.reset()


@pytest.fixture
def store(aws: str) -> DynamoStore:
    return DynamoStore(boto3.resource("dynamodb").meta.client, aws)


@dataclass(frozen=True)
class Tenant:
    location_id: str
    token: str


@pytest.fixture
def tenant(aws: str) -> Tenant:
    """A location in Europe/Copenhagen with an all-scopes API key."""
    from slotbook.services.tenancy import SCOPES

    tenancy = container.services().tenancy
    location = tenancy.create_location("Test location", "Europe/Copenhagen")
    _, token = tenancy.create_api_key(location.id, "all scopes", sorted(SCOPES))
    return Tenant(location.id, token)
