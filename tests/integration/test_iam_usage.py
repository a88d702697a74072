"""The template's IAM actions per function are exactly what the function's code uses.

One representative flow calls every route of the template, successfully
(:func:`test_the_flow_calls_every_route` keeps it so), with the data that makes each function
take its widest path: the booking calendar is in a group, has a user schedule and an
event-calendar schedule, and is mapped to a room and to equipment, so free slots and bookings
read and write what those areas add. Each DynamoDB request is attributed to the function that
made it (a transaction counts as the item actions it contains), and for every function of the
template the set must equal its table (and index) actions: nothing missing (it would fail on
AWS), nothing extra (least privilege).
"""

from __future__ import annotations

import json
import threading
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import pytest

from localdev.template import function_ids, function_properties, load_template, routes
from slotbook import container
from tests.conftest import ADMIN_TOKEN
from tests.integration.conftest import local_api
from tests.integration.fake_providers import GOOGLE_ACCOUNT, FakeProviders

_ITEM_ACTIONS = {
    "Put": "PutItem",
    "Update": "UpdateItem",
    "Delete": "DeleteItem",
    "ConditionCheck": "ConditionCheckItem",
    "Get": "GetItem",
}
"""What IAM checks for each item of a TransactWriteItems / TransactGetItems request."""

_TABLE = {"Fn::GetAtt": ["SlotbookTable", "Arn"]}
_INDEXES = {"Fn::Sub": "${SlotbookTable.Arn}/index/*"}
VERSION = "2021-07-28"
WEEK = "startTime=1804320000000&endTime=1804924800000"  # 2027-03-05 .. 2027-03-12 UTC
SLOT_WEEK = "startDate=1804320000000&endDate=1804924800000"
HOURS = [
    {
        "daysOfTheWeek": [1, 2, 3, 4, 5],
        "hours": [{"openHour": 9, "openMinute": 0, "closeHour": 17, "closeMinute": 0}],
    }
]
RULES = [{"type": "wday", "day": "monday", "intervals": [{"from": "09:00", "to": "17:00"}]}]


def template_grants() -> dict[str, tuple[set[str], set[str]]]:
    """Function logical id → (table actions, index actions) its policies grant on SlotbookTable."""
    template = load_template()
    grants = {}
    for logical_id in function_ids(template):
        table: set[str] = set()
        index: set[str] = set()
        for policy in function_properties(template, logical_id).get("Policies", []):
            for statement in policy["Statement"]:
                actions = {
                    a.removeprefix("dynamodb:") for a in statement["Action"] if a.startswith("dynamodb:")
                }
                if statement["Resource"] == _TABLE:
                    table |= actions
                elif statement["Resource"] == _INDEXES:
                    index |= actions
        grants[logical_id] = (table, index)
    return grants


def _route_key(method: str, path: str) -> str:
    """API Gateway serves ``/x`` and ``/x/`` as one resource here: the key ignores a trailing slash."""
    return f"{method} {path.rstrip('/') or '/'}"


