"""The rest of the calendar surface (issue 3) through the official SDK (``gohighlevel-api-client``)
against the local server (``python -m localdev.server``, what ``make dev`` runs).

Groups, calendars with every field, availability schedules, resources, appointment notes,
notification settings and recurring appointments each run one realistic flow. Every successful
answer is checked three ways (:meth:`Api.ok`):

1. it is an answer to the reference operation named in the call (method and path template) with a
   status the reference documents for it (the SDK hides statuses; a response hook records them);
2. it validates against the reference's own JSON schema for that status
   (``tests/integration/test_reference_schemas.py``, time fields of events as ISO strings);
3. it parses as the SDK's pydantic model for the operation, and the model keeps every field,
   unchanged (nothing dropped, nothing added).

The core operations (calendars, free slots, appointments, block slots, events) run their own flows
in ``tests/e2e/test_sdk.py`` (SDK models), whose helpers this module reuses; here every one of them
is also checked the three ways above, within the flows and in
:func:`test_core_operations_answer_with_the_reference_statuses_and_schemas`.

SDK model patches — the reference wins, and only these models are derived, nothing else:

* ``CalendarEventDTO`` & co. — time fields retyped to ISO strings, as in ``test_sdk.py``.
* ``ScheduleIntervalDTO`` declares ``from_`` without the alias ``from`` (the issue names it): the
  reference's own examples (``{"from": "09:00", "to": "17:00"}``) fail to validate. Derived copy
  with ``Field(alias="from")``, and copies of the models that contain it (``ScheduleRuleDTO``,
  ``ScheduleObjectResponseDTO``, ``GetAllSchedulesResponseDTO``,
  ``EventCalendarScheduleResponseDTO``).
* ``CalendarNotificationResponseDTO`` declares ``_id``, which pydantic turns into a private
  attribute, not a field: the notification id the reference's schema lists (``_id``) is silently
  dropped. Derived copy with a field aliased ``_id``. Proven by
  :func:`test_sdk_models_disagree_with_the_reference_exactly_where_patched`.
* The SDK's ``update_appointment_note`` / ``delete_appointment_note`` take no note id (the issue
  names them), so they cannot address ``/notes/{noteId}``: those two run over plain HTTP through
  the SDK's own httpx client (same base URL, token and ``Version`` header).

Narrowed, not patched: ``ScheduleResponseDTO.schedule`` and
``EventCalendarScheduleWrapperDTO.schedule`` are ``Any`` in the SDK (they accept anything); the
reference says they are a ``ScheduleObjectResponseDTO`` / ``EventCalendarScheduleResponseDTO``, so
they are validated as the SDK's own models of those (with the interval patch). Where the SDK
method returns ``Any`` and the reference names an item model (free slots, resource listing,
notification lists), the answer is validated as a dict/list of the SDK's item model; the inline
``{"success": bool}`` answers of the schedule operations have no SDK model and are checked
against the reference schema and by value.

Beyond the reference, not patched: two ids that neither the reference's response schema nor the
SDK model declares, though the reference's own operations need them — a resource's ``id`` (its
paths address ``/resources/{resourceType}/{id}``) and a calendar's ``availabilities[].id``
(``UpdateAvailability.id`` "is required while updating or deleting" one). Each must be a non-empty
string and is left out of the model comparison (:data:`RESOURCE_ID`, :data:`AVAILABILITY_ID`).
"""

from __future__ import annotations

import contextlib
import inspect
import re
from collections.abc import AsyncIterator, Awaitable
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import jsonschema
import pydantic
import pytest
from highlevel import HighLevel
from highlevel.services.calendars import Calendars
from highlevel.services.calendars.models import (
    AllGroupsSuccessfulResponseDTO,
    AppointmentSchemaResponse,
    CalendarByIdSuccessfulResponseDTO,
    CalendarDeleteSuccessfulResponseDTO,
    CalendarNotificationDeleteResponseDTO,
    CalendarNotificationResponseDTO,
    CalendarResourceByIdResponseDTO,
    CalendarResourceResponseDTO,
    CalendarsGetSuccessfulResponseDTO,
    DeleteEventSuccessfulResponseDto,
    DeleteNoteSuccessfulResponseDto,
    EventCalendarScheduleResponseDTO,
    EventCalendarScheduleWrapperDTO,
    GetAllSchedulesResponseDTO,
    GetCreateUpdateNoteSuccessfulResponseDto,
    GetNotesListSuccessfulResponseDto,
    GroupCreateSuccessfulResponseDTO,
    GroupSuccessfulResponseDTO,
    ResourceDeleteResponseDTO,
    ScheduleIntervalDTO,
    ScheduleObjectResponseDTO,
    ScheduleResponseDTO,
    ScheduleRuleDTO,
    SlotsSchema,
    ValidateGroupSlugSuccessResponseDTO,
)

from tests.e2e.conftest import (
    ALL_SCOPES,
    TIMEZONE,
    LocalServer,
    Tenant,
    TenantFactory,
    booking_monday,
    epoch_ms,
    iso,
    local,
    parse_iso,
)
from tests.e2e.test_sdk import (
    HOST,
    BlockedSlotIso,
    GetCalendarEventIso,
    GetCalendarEventsIso,
    _differences,
    calendar_body,
    expected_week,
    free_slot_days,
    raises_ghl,
    run,
    sdk,
)
from tests.integration.test_reference_schemas import SPEC, _schema

pytestmark = pytest.mark.e2e

EVERY_SCOPE = (
    *ALL_SCOPES,
    "calendars/groups.readonly",
    "calendars/groups.write",
    "calendars/resources.readonly",
    "calendars/resources.write",
)
"""Every GoHighLevel calendar scope: groups and resources have scopes of their own."""

OTHER_HOST = "host-2"

# --------------------------------------------------------------------------------------------------------
# SDK models, patched only where the reference proves them wrong (see the module docstring)
# --------------------------------------------------------------------------------------------------------


class ScheduleInterval(ScheduleIntervalDTO):
    """``ScheduleIntervalDTO`` with the reference's field name: ``from`` (``from_`` in Python)."""

    from_: str = pydantic.Field(alias="from")


ScheduleRule = pydantic.create_model(
    "ScheduleRuleDTO_From", __base__=ScheduleRuleDTO, intervals=(list[ScheduleInterval], ...)
)
ScheduleObject = pydantic.create_model(
    "ScheduleObjectResponseDTO_From",
    __base__=ScheduleObjectResponseDTO,
    rules=(list[ScheduleRule], ...),  # type: ignore[valid-type]
)
AllSchedules = pydantic.create_model(
    "GetAllSchedulesResponseDTO_From",
    __base__=GetAllSchedulesResponseDTO,
    schedules=(list[ScheduleObject], ...),  # type: ignore[valid-type]
)
ScheduleWrapper = pydantic.create_model(
    "ScheduleResponseDTO_Object", __base__=ScheduleResponseDTO, schedule=(ScheduleObject, ...)
)
CalendarSchedule = pydantic.create_model(
    "EventCalendarScheduleResponseDTO_From",
    __base__=EventCalendarScheduleResponseDTO,
    rules=(list[ScheduleRule], ...),  # type: ignore[valid-type]
)
CalendarScheduleWrapper = pydantic.create_model(
    "EventCalendarScheduleWrapperDTO_Object",
    __base__=EventCalendarScheduleWrapperDTO,
    schedule=(CalendarSchedule, ...),
)
Notification = pydantic.create_model(
    "CalendarNotificationResponseDTO_Id",
    __base__=CalendarNotificationResponseDTO,
    id_=(str | None, pydantic.Field(None, alias="_id")),
)
FreeSlots = dict[str, SlotsSchema]
"""Free slots: the SDK method returns ``Any``; the reference's shape is a map of ``SlotsSchema``."""

