"""Serve the Slotbook HTTP API locally: the template's functions, in-process, against moto DynamoDB.

``python -m localdev.server`` (what ``make dev`` runs) starts moto for the life of the process, creates the
table(s) from ``template.yaml``, seeds a demo location and serves ``http://127.0.0.1:${PORT:-3000}``.
Each request is matched to a route of the template (API Gateway HTTP API precedence, see
:mod:`localdev.template`), turned into an API Gateway HTTP API payload-format-2.0 event and passed to the
function's ``lambda_handler``; the handler's result is turned back into an HTTP response the way API Gateway
does. Requests run concurrently on threads, like separate Lambda instances; :mod:`localdev.moto_atomic`
keeps each DynamoDB request atomic, as it is on the real service.

Environment: ``PORT`` (default 3000, ``0`` picks a free port), ``HOST`` (default 127.0.0.1),
``SLOTBOOK_ADMIN_TOKEN`` (generated when unset), any ``POWERTOOLS_*`` variable set in the shell wins over
the template's value (e.g. ``POWERTOOLS_LOG_LEVEL=DEBUG``, ``POWERTOOLS_DEV=true`` for indented logs).
``make dev`` also runs the fake calendar providers of :mod:`localdev.fake_providers` in-process (see
:func:`start_fake_providers`: ``FAKE_GOOGLE_PORT``, default 3100, ``FAKE_MICROSOFT_PORT``, default 3101; free
ports when ``PORT`` is 0) with the template's KMS keys in moto, so connecting a calendar — OAuth consent
included — works on one machine; ``PUBLIC_BASE_URL`` (default: the server's own URL) is where the OAuth
callback and the provider webhooks point. Sync messages run in-process (no sync queue locally).
X-Ray and CloudWatch metrics flushing are disabled unless ``POWERTOOLS_TRACE_DISABLED`` /
``POWERTOOLS_METRICS_DISABLED`` say otherwise. AWS credentials are always replaced by fake ones and moto
intercepts every AWS call: nothing here can reach a real AWS account.
"""

from __future__ import annotations

import base64
import hashlib
import importlib.util
import json
import logging
import os
import secrets
import signal
import sys
import threading
import time
import uuid
import warnings
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import ModuleType
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from localdev.template import (
    LOCAL_ACCOUNT_ID,
    FunctionConfig,
    Route,
    Router,
    function_config,
    function_environment,
    function_ids,
    load_template,
    routes,
)

logger = logging.getLogger("localdev.server")

DEFAULT_PORT = 3000
LOCAL_API_ID = "slotbooklc"  # API Gateway ids are 10 lower-case alphanumerics
MAX_BODY_BYTES = 6 * 1024 * 1024  # Lambda's synchronous invocation payload limit (API Gateway allows 10 MB)
_NOT_FOUND = {"message": "Not Found"}
_INTERNAL_ERROR = {"message": "Internal Server Error"}
_TOO_LARGE = {"message": "Request Entity Too Large"}
_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
_HOP_BY_HOP = frozenset(
    {"connection", "keep-alive", "proxy-connection", "te", "trailer", "transfer-encoding", "upgrade"}
)
_TEXT_MEDIA_TYPES = frozenset(
    {"application/json", "application/javascript", "application/xml", "application/graphql"}
)


# --------------------------------------------------------------------------------------------------------
# Bootstrap: environment, moto, tables, seed
# --------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class LocalInfo:
    """What :func:`bootstrap` set up.

    :ivar admin_token: the admin bearer token (``SLOTBOOK_ADMIN_TOKEN``).
    :ivar location_id: id of the seeded demo location.
    :ivar api_key: bearer token of the demo location's all-scopes API key.
    :ivar table_names: template logical id -> local table name.
    :ivar region: AWS region moto serves (``AWS_DEFAULT_REGION``).
    """

    admin_token: str
    location_id: str
    api_key: str
    table_names: dict[str, str] = field(default_factory=dict)
    region: str = "us-east-1"


_BOOTSTRAP_LOCK = threading.Lock()
_BOOTSTRAP: LocalInfo | None = None
_MOTO_MOCK: Any = None  # the process-lifetime mock_aws(); kept referenced, never stopped


def _apply_local_aws_env() -> str:
    """Point every AWS SDK at fake credentials and a fixed region; disable X-Ray and metrics flushing.

    :return: the region in use.
    """
    for name in ("AWS_PROFILE", "AWS_SESSION_TOKEN", "AWS_SECURITY_TOKEN", "AWS_DEFAULT_PROFILE"):
        os.environ.pop(name, None)
    os.environ["AWS_ACCESS_KEY_ID"] = "testing"
    os.environ["AWS_SECRET_ACCESS_KEY"] = "testing"  # fake: moto only
    region = os.environ.setdefault("AWS_DEFAULT_REGION", "us-east-1")
    os.environ["AWS_REGION"] = region
    os.environ.setdefault("POWERTOOLS_TRACE_DISABLED", "true")
    os.environ.setdefault("POWERTOOLS_METRICS_DISABLED", "true")
    return region


def _merged_function_environment(
    template: Mapping[str, Any], table_names: Mapping[str, str]
) -> dict[str, str]:
    """Union of every function's environment (one process hosts all functions, so values must agree)."""
    merged: dict[str, str] = {}
    owners: dict[str, str] = {}
    for logical_id in function_ids(template):
        for name, value in function_environment(template, logical_id, table_names).items():
            if name in merged and merged[name] != value:
                raise RuntimeError(
                    f"{name} is {merged[name]!r} for {owners[name]} but {value!r} for {logical_id}; "
                    "functions sharing the local server need equal values"
                )
            merged[name], owners[name] = value, logical_id
    return merged