@dataclass
class Flow:
    """Calls routes in-process (as API Gateway would) and records, per function, the DynamoDB
    actions it used and the routes it served. Every call must succeed."""

    used: dict[str, set[str]] = field(default_factory=lambda: defaultdict(set))
    used_index: dict[str, set[str]] = field(default_factory=lambda: defaultdict(set))
    served: set[str] = field(default_factory=set)
    token: str = ""
    location: str = ""
    _function: str = ""
    _thread: int = field(default_factory=threading.get_ident)

    def __post_init__(self) -> None:
        container.services().store._client.meta.events.register("before-call.dynamodb", self._record)

    def _record(self, model: Any, params: dict[str, Any], **_: Any) -> None:
        if threading.get_ident() != self._thread:
            return  # a fake provider's push served on the webhook relay's thread (unattributable)
        body = json.loads(params["body"] or "{}")
        if model.name in ("TransactWriteItems", "TransactGetItems"):
            for item in body["TransactItems"]:
                self.used[self._function].add(_ITEM_ACTIONS[next(iter(item))])
        elif "IndexName" in body:
            self.used_index[self._function].add(model.name)
        else:
            self.used[self._function].add(model.name)

    def invoke(self, function: str, event: dict[str, Any]) -> Any:
        """Invoke a function that no route serves (the sweep, the queue consumer) with ``event``."""
        self._function = function
        self.served.add(function)
        return local_api().functions.invoke(function, event)

    def call(
        self,
        method: str,
        path: str,
        body: Any = None,
        *,
        admin: bool = False,
        extra_headers: dict[str, str] | None = None,
    ) -> Any:
        """``method path`` with the tenant's token (or the admin token); the parsed JSON answer."""
        headers = [("content-type", "application/json"), *(extra_headers or {}).items()]
        if admin:
            headers.append(("authorization", f"Bearer {ADMIN_TOKEN}"))
        else:
            headers += [("authorization", f"Bearer {self.token}"), ("version", VERSION)]
        api = local_api()
        resolved = api.router.resolve(method, path.split("?")[0])
        assert resolved is not None, path
        route = resolved[0]
        self._function = route.function
        self.served.add(_route_key(route.method, route.path))
        raw = json.dumps(body).encode() if body is not None else b""
        response, _, _ = api.handle(method, path, headers, raw, "1")
        assert response.status < 300, (method, path, response.status, response.body)
        if not response.body or not response.headers.get("Content-Type", "").startswith("application/json"):
            return response.body.decode() or None
        return json.loads(response.body)


# --------------------------------------------------------------------------------------------------------
# The flow, area by area
# --------------------------------------------------------------------------------------------------------


def tenant_flow(flow: Flow) -> None:
    """Admin routes: a location, an all-scopes key (and a revoked spare one)."""
    from slotbook.services.tenancy import SCOPES

    location = flow.call("POST", "/admin/locations", {"name": "L", "timezone": "UTC"}, admin=True)["location"]
    loc = location["id"]
    key = flow.call(
        "POST", f"/admin/locations/{loc}/api-keys", {"name": "k", "scopes": sorted(SCOPES)}, admin=True
    )["apiKey"]
    spare = flow.call(
        "POST",
        f"/admin/locations/{loc}/api-keys",
        {"name": "s", "scopes": ["calendars.readonly"]},
        admin=True,
    )["apiKey"]
    flow.call("DELETE", f"/admin/locations/{loc}/api-keys/{spare['id']}", admin=True)
    flow.call("GET", f"/admin/locations/{loc}", admin=True)
    # The recipient directory and webhook endpoints (issue 5)
    for kind in ("contacts", "users"):
        flow.call(
            "PUT", f"/admin/locations/{loc}/{kind}/p1", {"name": "P", "email": "p@example.com"}, admin=True
        )
        flow.call("GET", f"/admin/locations/{loc}/{kind}/p1", admin=True)
        flow.call("DELETE", f"/admin/locations/{loc}/{kind}/p1", admin=True)
    hook = flow.call(
        "POST", f"/admin/locations/{loc}/webhooks", {"url": "https://h.example.com/x"}, admin=True
    )
    flow.call("GET", f"/admin/locations/{loc}/webhooks", admin=True)
    flow.call("DELETE", f"/admin/locations/{loc}/webhooks/{hook['webhook']['id']}", admin=True)
    flow.token, flow.location = key["token"], loc