RESOURCE_ID = ("id",)
"""The reference's resource schemas (and so the SDK's models) have no id field, yet its paths address
a resource by ``{id}``: the id the server adds is checked (a non-empty string), not compared."""
RESOURCE_IDS = ("[].id",)
AVAILABILITY_ID = ("calendar.availabilities[].id",)
"""The reference's ``Availability`` (a calendar's custom dates) has no id, yet its ``UpdateAvailability``
needs "the ID of the custom availability object" to update or delete one: the server returns it."""
AVAILABILITY_IDS = ("calendars[].availabilities[].id",)


# --------------------------------------------------------------------------------------------------------
# The SDK with a witness of each answer
# --------------------------------------------------------------------------------------------------------


def _without(node: Any, steps: list[str], where: str) -> Any:
    """``node`` without the field at ``steps`` (``"[]"`` = every item of a list), which must be a
    non-empty string wherever its parent exists."""
    step, rest = steps[0], steps[1:]
    if step == "[]":
        assert isinstance(node, list), (where, node)
        return [_without(item, rest, where) for item in node]
    assert isinstance(node, dict), (where, node)
    if not rest:
        assert isinstance(node.get(step), str) and node[step], f"{where}: missing in {node}"
        return {k: v for k, v in node.items() if k != step}
    return {**node, step: _without(node[step], rest, where)} if step in node else node


def faithful(model: Any, payload: Any, *, beyond_reference: tuple[str, ...] = ()) -> Any:
    """``payload`` validates as ``model`` (a model or a ``list[...]``/``dict[...]`` of one) and the
    model keeps every field, unchanged. ``beyond_reference``: paths (``"calendar.availabilities[].id"``,
    ``"[].id"``) of ids that neither the reference's schema nor the SDK model declares but the
    reference's own operations need (see :data:`RESOURCE_ID`, :data:`AVAILABILITY_ID`); each must be
    a non-empty string, and is left out of the comparison."""
    for path in beyond_reference:
        payload = _without(payload, re.findall(r"\[\]|[^.\[\]]+", path), path)
    adapter = pydantic.TypeAdapter(model)
    parsed = adapter.validate_python(payload)
    kept = adapter.dump_python(parsed, mode="json", exclude_unset=True, by_alias=True)
    lost = _differences(payload, kept)
    assert not lost, f"{model} does not represent the response faithfully: {lost}"
    return parsed


def _template_regex(template: str) -> re.Pattern[str]:
    return re.compile(
        "".join("[^/]+" if p.startswith("{") else re.escape(p) for p in re.split(r"({[^}]+})", template))
    )


class Api:
    """The SDK (``.cal`` is its calendars service) plus what it does not show: the status, method
    and path of each answer, recorded by an httpx response hook next to the SDK's own."""

    def __init__(self, ghl: HighLevel) -> None:
        self.ghl = ghl
        self.cal: Calendars = ghl.calendars
        self._last: httpx.Response | None = None
        ghl.http_client.event_hooks["response"].append(self._seen)

    async def _seen(self, response: httpx.Response) -> None:
        self._last = response

    async def ok(self, operation: str, model: Any, pending: Awaitable[Any], **kw: Any) -> Any:
        """Await an SDK call; check its answer as ``operation`` (``PUT /calendars/groups/{groupId}``)."""
        self._last = None
        return self.check(operation, model, await pending, **kw)

    def check(
        self, operation: str, model: Any, payload: Any, *, beyond_reference: tuple[str, ...] = ()
    ) -> Any:
        method, template = operation.split(" ", 1)
        response = self._last
        assert response is not None, f"{operation}: no HTTP answer was seen"
        assert response.request.method == method, (operation, response.request.method)
        assert _template_regex(template).fullmatch(response.request.url.path), (
            operation,
            response.request.url.path,
        )
        documented = SPEC["paths"][template][method.lower()]["responses"]
        assert response.status_code < 300 and str(response.status_code) in documented, (
            operation,
            response.status_code,
            sorted(documented),
        )
        jsonschema.validate(payload, _schema(template, method.lower(), response.status_code))
        return faithful(model, payload, beyond_reference=beyond_reference)

    async def http(self, method: str, path: str, body: Any = None) -> Any:
        """Plain HTTP through the SDK's own client (base URL, token, ``Version``; errors → GHLError)."""
        self._last = None
        response = await self.ghl.http_client.request(method, path, json=body)
        return response.json()


@contextlib.asynccontextmanager
async def client(server: LocalServer, api_key: str) -> AsyncIterator[Api]:
    async with sdk(server, api_key) as ghl:
        yield Api(ghl)


@pytest.fixture
def owner(new_tenant: TenantFactory) -> Tenant:
    """This test's location (Europe/Copenhagen) with every calendar scope, groups and resources too."""
    return new_tenant(scopes=EVERY_SCOPE)


# --------------------------------------------------------------------------------------------------------
# Scenario helpers
# --------------------------------------------------------------------------------------------------------


async def new_calendar(api: Api, tenant: Tenant, **fields: Any) -> str:
    created = await api.ok(
        "POST /calendars/",
        CalendarByIdSuccessfulResponseDTO,
        api.cal.create_calendar(calendar_body(tenant, **fields)),
    )
    assert created.calendar.name == calendar_body(tenant, **fields)["name"]
    return created.calendar.id


async def slots(api: Api, calendar_id: str, first: date, days: int = 6, tz: str = TIMEZONE) -> list[str]:
    """Free slots from ``first`` 00:00 for ``days`` days (local to ``tz``), flattened in order."""
    zone = ZoneInfo(tz)
    raw = await api.ok(
        "GET /calendars/{calendarId}/free-slots",
        FreeSlots,
        api.cal.get_slots(
            calendar_id,
            epoch_ms(local(first, 0, tz=zone)),
            epoch_ms(local(first + timedelta(days=days), 0, tz=zone)),
            timezone=tz,
        ),
    )
    by_day = free_slot_days(raw, tz)
    return [s for day in sorted(by_day) for s in by_day[day]]


async def book(api: Api, tenant: Tenant, calendar_id: str, start: datetime, **fields: Any) -> Any:
    return await api.ok(
        "POST /calendars/events/appointments",
        AppointmentSchemaResponse,
        api.cal.create_appointment(
            {
                "calendarId": calendar_id,
                "locationId": tenant.location_id,
                "contactId": "contact-1",
                "startTime": iso(start),
                **fields,
            }
        ),
    )


async def events(api: Api, tenant: Tenant, first: date, days: int = 7, **by: str) -> list[Any]:
    """Events of ``GET /calendars/events`` from ``first`` 00:00 local for ``days`` days."""
    listing = await api.ok(
        "GET /calendars/events",
        GetCalendarEventsIso,
        api.cal.get_calendar_events(
            tenant.location_id,
            str(epoch_ms(local(first, 0))),
            str(epoch_ms(local(first + timedelta(days=days), 0))),
            **by,
        ),
    )
    return list(listing.events or [])


def half_hours(start: datetime, end: datetime, tz: str = TIMEZONE) -> list[str]:
    """30-minute slot starts in [start, end), shown in ``tz``."""
    out = []
    while start + timedelta(minutes=30) <= end:
        out.append(iso(start.astimezone(ZoneInfo(tz))))
        start += timedelta(minutes=30)
    return out


# --------------------------------------------------------------------------------------------------------
# Why the patches exist
# --------------------------------------------------------------------------------------------------------


def _example(schema_name: str, prop: str) -> Any:
    return SPEC["components"]["schemas"][schema_name]["properties"][prop]["example"]


