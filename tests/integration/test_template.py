"""template.yaml and the localdev harness on top of it: routes, tables, env, sample events, server."""

from __future__ import annotations

import base64
import copy
import http.client
import json
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl

import boto3
import pytest
from moto import mock_aws

from localdev.server import LocalApi, SlotbookHTTPServer, build_event, to_http_response
from localdev.template import (
    REPO_ROOT,
    Route,
    Router,
    create_kms_keys,
    create_tables,
    function_config,
    function_environment,
    function_ids,
    load_template,
    routes,
    table_definitions,
)

EVENTS_DIR = REPO_ROOT / "events"
FUNCTION_GROUPS = (
    "calendars",
    "events",
    "admin",
    "groups",
    "schedules",
    "resources",
    "notes",
    "notifications",
    "reminders",
    "deliveries",
    "connections",
    "webhooks",
    "sync",
)
TIMEOUTS = {"RemindersFunction": 60, "DeliveriesFunction": 60, "SyncFunction": 60}
"""Functions whose Timeout differs from the global 10 s (the sweeps, the senders, the sync worker)."""
WEBHOOK_GROUP = "webhooks"
"""Provider callbacks: no API key, no Version header (Google and Graph send neither)."""

#: The API as specified: (method, path, function). ``/calendars/`` also has its ``/calendars`` twin.
API: list[tuple[str, str, str]] = [
    ("GET", "/calendars/", "CalendarsFunction"),
    ("POST", "/calendars/", "CalendarsFunction"),
    ("GET", "/calendars/{calendarId}", "CalendarsFunction"),
    ("PUT", "/calendars/{calendarId}", "CalendarsFunction"),
    ("DELETE", "/calendars/{calendarId}", "CalendarsFunction"),
    ("GET", "/calendars/{calendarId}/free-slots", "CalendarsFunction"),
    ("POST", "/calendars/events/appointments", "EventsFunction"),
    ("GET", "/calendars/events/appointments/{eventId}", "EventsFunction"),
    ("PUT", "/calendars/events/appointments/{eventId}", "EventsFunction"),
    ("GET", "/calendars/events", "EventsFunction"),
    ("GET", "/calendars/blocked-slots", "EventsFunction"),
    ("POST", "/calendars/events/block-slots", "EventsFunction"),
    ("PUT", "/calendars/events/block-slots/{eventId}", "EventsFunction"),
    ("DELETE", "/calendars/events/{eventId}", "EventsFunction"),
    ("GET", "/calendars/groups", "GroupsFunction"),
    ("POST", "/calendars/groups", "GroupsFunction"),
    ("POST", "/calendars/groups/validate-slug", "GroupsFunction"),
    ("PUT", "/calendars/groups/{groupId}", "GroupsFunction"),
    ("DELETE", "/calendars/groups/{groupId}", "GroupsFunction"),
    ("PUT", "/calendars/groups/{groupId}/status", "GroupsFunction"),
    ("POST", "/calendars/schedules", "SchedulesFunction"),
    ("GET", "/calendars/schedules/search", "SchedulesFunction"),
    ("GET", "/calendars/schedules/{id}", "SchedulesFunction"),
    ("PUT", "/calendars/schedules/{id}", "SchedulesFunction"),
    ("DELETE", "/calendars/schedules/{id}", "SchedulesFunction"),
    ("PUT", "/calendars/schedules/{id}/associations/{calendarId}", "SchedulesFunction"),
    ("DELETE", "/calendars/schedules/{id}/associations/{calendarId}", "SchedulesFunction"),
    ("POST", "/calendars/schedules/event-calendar/{calendarId}", "SchedulesFunction"),
    ("GET", "/calendars/schedules/event-calendar/{calendarId}", "SchedulesFunction"),
    ("PUT", "/calendars/schedules/event-calendar/{calendarId}", "SchedulesFunction"),
    ("GET", "/calendars/resources/{resourceType}", "ResourcesFunction"),
    ("POST", "/calendars/resources/{resourceType}", "ResourcesFunction"),
    ("GET", "/calendars/resources/{resourceType}/{id}", "ResourcesFunction"),
    ("PUT", "/calendars/resources/{resourceType}/{id}", "ResourcesFunction"),
    ("DELETE", "/calendars/resources/{resourceType}/{id}", "ResourcesFunction"),
    ("GET", "/calendars/appointments/{appointmentId}/notes", "NotesFunction"),
    ("POST", "/calendars/appointments/{appointmentId}/notes", "NotesFunction"),
    ("PUT", "/calendars/appointments/{appointmentId}/notes/{noteId}", "NotesFunction"),
    ("DELETE", "/calendars/appointments/{appointmentId}/notes/{noteId}", "NotesFunction"),
    ("GET", "/calendars/{calendarId}/notifications", "NotificationsFunction"),
    ("POST", "/calendars/{calendarId}/notifications", "NotificationsFunction"),
    ("GET", "/calendars/{calendarId}/notifications/{notificationId}", "NotificationsFunction"),
    ("PUT", "/calendars/{calendarId}/notifications/{notificationId}", "NotificationsFunction"),
    ("DELETE", "/calendars/{calendarId}/notifications/{notificationId}", "NotificationsFunction"),
    ("POST", "/admin/locations", "AdminFunction"),
    ("GET", "/admin/locations/{locationId}", "AdminFunction"),
    ("POST", "/admin/locations/{locationId}/api-keys", "AdminFunction"),
    ("DELETE", "/admin/locations/{locationId}/api-keys/{keyId}", "AdminFunction"),
    ("PUT", "/admin/locations/{locationId}/contacts/{contactId}", "AdminFunction"),
    ("GET", "/admin/locations/{locationId}/contacts/{contactId}", "AdminFunction"),
    ("DELETE", "/admin/locations/{locationId}/contacts/{contactId}", "AdminFunction"),
    ("PUT", "/admin/locations/{locationId}/users/{userId}", "AdminFunction"),
    ("GET", "/admin/locations/{locationId}/users/{userId}", "AdminFunction"),
    ("DELETE", "/admin/locations/{locationId}/users/{userId}", "AdminFunction"),
    ("POST", "/admin/locations/{locationId}/webhooks", "AdminFunction"),
    ("GET", "/admin/locations/{locationId}/webhooks", "AdminFunction"),
    ("DELETE", "/admin/locations/{locationId}/webhooks/{webhookId}", "AdminFunction"),
    ("GET", "/admin/locations/{locationId}/appointments/{appointmentId}/deliveries", "AdminFunction"),
    ("GET", "/admin/locations/{locationId}/users/{userId}/inbox", "AdminFunction"),
    ("POST", "/webhooks/google", "WebhooksFunction"),
    ("POST", "/webhooks/microsoft", "WebhooksFunction"),
    # oHallo calendar connections and bookings (seeds/000, 001)
    ("GET", "/api/workspaces/{workspaceId}/calendar-connections", "ConnectionsFunction"),
    ("GET", "/api/calendar-connections/{connectionId}", "ConnectionsFunction"),
    ("PATCH", "/api/calendar-connections/{connectionId}", "ConnectionsFunction"),
    ("DELETE", "/api/calendar-connections/{connectionId}", "ConnectionsFunction"),
    ("GET", "/api/calendar-connections/{connectionId}/calendars", "ConnectionsFunction"),
    ("POST", "/api/workspaces/{workspaceId}/calendar-connections/oauth/{provider}", "ConnectionsFunction"),
    ("GET", "/api/calendar-connections/oauth/callback", "ConnectionsFunction"),
    ("GET", "/api/calendar-connections/{connectionId}/free-slots", "ConnectionsFunction"),
    ("GET", "/api/workspaces/{workspaceId}/bookings", "ConnectionsFunction"),
    ("POST", "/api/workspaces/{workspaceId}/bookings", "ConnectionsFunction"),
    ("GET", "/api/bookings/{bookingId}", "ConnectionsFunction"),
    ("PATCH", "/api/bookings/{bookingId}", "ConnectionsFunction"),
    ("POST", "/api/bookings/{bookingId}/cancel", "ConnectionsFunction"),
]