def _check_module_collisions(configs: Iterable[FunctionConfig]) -> None:
    """Fail fast if two function directories ship a helper module of the same top-level name.

    All functions share one interpreter here, so ``import helpers`` in two functions would resolve to one
    file; in Lambda each function has its own task root.
    """
    seen: dict[str, Path] = {}
    for config in configs:
        if not config.code_dir.is_dir():
            continue
        handler_module = config.handler.rsplit(".", 1)[0].split(".")[0]
        for entry in config.code_dir.iterdir():
            if entry.name.startswith((".", "_")) or entry.name in ("requirements.txt",):
                continue
            if entry.suffix == ".py" or (entry.is_dir() and (entry / "__init__.py").exists()):
                name = entry.stem if entry.suffix == ".py" else entry.name
                if name == handler_module:
                    continue
                if name in seen and seen[name] != config.code_dir:
                    raise RuntimeError(
                        f"module {name!r} exists in both {seen[name]} and {config.code_dir}; "
                        "rename one (the local server hosts all functions in one interpreter)"
                    )
                seen[name] = config.code_dir


def bootstrap() -> LocalInfo:
    """Prepare the process once: env defaults, moto, tables, function env, admin token, demo seed.

    Idempotent and thread-safe: later calls return the first call's :class:`LocalInfo`.
    """
    global _BOOTSTRAP, _MOTO_MOCK
    with _BOOTSTRAP_LOCK:
        if _BOOTSTRAP is not None:
            return _BOOTSTRAP
        region = _apply_local_aws_env()
        admin_token = os.environ.get("SLOTBOOK_ADMIN_TOKEN") or f"sb_admin_{secrets.token_urlsafe(24)}"
        os.environ["SLOTBOOK_ADMIN_TOKEN"] = admin_token

        from moto import mock_aws  # AWS-related imports only now, after the environment is safe

        mock = mock_aws()
        mock.start()
        try:
            _BOOTSTRAP = _bootstrap_in_moto(region, admin_token)
        except BaseException:
            mock.stop()
            raise
        _MOTO_MOCK = mock
        return _BOOTSTRAP


def teardown() -> None:
    """Stop the moto session of :func:`bootstrap` (dropping all local AWS state); the next call starts afresh.

    For in-process tests: the moto mock :func:`bootstrap` starts lives until this is called, and while it
    is active any ``with mock_aws():`` elsewhere in the process nests inside it instead of starting from an
    empty state. Environment variables set by :func:`bootstrap` are left in place.
    """
    global _BOOTSTRAP, _MOTO_MOCK
    with _BOOTSTRAP_LOCK:
        if _MOTO_MOCK is not None:
            _MOTO_MOCK.stop()
        _MOTO_MOCK = None
        _BOOTSTRAP = None


def _bootstrap_in_moto(region: str, admin_token: str) -> LocalInfo:
    """The part of :func:`bootstrap` that runs once moto is active."""
    import boto3

    from localdev import moto_atomic
    from localdev.template import create_tables

    moto_atomic.install()
    # Webhook receivers of a developer's machine listen on localhost (refused on AWS).
    os.environ.setdefault("SLOTBOOK_WEBHOOK_PRIVATE_TARGETS", "true")
    template = load_template()
    table_names = create_tables(boto3.client("dynamodb", region_name=region), template=template)

    for name, value in _merged_function_environment(template, table_names).items():
        if name.startswith("POWERTOOLS_") and name in os.environ:
            continue  # the developer's shell wins, e.g. POWERTOOLS_LOG_LEVEL=DEBUG
        os.environ[name] = value

    parameter_name = os.environ.get("ADMIN_TOKEN_HASH_PARAMETER")
    if parameter_name:
        boto3.client("ssm", region_name=region).put_parameter(
            Name=parameter_name,
            Value=hashlib.sha256(admin_token.encode()).hexdigest(),
            Type="String",
            Overwrite=True,
        )

    configs = [function_config(template, logical_id) for logical_id in function_ids(template)]
    _check_module_collisions(configs)
    for config in configs:
        for directory in (*config.layer_dirs, config.code_dir):
            if str(directory) not in sys.path:
                sys.path.append(str(directory))

    _create_delivery_queues(region)
    _create_kms_keys(region, template)
    # No sync queue locally: sync and provider-write messages run in-process at once
    # (slotbook.services.sync.InlineSyncQueue); the template's value is a placeholder name.
    os.environ.pop("SYNC_QUEUE_URL", None)

    from localdev.seed import seed_demo

    location_id, api_key = seed_demo()
    return LocalInfo(
        admin_token=admin_token,
        location_id=location_id,
        api_key=api_key,
        table_names=dict(table_names),
        region=region,
    )