def test_sdk_models_disagree_with_the_reference_exactly_where_patched() -> None:
    # ScheduleIntervalDTO: the reference's own example interval is rejected (it wants "from_") ...
    interval = _example("ScheduleRuleDTO", "intervals")[0]
    assert interval == {"from": "09:00", "to": "17:00"}
    with pytest.raises(pydantic.ValidationError) as caught:
        ScheduleIntervalDTO.model_validate(interval)
    assert {tuple(e["loc"]) for e in caught.value.errors()} == {("from_",)}
    # ... and so is every create-schedule example rule; the patched model takes them, field for field
    for rule in _example("CreateScheduleDTO", "rules"):
        with pytest.raises(pydantic.ValidationError):
            ScheduleRuleDTO.model_validate(rule)
        faithful(ScheduleRule, rule)

    # CalendarNotificationResponseDTO: "_id" (the reference's notification id) is no field at all
    reference_fields = set(SPEC["components"]["schemas"]["CalendarNotificationResponseDTO"]["properties"])
    assert "_id" in reference_fields
    assert reference_fields - set(CalendarNotificationResponseDTO.model_fields) == {"_id"}
    sample = {"_id": "n-1", "channel": "email", "receiverType": "contact", "notificationType": "booked"}
    dropped = CalendarNotificationResponseDTO.model_validate(sample).model_dump(exclude_unset=True)
    assert dropped == {k: v for k, v in sample.items() if k != "_id"}
    assert faithful(Notification, sample).id_ == "n-1"

    # Notes: the SDK's update/delete take no note id, though the path has one
    for method in (Calendars.update_appointment_note, Calendars.delete_appointment_note):
        params = set(inspect.signature(method).parameters)
        assert not any("note" in p for p in params), (method.__name__, params)
    assert {"put", "delete"} <= set(SPEC["paths"]["/calendars/appointments/{appointmentId}/notes/{noteId}"])


def test_every_reference_operation_is_checked_in_this_module() -> None:
    """Each reference operation (service menu aside) is named in an :meth:`Api.ok` / :meth:`Api.check`
    of this module, so its answer is checked the three ways (a static check: it holds under xdist)."""
    source = Path(__file__).read_text()
    checked = set(re.findall(r'"((?:GET|POST|PUT|DELETE) /calendars[^"]*)"', source))
    reference = {
        f"{method.upper()} {path}"
        for path, operations in SPEC["paths"].items()
        if not path.startswith("/calendars/services/")
        for method in operations
    }
    assert sorted(reference - checked) == []
    assert sorted(checked - reference) == []


# --------------------------------------------------------------------------------------------------------
# The core operations, to the same standard (status and reference schema as well as the SDK model)
# --------------------------------------------------------------------------------------------------------


def test_core_operations_answer_with_the_reference_statuses_and_schemas(
    local_server: LocalServer, owner: Tenant
) -> None:
    monday = booking_monday()
    loc = owner.location_id
    window = (str(epoch_ms(local(monday, 0))), str(epoch_ms(local(monday + timedelta(days=7), 0))))

    async def scenario() -> None:
        async with client(local_server, owner.api_key) as api:
            cal = api.cal
            cal_id = await new_calendar(api, owner)
            booked = await book(api, owner, cal_id, local(monday, 10))
            got = await api.ok(
                "GET /calendars/events/appointments/{eventId}",
                GetCalendarEventIso,
                cal.get_appointment(booked.id),
            )
            assert got.event.id == booked.id
            edited = await api.ok(
                "PUT /calendars/events/appointments/{eventId}",
                AppointmentSchemaResponse,
                cal.edit_appointment(booked.id, {"title": "Renamed"}),
            )
            assert (edited.id, edited.title) == (booked.id, "Renamed")
            block = {
                "calendarId": cal_id,
                "locationId": loc,
                "title": "Blocked",
                "startTime": iso(local(monday, 12)),
                "endTime": iso(local(monday, 13)),
            }
            made = await api.ok(
                "POST /calendars/events/block-slots", BlockedSlotIso, cal.create_block_slot(block)
            )
            moved = await api.ok(
                "PUT /calendars/events/block-slots/{eventId}",
                BlockedSlotIso,
                cal.edit_block_slot(
                    made.id, {**block, "startTime": iso(local(monday, 14)), "endTime": iso(local(monday, 15))}
                ),
            )
            assert (moved.id, moved.startTime) == (made.id, iso(local(monday, 14)))
            blocked = await api.ok(
                "GET /calendars/blocked-slots",
                GetCalendarEventsIso,
                cal.get_blocked_slots(loc, *window, calendar_id=cal_id),
            )
            assert [e.id for e in blocked.events or []] == [made.id]
            assert [e.id for e in await events(api, owner, monday, calendar_id=cal_id)] == [booked.id]
            for event_id in (made.id, booked.id):
                gone = await api.ok(
                    "DELETE /calendars/events/{eventId}",
                    DeleteEventSuccessfulResponseDto,
                    cal.delete_event(event_id, {}),
                )
                assert gone.succeeded is True
            deleted = await api.ok(
                "DELETE /calendars/{calendarId}",
                CalendarDeleteSuccessfulResponseDTO,
                cal.delete_calendar(cal_id),
            )
            assert deleted.success is True

    run(scenario())


# --------------------------------------------------------------------------------------------------------
# Groups
# --------------------------------------------------------------------------------------------------------


def test_groups_through_the_sdk(local_server: LocalServer, owner: Tenant) -> None:
    monday = booking_monday()
    tuesday = monday + timedelta(days=1)
    loc = owner.location_id
    week = expected_week(monday)

    async def scenario() -> None:
        async with client(local_server, owner.api_key) as api:
            cal = api.cal

            async def slug_available(slug: str) -> bool:
                answer = await api.ok(
                    "POST /calendars/groups/validate-slug",
                    ValidateGroupSlugSuccessResponseDTO,
                    cal.validate_groups_slug({"locationId": loc, "slug": slug}),
                )
                return answer.available

            async def listed() -> list[Any]:
                answer = await api.ok(
                    "GET /calendars/groups", AllGroupsSuccessfulResponseDTO, cal.get_groups(loc)
                )
                return list(answer.groups or [])

            # Given a free slug
            assert await slug_available("sales") is True
            assert await listed() == []

            # When creating a group with it
            body = {"locationId": loc, "name": "Sales", "description": "The sales team", "slug": "sales"}
            group = (
                await api.ok(
                    "POST /calendars/groups",
                    GroupCreateSuccessfulResponseDTO,
                    cal.create_calendar_group(body),
                )
            ).group
            # Then it is the group sent, active, and its slug is taken: a second group with it is refused
            assert group.id
            assert (group.locationId, group.name, group.description, group.slug) == (
                loc,
                "Sales",
                "The sales team",
                "sales",
            )
            assert group.isActive is True
            assert await slug_available("sales") is False
            await raises_ghl(cal.create_calendar_group({**body, "name": "Sales 2"}), 400)
            assert await listed() == [group]

            # When editing it, Then only the edited fields change and the old slug is free again
            edited = (
                await api.ok(
                    "PUT /calendars/groups/{groupId}",
                    GroupCreateSuccessfulResponseDTO,
                    cal.edit_group(group.id, {"name": "Sales EU", "description": "EU", "slug": "sales-eu"}),
                )
            ).group
            assert edited == group.model_copy(
                update={"name": "Sales EU", "description": "EU", "slug": "sales-eu"}
            )
            assert await listed() == [edited]
            assert (await slug_available("sales"), await slug_available("sales-eu")) == (True, False)

            # Given a calendar in the group and one outside it (another host), one booking each
            inside = await new_calendar(api, owner, name="In the group", groupId=group.id)
            outside = await new_calendar(
                api, owner, name="Outside", teamMembers=[{"userId": OTHER_HOST, "priority": 1}]
            )
            in_group = await api.ok(
                "GET /calendars/",
                CalendarsGetSuccessfulResponseDTO,
                cal.get_calendars(loc, group_id=group.id),
            )
            assert [(c.id, c.groupId) for c in in_group.calendars or []] == [(inside, group.id)]
            ten = local(monday, 10)
            booked_inside = await book(api, owner, inside, ten)
            booked_outside = await book(api, owner, outside, ten)
            # When listing the group's events, Then only the group's calendar's appointment is there
            group_events = await events(api, owner, monday, group_id=group.id)
            assert [(e.id, e.calendarId, e.groupId) for e in group_events] == [
                (booked_inside.id, inside, group.id)
            ]
            assert booked_outside.id not in {e.id for e in group_events}

            # When disabling the group
            disabled = await api.ok(
                "PUT /calendars/groups/{groupId}/status",
                GroupSuccessfulResponseDTO,
                cal.disable_group(group.id, {"isActive": False}),
            )
            assert disabled.success is True
            assert await listed() == [edited.model_copy(update={"isActive": False})]
            # Then its calendar offers no slot and takes no booking; the other calendar is unaffected
            assert await slots(api, inside, monday) == []
            await raises_ghl(
                cal.create_appointment(
                    {
                        "calendarId": inside,
                        "locationId": loc,
                        "contactId": "contact-2",
                        "startTime": iso(local(tuesday, 10)),
                    }
                ),
                400,
                422,
            )
            assert await slots(api, outside, monday) == [s for s in week if s != iso(ten)]

            # When enabling it again, Then the calendar offers its slots again
            enabled = await api.ok(
                "PUT /calendars/groups/{groupId}/status",
                GroupSuccessfulResponseDTO,
                cal.disable_group(group.id, {"isActive": True}),
            )
            assert enabled.success is True
            assert await slots(api, inside, monday) == [s for s in week if s != iso(ten)]

            # A group that still has calendars is not deleted (400); moving its calendar out frees it
            await raises_ghl(cal.delete_group(group.id), 400)
            moved_out = await api.ok(
                "PUT /calendars/{calendarId}",
                CalendarByIdSuccessfulResponseDTO,
                cal.update_calendar(inside, {"groupId": ""}),
            )
            assert not moved_out.calendar.groupId
            no_members = await api.ok(
                "GET /calendars/",
                CalendarsGetSuccessfulResponseDTO,
                cal.get_calendars(loc, group_id=group.id),
            )
            assert no_members.calendars == []

            # When deleting the group, Then it is gone (and so is its slug's claim)
            deleted = await api.ok(
                "DELETE /calendars/groups/{groupId}", GroupSuccessfulResponseDTO, cal.delete_group(group.id)
            )
            assert deleted.success is True
            assert await listed() == []
            assert await slug_available("sales-eu") is True
            await raises_ghl(cal.delete_group(group.id), 404)
            await raises_ghl(cal.edit_group(group.id, {"name": "x", "description": "x", "slug": "x"}), 404)

    run(scenario())