@pytest.fixture(scope="module")
def template() -> dict[str, Any]:
    return load_template()


@pytest.fixture(scope="module")
def router(template: dict[str, Any]) -> Router:
    return Router(routes(template))


def _resources_of_type(template: dict[str, Any], resource_type: str) -> dict[str, dict[str, Any]]:
    return {k: v for k, v in template["Resources"].items() if v["Type"] == resource_type}


# --------------------------------------------------------------------------------------------------------
# Template shape
# --------------------------------------------------------------------------------------------------------


def test_template_parses_with_short_form_intrinsics(template: dict[str, Any]) -> None:
    assert template["Transform"] == "AWS::Serverless-2016-10-31"
    assert template["Parameters"]["Stage"]["Default"] == "dev"
    assert template["Parameters"]["AdminTokenHashParameterName"]["Default"] == "/slotbook/admin-token-sha256"
    function_globals = template["Globals"]["Function"]
    assert function_globals["Runtime"] == "python3.11"  # the Python the tests run on
    assert function_globals["Architectures"] == ["arm64"]
    assert function_globals["Tracing"] == "Active"
    assert function_globals["Layers"] == [{"Ref": "CoreLayer"}]
    assert function_globals["Environment"]["Variables"]["TABLE_NAME"] == {"Ref": "SlotbookTable"}
    assert set(template["Outputs"]) == {
        "ApiUrl",
        "TableName",
        "DeliveryDeadLetterQueueUrl",
        "SyncDeadLetterQueueUrl",
    }
    # Calendar connections (issue 4): one view of the keys, the queue and the providers everywhere.
    assert {
        name: value
        for name, value in function_globals["Environment"]["Variables"].items()
        if name not in ("TABLE_NAME", "SLOTBOOK_STAGE") and not name.startswith("POWERTOOLS_")
    } == {
        "PUBLIC_BASE_URL": {"Ref": "PublicBaseUrl"},
        "TOKEN_KEY_ID": {"Ref": "TokenKey"},
        "OAUTH_STATE_KEY_ID": {"Ref": "OAuthStateKey"},
        "SYNC_QUEUE_URL": {"Ref": "SyncQueue"},
        "GOOGLE_CLIENT_ID": {"Ref": "GoogleClientId"},
        "GOOGLE_CLIENT_SECRET_PARAMETER": {"Ref": "GoogleClientSecretParameter"},
        "MICROSOFT_CLIENT_ID": {"Ref": "MicrosoftClientId"},
        "MICROSOFT_CLIENT_SECRET_PARAMETER": {"Ref": "MicrosoftClientSecretParameter"},
    }
    for name in (
        "GoogleClientId",
        "GoogleClientSecretParameter",
        "MicrosoftClientId",
        "MicrosoftClientSecretParameter",
    ):
        assert template["Parameters"][name]["Default"] == ""  # unset: the provider is not offered
    assert template["Outputs"]["ApiUrl"]["Value"]["Fn::Sub"].startswith("https://${HttpApi}.execute-api.")


def test_short_form_tags_become_long_form(tmp_path: Path) -> None:
    path = tmp_path / "t.yaml"
    path.write_text(
        "Resources:\n"
        "  R:\n"
        "    Type: X\n"
        "    Properties:\n"
        "      A: !GetAtt T.Arn\n"
        "      B: !Sub '${T.Arn}/index/*'\n"
        "      C: !Join ['', [a, !Ref P]]\n"
        "      D: !If [Cond, !Ref AWS::NoValue, x]\n"
        "      E: !GetAtt [T, StreamArn]\n"
    )
    props = load_template(path)["Resources"]["R"]["Properties"]
    assert props["A"] == {"Fn::GetAtt": ["T", "Arn"]}
    assert props["B"] == {"Fn::Sub": "${T.Arn}/index/*"}
    assert props["C"] == {"Fn::Join": ["", ["a", {"Ref": "P"}]]}
    assert props["D"] == {"Fn::If": ["Cond", {"Ref": "AWS::NoValue"}, "x"]}
    assert props["E"] == {"Fn::GetAtt": ["T", "StreamArn"]}


def test_core_layer_and_table_settings(template: dict[str, Any]) -> None:
    layer = template["Resources"]["CoreLayer"]
    assert layer["Type"] == "AWS::Serverless::LayerVersion"
    assert layer["Properties"]["ContentUri"] == "layers/core"
    assert layer["Properties"]["RetentionPolicy"] == "Retain"
    assert layer["Metadata"]["BuildMethod"] == "python3.11"
    assert (REPO_ROOT / "layers/core/slotbook/__init__.py").is_file()

    table = template["Resources"]["SlotbookTable"]
    assert table["DeletionPolicy"] == table["UpdateReplacePolicy"] == "Retain"
    props = table["Properties"]
    assert props["BillingMode"] == "PAY_PER_REQUEST"
    assert props["PointInTimeRecoverySpecification"] == {"PointInTimeRecoveryEnabled": True}
    assert props["SSESpecification"] == {"SSEEnabled": True}
    assert props["TimeToLiveSpecification"] == {"AttributeName": "expiresAt", "Enabled": True}