def groups_flow(flow: Flow) -> str:
    """Every group route; returns an active group's id."""
    loc = flow.location
    flow.call("POST", "/calendars/groups/validate-slug", {"locationId": loc, "slug": "g"})
    group = flow.call(
        "POST", "/calendars/groups", {"locationId": loc, "name": "G", "description": "d", "slug": "g"}
    )["group"]
    flow.call("GET", f"/calendars/groups?locationId={loc}")
    flow.call("PUT", f"/calendars/groups/{group['id']}", {"name": "G2", "description": "d2", "slug": "g2"})
    flow.call("PUT", f"/calendars/groups/{group['id']}/status", {"isActive": False})
    flow.call("PUT", f"/calendars/groups/{group['id']}/status", {"isActive": True})
    return group["id"]


def calendar_flow(flow: Flow, group_id: str) -> str:
    """Calendar routes but delete; returns a calendar of the group."""
    loc = flow.location
    cal = flow.call(
        "POST",
        "/calendars/",
        {
            "locationId": loc,
            "name": "c",
            "groupId": group_id,
            "teamMembers": [{"userId": "u"}],
            "openHours": HOURS,
        },
    )["calendar"]
    flow.call("GET", f"/calendars/?locationId={loc}")
    flow.call("GET", f"/calendars/?locationId={loc}&groupId={group_id}&showDrafted=false")
    flow.call("GET", f"/calendars/{cal['id']}")
    flow.call("PUT", f"/calendars/{cal['id']}", {"name": "c2"})
    return cal["id"]


def schedules_flow(flow: Flow, cal_id: str) -> str:
    """Every schedule route but the removals (see :func:`teardown_flow`); returns the user schedule."""
    loc = flow.location
    schedule = flow.call(
        "POST",
        "/calendars/schedules",
        {"locationId": loc, "name": "s", "userId": "u", "timezone": "Europe/Copenhagen", "rules": RULES},
    )["schedule"]
    flow.call("GET", f"/calendars/schedules/search?locationId={loc}&userId=u")
    flow.call("GET", f"/calendars/schedules/{schedule['id']}")
    flow.call("PUT", f"/calendars/schedules/{schedule['id']}", {"name": "s2", "rules": RULES})
    flow.call("PUT", f"/calendars/schedules/{schedule['id']}/associations/{cal_id}")
    flow.call("GET", f"/calendars/schedules/search?locationId={loc}&userId=u&calendarId={cal_id}&limit=10")
    path = f"/calendars/schedules/event-calendar/{cal_id}"
    flow.call("POST", path, {"timezone": "Europe/Copenhagen", "rules": RULES})
    flow.call("GET", path)
    flow.call("PUT", path, {"rules": RULES})
    return schedule["id"]


def resources_flow(flow: Flow, cal_id: str) -> list[tuple[str, str]]:
    """Every resource route but delete; a room and an equipment mapped to the calendar."""
    loc = flow.location
    made = []
    for kind in ("rooms", "equipments"):
        body = {
            "locationId": loc,
            "name": kind,
            "description": "d",
            "quantity": 2,
            "outOfService": 0,
            "capacity": 2,
            "calendarIds": [cal_id],
        }
        resource = flow.call("POST", f"/calendars/resources/{kind}", body)
        flow.call("GET", f"/calendars/resources/{kind}?locationId={loc}&limit=10&skip=0")
        flow.call("GET", f"/calendars/resources/{kind}/{resource['id']}")
        flow.call("PUT", f"/calendars/resources/{kind}/{resource['id']}", {"name": f"{kind} 2"})
        made.append((kind, resource["id"]))
    return made