def _create_delivery_queues(region: str) -> None:
    """The delivery queue and its dead-letter queue (as template.yaml declares them) in moto, and
    the SES sender identity, verified: notifications go to moto's SES/SNS, nothing leaves."""
    import boto3

    sqs = boto3.client("sqs", region_name=region)
    dlq = sqs.create_queue(QueueName="slotbook-local-deliveries-dlq")["QueueUrl"]
    dlq_arn = sqs.get_queue_attributes(QueueUrl=dlq, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    url = sqs.create_queue(
        QueueName="slotbook-local-deliveries",
        Attributes={
            "VisibilityTimeout": "360",
            "RedrivePolicy": json.dumps({"deadLetterTargetArn": dlq_arn, "maxReceiveCount": "5"}),
        },
    )["QueueUrl"]
    os.environ["DELIVERY_QUEUE_URL"] = url  # the template's !Ref resolves to a name only
    sender = os.environ.get("EMAIL_SENDER")
    if sender:
        boto3.client("ses", region_name=region).verify_email_identity(EmailAddress=sender)


def _create_kms_keys(region: str, template: Mapping[str, Any]) -> None:
    """The template's KMS keys in moto; ``TOKEN_KEY_ID`` / ``OAUTH_STATE_KEY_ID`` name them (the
    template's ``!Ref`` resolves to a logical id only)."""
    import boto3

    from localdev.template import create_kms_keys

    keys = create_kms_keys(boto3.client("kms", region_name=region), template)
    for variable, logical_id in (("TOKEN_KEY_ID", "TokenKey"), ("OAUTH_STATE_KEY_ID", "OAuthStateKey")):
        if logical_id in keys:
            os.environ[variable] = keys[logical_id]


# --------------------------------------------------------------------------------------------------------
# Fake calendar providers (make dev)
# --------------------------------------------------------------------------------------------------------

FAKE_GOOGLE_PORT = 3100
FAKE_MICROSOFT_PORT = 3101
FAKE_GOOGLE_ACCOUNT = "erik@nordic-parts.dk"
FAKE_GOOGLE_TEAM_CALENDAR = "team-nordic-parts@group.calendar.google.com"
FAKE_MICROSOFT_ACCOUNT = "megan@contoso.example"
OAUTH_CALLBACK_PATH = "/api/calendar-connections/oauth/callback"


@dataclass
class FakeProviderSet:
    """The fake Google and Microsoft ``make dev`` runs (see :func:`start_fake_providers`)."""

    google: Any
    microsoft: Any

    def stop(self) -> None:
        self.google.stop()
        self.microsoft.stop()

    def banner(self) -> list[str]:
        """Banner lines: where the consent pages are and which accounts exist."""
        google, microsoft = self.google, self.microsoft
        return [
            f"  fake Google   : {google.base_url}  consent page {google.auth_url}",
            f"                  account {FAKE_GOOGLE_ACCOUNT} (calendars: {FAKE_GOOGLE_ACCOUNT} primary, "
            f"{FAKE_GOOGLE_TEAM_CALENDAR}); any address typed on the consent page works",
            f"  fake Microsoft: {microsoft.base_url}  consent page {microsoft.auth_url}",
            f"                  account {FAKE_MICROSOFT_ACCOUNT} (calendar: Calendar)",
        ]


def _bind_port(variable: str, default: int) -> int:
    """``$variable`` if set, else ``default`` — or 0 (any free port) when ``PORT`` is 0 (tests)."""
    if os.environ.get(variable):
        return int(os.environ[variable])
    return 0 if os.environ.get("PORT") == "0" else default


def start_fake_providers(public_base_url: str) -> FakeProviderSet:
    """Start :mod:`localdev.fake_providers` Google and Microsoft in-process and point the
    functions at them.

    Ports: ``FAKE_GOOGLE_PORT`` (default 3100) and ``FAKE_MICROSOFT_PORT`` (default 3101); a port
    in use falls back to a free one. Both register ``<public_base_url>/api/calendar-connections/
    oauth/callback`` as redirect URI and push notifications to ``<public_base_url>/webhooks/...``.
    Seeds the Google account :data:`FAKE_GOOGLE_ACCOUNT` (primary calendar + a team calendar, two
    events on the primary) and the fake Microsoft's default user (calendar ``Calendar``, one
    event). Sets ``PUBLIC_BASE_URL``, ``GOOGLE_CLIENT_ID``/``_SECRET``/``_AUTH_URL``/``_TOKEN_URL``/
    ``_API_URL`` and the same ``MICROSOFT_*``, then resets the services container so the next
    request builds provider clients against the fakes.
    """
    from datetime import timedelta

    from localdev.fake_providers.google import FakeGoogle
    from localdev.fake_providers.microsoft import FakeMicrosoft
    from slotbook import container

    redirect = public_base_url.rstrip("/") + OAUTH_CALLBACK_PATH

    def bound(factory: Callable[[int], Any], port: int, name: str) -> Any:
        try:
            return factory(port)
        except OSError:
            logger.warning("port %s is taken; the fake %s uses a free port instead", port, name)
            return factory(0)

    google = bound(
        lambda port: FakeGoogle(redirect_uris=(redirect,), port=port),
        _bind_port("FAKE_GOOGLE_PORT", FAKE_GOOGLE_PORT),
        "Google",
    ).start()
    microsoft = bound(
        lambda port: FakeMicrosoft(redirect_uris=(redirect,), port=port, user_email=FAKE_MICROSOFT_ACCOUNT),
        _bind_port("FAKE_MICROSOFT_PORT", FAKE_MICROSOFT_PORT),
        "Microsoft",
    ).start()

    # The next weekday at 09:00 UTC (10:00 in Copenhagen in winter): inside the demo's working hours.
    tomorrow = (datetime.now(UTC) + timedelta(days=1)).replace(hour=9, minute=0, second=0, microsecond=0)
    while tomorrow.weekday() >= 4:  # Fri-Sun: the second event must fall on a weekday too
        tomorrow += timedelta(days=1)
    google.add_account(FAKE_GOOGLE_ACCOUNT, time_zone="Europe/Copenhagen", name="Erik (Nordic Parts)")
    google.add_calendar(
        FAKE_GOOGLE_ACCOUNT, FAKE_GOOGLE_TEAM_CALENDAR, summary="Team calendar", time_zone="Europe/Copenhagen"
    )
    google.add_event(
        FAKE_GOOGLE_ACCOUNT, start=tomorrow, end=tomorrow + timedelta(hours=1), summary="Supplier call"
    )
    google.add_event(
        FAKE_GOOGLE_ACCOUNT,
        start=tomorrow + timedelta(days=1, hours=4),
        end=tomorrow + timedelta(days=1, hours=5, minutes=30),
        summary="Warehouse visit",
    )
    microsoft.add_event(
        microsoft.default_calendar_id(),
        start=tomorrow + timedelta(hours=2),
        end=tomorrow + timedelta(hours=3),
        subject="Team sync",
    )

    for name, value in {
        "PUBLIC_BASE_URL": public_base_url,
        "GOOGLE_CLIENT_ID": google.client_id,
        "GOOGLE_CLIENT_SECRET": google.client_secret,
        "GOOGLE_AUTH_URL": google.auth_url,
        "GOOGLE_TOKEN_URL": google.token_url,
        "GOOGLE_API_URL": google.api_url,
        "MICROSOFT_CLIENT_ID": microsoft.client_id,
        "MICROSOFT_CLIENT_SECRET": microsoft.client_secret,
        "MICROSOFT_AUTH_URL": microsoft.auth_url,
        "MICROSOFT_TOKEN_URL": microsoft.token_url,
        "MICROSOFT_API_URL": microsoft.api_url,
    }.items():
        os.environ[name] = value
    for name in ("GOOGLE_CLIENT_SECRET_PARAMETER", "MICROSOFT_CLIENT_SECRET_PARAMETER"):
        os.environ.pop(name, None)
    container.reset()
    return FakeProviderSet(google=google, microsoft=microsoft)


REMINDER_INTERVAL_S = 15.0
"""How often ``make dev`` runs the reminders sweep and drains the delivery queue."""


class DeliveryLoop:
    """``make dev`` only (never in the slotbook package): stands in for the EventBridge schedule
    and the SQS event source. Every :data:`REMINDER_INTERVAL_S` seconds it invokes the reminders
    function with a scheduled event, then feeds the delivery queue's messages to the deliveries
    function (deleting those it did not report as failed), printing one line per delivery."""

    def __init__(self, api: LocalApi, region: str, interval_s: float = REMINDER_INTERVAL_S) -> None:
        self.api = api
        self.region = region
        self.interval_s = interval_s
        self._stop = threading.Event()
        self.thread = threading.Thread(target=self._run, name="delivery-loop", daemon=True)

    def start(self) -> None:
        from slotbook.container import services

        services().delivery.observers.append(_print_delivery)
        self.thread.start()

    def stop(self) -> None:
        self._stop.set()

    def _run(self) -> None:
        while not self._stop.wait(self.interval_s):
            try:
                self.tick()
            except Exception:  # a dev-loop hiccup must not end the loop; the trace is shown
                logger.exception("delivery loop tick failed")

    def tick(self) -> None:
        """One sweep, then the queue drained."""
        import boto3

        now = datetime.now(UTC)
        self.api.functions.invoke(
            "RemindersFunction",
            {
                "version": "0",
                "id": str(uuid.uuid4()),
                "detail-type": "Scheduled Event",
                "source": "aws.events",
                "account": LOCAL_ACCOUNT_ID,
                "time": now.strftime("%Y-%m-%dT%H:%M:%SZ"),
                "region": self.region,
                "resources": [f"arn:aws:events:{self.region}:{LOCAL_ACCOUNT_ID}:rule/slotbook-local-sweep"],
                "detail": {},
            },
        )
        sqs = boto3.client("sqs", region_name=self.region)
        url = os.environ["DELIVERY_QUEUE_URL"]
        arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
        while True:
            messages = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=5, AttributeNames=["All"]).get(
                "Messages", []
            )
            if not messages:
                return
            records = [
                {
                    "messageId": m["MessageId"],
                    "receiptHandle": m["ReceiptHandle"],
                    "body": m["Body"],
                    "attributes": {
                        "ApproximateReceiveCount": m["Attributes"]["ApproximateReceiveCount"],
                        "SentTimestamp": m["Attributes"]["SentTimestamp"],
                        "SenderId": LOCAL_ACCOUNT_ID,
                        "ApproximateFirstReceiveTimestamp": m["Attributes"]["SentTimestamp"],
                    },
                    "messageAttributes": {},
                    "md5OfBody": m["MD5OfBody"],
                    "eventSource": "aws:sqs",
                    "eventSourceARN": arn,
                    "awsRegion": self.region,
                }
                for m in messages
            ]
            result = self.api.functions.invoke("DeliveriesFunction", {"Records": records})
            failed = {f["itemIdentifier"] for f in result.get("batchItemFailures", [])}
            for m in messages:
                if m["MessageId"] not in failed:  # failed ones come back after their backoff
                    sqs.delete_message(QueueUrl=url, ReceiptHandle=m["ReceiptHandle"])