# --------------------------------------------------------------------------------------------------------
# Calendars, fully
# --------------------------------------------------------------------------------------------------------

EVERY_CALENDAR_FIELD: dict[str, Any] = {
    "isActive": True,
    "notifications": [
        {
            "type": "email",
            "shouldSendToContact": True,
            "shouldSendToGuest": False,
            "shouldSendToUser": True,
            "shouldSendToSelectedUsers": False,
            "selectedUsers": "ops@example.com",
        }
    ],
    "teamMembers": [
        {
            "userId": HOST,
            "priority": 1,
            "meetingLocationType": "custom",
            "meetingLocation": "Room 4",
            "isPrimary": True,
            "locationConfigurations": [{"kind": "physical", "location": "Main St 1"}],
        },
        {"userId": OTHER_HOST, "priority": 0.5, "locationConfigurations": [{"kind": "zoom_conference"}]},
    ],
    "eventType": "RoundRobin_OptimizeForAvailability",
    "name": "Everything",
    "description": "Every field of CalendarCreateDTO",
    "slug": "everything",
    "widgetSlug": "everything",
    "calendarType": "round_robin",
    "widgetType": "default",
    "eventTitle": "{{contact.name}} x {{user.name}}",
    "eventColor": "#ff00aa",
    "meetingLocation": "https://meet.example.com/abc",
    "locationConfigurations": [{"kind": "custom", "location": "https://meet.example.com/abc"}],
    "slotDuration": 45,
    "slotDurationUnit": "mins",
    "slotInterval": 1,
    "slotIntervalUnit": "hours",
    "slotBuffer": 10,
    "slotBufferUnit": "mins",
    "preBuffer": 5,
    "preBufferUnit": "mins",
    "appoinmentPerSlot": 1,
    "appoinmentPerDay": 6,
    "allowBookingAfter": 2,
    "allowBookingAfterUnit": "hours",
    "allowBookingFor": 8,
    "allowBookingForUnit": "weeks",
    "openHours": [
        {
            "daysOfTheWeek": [1, 2, 3],
            "hours": [{"openHour": 8, "openMinute": 30, "closeHour": 12, "closeMinute": 0}],
        }
    ],
    "enableRecurring": False,
    "recurring": {
        "freq": "WEEKLY",
        "count": 4,
        "bookingOption": "skip",
        "bookingOverlapDefaultStatus": "new",
    },
    "formId": "form-123",
    "stickyContact": True,
    "isLivePaymentMode": False,
    "autoConfirm": False,
    "shouldSendAlertEmailsToAssignedMember": True,
    "alertEmail": "alerts@example.com",
    "googleInvitationEmails": True,
    "allowReschedule": False,
    "allowCancellation": False,
    "shouldAssignContactToTeamMember": True,
    "shouldSkipAssigningContactForExisting": True,
    "notes": "Bring your ID",
    "pixelId": "px-1",
    "formSubmitType": "RedirectURL",
    "formSubmitRedirectURL": "https://example.com/thanks",
    "formSubmitThanksMessage": "Thanks!",
    "availabilityType": 1,
    "availabilities": [
        {
            "date": "2030-03-12T00:00:00.000Z",
            "hours": [{"openHour": 10, "openMinute": 0, "closeHour": 11, "closeMinute": 0}],
            "deleted": False,
        }
    ],
    "guestType": "collect_detail",
    "consentLabel": "I agree",
    "calendarCoverImage": "https://example.com/cover.png",
    "lookBusyConfig": {"enabled": True, "LookBusyPercentage": 25},
}
"""A value for every field of ``CalendarCreateDTO`` (groupId aside: the groups test covers it)."""


def _returned(calendar: dict[str, Any]) -> dict[str, Any]:
    """A calendar as returned, without the ids the server gives availabilities."""
    out = dict(calendar)
    out["availabilities"] = [{k: v for k, v in a.items() if k != "id"} for a in out.get("availabilities", [])]
    return out


def test_every_calendar_field_and_drafts_through_the_sdk(local_server: LocalServer, owner: Tenant) -> None:
    monday = booking_monday()
    loc = owner.location_id

    async def scenario() -> None:
        async with client(local_server, owner.api_key) as api:
            cal = api.cal
            # Given a calendar created with every field of CalendarCreateDTO
            raw = await cal.create_calendar({"locationId": loc, **EVERY_CALENDAR_FIELD})
            created = api.check(
                "POST /calendars/", CalendarByIdSuccessfulResponseDTO, raw, beyond_reference=AVAILABILITY_ID
            )
            cal_id = created.calendar.id
            # Then every field comes back as sent, on create and on read
            returned = _returned(raw["calendar"])
            for name, value in EVERY_CALENDAR_FIELD.items():
                assert returned[name] == value, name
            got = await api.ok(
                "GET /calendars/{calendarId}",
                CalendarByIdSuccessfulResponseDTO,
                cal.get_calendar(cal_id),
                beyond_reference=AVAILABILITY_ID,
            )
            assert got == created

            # When drafting it (isActive false) through an update
            drafted = await api.ok(
                "PUT /calendars/{calendarId}",
                CalendarByIdSuccessfulResponseDTO,
                cal.update_calendar(cal_id, {"isActive": False, "eventColor": "#000000"}),
                beyond_reference=AVAILABILITY_ID,
            )
            assert drafted.calendar == created.calendar.model_copy(
                update={"isActive": False, "eventColor": "#000000"}
            )
            # Then it is left out when showDrafted is false (the default, true, lists it), and
            # offers no slot
            hidden = await api.ok(
                "GET /calendars/",
                CalendarsGetSuccessfulResponseDTO,
                cal.get_calendars(loc, show_drafted=False),
            )
            assert hidden.calendars == []
            for shown_call in (cal.get_calendars(loc, show_drafted=True), cal.get_calendars(loc)):
                shown = await api.ok(
                    "GET /calendars/",
                    CalendarsGetSuccessfulResponseDTO,
                    shown_call,
                    beyond_reference=AVAILABILITY_IDS,
                )
                assert [c.id for c in shown.calendars or []] == [cal_id]
                assert shown.calendars[0] == drafted.calendar  # type: ignore[index]
            assert await slots(api, cal_id, monday) == []
            # When publishing it again, Then it is listed and offers slots (Mon-Wed mornings)
            await api.ok(
                "PUT /calendars/{calendarId}",
                CalendarByIdSuccessfulResponseDTO,
                cal.update_calendar(
                    cal_id, {"isActive": True, "lookBusyConfig": {"enabled": False, "LookBusyPercentage": 25}}
                ),
                beyond_reference=AVAILABILITY_ID,
            )
            listed = await api.ok(
                "GET /calendars/",
                CalendarsGetSuccessfulResponseDTO,
                cal.get_calendars(loc, show_drafted=False),
                beyond_reference=AVAILABILITY_IDS,
            )
            assert [c.id for c in listed.calendars or []] == [cal_id]
            # (45 minutes every hour from 08:30, closing 12:00, Monday to Wednesday)
            assert await slots(api, cal_id, monday) == [
                iso(local(monday + timedelta(days=d), h, 30)) for d in range(3) for h in (8, 9, 10)
            ]

    run(scenario())