def test_function_code_dirs_exist(template: dict[str, Any]) -> None:
    assert set(function_ids(template)) == {f"{group.title()}Function" for group in FUNCTION_GROUPS}
    for group in FUNCTION_GROUPS:
        assert (REPO_ROOT / "functions" / group).is_dir()
    for logical_id in function_ids(template):
        config = function_config(template, logical_id)
        assert config.code_dir.is_dir(), config.code_dir
        assert config.code_dir.parent == REPO_ROOT / "functions"
        assert config.handler == "app.lambda_handler"
        assert (config.code_dir / "app.py").is_file(), f"{logical_id}: {config.code_dir}/app.py missing"
        assert (config.memory_mb, config.timeout_s) == (512, TIMEOUTS.get(logical_id, 10))
        assert config.layer_dirs == (REPO_ROOT / "layers/core",)


def _policy_statements(template: dict[str, Any], logical_id: str) -> list[dict[str, Any]]:
    policies = template["Resources"][logical_id]["Properties"]["Policies"]
    return [statement for policy in policies for statement in policy["Statement"]]


_SEND_TO_QUEUE = {
    "Sid": "DeliveryQueueSend",
    "Effect": "Allow",
    "Action": ["sqs:SendMessage"],
    "Resource": {"Fn::GetAtt": ["DeliveryQueue", "Arn"]},
}
_SEND_TO_SYNC_QUEUE = {
    "Sid": "SyncQueueSend",
    "Effect": "Allow",
    "Action": ["sqs:SendMessage"],
    "Resource": {"Fn::GetAtt": ["SyncQueue", "Arn"]},
}
_CLIENT_SECRETS = {
    "Sid": "ProviderClientSecrets",
    "Effect": "Allow",
    "Action": ["ssm:GetParameter"],
    "Resource": [
        {
            "Fn::Sub": "arn:${AWS::Partition}:ssm:${AWS::Region}:${AWS::AccountId}"
            f":parameter${{{name}ClientSecretParameter}}"
        }
        for name in ("Google", "Microsoft")
    ],
}
OTHER_STATEMENTS: dict[str, list[dict[str, Any]]] = {
    # Booking changes queue their immediate notifications and, for a host with a linked calendar
    # connection, the provider write; the sweep queues due jobs.
    "EventsFunction": [_SEND_TO_QUEUE, _SEND_TO_SYNC_QUEUE],
    "RemindersFunction": [_SEND_TO_QUEUE],
    # Backoff on the queue; email through the configured SES identity only; SMS: SNS Publish to a
    # phone number has no resource to scope to (Resource "*", one action).
    "DeliveriesFunction": [
        {
            "Sid": "DeliveryQueueBackoff",
            "Effect": "Allow",
            "Action": ["sqs:ChangeMessageVisibility"],
            "Resource": {"Fn::GetAtt": ["DeliveryQueue", "Arn"]},
        },
        {
            "Sid": "SendEmail",
            "Effect": "Allow",
            "Action": ["ses:SendEmail", "ses:SendRawEmail"],
            "Resource": {
                "Fn::Sub": "arn:${AWS::Partition}:ses:${AWS::Region}:${AWS::AccountId}"
                ":identity/${NotificationEmailIdentity}"
            },
        },
        {"Sid": "SendSms", "Effect": "Allow", "Action": ["sns:Publish"], "Resource": "*"},
    ],
    # A valid provider callback only schedules a sync.
    "WebhooksFunction": [_SEND_TO_SYNC_QUEUE],
    # OAuth tokens sealed on the callback and opened to list calendars; the OAuth state signed and
    # verified; picking a calendar / a booking change queues a sync or provider write, and the
    # booking's immediate notifications; the OAuth client secrets for the code exchange.
    "ConnectionsFunction": [
        {
            "Sid": "ProviderTokens",
            "Effect": "Allow",
            "Action": ["kms:Decrypt", "kms:Encrypt"],
            "Resource": {"Fn::GetAtt": ["TokenKey", "Arn"]},
        },
        {
            "Sid": "OAuthState",
            "Effect": "Allow",
            "Action": ["kms:GenerateMac", "kms:VerifyMac"],
            "Resource": {"Fn::GetAtt": ["OAuthStateKey", "Arn"]},
        },
        _SEND_TO_SYNC_QUEUE,
        _SEND_TO_QUEUE,
        _CLIENT_SECRETS,
    ],
    # Tokens opened and (refreshed) sealed again with the token key only; the sweep queues syncs
    # and a retryable failure sets its backoff; the OAuth client secrets for refreshes.
    "SyncFunction": [
        {
            "Sid": "ProviderTokens",
            "Effect": "Allow",
            "Action": ["kms:Decrypt", "kms:Encrypt"],
            "Resource": {"Fn::GetAtt": ["TokenKey", "Arn"]},
        },
        {
            "Sid": "SyncQueue",
            "Effect": "Allow",
            "Action": ["sqs:SendMessage", "sqs:ChangeMessageVisibility"],
            "Resource": {"Fn::GetAtt": ["SyncQueue", "Arn"]},
        },
        _CLIENT_SECRETS,
    ],
}
"""Every non-DynamoDB statement of the notification and calendar-sync functions, exactly."""