SYNC_INTERVAL_S = 30.0
"""How often ``make dev`` runs the calendar-sync sweep (every 5 minutes on AWS)."""


class SyncLoop:
    """``make dev`` only: stands in for the sync function's EventBridge schedule. Every
    :data:`SYNC_INTERVAL_S` seconds it invokes ``SyncFunction`` with a scheduled event (the sweep
    renews watch channels / subscriptions and runs the safety-net syncs that are due; without a
    sync queue they run inline) and prints one line when it queued any."""

    FUNCTION = "SyncFunction"

    def __init__(self, api: LocalApi, region: str, interval_s: float = SYNC_INTERVAL_S) -> None:
        self.api = api
        self.region = region
        self.interval_s = interval_s
        self._stop = threading.Event()
        self.thread = threading.Thread(target=self._run, name="sync-loop", daemon=True)

    def start(self) -> None:
        if self.FUNCTION in self.api.functions.configs:
            self.thread.start()

    def stop(self) -> None:
        self._stop.set()

    def _run(self) -> None:
        while not self._stop.wait(self.interval_s):
            try:
                self.tick()
            except Exception:  # a dev-loop hiccup must not end the loop; the trace is shown
                logger.exception("sync loop tick failed")

    def tick(self) -> int:
        """One sweep; returns how many connections it synced."""
        now = datetime.now(UTC)
        result = self.api.functions.invoke(
            self.FUNCTION,
            {
                "version": "0",
                "id": str(uuid.uuid4()),
                "detail-type": "Scheduled Event",
                "source": "aws.events",
                "account": LOCAL_ACCOUNT_ID,
                "time": now.strftime("%Y-%m-%dT%H:%M:%SZ"),
                "region": self.region,
                "resources": [f"arn:aws:events:{self.region}:{LOCAL_ACCOUNT_ID}:rule/slotbook-local-sync"],
                "detail": {},
            },
        )
        queued = int((result or {}).get("queued", 0))
        if queued:
            sys.stdout.write(f"[sync] sweep synced {queued} calendar connection(s)\n")
            sys.stdout.flush()
        return queued