# --------------------------------------------------------------------------------------------------------
# Availability schedules
# --------------------------------------------------------------------------------------------------------


def _rule(day_or_date: str, *spans: tuple[str, str]) -> dict[str, Any]:
    intervals = [{"from": a, "to": b} for a, b in spans]
    if re.fullmatch(r"\d{4}-\d\d-\d\d", day_or_date):
        return {"type": "date", "date": day_or_date, "intervals": intervals}
    return {"type": "wday", "day": day_or_date, "intervals": intervals}


def test_availability_schedules_through_the_sdk(local_server: LocalServer, owner: Tenant) -> None:
    monday = booking_monday()
    tuesday, wednesday = monday + timedelta(days=1), monday + timedelta(days=2)
    loc = owner.location_id
    new_york, tokyo = ZoneInfo("America/New_York"), ZoneInfo("Asia/Tokyo")
    week = expected_week(monday)

    async def scenario() -> None:
        async with client(local_server, owner.api_key) as api:
            cal = api.cal
            team_cal = await new_calendar(api, owner, name="Team")
            # Given a user schedule in New York: Monday 09-12 and Tuesday 09-10 every week; that
            # Tuesday unavailable (a date rule without intervals); that Wednesday 13-14 (date only)
            rules = [
                _rule("monday", ("09:00", "12:00")),
                _rule("tuesday", ("09:00", "10:00")),
                _rule(tuesday.isoformat()),
                _rule(wednesday.isoformat(), ("13:00", "14:00")),
            ]
            body = {
                "locationId": loc,
                "name": "Office hours",
                "userId": HOST,
                "timezone": "America/New_York",
                "rules": rules,
            }
            raw = await cal.create_schedule(body)
            schedule = api.check("POST /calendars/schedules", ScheduleWrapper, raw).schedule
            # Then it is the schedule sent, rules field for field, with no calendar yet
            assert raw["schedule"]["rules"] == rules
            assert (schedule.name, schedule.locationId, schedule.userId, schedule.timezone) == (
                "Office hours",
                loc,
                HOST,
                "America/New_York",
            )
            assert schedule.id and schedule.deleted is False and not schedule.calendarIds
            for stamp in (schedule.dateAdded, schedule.dateUpdated):
                parse_iso(stamp.replace("Z", "+00:00"))
            got = await api.ok(
                "GET /calendars/schedules/{id}", ScheduleWrapper, cal.get_schedule_by_id(schedule.id)
            )
            assert got.schedule == schedule
            # And the calendar still follows its own open hours
            assert await slots(api, team_cal, monday) == week

            async def search(**by: Any) -> list[Any]:
                found = await api.ok(
                    "GET /calendars/schedules/search", AllSchedules, cal.get_all_schedules(loc, **by)
                )
                return list(found.schedules)

            assert [s.id for s in await search(user_id=HOST)] == [schedule.id]
            assert await search(user_id=OTHER_HOST) == []
            assert await search(user_id=HOST, calendar_id=team_cal) == []

            # When associating it with the calendar
            added = await api.ok(
                "PUT /calendars/schedules/{id}/associations/{calendarId}",
                Any,
                cal.add_calendar_to_schedule(schedule.id, team_cal),
            )
            assert added == {"success": True}
            # Then the schedule lists the calendar and the host's slots there follow the schedule:
            # New York hours shown in Copenhagen, that Tuesday off, that Wednesday from the date rule
            associated = (
                await api.ok(
                    "GET /calendars/schedules/{id}", ScheduleWrapper, cal.get_schedule_by_id(schedule.id)
                )
            ).schedule
            assert associated.calendarIds == [team_cal]
            assert [s.id for s in await search(user_id=HOST, calendar_id=team_cal)] == [schedule.id]
            expected = half_hours(local(monday, 9, tz=new_york), local(monday, 12, tz=new_york)) + half_hours(
                local(wednesday, 13, tz=new_york), local(wednesday, 14, tz=new_york)
            )
            assert await slots(api, team_cal, monday) == expected

            # When updating its name and rules, Then the rest stays and the slots follow the new rules
            new_rules = [_rule("monday", ("08:00", "09:00"))]
            raw = await cal.update_schedule(schedule.id, {"name": "Early", "rules": new_rules})
            updated = api.check("PUT /calendars/schedules/{id}", ScheduleWrapper, raw).schedule
            assert raw["schedule"]["rules"] == new_rules
            assert (updated.id, updated.name, updated.timezone, updated.userId, updated.calendarIds) == (
                schedule.id,
                "Early",
                "America/New_York",
                HOST,
                [team_cal],
            )
            assert await slots(api, team_cal, monday) == half_hours(
                local(monday, 8, tz=new_york), local(monday, 9, tz=new_york)
            )
            # An invalid interval is refused (422) and changes nothing
            await raises_ghl(
                cal.update_schedule(schedule.id, {"rules": [_rule("monday", ("25:00", "26:00"))]}), 422
            )
            await raises_ghl(cal.create_schedule({**body, "rules": [_rule("friday", ("9am", "5pm"))]}), 422)
            assert (
                await api.ok(
                    "GET /calendars/schedules/{id}", ScheduleWrapper, cal.get_schedule_by_id(schedule.id)
                )
            ).schedule == updated

            # When removing the association, Then the calendar follows its open hours again
            removed = await api.ok(
                "DELETE /calendars/schedules/{id}/associations/{calendarId}",
                Any,
                cal.remove_calendar_from_schedule(schedule.id, team_cal),
            )
            assert removed == {"success": True}
            assert not (
                await api.ok(
                    "GET /calendars/schedules/{id}", ScheduleWrapper, cal.get_schedule_by_id(schedule.id)
                )
            ).schedule.calendarIds
            assert await slots(api, team_cal, monday) == week

            # Given an event calendar, When giving it a schedule of its own in Tokyo
            event_cal = await new_calendar(api, owner, name="Event")
            await raises_ghl(cal.get_calendar_schedule(event_cal), 404)
            tokyo_rules = [_rule("monday", ("09:00", "10:00"))]
            raw = await cal.create_calendar_schedule(
                event_cal, {"timezone": "Asia/Tokyo", "rules": tokyo_rules}
            )
            own = api.check(
                "POST /calendars/schedules/event-calendar/{calendarId}", CalendarScheduleWrapper, raw
            ).schedule
            assert raw["schedule"]["rules"] == tokyo_rules
            assert (own.calendarId, own.timezone) == (event_cal, "Asia/Tokyo")
            read = await api.ok(
                "GET /calendars/schedules/event-calendar/{calendarId}",
                CalendarScheduleWrapper,
                cal.get_calendar_schedule(event_cal),
            )
            assert read.schedule == own
            # Then it replaces the calendar's open hours (Tokyo Monday 09-10, shown in Copenhagen)
            assert await slots(api, event_cal, monday) == half_hours(
                local(monday, 9, tz=tokyo), local(monday, 10, tz=tokyo)
            )
            # When updating only its rules, Then the zone stays and the slots move to Tuesday
            tuesday_rules = [_rule("tuesday", ("09:00", "10:00"))]
            raw = await cal.update_calendar_schedule(event_cal, {"rules": tuesday_rules})
            moved = api.check(
                "PUT /calendars/schedules/event-calendar/{calendarId}", CalendarScheduleWrapper, raw
            ).schedule
            assert raw["schedule"]["rules"] == tuesday_rules
            assert (moved.calendarId, moved.timezone) == (event_cal, "Asia/Tokyo")
            assert await slots(api, event_cal, monday) == half_hours(
                local(tuesday, 9, tz=tokyo), local(tuesday, 10, tz=tokyo)
            )

            # When deleting the user schedule, Then it is gone
            deleted = await api.ok("DELETE /calendars/schedules/{id}", Any, cal.delete_schedule(schedule.id))
            assert deleted == {"success": True}
            await raises_ghl(cal.get_schedule_by_id(schedule.id), 404)
            await raises_ghl(cal.update_schedule(schedule.id, {"name": "gone"}), 404)
            assert await search(user_id=HOST) == []

    run(scenario())