@pytest.mark.parametrize(
    ("logical_id", "table_actions", "index_actions"),
    [
        # Exactly what each function's code calls (test_iam_usage.py derives the same sets by running
        # every route; TransactWriteItems needs the item actions it contains).
        (
            "CalendarsFunction",
            {"GetItem", "BatchGetItem", "Query", "PutItem", "UpdateItem", "DeleteItem"},
            set(),
        ),
        (
            "EventsFunction",
            {"GetItem", "BatchGetItem", "Query", "PutItem", "UpdateItem", "DeleteItem", "ConditionCheckItem"},
            {"dynamodb:Query"},
        ),
        ("AdminFunction", {"GetItem", "Query", "PutItem", "DeleteItem", "ConditionCheckItem"}, set()),
        ("GroupsFunction", {"GetItem", "Query", "PutItem", "UpdateItem", "DeleteItem"}, set()),
        (
            "SchedulesFunction",
            {"GetItem", "BatchGetItem", "PutItem", "UpdateItem", "DeleteItem"},
            {"dynamodb:Query"},
        ),
        (
            "ResourcesFunction",
            {"GetItem", "BatchGetItem", "Query", "PutItem", "UpdateItem", "DeleteItem"},
            set(),
        ),
        ("NotesFunction", {"GetItem", "Query", "PutItem", "DeleteItem"}, set()),
        ("NotificationsFunction", {"GetItem", "Query", "PutItem", "UpdateItem"}, {"dynamodb:Query"}),
        ("RemindersFunction", {"UpdateItem"}, {"dynamodb:Query"}),
        ("DeliveriesFunction", {"GetItem", "BatchGetItem", "Query", "PutItem", "UpdateItem"}, set()),
        ("WebhooksFunction", {"GetItem"}, set()),
        (
            "ConnectionsFunction",
            {"GetItem", "BatchGetItem", "Query", "PutItem", "UpdateItem", "DeleteItem", "BatchWriteItem"},
            {"dynamodb:Query"},
        ),
        (
            "SyncFunction",
            {
                "GetItem",
                "BatchGetItem",
                "Query",
                "PutItem",
                "UpdateItem",
                "DeleteItem",
                "BatchWriteItem",
                "ConditionCheckItem",
            },
            {"dynamodb:Query"},
        ),
    ],
)
def test_least_privilege_policies(
    template: dict[str, Any], logical_id: str, table_actions: set[str], index_actions: set[str]
) -> None:
    statements = _policy_statements(template, logical_id)
    for statement in statements:
        assert statement["Effect"] == "Allow"
        assert "*" not in json.dumps(statement["Action"])
        assert statement["Resource"] != "*" or statement["Action"] == ["sns:Publish"]
        assert "Scan" not in json.dumps(statement["Action"])
    on_table = [s for s in statements if s["Resource"] == {"Fn::GetAtt": ["SlotbookTable", "Arn"]}]
    on_indexes = [s for s in statements if s["Resource"] == {"Fn::Sub": "${SlotbookTable.Arn}/index/*"}]
    assert {a.removeprefix("dynamodb:") for s in on_table for a in s["Action"]} == table_actions
    assert {a for s in on_indexes for a in s["Action"]} == index_actions
    others = [s for s in statements if s not in on_table and s not in on_indexes]
    if logical_id in OTHER_STATEMENTS:
        assert others == OTHER_STATEMENTS[logical_id]
    elif logical_id == "AdminFunction":
        assert others == [
            {
                "Sid": "AdminTokenHash",
                "Effect": "Allow",
                "Action": ["ssm:GetParameter"],
                "Resource": {
                    "Fn::Sub": "arn:${AWS::Partition}:ssm:${AWS::Region}:${AWS::AccountId}"
                    ":parameter${AdminTokenHashParameterName}"
                },
            }
        ]
    else:
        assert others == []


# --------------------------------------------------------------------------------------------------------
# Routes and precedence
# --------------------------------------------------------------------------------------------------------


def test_routes_are_exactly_the_api(template: dict[str, Any]) -> None:
    declared = {(r.method, r.path, r.function) for r in routes(template)}
    expected = set(API) | {
        ("GET", "/calendars", "CalendarsFunction"),
        ("POST", "/calendars", "CalendarsFunction"),
    }
    assert declared == expected
    assert len({(m, p.rstrip("/")) for m, p, _ in declared}) == len(API)
    for route in routes(template):
        assert route.code_dir == REPO_ROOT / "functions" / route.function.removesuffix("Function").lower()


def test_every_event_resource_is_an_httpapi_event_on_the_one_api(template: dict[str, Any]) -> None:
    """HTTP functions serve the one API; the sweep runs every minute; deliveries consume the queue."""
    for logical_id, resource in _resources_of_type(template, "AWS::Serverless::Function").items():
        for event in resource["Properties"]["Events"].values():
            if logical_id == "RemindersFunction":
                assert event["Type"] == "Schedule"
                assert event["Properties"]["Schedule"] == "rate(1 minute)"
            elif logical_id == "DeliveriesFunction":
                assert event["Type"] == "SQS"
                assert event["Properties"]["Queue"] == {"Fn::GetAtt": ["DeliveryQueue", "Arn"]}
                assert event["Properties"]["FunctionResponseTypes"] == ["ReportBatchItemFailures"]
            elif logical_id == "SyncFunction":
                assert event["Type"] in ("SQS", "Schedule")
            else:
                assert event["Type"] == "HttpApi"
                assert event["Properties"]["ApiId"] == {"Ref": "HttpApi"}


def test_delivery_queue_dead_letters_after_max_attempts(template: dict[str, Any]) -> None:
    from slotbook.delivery.service import MAX_ATTEMPTS

    queue = template["Resources"]["DeliveryQueue"]["Properties"]
    dlq = template["Resources"]["DeliveryDeadLetterQueue"]["Properties"]
    assert queue["RedrivePolicy"] == {
        "deadLetterTargetArn": {"Fn::GetAtt": ["DeliveryDeadLetterQueue", "Arn"]},
        "maxReceiveCount": MAX_ATTEMPTS,
    }
    assert queue["VisibilityTimeout"] >= 6 * TIMEOUTS["DeliveriesFunction"]
    assert dlq["RedriveAllowPolicy"]["redrivePermission"] == "byQueue"
    assert dlq["MessageRetentionPeriod"] == 14 * 86400