def _print_delivery(record: Any) -> None:
    """``[delivery] reminder email → anna@example.com: sent (id ...)``: one line per attempt."""
    ident = f" (id {record.provider_message_id})" if record.provider_message_id else ""
    detail = f" - {record.detail}" if record.detail else ""
    to = record.recipient or record.receiver_type
    line = (
        f"[delivery] {record.notification_type} {record.channel.value} \u2192 {to}: "
        f"{record.status.value}{ident}{detail}\n"
    )
    sys.stdout.write(line)
    sys.stdout.flush()


# --------------------------------------------------------------------------------------------------------
# Lambda side: functions, context, events
# --------------------------------------------------------------------------------------------------------


class FakeLambdaContext:
    """The subset of ``awslambdaric``'s ``LambdaContext`` that handlers and Powertools read.

    :ivar memory_limit_in_mb: the function's ``MemorySize`` (MB).
    :ivar aws_request_id: a fresh UUID per invocation.
    """

    def __init__(self, function_name: str, memory_limit_in_mb: int, timeout_s: int, region: str) -> None:
        self.function_name = function_name
        self.function_version = "$LATEST"
        self.invoked_function_arn = f"arn:aws:lambda:{region}:{LOCAL_ACCOUNT_ID}:function:{function_name}"
        self.memory_limit_in_mb = memory_limit_in_mb
        self.aws_request_id = str(uuid.uuid4())
        self.log_group_name = f"/aws/lambda/{function_name}"
        self.log_stream_name = f"{datetime.now(UTC):%Y/%m/%d}/[$LATEST]{uuid.uuid4().hex}"
        self.identity = None
        self.client_context = None
        self.tenant_id = None
        self._deadline = time.monotonic() + timeout_s

    def get_remaining_time_in_millis(self) -> int:
        """Milliseconds left before the function's ``Timeout`` (not enforced locally; may go to 0)."""
        return max(0, int((self._deadline - time.monotonic()) * 1000))


class FunctionHost:
    """Runs each function the way Lambda does: a pool of execution environments per function.

    An environment is one separately loaded copy of the function's module (its own Powertools
    resolver, its own module globals). A request takes an idle environment or, when all are busy,
    loads a new one (a cold start); it is returned to the pool when the invocation ends. So one
    environment never serves two requests at once — handler code may rely on that, exactly as
    on AWS — while concurrent requests still run in parallel, and races between them are real.
    """

    def __init__(self, template: Mapping[str, Any], region: str) -> None:
        """:param template: the loaded template; :param region: region for ARNs in the fake context."""
        from localdev import powertools_isolation

        # Environments are threads of one interpreter here: each resolver must keep its own event.
        powertools_isolation.install()
        self.region = region
        self.configs = {
            logical_id: function_config(template, logical_id) for logical_id in function_ids(template)
        }
        self._idle: dict[str, list[Callable[[dict[str, Any], Any], Any]]] = {k: [] for k in self.configs}
        self._lock = threading.Lock()
        self.cold_starts: dict[str, int] = dict.fromkeys(self.configs, 0)

    def _acquire(self, logical_id: str) -> Callable[[dict[str, Any], Any], Any]:
        with self._lock:
            if self._idle[logical_id]:
                return self._idle[logical_id].pop()
            self.cold_starts[logical_id] += 1
            environment = self.cold_starts[logical_id]
        # A cold start, outside the pool lock so a burst of them runs concurrently as on Lambda
        # (Python's import machinery locks each shared module it imports).
        return self._load(self.configs[logical_id], environment)

    def _release(self, logical_id: str, handler: Callable[[dict[str, Any], Any], Any]) -> None:
        with self._lock:
            self._idle[logical_id].append(handler)

    def handler(self, logical_id: str) -> Callable[[dict[str, Any], Any], Any]:
        """An environment's handler for single-threaded use (it is not returned to the pool)."""
        return self._acquire(logical_id)

    def _load(self, config: FunctionConfig, environment: int) -> Callable[[dict[str, Any], Any], Any]:
        """Load one environment: the handler module under a name unique to this host and number."""
        module_path, _, attribute = config.handler.rpartition(".")
        source = config.code_dir.joinpath(*module_path.split(".")).with_suffix(".py")
        module_name = (
            f"localdev_fn_{config.logical_id}_{module_path.replace('.', '_')}_{id(self):x}_{environment}"
        )
        spec = importlib.util.spec_from_file_location(module_name, source)
        if spec is None or spec.loader is None:
            raise ImportError(f"cannot load {source} for {config.logical_id}")
        module: ModuleType = importlib.util.module_from_spec(spec)
        sys.modules[module_name] = module
        try:
            spec.loader.exec_module(module)
        except BaseException:
            sys.modules.pop(module_name, None)
            raise
        handler = getattr(module, attribute, None)
        if not callable(handler):
            raise ImportError(f"{source} has no callable {attribute!r} ({config.logical_id}.Handler)")
        return handler

    def invoke(self, logical_id: str, event: dict[str, Any]) -> Any:
        """Call the function's handler with ``event`` and a fresh :class:`FakeLambdaContext`."""
        config = self.configs[logical_id]
        context = FakeLambdaContext(
            function_name=f"slotbook-local-{logical_id}",
            memory_limit_in_mb=config.memory_mb,
            timeout_s=config.timeout_s,
            region=self.region,
        )
        handler = self._acquire(logical_id)
        try:
            return handler(event, context)
        finally:
            self._release(logical_id, handler)


