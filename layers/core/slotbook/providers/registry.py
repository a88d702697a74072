"""The configured calendar providers, built from settings on first use (never at import).

A provider is offered only when its OAuth client id is configured; the client secret comes from the
environment (local runs) or an SSM SecureString parameter (AWS, read through Powertools Parameters
and cached). Endpoint overrides point the clients at ``localdev.fake_providers`` in ``make dev``
and the tests.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from threading import Lock
from typing import Any

from slotbook.errors import InvalidRequest
from slotbook.providers.base import CalendarProvider
from slotbook.settings import Settings


class ProviderRegistry:
    """``get(name)`` → the :class:`CalendarProvider` for ``google`` or ``microsoft``. ``clock``
    (the services' clock) dates token expiry, channel lifetimes and sync windows."""

    NAMES = ("google", "microsoft")

    def __init__(
        self,
        settings: Settings,
        clock: Callable[[], datetime],
        overrides: dict[str, CalendarProvider] | None = None,
    ) -> None:
        self._settings = settings
        self._clock = clock
        self._built: dict[str, CalendarProvider] = dict(overrides or {})
        self._lock = Lock()

    def configured(self, name: str) -> bool:
        if name in self._built:
            return True
        return bool(getattr(self._settings, f"{name}_client_id", None)) if name in self.NAMES else False

    def get(self, name: str) -> CalendarProvider:
        """The provider ``name``. Raises InvalidRequest for an unknown or unconfigured one."""
        if name not in self.NAMES:
            raise InvalidRequest(f"provider must be one of {', '.join(self.NAMES)}")
        with self._lock:
            if name not in self._built:
                if not self.configured(name):
                    raise InvalidRequest(f"The {name} provider is not configured on this deployment.")
                self._built[name] = self._build(name)
            return self._built[name]

    def _build(self, name: str) -> CalendarProvider:
        s = self._settings
        secret = _secret(getattr(s, f"{name}_client_secret"), getattr(s, f"{name}_client_secret_parameter"))
        urls: dict[str, Any] = {
            arg: value
            for arg, value in (
                ("auth_url", getattr(s, f"{name}_auth_url")),
                ("token_url", getattr(s, f"{name}_token_url")),
                ("api_url", getattr(s, f"{name}_api_url")),
            )
            if value
        }
        client_id = getattr(s, f"{name}_client_id")
        if name == "google":
            from slotbook.providers.google import GoogleCalendar

            return GoogleCalendar(client_id=client_id, client_secret=secret, clock=self._clock, **urls)
        from slotbook.providers.microsoft import MicrosoftCalendar

        return MicrosoftCalendar(client_id=client_id, client_secret=secret, clock=self._clock, **urls)


def _secret(local: Any, parameter: str | None) -> str:
    if local is not None:
        return str(local.get_secret_value())
    if parameter:
        from aws_lambda_powertools.utilities import parameters

        return str(parameters.get_parameter(parameter, max_age=300, decrypt=True))
    return ""