def test_team_members_follow_their_own_schedules_in_their_own_zones(
    local_server: LocalServer, owner: Tenant
) -> None:
    monday = booking_monday()
    loc = owner.location_id
    new_york, tokyo = ZoneInfo("America/New_York"), ZoneInfo("Asia/Tokyo")

    async def scenario() -> None:
        async with client(local_server, owner.api_key) as api:
            cal = api.cal
            # Given a round-robin calendar of two members, each with a Monday 09-10 schedule in
            # their own zone (New York, Tokyo), associated with it at creation
            team = await new_calendar(
                api,
                owner,
                name="Round robin",
                calendarType="round_robin",
                eventType="RoundRobin_OptimizeForAvailability",
                teamMembers=[{"userId": HOST, "priority": 1}, {"userId": OTHER_HOST, "priority": 1}],
            )
            for user, zone in ((HOST, "America/New_York"), (OTHER_HOST, "Asia/Tokyo")):
                made = await api.ok(
                    "POST /calendars/schedules",
                    ScheduleWrapper,
                    cal.create_schedule(
                        {
                            "locationId": loc,
                            "name": f"{user} hours",
                            "userId": user,
                            "timezone": zone,
                            "rules": [_rule("monday", ("09:00", "10:00"))],
                            "calendarIds": [team],
                        }
                    ),
                )
                assert made.schedule.calendarIds == [team]
            new_york_hour = half_hours(local(monday, 9, tz=new_york), local(monday, 10, tz=new_york))
            tokyo_hour = half_hours(local(monday, 9, tz=tokyo), local(monday, 10, tz=tokyo))
            # Then the calendar offers both members' hours, each read in its own zone
            assert await slots(api, team, monday) == sorted(tokyo_hour + new_york_hour, key=parse_iso)
            # And asking for one member gives only theirs
            raw = await api.ok(
                "GET /calendars/{calendarId}/free-slots",
                FreeSlots,
                cal.get_slots(
                    team,
                    epoch_ms(local(monday, 0)),
                    epoch_ms(local(monday + timedelta(days=6), 0)),
                    timezone=TIMEZONE,
                    user_id=OTHER_HOST,
                ),
            )
            assert [s for day in sorted(raw) for s in raw[day].slots] == tokyo_hour
            # When booking the New York hour, Then it goes to the member whose hour it is
            booked = await book(api, owner, team, parse_iso(new_york_hour[0]))
            assert booked.assignedUserId == HOST
            assert await slots(api, team, monday) == tokyo_hour + new_york_hour[1:]

    run(scenario())


# --------------------------------------------------------------------------------------------------------
# Resources
# --------------------------------------------------------------------------------------------------------


def test_resources_through_the_sdk(local_server: LocalServer, owner: Tenant) -> None:
    monday = booking_monday()
    loc = owner.location_id
    week = expected_week(monday)
    ten = local(monday, 10)

    async def scenario() -> None:
        async with client(local_server, owner.api_key) as api:
            cal = api.cal
            first = await new_calendar(api, owner, name="Yoga A")
            second = await new_calendar(
                api, owner, name="Yoga B", teamMembers=[{"userId": OTHER_HOST, "priority": 1}]
            )

            async def listing(kind: str, limit: int = 10, skip: int = 0) -> list[dict[str, Any]]:
                raw = await cal.fetch_calendar_resources(kind, loc, limit, skip)
                api.check(
                    "GET /calendars/resources/{resourceType}",
                    list[CalendarResourceByIdResponseDTO],
                    raw,
                    beyond_reference=RESOURCE_IDS,
                )
                return raw

            # Given a room for one person shared by both calendars
            room_body = {
                "locationId": loc,
                "name": "Yoga room",
                "description": "Small",
                "quantity": 1,
                "outOfService": 0,
                "capacity": 1,
                "calendarIds": [first, second],
            }
            raw = await cal.create_calendar_resource("rooms", room_body)
            room = api.check(
                "POST /calendars/resources/{resourceType}",
                CalendarResourceByIdResponseDTO,
                raw,
                beyond_reference=RESOURCE_ID,
            )
            room_id = raw["id"]
            assert isinstance(room_id, str) and room_id
            assert room.model_dump(exclude_unset=True) == {
                **room_body,
                "resourceType": "rooms",
                "isActive": True,
            }
            got = await cal.get_calendar_resource("rooms", room_id)
            assert (
                api.check(
                    "GET /calendars/resources/{resourceType}/{id}",
                    CalendarResourceByIdResponseDTO,
                    got,
                    beyond_reference=RESOURCE_ID,
                )
                == room
            )
            assert got["id"] == room_id
            assert [r["id"] for r in await listing("rooms")] == [room_id]
            assert await listing("equipments") == []
            assert await slots(api, second, monday) == week

            # When the first calendar books Monday 10:00
            await book(api, owner, first, ten)
            # Then the room is full then, so the second calendar (another host) no longer offers it
            assert await slots(api, second, monday) == [s for s in week if s != iso(ten)]
            await raises_ghl(
                cal.create_appointment(
                    {"calendarId": second, "locationId": loc, "contactId": "contact-2", "startTime": iso(ten)}
                ),
                400,
                409,
            )

            # When the room grows to two places, Then the second calendar offers 10:00 again
            raw = await cal.update_calendar_resource("rooms", room_id, {"capacity": 2, "name": "Yoga hall"})
            updated = api.check(
                "PUT /calendars/resources/{resourceType}/{id}",
                CalendarResourceResponseDTO,
                raw,
                beyond_reference=RESOURCE_ID,
            )
            assert (updated.name, updated.capacity, updated.description) == ("Yoga hall", 2, "Small")
            assert await slots(api, second, monday) == week

            # Given equipment: one piece may serve one calendar only (400)
            gear = {
                "locationId": loc,
                "name": "Mats",
                "description": "Yoga mats",
                "quantity": 2,
                "outOfService": 2,
                "capacity": 0,
                "calendarIds": [first, second],
            }
            await raises_ghl(cal.create_calendar_resource("equipments", gear), 400)
            # When all of it is out of service, Then its calendar offers nothing
            raw = await cal.create_calendar_resource("equipments", {**gear, "calendarIds": [second]})
            mats = api.check(
                "POST /calendars/resources/{resourceType}",
                CalendarResourceByIdResponseDTO,
                raw,
                beyond_reference=RESOURCE_ID,
            )
            mats_id = raw["id"]
            assert (mats.resourceType, mats.calendarIds, mats.quantity, mats.outOfService) == (
                "equipments",
                [second],
                2,
                2,
            )
            assert await slots(api, second, monday) == []
            # And when one is repaired, Then it offers its slots again
            raw = await cal.update_calendar_resource("equipments", mats_id, {"outOfService": 1})
            api.check(
                "PUT /calendars/resources/{resourceType}/{id}",
                CalendarResourceResponseDTO,
                raw,
                beyond_reference=RESOURCE_ID,
            )
            assert await slots(api, second, monday) == week
            assert [r["id"] for r in await listing("equipments")] == [mats_id]
            assert [r["id"] for r in await listing("rooms")] == [room_id]

            # Listing pages with limit and skip
            raw = await cal.create_calendar_resource(
                "rooms", {**room_body, "name": "Second room", "calendarIds": []}
            )
            other_room = raw["id"]
            both = [r["id"] for r in await listing("rooms")]
            assert sorted(both) == sorted([room_id, other_room])
            assert [r["id"] for r in await listing("rooms", limit=1)] + [
                r["id"] for r in await listing("rooms", limit=1, skip=1)
            ] == both

            # An unknown resource type is refused (400)
            await raises_ghl(cal.fetch_calendar_resources("desks", loc, 10, 0), 400)
            await raises_ghl(cal.create_calendar_resource("desks", room_body), 400)

            # When deleting the resources, Then they are gone
            for kind, rid in (("rooms", room_id), ("rooms", other_room), ("equipments", mats_id)):
                deleted = await api.ok(
                    "DELETE /calendars/resources/{resourceType}/{id}",
                    ResourceDeleteResponseDTO,
                    cal.delete_calendar_resource(kind, rid),
                )
                assert deleted.success is True
                await raises_ghl(cal.get_calendar_resource(kind, rid), 404)
            assert await listing("rooms") == [] and await listing("equipments") == []

    run(scenario())


