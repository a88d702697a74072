"""Wiring: settings → boto3 table → store → services, built once per execution environment.

Built lazily on the first request (cold start), never at import, so tests and ``make dev`` can
start moto before any AWS client exists. :func:`reset` drops the cache (tests).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import lru_cache
from typing import Any

import boto3

from slotbook.delivery.service import DeliveryService, SqsQueue
from slotbook.domain import Event
from slotbook.providers.registry import ProviderRegistry
from slotbook.providers.vault import StateSigner, TokenVault
from slotbook.services.connections import ConnectionService
from slotbook.services.directory import DirectoryService
from slotbook.services.groups import GroupService
from slotbook.services.notes import NoteService
from slotbook.services.notifications import NotificationService
from slotbook.services.resources import ResourceService
from slotbook.services.schedules import ScheduleService
from slotbook.services.scheduling import SchedulingService
from slotbook.services.sync import InlineSyncQueue, SqsSyncQueue, SyncQueue, SyncService
from slotbook.services.tenancy import TenancyService
from slotbook.settings import Settings, get_settings
from slotbook.store.dynamo import DynamoStore


@dataclass(frozen=True)
class Services:
    settings: Settings
    store: DynamoStore
    tenancy: TenancyService
    scheduling: SchedulingService
    groups: GroupService
    notes: NoteService
    notifications: NotificationService
    resources: ResourceService
    schedules: ScheduleService
    directory: DirectoryService
    delivery: DeliveryService
    connections: ConnectionService
    sync: SyncService


def system_clock() -> datetime:
    """Aware UTC now. Services read time only through a clock; the engine never does."""
    return datetime.now(UTC)


clock: Callable[[], datetime] = system_clock
"""The clock services use; tests replace it to freeze time (see tests/conftest.py)."""


def _now() -> datetime:
    return clock()


@lru_cache(maxsize=1)
def services() -> Services:
    """The process-wide services (validated settings, one table resource)."""
    settings = get_settings()
    store = DynamoStore(boto3.resource("dynamodb").meta.client, settings.table_name)
    directory = DirectoryService(store, _now)
    delivery: DeliveryService | None = None
    sync: SyncService | None = None

    def notify(before: Event | None, after: Event | None) -> None:
        """Every committed appointment change: notifications (issue 5), provider copies (issue 4)."""
        assert delivery is not None and sync is not None
        delivery.on_change(before, after)
        sync.on_booking_change(before, after)

    scheduling = SchedulingService(store, _now, on_change=notify)
    queue_url = settings.delivery_queue_url
    delivery = DeliveryService(
        store,
        _now,
        scheduling,
        directory,
        clients=_client,
        queue=SqsQueue(boto3.client("sqs"), queue_url) if queue_url else None,
        email_sender=settings.email_sender,
        public_url=settings.public_base_url,
        allow_private_webhooks=settings.webhook_private_targets,
    )
    kms = _client("kms") if settings.token_key_id or settings.oauth_state_key_id else None
    providers = ProviderRegistry(settings, _now)
    sync_queue: SyncQueue
    if settings.sync_queue_url:
        sync_queue = SqsSyncQueue(_client("sqs"), settings.sync_queue_url)
    else:
        sync_queue = InlineSyncQueue()
    vault = TokenVault(kms, settings.token_key_id) if kms is not None and settings.token_key_id else None
    sync = SyncService(store, _now, providers, vault, sync_queue, settings.public_base_url)
    if isinstance(sync_queue, InlineSyncQueue):
        sync_queue.handler = sync.handle
    signer = StateSigner(kms, settings.oauth_state_key_id) if kms and settings.oauth_state_key_id else None
    connections = ConnectionService(
        store,
        _now,
        providers,
        sync,
        signer,
        settings.public_base_url,
        vault=vault,
        on_change=notify,
    )
    return Services(
        settings=settings,
        store=store,
        tenancy=TenancyService(store, _now),
        scheduling=scheduling,
        groups=GroupService(store, _now),
        notes=NoteService(store, scheduling, _now),
        notifications=NotificationService(store, _now, on_change=delivery.on_settings_change),
        resources=ResourceService(store, _now),
        schedules=ScheduleService(store, _now),
        directory=directory,
        delivery=delivery,
        connections=connections,
        sync=sync,
    )


@lru_cache(maxsize=8)
def _client(name: str) -> Any:
    """A boto3 client of ``name`` (``sesv2``, ``sns``), built on first use."""
    return boto3.client(name)  # type: ignore[call-overload]


def reset() -> None:
    """Forget settings and services (tests that change the environment)."""
    services.cache_clear()
    _client.cache_clear()
    get_settings.cache_clear()
