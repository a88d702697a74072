"""Observability: Powertools metrics (EMF) for bookings, conflicts and free-slot computations,
and log lines that carry the request's correlation id."""

from __future__ import annotations

import json

from slotbook import container
from slotbook.errors import BookingConflict
from tests.integration.conftest import free_slots, make_calendar

MON = ("2027-03-08T00:00:00+01:00", "2027-03-08T23:59:59+01:00")


def _emf_metrics(output: str) -> dict[str, list]:
    """Metric name → values from the EMF documents Powertools printed."""
    found: dict[str, list] = {}
    for line in output.splitlines():
        if '"_aws"' not in line:
            continue
        doc = json.loads(line)
        for directive in doc["_aws"]["CloudWatchMetrics"]:
            for metric in directive["Metrics"]:
                value = doc[metric["Name"]]
                found.setdefault(metric["Name"], []).extend(value if isinstance(value, list) else [value])
    return found


def _book(client, tenant, cal_id, start):
    return client.post(
        "/calendars/events/appointments",
        {"calendarId": cal_id, "locationId": tenant.location_id, "contactId": "c", "startTime": start},
    )


def test_metrics_for_free_slots_bookings_and_conflicts(client, tenant, capsys, monkeypatch):
    cal = make_calendar(client, tenant.location_id)
    capsys.readouterr()
    free_slots(client, cal["id"], *MON)
    assert _book(client, tenant, cal["id"], "2027-03-08T10:00:00+01:00").status == 200
    # A lost race: the first commit attempt conflicts, the retry succeeds
    store = container.services().store
    real = store.save_booking
    calls = []

    def flaky(*args, **kwargs):
        calls.append(1)
        if len(calls) == 1:
            raise BookingConflict("simulated concurrent booking")
        return real(*args, **kwargs)

    monkeypatch.setattr(store, "save_booking", flaky)
    assert _book(client, tenant, cal["id"], "2027-03-08T11:00:00+01:00").status == 200
    metrics = _emf_metrics(capsys.readouterr().out)
    assert metrics["FreeSlotComputations"] == [1]
    assert len(metrics["FreeSlotDuration"]) == 1 and metrics["FreeSlotDuration"][0] >= 0
    assert metrics["BookingsCreated"] == [1, 1]
    assert metrics["BookingConflicts"] == [1]


def test_log_lines_carry_the_correlation_id(client, tenant, powertools_logs):
    cal = make_calendar(client, tenant.location_id)
    _book(client, tenant, cal["id"], "2027-03-08T10:00:00+01:00")
    lines = [json.loads(line) for line in powertools_logs.getvalue().splitlines()]
    booked = [line for line in lines if line["message"] == "appointment booked"]
    assert len(booked) == 1
    assert booked[0]["correlation_id"]
    assert booked[0]["location_id"] == tenant.location_id
    assert booked[0]["function_name"].endswith("EventsFunction")