def test_sync_function_consumes_the_fifo_sync_queue_and_sweeps(template: dict[str, Any]) -> None:
    """Issue 4: each connection's syncs and each booking's provider writes are one FIFO message
    group (in order); a retryable failure comes back, five receives end in the FIFO DLQ."""
    from slotbook.delivery.service import MAX_ATTEMPTS

    queue = template["Resources"]["SyncQueue"]["Properties"]
    dlq = template["Resources"]["SyncDeadLetterQueue"]["Properties"]
    assert queue["FifoQueue"] is True and dlq["FifoQueue"] is True
    assert queue["ContentBasedDeduplication"] is False  # the sender sets MessageDeduplicationId
    assert (queue["DeduplicationScope"], queue["FifoThroughputLimit"]) == (
        "messageGroup",
        "perMessageGroupId",
    )
    assert queue["QueueName"]["Fn::Sub"].endswith(".fifo") and dlq["QueueName"]["Fn::Sub"].endswith(".fifo")
    assert queue["RedrivePolicy"] == {
        "deadLetterTargetArn": {"Fn::GetAtt": ["SyncDeadLetterQueue", "Arn"]},
        "maxReceiveCount": MAX_ATTEMPTS,
    }
    assert queue["VisibilityTimeout"] >= 6 * TIMEOUTS["SyncFunction"]
    assert dlq["RedriveAllowPolicy"]["redrivePermission"] == "byQueue"
    assert dlq["RedriveAllowPolicy"]["sourceQueueArns"][0]["Fn::Sub"].endswith(":slotbook-${Stage}-sync.fifo")

    events = template["Resources"]["SyncFunction"]["Properties"]["Events"]
    assert {name: event["Type"] for name, event in events.items()} == {
        "SyncMessages": "SQS",
        "Sweep": "Schedule",
    }
    assert events["SyncMessages"]["Properties"]["Queue"] == {"Fn::GetAtt": ["SyncQueue", "Arn"]}
    assert events["SyncMessages"]["Properties"]["FunctionResponseTypes"] == ["ReportBatchItemFailures"]
    assert events["SyncMessages"]["Properties"]["BatchSize"] <= 10  # the FIFO event source maximum
    assert events["Sweep"]["Properties"]["Schedule"] == "rate(5 minutes)"


def test_kms_keys_encrypt_tokens_and_sign_oauth_state(template: dict[str, Any]) -> None:
    keys = _resources_of_type(template, "AWS::KMS::Key")
    assert set(keys) == {"TokenKey", "OAuthStateKey"}
    token, state = keys["TokenKey"], keys["OAuthStateKey"]
    assert (token["Properties"]["KeySpec"], token["Properties"]["KeyUsage"]) == (
        "SYMMETRIC_DEFAULT",
        "ENCRYPT_DECRYPT",
    )
    assert token["Properties"]["EnableKeyRotation"] is True
    assert token["DeletionPolicy"] == "Retain"  # the table (retained) holds its ciphertext
    assert (state["Properties"]["KeySpec"], state["Properties"]["KeyUsage"]) == (
        "HMAC_256",
        "GENERATE_VERIFY_MAC",
    )
    for key in keys.values():
        (statement,) = key["Properties"]["KeyPolicy"]["Statement"]
        # The account administers; use is granted by the functions' IAM policies only.
        assert statement["Principal"] == {
            "AWS": {"Fn::Sub": "arn:${AWS::Partition}:iam::${AWS::AccountId}:root"}
        }


def test_create_kms_keys_follows_the_template(template: dict[str, Any], moto_region: str) -> None:
    client = boto3.client("kms", region_name=moto_region)
    keys = create_kms_keys(client, template)
    assert set(keys) == {"TokenKey", "OAuthStateKey"}
    token = client.describe_key(KeyId=keys["TokenKey"])["KeyMetadata"]
    state = client.describe_key(KeyId=keys["OAuthStateKey"])["KeyMetadata"]
    assert (token["KeySpec"], token["KeyUsage"]) == ("SYMMETRIC_DEFAULT", "ENCRYPT_DECRYPT")
    assert (state["KeySpec"], state["KeyUsage"]) == ("HMAC_256", "GENERATE_VERIFY_MAC")
    sealed = client.encrypt(KeyId=keys["TokenKey"], Plaintext=b"t")["CiphertextBlob"]
    assert client.decrypt(CiphertextBlob=sealed)["Plaintext"] == b"t"
    mac = client.generate_mac(KeyId=keys["OAuthStateKey"], Message=b"s", MacAlgorithm="HMAC_SHA_256")["Mac"]
    assert client.verify_mac(KeyId=keys["OAuthStateKey"], Message=b"s", MacAlgorithm="HMAC_SHA_256", Mac=mac)[
        "MacValid"
    ]


@pytest.mark.parametrize(
    ("method", "path", "route_key", "function", "params"),
    [
        ("GET", "/calendars/events", "GET /calendars/events", "EventsFunction", {}),
        ("GET", "/calendars/blocked-slots", "GET /calendars/blocked-slots", "EventsFunction", {}),
        ("GET", "/calendars/abc", "GET /calendars/{calendarId}", "CalendarsFunction", {"calendarId": "abc"}),
        (
            "GET",
            "/calendars/abc/free-slots",
            "GET /calendars/{calendarId}/free-slots",
            "CalendarsFunction",
            {"calendarId": "abc"},
        ),
        (
            "DELETE",
            "/calendars/events/xyz",
            "DELETE /calendars/events/{eventId}",
            "EventsFunction",
            {"eventId": "xyz"},
        ),
        (
            "PUT",
            "/calendars/events/appointments/e1",
            "PUT /calendars/events/appointments/{eventId}",
            "EventsFunction",
            {"eventId": "e1"},
        ),
        ("POST", "/calendars/events/block-slots", "POST /calendars/events/block-slots", "EventsFunction", {}),
        ("GET", "/calendars/", "GET /calendars/", "CalendarsFunction", {}),
        ("GET", "/calendars", "GET /calendars", "CalendarsFunction", {}),
        ("POST", "/calendars/", "POST /calendars/", "CalendarsFunction", {}),
        ("post", "/calendars", "POST /calendars", "CalendarsFunction", {}),
        # Route keys include the method: no DELETE /calendars/events route, so the {calendarId} one matches.
        (
            "DELETE",
            "/calendars/events",
            "DELETE /calendars/{calendarId}",
            "CalendarsFunction",
            {"calendarId": "events"},
        ),
        (
            "GET",
            "/calendars/a%20b",
            "GET /calendars/{calendarId}",
            "CalendarsFunction",
            {"calendarId": "a b"},
        ),
        (
            "DELETE",
            "/admin/locations/L1/api-keys/K1",
            "DELETE /admin/locations/{locationId}/api-keys/{keyId}",
            "AdminFunction",
            {"locationId": "L1", "keyId": "K1"},
        ),
    ],
)
def test_router_precedence(
    router: Router, method: str, path: str, route_key: str, function: str, params: dict[str, str]
) -> None:
    resolved = router.resolve(method, path)
    assert resolved is not None
    route, found = resolved
    assert (route.route_key, route.function, found) == (route_key, function, params)


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/calendars/abc/"),  # HTTP APIs match the path exactly: a trailing slash is another path
        ("GET", "/calendars//free-slots"),  # {param} never matches an empty segment
        ("PATCH", "/calendars/abc"),
        ("GET", "/admin/locations"),
        ("GET", "/"),
        ("GET", "/calendars/abc/free-slots/x"),
    ],
)
def test_router_not_found(router: Router, method: str, path: str) -> None:
    assert router.resolve(method, path) is None