def _request_time(now: datetime) -> str:
    """API Gateway's ``requestContext.time`` format, e.g. ``12/Mar/2020:19:03:58 +0000`` (locale-proof)."""
    now = now.astimezone(UTC)
    return f"{now:%d}/{_MONTHS[now.month - 1]}/{now:%Y:%H:%M:%S} +0000"


def _split_host(host: str) -> tuple[str, str | None]:
    """Split a ``Host`` header into ``(name, port or None)``; IPv6 literals keep their brackets."""
    name, sep, port = host.rpartition(":")
    if sep and port.isdigit() and (not name.startswith("[") or name.endswith("]")):
        return name, port
    return host, None


def _is_text(content_type: str | None) -> bool:
    """Whether API Gateway passes a body of this media type as text (else base64)."""
    if not content_type:
        return False
    media_type = content_type.split(";", 1)[0].strip().lower()
    return (
        media_type.startswith("text/")
        or media_type in _TEXT_MEDIA_TYPES
        or media_type.endswith(("+json", "+xml"))
    )


def build_event(
    *,
    method: str,
    raw_path: str,
    raw_query: str = "",
    headers: Iterable[tuple[str, str]] = (),
    body: bytes = b"",
    route: Route | None = None,
    route_key: str | None = None,
    path_parameters: Mapping[str, str] | None = None,
    source_ip: str = "127.0.0.1",
    now: datetime | None = None,
    request_id: str | None = None,
) -> dict[str, Any]:
    """Build the API Gateway HTTP API payload-format-2.0 event API Gateway would send for a request.

    :param method: HTTP method, e.g. ``"GET"``.
    :param raw_path: request path as received (percent-encoding kept), e.g. ``"/calendars/abc"``.
    :param raw_query: query string without ``?`` as received, e.g. ``"locationId=x&userIds=a&userIds=b"``.
    :param headers: request headers as ``(name, value)`` pairs; names are lower-cased, duplicates are
        comma-joined, ``cookie`` headers go to ``cookies``, hop-by-hop headers are dropped.
    :param body: raw request body; text media types are passed as text, anything else base64-encoded.
    :param route: the matched route (gives ``routeKey``), or pass ``route_key`` directly.
    :param path_parameters: percent-decoded path parameters of the matched route.
    :param source_ip: client IP (``requestContext.http.sourceIp`` and ``x-forwarded-for``).
    :param now: request time (default: now, UTC); ``requestContext.timeEpoch`` is in milliseconds.
    :param request_id: ``requestContext.requestId`` (default: a fresh UUID).
    :return: the event dict (``version`` ``"2.0"``).
    """
    now = now or datetime.now(UTC)
    request_id = request_id or str(uuid.uuid4())
    key = route.route_key if route is not None else (route_key or "$default")
    merged: dict[str, str] = {}
    cookies: list[str] = []
    for name, value in headers:
        lower = name.lower()
        if lower == "cookie":
            cookies.extend(part.strip() for part in value.split(";") if part.strip())
        elif lower not in _HOP_BY_HOP:
            merged[lower] = f"{merged[lower]},{value}" if lower in merged else value
    if body or "content-length" in merged:
        merged["content-length"] = str(len(body))
    domain_name, port = _split_host(merged.get("host", f"{LOCAL_API_ID}.execute-api.us-east-1.amazonaws.com"))
    forwarded = merged.get("x-forwarded-for")
    merged["x-forwarded-for"] = f"{forwarded},{source_ip}" if forwarded else source_ip
    merged.setdefault("x-forwarded-port", port or "80")
    merged.setdefault("x-forwarded-proto", "http")
    merged.setdefault("x-amzn-trace-id", f"Root=1-{int(now.timestamp()):08x}-{uuid.uuid4().hex[:24]}")

    query: dict[str, str] = {}
    for name, value in parse_qsl(raw_query, keep_blank_values=True):
        query[name] = f"{query[name]},{value}" if name in query else value

    event: dict[str, Any] = {
        "version": "2.0",
        "routeKey": key,
        "rawPath": raw_path,
        "rawQueryString": raw_query,
    }
    if cookies:
        event["cookies"] = cookies
    event["headers"] = merged
    if query:
        event["queryStringParameters"] = query
    event["requestContext"] = {
        "accountId": LOCAL_ACCOUNT_ID,
        "apiId": LOCAL_API_ID,
        "domainName": domain_name,
        "domainPrefix": domain_name.split(".", 1)[0],
        "http": {
            "method": method.upper(),
            "path": raw_path,
            "protocol": "HTTP/1.1",
            "sourceIp": source_ip,
            "userAgent": merged.get("user-agent", ""),
        },
        "requestId": request_id,
        "routeKey": key,
        "stage": "$default",
        "time": _request_time(now),
        "timeEpoch": int(now.timestamp() * 1000),
    }
    if path_parameters:
        event["pathParameters"] = dict(path_parameters)
    if body:
        if _is_text(merged.get("content-type")):
            try:
                event["body"] = body.decode("utf-8")
                event["isBase64Encoded"] = False
            except UnicodeDecodeError:
                event["body"] = base64.b64encode(body).decode("ascii")
                event["isBase64Encoded"] = True
        else:
            event["body"] = base64.b64encode(body).decode("ascii")
            event["isBase64Encoded"] = True
    else:
        event["isBase64Encoded"] = False
    return event