def events_flow(flow: Flow, cal_id: str, group_id: str) -> str:
    """Free slots and every event route, single and recurring; returns a live appointment."""
    loc = flow.location
    flow.call("GET", f"/calendars/{cal_id}/free-slots?{SLOT_WEEK}")
    booking = {"calendarId": cal_id, "locationId": loc, "contactId": "c"}
    appt = flow.call(
        "POST", "/calendars/events/appointments", {**booking, "startTime": "2027-03-08T10:00:00Z"}
    )
    flow.call("GET", f"/calendars/events/appointments/{appt['id']}")
    flow.call("PUT", f"/calendars/events/appointments/{appt['id']}", {"startTime": "2027-03-08T11:00:00Z"})
    for by in (f"calendarId={cal_id}", "userId=u", f"groupId={group_id}"):
        flow.call("GET", f"/calendars/events?locationId={loc}&{by}&{WEEK}")
    # A recurring series: an instance edited, one deleted, then the whole series
    series = flow.call(
        "POST",
        "/calendars/events/appointments",
        {
            **booking,
            "startTime": "2027-03-09T09:00:00Z",
            "rrule": "RRULE:FREQ=DAILY;COUNT=3",
            "ignoreFreeSlotValidation": True,
        },
    )
    instances = [
        e["id"]
        for e in flow.call("GET", f"/calendars/events?locationId={loc}&calendarId={cal_id}&{WEEK}")["events"]
        if e.get("masterEventId") == series["id"]
    ]
    assert len(instances) == 3, instances
    flow.call("GET", f"/calendars/events/appointments/{instances[0]}")
    flow.call("PUT", f"/calendars/events/appointments/{instances[1]}", {"title": "moved"})
    flow.call("DELETE", f"/calendars/events/{instances[2]}", {})
    flow.call("GET", f"/calendars/{cal_id}/free-slots?{SLOT_WEEK}")  # with a series as busy time
    flow.call("DELETE", f"/calendars/events/{series['id']}", {})
    # Block slots
    block = {"calendarId": cal_id, "locationId": loc}
    made = flow.call(
        "POST",
        "/calendars/events/block-slots",
        {**block, "startTime": "2027-03-10T10:00:00Z", "endTime": "2027-03-10T11:00:00Z"},
    )
    flow.call(
        "PUT",
        f"/calendars/events/block-slots/{made['id']}",
        {**block, "startTime": "2027-03-10T12:00:00Z", "endTime": "2027-03-10T13:00:00Z"},
    )
    flow.call("GET", f"/calendars/blocked-slots?locationId={loc}&calendarId={cal_id}&{WEEK}")
    flow.call("DELETE", f"/calendars/events/{made['id']}", {})
    flow.call("GET", f"/calendars/{cal_id}/free-slots?{SLOT_WEEK}")
    return appt["id"]


def notes_flow(flow: Flow, appointment_id: str) -> None:
    path = f"/calendars/appointments/{appointment_id}/notes"
    note = flow.call("POST", path, {"body": "n", "userId": "u"})["note"]
    flow.call("GET", f"{path}?limit=10&offset=0")
    flow.call("PUT", f"{path}/{note['id']}", {"body": "n2"})
    flow.call("DELETE", f"{path}/{note['id']}")


def notifications_flow(flow: Flow, cal_id: str) -> None:
    path = f"/calendars/{cal_id}/notifications"
    made = flow.call(
        "POST", path, [{"receiverType": "contact", "channel": "email", "notificationType": "booked"}]
    )
    notification_id = made[0]["_id"]
    flow.call("GET", f"{path}?isActive=true&limit=10&skip=0")
    flow.call("GET", f"{path}/{notification_id}")
    flow.call("PUT", f"{path}/{notification_id}", {"isActive": False})
    flow.call("DELETE", f"{path}/{notification_id}")
    flow.call("GET", f"{path}?deleted=true")


def teardown_flow(
    flow: Flow, cal_id: str, group_id: str, schedule_id: str, resources: list[tuple[str, str]], appt_id: str
) -> None:
    """The remaining routes: cancel and delete the appointment, unmap and delete everything —
    the schedule while still associated, the calendar while equipment is still mapped to it."""
    flow.call("PUT", f"/calendars/events/appointments/{appt_id}", {"appointmentStatus": "cancelled"})
    flow.call("DELETE", f"/calendars/events/{appt_id}", {})
    (room_kind, room_id), (gear_kind, gear_id) = resources
    flow.call("DELETE", f"/calendars/resources/{room_kind}/{room_id}")
    flow.call("DELETE", f"/calendars/schedules/{schedule_id}/associations/{cal_id}")
    flow.call("PUT", f"/calendars/schedules/{schedule_id}/associations/{cal_id}")
    flow.call("DELETE", f"/calendars/schedules/{schedule_id}")
    flow.call("DELETE", f"/calendars/{cal_id}")
    flow.call("DELETE", f"/calendars/resources/{gear_kind}/{gear_id}")
    flow.call("DELETE", f"/calendars/groups/{group_id}")