# --------------------------------------------------------------------------------------------------------
# Appointment notes
# --------------------------------------------------------------------------------------------------------


def test_appointment_notes_through_the_sdk(local_server: LocalServer, owner: Tenant) -> None:
    monday = booking_monday()

    async def scenario() -> None:
        async with client(local_server, owner.api_key) as api:
            cal = api.cal
            cal_id = await new_calendar(api, owner)
            appointment = await book(api, owner, cal_id, local(monday, 10))
            notes_path = f"/calendars/appointments/{appointment.id}/notes"

            async def page(limit: int, offset: int) -> Any:
                return await api.ok(
                    "GET /calendars/appointments/{appointmentId}/notes",
                    GetNotesListSuccessfulResponseDto,
                    cal.get_appointment_notes(limit, offset, appointment.id),
                )

            # Given an appointment without notes
            empty = await page(10, 0)
            assert (empty.notes, empty.hasMore) == ([], False)

            # When adding three notes
            created = []
            for n in range(3):
                note = (
                    await api.ok(
                        "POST /calendars/appointments/{appointmentId}/notes",
                        GetCreateUpdateNoteSuccessfulResponseDto,
                        cal.create_appointment_note(appointment.id, {"userId": HOST, "body": f"note {n}"}),
                    )
                ).note
                # Then each is the note sent, with an id and the time it was added
                assert note.id and (note.body, note.userId) == (f"note {n}", HOST)
                parse_iso(note.dateAdded.replace("Z", "+00:00"))
                created.append(note)
            assert len({n.id for n in created}) == 3

            # And they page by limit and offset
            first, rest = await page(2, 0), await page(2, 2)
            assert (len(first.notes), first.hasMore, len(rest.notes), rest.hasMore) == (2, True, 1, False)
            assert sorted(n.id for n in first.notes + rest.notes) == sorted(n.id for n in created)
            assert {n.id: n for n in first.notes + rest.notes} == {n.id: n for n in created}

            # When updating one (plain HTTP: the SDK's method takes no note id)
            target = created[1]
            raw = await api.http("PUT", f"{notes_path}/{target.id}", {"body": "edited"})
            edited = api.check(
                "PUT /calendars/appointments/{appointmentId}/notes/{noteId}",
                GetCreateUpdateNoteSuccessfulResponseDto,
                raw,
            ).note
            # Then only its body changed
            assert edited.model_copy(update={"body": target.body}) == target and edited.body == "edited"
            everything = await page(20, 0)
            assert {n.id: n.body for n in everything.notes} == {
                created[0].id: "note 0",
                target.id: "edited",
                created[2].id: "note 2",
            }

            # When deleting it (plain HTTP as well), Then it is gone and cannot be edited
            raw = await api.http("DELETE", f"{notes_path}/{target.id}")
            deleted = api.check(
                "DELETE /calendars/appointments/{appointmentId}/notes/{noteId}",
                DeleteNoteSuccessfulResponseDto,
                raw,
            )
            assert deleted.success is True
            after = await page(20, 0)
            assert sorted(n.id for n in after.notes) == sorted([created[0].id, created[2].id])
            await raises_ghl(api.http("PUT", f"{notes_path}/{target.id}", {"body": "again"}), 404)
            await raises_ghl(api.http("DELETE", f"{notes_path}/{target.id}"), 404)
            # And an unknown appointment has no notes to list or add
            await raises_ghl(cal.get_appointment_notes(10, 0, "no-such-appointment"), 404)
            await raises_ghl(cal.create_appointment_note("no-such-appointment", {"body": "x"}), 404)

    run(scenario())


# --------------------------------------------------------------------------------------------------------
# Notification settings
# --------------------------------------------------------------------------------------------------------


def test_notification_settings_through_the_sdk(local_server: LocalServer, owner: Tenant) -> None:
    async def scenario() -> None:
        async with client(local_server, owner.api_key) as api:
            cal = api.cal
            cal_id = await new_calendar(api, owner)
            confirmation = {
                "receiverType": "contact",
                "channel": "email",
                "notificationType": "confirmation",
                "isActive": True,
                "subject": "See you soon",
                "body": "Your booking is confirmed",
            }
            reminder = {
                "receiverType": "phoneNumbers",
                "channel": "sms",
                "notificationType": "reminder",
                "isActive": True,
                "body": "In an hour",
                "beforeTime": [{"timeOffset": 1, "unit": "hours"}],
                "additionalPhoneNumbers": ["+4512345678"],
            }

            async def listing(**query: Any) -> list[Any]:
                return await api.ok(
                    "GET /calendars/{calendarId}/notifications",
                    list[Notification],  # type: ignore[valid-type]
                    cal.get_event_notification(cal_id, **query),
                )

            # Given a calendar without notification settings
            assert await listing() == []
            # When creating two in one call
            made = await api.ok(
                "POST /calendars/{calendarId}/notifications",
                list[Notification],  # type: ignore[valid-type]
                cal.create_event_notification(cal_id, [confirmation, reminder]),
            )
            # Then both come back as sent, each with an id, not deleted
            assert len(made) == 2 and all(n.id_ for n in made) and made[0].id_ != made[1].id_
            for sent, got in zip((confirmation, reminder), made, strict=True):
                dumped = got.model_dump(by_alias=True, exclude_unset=True)
                assert {k: dumped.get(k) for k in sent} == sent
                assert got.deleted is False
            first, second = made
            by_id = {n.id_: n for n in await listing()}
            assert by_id == {n.id_: n for n in made}

            found = await api.ok(
                "GET /calendars/{calendarId}/notifications/{notificationId}",
                Notification,
                cal.find_event_notification(cal_id, second.id_),
            )
            assert found == second

            # When pausing the reminder and changing its offset
            answer = await api.ok(
                "PUT /calendars/{calendarId}/notifications/{notificationId}",
                CalendarNotificationDeleteResponseDTO,
                cal.update_event_notification(
                    cal_id,
                    second.id_,
                    {"isActive": False, "beforeTime": [{"timeOffset": 30, "unit": "mins"}]},
                ),
            )
            assert answer.message
            # Then only that changed, and listings filter by isActive and page by limit/skip
            paused = await api.ok(
                "GET /calendars/{calendarId}/notifications/{notificationId}",
                Notification,
                cal.find_event_notification(cal_id, second.id_),
            )
            assert paused == second.model_copy(
                update={"isActive": False, "beforeTime": paused.beforeTime}
            ) and paused.model_dump(by_alias=True)["beforeTime"] == [{"timeOffset": 30, "unit": "mins"}]
            assert [n.id_ for n in await listing(is_active=False)] == [second.id_]
            assert [n.id_ for n in await listing(is_active=True)] == [first.id_]
            in_order = [n.id_ for n in await listing()]
            paged = [n.id_ for n in await listing(limit=1)] + [n.id_ for n in await listing(limit=1, skip=1)]
            assert paged == in_order and sorted(in_order) == sorted([first.id_, second.id_])
            # An invalid channel is refused (422)
            await raises_ghl(
                cal.create_event_notification(cal_id, [{**confirmation, "channel": "pigeon"}]), 422
            )

            # When deleting the confirmation, Then it is soft-deleted: listed only when asking for deleted
            gone = await api.ok(
                "DELETE /calendars/{calendarId}/notifications/{notificationId}",
                CalendarNotificationDeleteResponseDTO,
                cal.delete_event_notification(cal_id, first.id_),
            )
            assert gone.message
            assert [n.id_ for n in await listing(deleted=False)] == [second.id_]
            deleted = await listing(deleted=True)
            assert [(n.id_, n.deleted) for n in deleted] == [(first.id_, True)]
            # And another calendar's notification id is not found under this calendar
            other_cal = await new_calendar(api, owner, name="Other")
            await raises_ghl(cal.find_event_notification(other_cal, second.id_), 404)

    run(scenario())