def test_route_match_greedy_and_any() -> None:
    route = Route(method="ANY", path="/files/{proxy+}", function="F", code_dir=Path("/x"))
    assert route.match("GET", "/files/a/b%2Fc") == {"proxy": "a/b/c"}
    assert route.match("DELETE", "/files/a") == {"proxy": "a"}
    assert route.match("GET", "/files/") is None
    assert route.match("GET", "/files") is None
    literal = Route(method="GET", path="/files/a", function="G", code_dir=Path("/x"))
    router = Router([route, literal])
    assert router.resolve("GET", "/files/a") == (literal, {})
    assert router.resolve("PUT", "/files/a") == (route, {"proxy": "a"})


def test_duplicate_route_keys_rejected() -> None:
    route = Route(method="GET", path="/a", function="F", code_dir=Path("/x"))
    with pytest.raises(ValueError, match="duplicate"):
        Router([route, route])


# --------------------------------------------------------------------------------------------------------
# Tables and environment
# --------------------------------------------------------------------------------------------------------


@pytest.fixture
def moto_region(monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    with mock_aws():
        yield "us-east-1"


def test_table_definitions_follow_the_template(template: dict[str, Any]) -> None:
    (table,) = table_definitions(template)
    assert table.logical_id == "SlotbookTable"
    assert table.table_name == "SlotbookTable"
    assert table.ttl_attribute == "expiresAt"
    assert table.create_kwargs["BillingMode"] == "PAY_PER_REQUEST"
    assert "ProvisionedThroughput" not in table.create_kwargs
    (renamed,) = table_definitions(template, name_override={"SlotbookTable": "slotbook-test-1"})
    assert renamed.table_name == "slotbook-test-1"


def test_create_tables_in_moto(moto_region: str) -> None:
    client = boto3.client("dynamodb", region_name=moto_region)
    names = create_tables(client, {"SlotbookTable": "slotbook-local"})
    assert names == {"SlotbookTable": "slotbook-local"}

    table = client.describe_table(TableName="slotbook-local")["Table"]
    assert table["KeySchema"] == [
        {"AttributeName": "PK", "KeyType": "HASH"},
        {"AttributeName": "SK", "KeyType": "RANGE"},
    ]
    assert table["BillingModeSummary"]["BillingMode"] == "PAY_PER_REQUEST"
    indexes = {index["IndexName"]: index for index in table["GlobalSecondaryIndexes"]}
    assert set(indexes) == {"GSI1"}
    for name in ("GSI1",):
        assert indexes[name]["KeySchema"] == [
            {"AttributeName": f"{name}PK", "KeyType": "HASH"},
            {"AttributeName": f"{name}SK", "KeyType": "RANGE"},
        ]
        assert indexes[name]["Projection"] == {"ProjectionType": "ALL"}
    assert {a["AttributeName"]: a["AttributeType"] for a in table["AttributeDefinitions"]} == {
        "PK": "S",
        "SK": "S",
        "GSI1PK": "S",
        "GSI1SK": "S",
    }
    ttl = client.describe_time_to_live(TableName="slotbook-local")["TimeToLiveDescription"]
    assert ttl == {"TimeToLiveStatus": "ENABLED", "AttributeName": "expiresAt"}

    # The GSI is usable as declared.
    client.put_item(
        TableName="slotbook-local",
        Item={k: {"S": v} for k, v in {"PK": "a", "SK": "b", "GSI1PK": "g", "GSI1SK": "1"}.items()},
    )
    found = client.query(
        TableName="slotbook-local",
        IndexName="GSI1",
        KeyConditionExpression="GSI1PK = :g",
        ExpressionAttributeValues={":g": {"S": "g"}},
    )
    assert found["Count"] == 1


def test_function_environment_resolves_for_local_use(template: dict[str, Any]) -> None:
    common = {
        "TABLE_NAME": "slotbook-local",
        "POWERTOOLS_SERVICE_NAME": "slotbook",
        "POWERTOOLS_METRICS_NAMESPACE": "Slotbook",
        "POWERTOOLS_LOG_LEVEL": "INFO",
        "SLOTBOOK_STAGE": "local",
        "PUBLIC_BASE_URL": "https://example.com",
        # make dev and the tests replace these with their moto keys (and run syncs inline)
        "TOKEN_KEY_ID": "TokenKey",
        "OAUTH_STATE_KEY_ID": "OAuthStateKey",
        "SYNC_QUEUE_URL": "SyncQueue",
        "GOOGLE_CLIENT_ID": "",
        "GOOGLE_CLIENT_SECRET_PARAMETER": "",
        "MICROSOFT_CLIENT_ID": "",
        "MICROSOFT_CLIENT_SECRET_PARAMETER": "",
    }
    names = {"SlotbookTable": "slotbook-local"}
    assert function_environment(template, "CalendarsFunction", names) == common
    assert function_environment(template, "EventsFunction", names) == {
        **common,
        "DELIVERY_QUEUE_URL": "DeliveryQueue",  # make dev replaces it with its moto queue's URL
    }
    assert function_environment(template, "AdminFunction", names) == {
        **common,
        "ADMIN_TOKEN_HASH_PARAMETER": "/slotbook/admin-token-sha256",
    }
    assert function_environment(template, "EventsFunction")["TABLE_NAME"] == "SlotbookTable"
    overridden = function_environment(
        template, "AdminFunction", parameter_overrides={"Stage": "qa", "AdminTokenHashParameterName": "/x"}
    )
    assert (overridden["SLOTBOOK_STAGE"], overridden["ADMIN_TOKEN_HASH_PARAMETER"]) == ("qa", "/x")


def test_function_environment_intrinsics() -> None:
    template = {
        "Parameters": {
            "Stage": {"Type": "String", "Default": "dev"},
            "Flag": {"Type": "String", "Default": "on"},
        },
        "Conditions": {"IsOn": {"Fn::Equals": [{"Ref": "Flag"}, "on"]}},
        "Resources": {
            "T": {
                "Type": "AWS::DynamoDB::Table",
                "Properties": {"AttributeDefinitions": [], "KeySchema": [], "BillingMode": "PAY_PER_REQUEST"},
            },
            "F": {
                "Type": "AWS::Serverless::Function",
                "Properties": {
                    "CodeUri": "x/",
                    "Environment": {
                        "Variables": {
                            "ARN": {"Fn::GetAtt": ["T", "Arn"]},
                            "SUB": {"Fn::Sub": "${T}-${Stage}-${AWS::Region}-${!Literal}"},
                            "SUB2": {"Fn::Sub": ["${A}/${T.Arn}", {"A": {"Ref": "Stage"}}]},
                            "JOIN": {"Fn::Join": [":", ["a", {"Ref": "T"}]]},
                            "IF": {"Fn::If": ["IsOn", "yes", "no"]},
                            "GONE": {"Fn::If": ["IsOn", {"Ref": "AWS::NoValue"}, "kept"]},
                            "NUM": 5,
                            "BOOL": True,
                        }
                    },
                },
            },
        },
    }
    env = function_environment(template, "F", {"T": "tbl"}, region="eu-west-1")
    assert env == {
        "ARN": "arn:aws:dynamodb:eu-west-1:123456789012:table/tbl",
        "SUB": "tbl-local-eu-west-1-${Literal}",
        "SUB2": "local/arn:aws:dynamodb:eu-west-1:123456789012:table/tbl",
        "JOIN": "a:tbl",
        "IF": "yes",
        "NUM": "5",
        "BOOL": "true",
    }


# --------------------------------------------------------------------------------------------------------
# Sample events (sam local invoke)
# --------------------------------------------------------------------------------------------------------

EVENT_FILES = sorted(EVENTS_DIR.glob("*.json"))


def test_there_is_an_event_file_per_route(template: dict[str, Any]) -> None:
    covered = {json.loads(path.read_text())["routeKey"] for path in EVENT_FILES}
    assert covered == {route.route_key for route in routes(template)}


@pytest.mark.parametrize("path", EVENT_FILES, ids=[p.stem for p in EVENT_FILES])
def test_event_file_is_a_payload_v2_event_of_the_template(path: Path, router: Router) -> None:
    event = json.loads(path.read_text())
    assert event["version"] == "2.0"
    method = event["routeKey"].split(" ", 1)[0]
    group = path.stem.split("-", 1)[0]
    assert group in FUNCTION_GROUPS

    context = event["requestContext"]
    assert context["routeKey"] == event["routeKey"]
    assert context["stage"] == "$default"
    assert context["http"]["method"] == method
    assert context["http"]["path"] == event["rawPath"]
    assert isinstance(context["timeEpoch"], int)
    for key in ("accountId", "apiId", "domainName", "domainPrefix", "requestId", "time"):
        assert isinstance(context[key], str)
        assert context[key]

    resolved = router.resolve(method, event["rawPath"])
    assert resolved is not None, f"{event['rawPath']} does not match any route"
    route, params = resolved
    assert route.route_key == event["routeKey"]
    assert route.function.removesuffix("Function").lower() == group
    assert event.get("pathParameters", {}) == params

    headers = event["headers"]
    assert all(name == name.lower() for name in headers)
    if group == WEBHOOK_GROUP or event["routeKey"] == "GET /api/calendar-connections/oauth/callback":
        # Providers authenticate by what Slotbook registered with them, not by an API key; the
        # OAuth callback is the user's browser coming back from the consent screen.
        assert "authorization" not in headers and "version" not in headers
    elif group == "connections":
        # The oHallo dialect: a bearer API key and no Version header (seeds/000 curl examples).
        assert headers["authorization"] == "Bearer sb_demo_token"
        assert "version" not in headers
    else:
        assert headers["authorization"] == "Bearer sb_demo_token"
        assert headers["version"] == "2021-07-28"

    query: dict[str, str] = {}
    for name, value in parse_qsl(event["rawQueryString"], keep_blank_values=True):
        query[name] = f"{query[name]},{value}" if name in query else value
    assert event.get("queryStringParameters", {}) == query

    assert event["isBase64Encoded"] is False
    if "body" in event:
        assert headers["content-type"] == "application/json"
        assert headers["content-length"] == str(len(event["body"].encode()))
        assert isinstance(json.loads(event["body"]), dict | list)
    else:
        # Reads, deletes, the bodiless PUT of a schedule association, and Google's push
        # notification (everything is in its X-Goog-* headers).
        assert (
            method in ("GET", "DELETE")
            or event["routeKey"].endswith("/associations/{calendarId}")
            or event["routeKey"] == "POST /webhooks/google"
            or event["routeKey"] == "POST /api/bookings/{bookingId}/cancel"
        )
        if event["routeKey"] == "POST /webhooks/google":
            assert headers["x-goog-channel-id"] and headers["x-goog-resource-state"] == "exists"


# --------------------------------------------------------------------------------------------------------
# localdev.server building blocks (no moto, no seed: a stub function behind the real router)
# --------------------------------------------------------------------------------------------------------

_ECHO_APP = """
import base64, json

def lambda_handler(event, context):
    path = event["rawPath"]
    if path.endswith("/boom"):
        raise RuntimeError("boom")
    if path.endswith("/bare"):
        return {"bare": True}
    if path.endswith("/binary"):
        return {"statusCode": 200, "headers": {"content-type": "image/png"},
                "body": base64.b64encode(b"\\x89PNG").decode(), "isBase64Encoded": True}
    return {
        "statusCode": 201,
        "headers": {"content-type": "application/json", "x-function": context.function_name},
        "cookies": ["a=1; Path=/", "b=2"],
        "body": json.dumps({"event": event, "remaining": context.get_remaining_time_in_millis(),
                            "memory": context.memory_limit_in_mb}),
    }
"""


@pytest.fixture
def echo_server(tmp_path: Path, template: dict[str, Any]) -> Iterator[str]:
    code_dir = tmp_path / "echo"
    code_dir.mkdir()
    (code_dir / "app.py").write_text(_ECHO_APP)
    stub = copy.deepcopy(template)
    for logical_id in function_ids(stub):
        stub["Resources"][logical_id]["Properties"]["CodeUri"] = str(code_dir)
    server = SlotbookHTTPServer(("127.0.0.1", 0), LocalApi(stub, "us-east-1"), access_log=False)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def _request(
    address: str, method: str, target: str, headers: list[tuple[str, str]] = (), body: bytes | None = None
) -> tuple[int, http.client.HTTPMessage, bytes]:
    connection = http.client.HTTPConnection(address, timeout=10)
    try:
        connection.putrequest(method, target, skip_accept_encoding=True)
        for name, value in headers:
            connection.putheader(name, value)
        if body is not None:
            connection.putheader("Content-Length", str(len(body)))
        connection.endheaders(body)
        response = connection.getresponse()
        return response.status, response.headers, response.read()
    finally:
        connection.close()


def test_server_builds_api_gateway_events(echo_server: str) -> None:
    status, headers, body = _request(
        echo_server,
        "PUT",
        "/calendars/events/appointments/ev%201?b=2&a=1&b=3&empty=",
        [
            ("Authorization", "Bearer sb_demo_token"),
            ("Version", "2021-07-28"),
            ("X-Multi", "one"),
            ("X-Multi", "two"),
            ("Cookie", "c1=v1; c2=v2"),
            ("Content-Type", "application/json"),
        ],
        b'{"title":"x"}',
    )
    assert status == 201
    assert headers.get_all("Set-Cookie") == ["a=1; Path=/", "b=2"]
    assert headers["x-function"] == "slotbook-local-EventsFunction"
    assert headers["apigw-requestid"]
    payload = json.loads(body)
    event = payload["event"]
    assert payload["memory"] == 512
    assert 0 < payload["remaining"] <= 10_000
    assert event["version"] == "2.0"
    assert event["routeKey"] == "PUT /calendars/events/appointments/{eventId}"
    assert event["rawPath"] == "/calendars/events/appointments/ev%201"
    assert event["rawQueryString"] == "b=2&a=1&b=3&empty="
    assert event["queryStringParameters"] == {"b": "2,3", "a": "1", "empty": ""}
    assert event["pathParameters"] == {"eventId": "ev 1"}
    assert event["cookies"] == ["c1=v1", "c2=v2"]
    assert "cookie" not in event["headers"]
    assert event["headers"]["x-multi"] == "one,two"
    assert event["headers"]["authorization"] == "Bearer sb_demo_token"
    assert event["headers"]["content-length"] == "13"
    assert event["body"] == '{"title":"x"}'
    assert event["isBase64Encoded"] is False
    context = event["requestContext"]
    assert context["routeKey"] == event["routeKey"]
    assert context["stage"] == "$default"
    assert context["http"]["method"] == "PUT"
    assert context["http"]["sourceIp"] == "127.0.0.1"


def test_server_responses(echo_server: str) -> None:
    status, headers, body = _request(echo_server, "GET", "/nowhere")
    assert (status, json.loads(body)) == (404, {"message": "Not Found"})
    status, _, body = _request(echo_server, "GET", "/calendars/x/")
    assert status == 404

    status, headers, body = _request(echo_server, "GET", "/calendars/boom")
    assert (status, json.loads(body)) == (500, {"message": "Internal Server Error"})

    status, headers, body = _request(echo_server, "GET", "/calendars/bare")
    assert (status, headers["content-type"], json.loads(body)) == (200, "application/json", {"bare": True})

    status, headers, body = _request(echo_server, "GET", "/calendars/binary")
    assert (status, headers["content-type"], body) == (200, "image/png", b"\x89PNG")

    status, _, body = _request(
        echo_server, "POST", "/calendars", [("Content-Type", "application/octet-stream")], b"\x00\xff"
    )
    event = json.loads(body)["event"]
    assert (status, event["routeKey"], event["isBase64Encoded"]) == (201, "POST /calendars", True)
    assert base64.b64decode(event["body"]) == b"\x00\xff"


def test_build_event_without_body_or_query() -> None:
    event = build_event(method="GET", raw_path="/calendars/", route_key="GET /calendars/")
    assert event["isBase64Encoded"] is False
    assert "body" not in event
    assert "queryStringParameters" not in event
    assert "pathParameters" not in event
    assert "cookies" not in event
    assert event["rawQueryString"] == ""


def test_to_http_response_rejects_malformed_results() -> None:
    with pytest.raises(ValueError, match="statusCode"):
        to_http_response({"statusCode": "two hundred"})
    with pytest.raises(ValueError, match="body"):
        to_http_response({"statusCode": 200, "body": {"not": "a string"}})
    assert to_http_response("hi").body == b'"hi"'
    assert to_http_response({"statusCode": 204}).body == b""


def test_layer_requirements_match_the_project_dependencies() -> None:
    """`sam build` installs layers/core/requirements.txt; tests run with pyproject's list."""
    import tomllib

    root = Path(__file__).resolve().parents[2]
    declared = tomllib.loads((root / "pyproject.toml").read_text())["project"]["dependencies"]
    layer = [
        line.strip()
        for line in (root / "layers/core/requirements.txt").read_text().splitlines()
        if line.strip() and not line.startswith("#")
    ]
    assert sorted(layer) == sorted(declared)


def test_sample_events_run_on_their_handlers(aws: str, tenant: Any) -> None:
    """Each events/*.json, as `sam local invoke` would pass it, reaches its function and gets a
    JSON answer that is not a 5xx (the demo ids and tokens are swapped for a real tenant's)."""
    from tests.conftest import ADMIN_TOKEN
    from tests.integration.conftest import local_api

    api = local_api()
    by_route = {r.route_key: r.function for r in routes(load_template())}
    demo_location = "ve9EPM428h8vShlRW1KT"
    for path in sorted((Path(__file__).resolve().parents[2] / "events").glob("*.json")):
        text = path.read_text().replace(demo_location, tenant.location_id)
        event = json.loads(text)
        if not event["rawPath"].startswith("/webhooks/"):  # provider callbacks carry no API key
            token = ADMIN_TOKEN if event["rawPath"].startswith("/admin") else tenant.token
            event["headers"]["authorization"] = f"Bearer {token}"
        result = api.functions.invoke(by_route[event["routeKey"]], event)
        assert result["statusCode"] < 500, (path.name, result)
        assert isinstance(json.loads(result["body"]), dict | list), path.name