def delivery_flow(flow: Flow, cal_id: str, clock: Any) -> None:
    """Issue 5: settings that notify, a booking (jobs planned, the immediate one queued), the
    sweep at the reminder's time and the queue consumer delivering both; the delivery log and
    an in-app inbox. Email to a directory contact; in-app to the location's admin users."""
    import boto3

    from slotbook.delivery.service import SWEEP_LOOKBACK

    loc = flow.location
    contact = {"name": "C", "email": "c@example.com"}
    flow.call("PUT", f"/admin/locations/{loc}/contacts/c", contact, admin=True)
    flow.call("PUT", f"/admin/locations/{loc}/users/u", {"name": "U", "isAdmin": True}, admin=True)
    path = f"/calendars/{cal_id}/notifications"
    flow.call(
        "POST",
        path,
        [
            {"receiverType": "contact", "channel": "email", "notificationType": "booked"},
            {"receiverType": "contact", "channel": "email", "notificationType": "reschedule"},
            {
                "receiverType": "business",
                "channel": "inApp",
                "notificationType": "reminder",
                "beforeTime": [{"timeOffset": 1, "unit": "hours"}],
            },
        ],
    )
    booking = {"calendarId": cal_id, "locationId": loc, "contactId": "c", "startTime": "2027-03-08T13:00:00Z"}
    appt = flow.call("POST", "/calendars/events/appointments", booking)["id"]
    flow.call("PUT", f"/calendars/events/appointments/{appt}", {"startTime": "2027-03-08T14:00:00Z"})
    saved = clock.now
    clock.now = datetime(2027, 3, 8, 13, 0, tzinfo=UTC)
    assert SWEEP_LOOKBACK.total_seconds() > 60
    swept = flow.invoke("RemindersFunction", {"detail-type": "Scheduled Event", "source": "aws.events"})
    assert swept["handedOut"] == 1, swept
    sqs = boto3.client("sqs")
    url = container.services().settings.delivery_queue_url
    messages = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, AttributeNames=["All"])["Messages"]
    assert len(messages) == 3  # booked, reschedule, reminder
    records = [
        {
            "messageId": m["MessageId"],
            "receiptHandle": m["ReceiptHandle"],
            "body": m["Body"],
            "attributes": {"ApproximateReceiveCount": "1", "SentTimestamp": "0"},
            "messageAttributes": {},
            "eventSource": "aws:sqs",
        }
        for m in messages
    ]
    result = flow.invoke("DeliveriesFunction", {"Records": records})
    assert result == {"batchItemFailures": []}
    clock.now = saved
    log = flow.call("GET", f"/admin/locations/{loc}/appointments/{appt}/deliveries", admin=True)["deliveries"]
    assert sorted(r["status"] for r in log) == ["sent"] * 3, log
    assert flow.call("GET", f"/admin/locations/{loc}/users/u/inbox", admin=True)["items"]