@dataclass
class HttpResponse:
    """An HTTP response: ``status``, ``headers`` (name -> value), ``cookies`` (Set-Cookie), ``body``."""

    status: int
    headers: dict[str, str] = field(default_factory=dict)
    cookies: list[str] = field(default_factory=list)
    body: bytes = b""


def _json_response(status: int, payload: Any) -> HttpResponse:
    body = json.dumps(payload, separators=(",", ":")).encode()
    return HttpResponse(status, {"content-type": "application/json"}, [], body)


def to_http_response(result: Any) -> HttpResponse:
    """Convert a handler's return value the way API Gateway HTTP APIs do for payload format 2.0.

    A dict with ``statusCode`` is a full response (``headers``, ``cookies``, ``body``, ``isBase64Encoded``);
    anything else is a bare JSON result: 200, ``content-type: application/json``, body = the value as JSON.

    :raises ValueError: for a malformed full response (API Gateway answers those with a 500).
    """
    if not (isinstance(result, dict) and "statusCode" in result):
        return _json_response(200, result)
    status = result["statusCode"]
    if isinstance(status, bool) or not isinstance(status, int | str) or not str(status).isdigit():
        raise ValueError(f"statusCode must be an integer, got {status!r}")
    headers = result.get("headers") or {}
    cookies = result.get("cookies") or []
    body = result.get("body")
    if not isinstance(headers, dict) or not isinstance(cookies, list):
        raise ValueError("headers must be an object and cookies a list")
    if body is None:
        raw = b""
    elif not isinstance(body, str):
        raise ValueError(f"body must be a string, got {type(body).__name__}")
    elif result.get("isBase64Encoded"):
        raw = base64.b64decode(body)
    else:
        raw = body.encode("utf-8")
    return HttpResponse(
        status=int(status),
        headers={str(name): str(value) for name, value in headers.items()},
        cookies=[str(cookie) for cookie in cookies],
        body=raw,
    )


# --------------------------------------------------------------------------------------------------------
# HTTP side
# --------------------------------------------------------------------------------------------------------


class LocalApi:
    """Routes an HTTP request to a function and back; shared by all request threads."""

    def __init__(self, template: Mapping[str, Any], region: str) -> None:
        """:param template: the loaded template; :param region: the moto region."""
        self.router = Router(routes(template))
        self.functions = FunctionHost(template, region)

    def handle(
        self, method: str, target: str, headers: list[tuple[str, str]], body: bytes, source_ip: str
    ) -> tuple[HttpResponse, str, str | None]:
        """Serve one request.

        :param target: the request target, ``/path?query``.
        :return: ``(response, request_id, function logical id or None when no route matched)``.
        """
        split = urlsplit(target)
        raw_path = split.path or "/"
        request_id = str(uuid.uuid4())
        resolved = self.router.resolve(method, raw_path)
        if resolved is None:
            return _json_response(404, _NOT_FOUND), request_id, None
        route, params = resolved
        event = build_event(
            method=method,
            raw_path=raw_path,
            raw_query=split.query,
            headers=headers,
            body=body,
            route=route,
            path_parameters=params,
            source_ip=source_ip,
            request_id=request_id,
        )
        started = time.monotonic()
        try:
            response = to_http_response(self.functions.invoke(route.function, event))
        except Exception:
            logger.exception("%s failed on %s %s", route.function, method, raw_path)
            response = _json_response(500, _INTERNAL_ERROR)
        elapsed_s = time.monotonic() - started
        timeout_s = self.functions.configs[route.function].timeout_s
        if elapsed_s > timeout_s:
            logger.warning(
                "%s took %.1fs on %s %s, over its %ss Timeout: Lambda would have failed this request",
                route.function,
                elapsed_s,
                method,
                raw_path,
                timeout_s,
            )
        return response, request_id, route.function


class SlotbookHTTPServer(ThreadingHTTPServer):
    """``ThreadingHTTPServer`` (daemon threads) carrying the :class:`LocalApi` it serves."""

    daemon_threads = True
    request_queue_size = 128

    def __init__(self, address: tuple[str, int], api: LocalApi, access_log: bool = True) -> None:
        """Bind ``address`` = ``(host, port)`` (port 0: any free one); ``access_log``: a line per request."""
        self.api = api
        self.access_log = access_log
        super().__init__(address, _RequestHandler)