# --------------------------------------------------------------------------------------------------------
# Recurring appointments
# --------------------------------------------------------------------------------------------------------


def test_recurring_appointments_through_the_sdk(local_server: LocalServer, owner: Tenant) -> None:
    monday = booking_monday()
    days = [monday + timedelta(days=n) for n in range(3)]
    week = expected_week(monday)

    async def scenario() -> None:
        async with client(local_server, owner.api_key) as api:
            cal = api.cal
            cal_id = await new_calendar(api, owner)
            # When booking a daily series of three at 10:00 (rrule applies with ignoreFreeSlotValidation)
            rrule = "RRULE:FREQ=DAILY;INTERVAL=1;COUNT=3"
            master = await book(
                api,
                owner,
                cal_id,
                local(monday, 10),
                title="Daily stand-up",
                rrule=rrule,
                ignoreFreeSlotValidation=True,
            )
            assert master.isRecurring is True and master.rrule == rrule
            # Then the listing expands it into three instances with ids <master>_<startMs>_<seconds>
            starts = [local(day, 10) for day in days]
            instance_ids = [f"{master.id}_{epoch_ms(s)}_1800" for s in starts]
            listed = await events(api, owner, monday, calendar_id=cal_id)
            assert [(e.id, e.startTime, e.endTime) for e in listed] == [
                (i, iso(s), iso(s + timedelta(minutes=30))) for i, s in zip(instance_ids, starts, strict=True)
            ]
            assert all(e.masterEventId == master.id and e.isRecurring is True for e in listed)
            assert all(e.title == "Daily stand-up" for e in listed)
            # And every instance is busy time
            assert await slots(api, cal_id, monday) == [s for s in week if s not in {iso(x) for x in starts}]

            # When reading one instance by its id, Then it is that occurrence
            tuesday_event = (
                await api.ok(
                    "GET /calendars/events/appointments/{eventId}",
                    GetCalendarEventIso,
                    cal.get_appointment(instance_ids[1]),
                )
            ).event
            assert (tuesday_event.id, tuesday_event.startTime, tuesday_event.masterEventId) == (
                instance_ids[1],
                iso(starts[1]),
                master.id,
            )

            # When moving only Tuesday's instance to 14:00
            moved_to = local(days[1], 14)
            await api.ok(
                "PUT /calendars/events/appointments/{eventId}",
                AppointmentSchemaResponse,
                cal.edit_appointment(instance_ids[1], {"startTime": iso(moved_to), "title": "Late stand-up"}),
            )
            # Then Tuesday 10:00 is free, 14:00 is busy, Monday and Wednesday are untouched
            busy = {iso(starts[0]), iso(moved_to), iso(starts[2])}
            assert await slots(api, cal_id, monday) == [s for s in week if s not in busy]
            listed = await events(api, owner, monday, calendar_id=cal_id)
            assert [(e.startTime, e.title) for e in listed] == [
                (iso(starts[0]), "Daily stand-up"),
                (iso(moved_to), "Late stand-up"),
                (iso(starts[2]), "Daily stand-up"),
            ]
            assert [listed[0].id, listed[2].id] == [instance_ids[0], instance_ids[2]]

            # When deleting Wednesday's instance, Then only it is gone
            deleted = await api.ok(
                "DELETE /calendars/events/{eventId}",
                DeleteEventSuccessfulResponseDto,
                cal.delete_event(instance_ids[2], {}),
            )
            assert deleted.succeeded is True
            listed = await events(api, owner, monday, calendar_id=cal_id)
            assert [e.startTime for e in listed] == [iso(starts[0]), iso(moved_to)]
            await raises_ghl(cal.get_appointment(instance_ids[2]), 404)
            assert await slots(api, cal_id, monday) == [
                s for s in week if s not in {iso(starts[0]), iso(moved_to)}
            ]

            # When deleting the master id, Then the whole series is gone
            deleted = await api.ok(
                "DELETE /calendars/events/{eventId}",
                DeleteEventSuccessfulResponseDto,
                cal.delete_event(master.id, {}),
            )
            assert deleted.succeeded is True
            assert await events(api, owner, monday, calendar_id=cal_id) == []
            assert await slots(api, cal_id, monday) == week

            # Without ignoreFreeSlotValidation the rrule is not applied ("the rrule only be applied
            # if ignoreFreeSlotValidation is true"): one ordinary appointment
            single = await book(api, owner, cal_id, local(monday, 11), rrule=rrule)
            assert single.isRecurring is False and not single.rrule
            assert [(e.id, e.isRecurring) for e in await events(api, owner, monday, calendar_id=cal_id)] == [
                (single.id, False)
            ]

    run(scenario())


def test_calendar_recurring_settings_book_a_series_through_the_sdk(
    local_server: LocalServer, owner: Tenant
) -> None:
    monday = booking_monday()
    mondays = [monday + timedelta(weeks=n) for n in range(3)]

    async def scenario() -> None:
        async with client(local_server, owner.api_key) as api:
            # Given a calendar that books weekly series of three, skipping taken occurrences
            cal_id = await new_calendar(
                api,
                owner,
                enableRecurring=True,
                recurring={
                    "freq": "WEEKLY",
                    "count": 3,
                    "bookingOption": "skip",
                    "bookingOverlapDefaultStatus": "confirmed",
                },
            )
            # And the host already booked on the second Monday 10:00 through another calendar
            plain = await new_calendar(api, owner, name="Plain")
            taken = await book(api, owner, plain, local(mondays[1], 10), contactId="contact-0")
            assert not taken.isRecurring
            # When booking the first Monday 10:00 on the recurring calendar
            series = await book(api, owner, cal_id, local(mondays[0], 10))
            assert series.isRecurring is True
            # Then the series holds the first and third Mondays (the second is skipped), all the host's
            listed = await events(api, owner, monday, days=21, calendar_id=cal_id)
            assert [(e.startTime, e.contactId, e.masterEventId) for e in listed] == [
                (iso(local(mondays[0], 10)), "contact-1", series.id),
                (iso(local(mondays[2], 10)), "contact-1", series.id),
            ], [(e.id, e.startTime, e.contactId, e.masterEventId) for e in listed]
            hosts = await events(api, owner, monday, days=21, user_id=HOST)
            assert [(e.startTime, e.calendarId) for e in hosts] == [
                (iso(local(mondays[0], 10)), cal_id),
                (iso(local(mondays[1], 10)), plain),
                (iso(local(mondays[2], 10)), cal_id),
            ]
            # And each occurrence is busy time
            for day in mondays:
                assert iso(local(day, 10)) not in await slots(api, cal_id, day, days=1)
            assert iso(local(mondays[0], 11)) in await slots(api, cal_id, mondays[0], days=1)

    run(scenario())