def drain_sync_queue(flow: Flow) -> int:
    """Feed the FIFO sync queue's messages to the sync function (as its SQS event source would)
    until it is empty; returns how many were handled. Every message must succeed."""
    import boto3

    sqs = boto3.client("sqs")
    url = container.services().settings.sync_queue_url
    handled = 0
    while True:
        messages = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, AttributeNames=["All"]).get(
            "Messages", []
        )
        if not messages:
            return handled
        records = [
            {
                "messageId": m["MessageId"],
                "receiptHandle": m["ReceiptHandle"],
                "body": m["Body"],
                "attributes": {
                    "ApproximateReceiveCount": m["Attributes"]["ApproximateReceiveCount"],
                    "SentTimestamp": m["Attributes"]["SentTimestamp"],
                    "MessageGroupId": m["Attributes"]["MessageGroupId"],
                },
                "messageAttributes": {},
                "eventSource": "aws:sqs",
            }
            for m in messages
        ]
        assert flow.invoke("SyncFunction", {"Records": records}) == {"batchItemFailures": []}
        for m in messages:
            sqs.delete_message(QueueUrl=url, ReceiptHandle=m["ReceiptHandle"])
        handled += len(messages)


def connections_flow(flow: Flow, fakes: FakeProviders, clock: Any) -> None:
    """Issue 4: connect a Google calendar by OAuth, pick a calendar (a sync through the queue),
    a provider change notified by webhook, free slots, a booking written to the provider,
    rescheduled and cancelled, the scheduled sweep, a 410 full resync, a Graph callback, and
    finally the connection deleted."""
    from datetime import timedelta

    from slotbook.services.sync import SYNC_EVERY

    loc = flow.location
    google = fakes.google
    started = flow.call("POST", f"/api/workspaces/{loc}/calendar-connections/oauth/google", {})
    redirect = fakes.consent("google", started["authorizationUrl"])
    callback = redirect.removeprefix(fakes.base_url)
    connection = flow.call("GET", callback)
    cid = connection["id"]
    flow.call("GET", f"/api/workspaces/{loc}/calendar-connections")
    flow.call("GET", f"/api/calendar-connections/{cid}")
    flow.call("GET", f"/api/calendar-connections/{cid}/calendars")
    flow.call("PATCH", f"/api/calendar-connections/{cid}", {"calendarId": GOOGLE_ACCOUNT})
    assert drain_sync_queue(flow) >= 1
    (channel,) = google.channels(GOOGLE_ACCOUNT)

    google.add_event(
        GOOGLE_ACCOUNT, start=datetime(2027, 3, 8, 9, tzinfo=UTC), end=datetime(2027, 3, 8, 10, tzinfo=UTC)
    )
    push = {
        "x-goog-channel-id": channel["id"],
        "x-goog-channel-token": channel["token"],
        "x-goog-resource-id": channel["resourceId"],
        "x-goog-resource-state": "exists",
        "x-goog-message-number": "2",
    }
    flow.call("POST", "/webhooks/google", extra_headers=push)
    assert drain_sync_queue(flow) >= 1
    week = "startDate=2027-03-08&endDate=2027-03-12"
    flow.call("GET", f"/api/calendar-connections/{cid}/free-slots?{week}")

    booking = flow.call(
        "POST",
        f"/api/workspaces/{loc}/bookings",
        {"calendarConnectionId": cid, "startTime": "2027-03-09T10:00:00Z", "contactName": "C"},
    )
    assert drain_sync_queue(flow) >= 1  # the provider copy is written
    flow.call("GET", f"/api/workspaces/{loc}/bookings?calendarConnectionId={cid}")
    flow.call("GET", f"/api/bookings/{booking['id']}")
    flow.call("PATCH", f"/api/bookings/{booking['id']}", {"startTime": "2027-03-09T11:00:00Z"})
    assert drain_sync_queue(flow) >= 1  # moved at the provider
    flow.call("POST", f"/api/bookings/{booking['id']}/cancel", {})
    assert drain_sync_queue(flow) >= 1  # deleted at the provider
    assert [e.get("summary") for e in google.events(GOOGLE_ACCOUNT)] == ["Busy"]  # no copy left

    # The scheduled sweep: the safety-net sync is due; the sync token expired meanwhile (410).
    saved = clock.now
    clock.now = saved + SYNC_EVERY + timedelta(minutes=1)
    google.expire_sync_tokens()
    assert (
        flow.invoke("SyncFunction", {"detail-type": "Scheduled Event", "source": "aws.events"})["queued"] >= 1
    )
    assert drain_sync_queue(flow) >= 1
    clock.now = saved

    # A Graph change notification for a subscription we don't have: 404, nothing changes.
    graph = {"value": [{"subscriptionId": "unknown", "clientState": "x", "changeType": "updated"}]}
    response, _, _ = local_api().handle(
        "POST", "/webhooks/microsoft", [("content-type", "application/json")], json.dumps(graph).encode(), "1"
    )
    assert response.status == 404
    flow.served.add("POST /webhooks/microsoft")
    kept = flow.call(
        "POST",
        f"/api/workspaces/{loc}/bookings",
        {"calendarConnectionId": cid, "startTime": "2027-03-10T10:00:00Z", "contactName": "D"},
    )
    assert drain_sync_queue(flow) >= 1  # its provider copy is written
    flow.call("DELETE", f"/api/calendar-connections/{cid}")
    drain_sync_queue(flow)
    # A booking of the deleted connection is still cancelled; its copy record goes (no tokens left
    # to reach the provider with).
    flow.call("POST", f"/api/bookings/{kept['id']}/cancel", {})
    assert drain_sync_queue(flow) >= 1