class _RequestHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "Slotbook-local"
    server: SlotbookHTTPServer

    def version_string(self) -> str:
        """The ``Server`` response header."""
        return self.server_version

    def _read_body(self) -> bytes | None:
        """The request body (``Content-Length`` or chunked), or ``None`` when over :data:`MAX_BODY_BYTES`."""
        if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
            chunks: list[bytes] = []
            size = 0
            while True:
                line = self.rfile.readline(65537).split(b";", 1)[0].strip()
                length = int(line or b"0", 16)
                if length == 0:
                    while self.rfile.readline(65537).strip():  # trailers
                        pass
                    break
                size += length
                if size > MAX_BODY_BYTES:
                    return None
                chunks.append(self.rfile.read(length))
                self.rfile.readline(3)
            return b"".join(chunks)
        length = int(self.headers.get("Content-Length") or 0)
        if length > MAX_BODY_BYTES:
            return None
        return self.rfile.read(length) if length > 0 else b""

    def _serve(self) -> None:
        started = time.perf_counter()
        body = self._read_body()
        function: str | None = None
        request_id = str(uuid.uuid4())
        if body is None:
            response = _json_response(413, _TOO_LARGE)
            self.close_connection = True
        else:
            response, request_id, function = self.server.api.handle(
                self.command, self.path, list(self.headers.items()), body, self.client_address[0]
            )
        self.send_response(response.status)
        sent = {name.lower() for name in response.headers}
        for name, value in response.headers.items():
            if name.lower() not in ("content-length", "connection", "transfer-encoding"):
                self.send_header(name, value)
        for cookie in response.cookies:
            self.send_header("Set-Cookie", cookie)
        if "apigw-requestid" not in sent:
            self.send_header("Apigw-Requestid", request_id)
        self.send_header("Content-Length", str(len(response.body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(response.body)
        if self.server.access_log:
            elapsed_ms = (time.perf_counter() - started) * 1000
            # One write per line: print() writes text and newline separately, and other threads'
            # JSON log lines could land between them.
            line = f"{self.command} {self.path} {response.status} {elapsed_ms:.1f}ms {function or '-'}\n"
            sys.stdout.write(line)
            sys.stdout.flush()

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = do_HEAD = do_OPTIONS = _serve

    def log_message(self, format: str, *args: Any) -> None:
        """Silence the stdlib's per-request stderr log; :meth:`_serve` prints its own access line."""


def make_server(
    port: int = 0, host: str = "127.0.0.1", access_log: bool = True
) -> tuple[ThreadingHTTPServer, str]:
    """Bootstrap the process (see :func:`bootstrap`) and bind a server, without starting it.

    Tests: ``server, url = make_server()``, then
    ``threading.Thread(target=server.serve_forever, daemon=True).start()`` and finally
    ``server.shutdown(); server.server_close()``. :func:`bootstrap` gives tokens and the demo location.

    :param port: TCP port; 0 picks a free one.
    :param host: interface to bind.
    :param access_log: print one line per request (method, target, status, ms, function).
    :return: ``(server, base_url)``, e.g. ``"http://127.0.0.1:49152"`` (no trailing slash).
    """
    info = bootstrap()
    api = LocalApi(load_template(), info.region)
    server = SlotbookHTTPServer((host, port), api, access_log=access_log)
    bound_host, bound_port = server.server_address[:2]
    return server, f"http://{bound_host}:{bound_port}"


def _stop_on_sigterm(signum: int, frame: Any) -> None:
    """Turn SIGTERM (``docker stop``, ``kill``) into the same clean exit as Ctrl-C."""
    raise KeyboardInterrupt


def main() -> None:
    """Entry point of ``python -m localdev.server`` / ``make dev``: serve until Ctrl-C."""
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    # Metrics are disabled locally, so Powertools' "no metrics to publish" warning is noise here.
    warnings.filterwarnings("ignore", message="No application metrics to publish")
    signal.signal(signal.SIGTERM, _stop_on_sigterm)
    port = int(os.environ.get("PORT") or DEFAULT_PORT)
    public_base_url = os.environ.get("PUBLIC_BASE_URL")  # the shell's, before the template's default
    server, url = make_server(port=port, host=os.environ.get("HOST") or "127.0.0.1")
    info = bootstrap()
    if not public_base_url:
        split = urlsplit(url)
        wildcard = split.hostname in ("0.0.0.0", "::", "")
        public_base_url = f"http://127.0.0.1:{split.port}" if wildcard else url
    fakes = start_fake_providers(public_base_url)
    print(
        "\n".join(
            [
                f"Slotbook local API listening on {url}",
                f"  admin token   : {info.admin_token}",
                f"  demo location : {info.location_id}",
                f"  demo API key  : {info.api_key}  (all scopes)",
                f"  tables        : {', '.join(info.table_names.values())} (moto, in-memory, {info.region})",
                f"  reminders     : swept every {REMINDER_INTERVAL_S:.0f}s; email/SMS go to moto's SES/SNS, "
                "one [delivery] line each",
                f"  calendar sync : swept every {SYNC_INTERVAL_S:.0f}s; provider webhooks reach "
                f"{public_base_url}/webhooks/google|microsoft",
                *fakes.banner(),
                "  connect one   : POST /api/workspaces/<location>/calendar-connections/oauth/google "
                "(or /microsoft)",
                "                  (bearer: the API key), open its authorizationUrl in a browser, Allow",
                "  for the README walkthrough, paste into another shell:",
                f"    export SLOTBOOK_URL={url} SLOTBOOK_LOCATION={info.location_id} \\",
                f"           SLOTBOOK_KEY={info.api_key} SLOTBOOK_ADMIN_TOKEN={info.admin_token}",
                "",
            ]
        ),
        flush=True,
    )
    loop = DeliveryLoop(server.api, info.region)
    loop.start()
    sync_loop = SyncLoop(server.api, info.region)
    sync_loop.start()
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        print("\nshutting down", flush=True)
    finally:
        loop.stop()
        sync_loop.stop()
        fakes.stop()
        server.server_close()


if __name__ == "__main__":
    main()
