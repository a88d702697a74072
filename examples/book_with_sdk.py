"""Book a free slot on a local Slotbook with the official GoHighLevel Python SDK.

The SDK (PyPI ``gohighlevel-api-client``) is used unchanged except for its base URL. Reads
``SLOTBOOK_URL``, ``SLOTBOOK_KEY`` (an API key with the calendars scopes) and ``CALENDAR_ID``
from the environment: see the README walkthrough.
"""

from __future__ import annotations

import asyncio
import os
import time

from highlevel import HighLevel


class LocalHighLevel(HighLevel):
    """The official client, pointed at Slotbook instead of services.leadconnectorhq.com."""

    BASE_URL = os.environ.get("SLOTBOOK_URL", "http://127.0.0.1:3000")


async def main() -> None:
    ghl = LocalHighLevel(private_integration_token=os.environ["SLOTBOOK_KEY"], log_level="error")
    calendar_id = os.environ["CALENDAR_ID"]
    calendar = (await ghl.calendars.get_calendar(calendar_id))["calendar"]
    now_ms = int(time.time() * 1000)
    week = (now_ms, now_ms + 7 * 24 * 3600 * 1000)

    slots = await ghl.calendars.get_slots(calendar_id, *week)
    first = next(s for day in sorted(slots) for s in slots[day]["slots"])
    print(f"first free slot of {calendar['name']!r}: {first}")

    appointment = await ghl.calendars.create_appointment(
        {
            "calendarId": calendar_id,
            "locationId": calendar["locationId"],
            "contactId": "walkthrough-contact",
            "title": "Booked from the official SDK",
            "startTime": first,
        }
    )
    print(
        f"booked {appointment['id']}: {appointment['startTime']} - {appointment['endTime']}"
        f" with {appointment['assignedUserId']}"
    )

    slots = await ghl.calendars.get_slots(calendar_id, *week)
    still_offered = any(first in day["slots"] for day in slots.values())
    print(f"{first} still offered after booking: {still_offered}")
    await ghl.http_client.aclose()


if __name__ == "__main__":
    asyncio.run(main())