@pytest.fixture
def flow(aws: str, clock: Any, monkeypatch: pytest.MonkeyPatch, fake_providers: FakeProviders) -> Flow:
    """The whole flow, run once, with the delivery queue and SES identity of issue 5 and the
    fake calendar providers and FIFO sync queue of issue 4."""
    import boto3

    url = boto3.client("sqs").create_queue(QueueName="deliveries")["QueueUrl"]
    boto3.client("ses").verify_email_identity(EmailAddress="slotbook@example.com")
    monkeypatch.setenv("DELIVERY_QUEUE_URL", url)
    sync_url = boto3.client("sqs").create_queue(
        QueueName="sync.fifo", Attributes={"FifoQueue": "true", "ContentBasedDeduplication": "false"}
    )["QueueUrl"]
    monkeypatch.setenv("SYNC_QUEUE_URL", sync_url)
    container.reset()
    done = Flow()
    tenant_flow(done)
    group_id = groups_flow(done)
    cal_id = calendar_flow(done, group_id)
    schedule_id = schedules_flow(done, cal_id)
    resources = resources_flow(done, cal_id)
    appt_id = events_flow(done, cal_id, group_id)
    notes_flow(done, appt_id)
    notifications_flow(done, cal_id)
    delivery_flow(done, cal_id, clock)
    connections_flow(done, fake_providers, clock)
    teardown_flow(done, cal_id, group_id, schedule_id, resources, appt_id)
    return done


# --------------------------------------------------------------------------------------------------------
# Checks
# --------------------------------------------------------------------------------------------------------


def test_the_flow_calls_every_route(flow: Flow) -> None:
    template = load_template()
    every = {_route_key(r.method, r.path) for r in routes(template)}
    every |= {f for f in function_ids(template) if f not in {r.function for r in routes(template)}}
    assert sorted(every - flow.served) == []


def test_each_function_uses_exactly_the_actions_the_template_grants(flow: Flow) -> None:
    grants = template_grants()
    assert set(flow.used) <= set(grants), set(flow.used) - set(grants)
    differences = []
    for function, (table, index) in sorted(grants.items()):
        used, used_index = flow.used.get(function, set()), flow.used_index.get(function, set())
        if used != table or used_index != index:
            differences.append(
                f"{function}: table missing {sorted(used - table)} extra {sorted(table - used)}; "
                f"indexes missing {sorted(used_index - index)} extra {sorted(index - used_index)}"
            )
    assert not differences, "\n".join(differences)
