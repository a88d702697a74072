"""Demo data for ``make dev``: one location (Europe/Copenhagen) and an all-scopes API key.

Uses the same services the admin API uses, so the demo tenant is an ordinary tenant.
"""

from __future__ import annotations

from slotbook.container import services
from slotbook.services.tenancy import SCOPES

DEMO_LOCATION_NAME = "Demo location"
DEMO_TIMEZONE = "Europe/Copenhagen"


def seed_demo() -> tuple[str, str]:
    """Create the demo location and a key with every scope; returns ``(location_id, token)``."""
    tenancy = services().tenancy
    location = tenancy.create_location(DEMO_LOCATION_NAME, DEMO_TIMEZONE)
    _, token = tenancy.create_api_key(location.id, "demo (all scopes)", sorted(SCOPES))
    return location.id, token
