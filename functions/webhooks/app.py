"""Webhooks function: calendar providers call these routes; no API key (the providers can't
send one). Authenticity comes from what Slotbook set up with the provider and checks in
:class:`slotbook.services.sync.SyncService`: the Google channel id + channel token, the Graph
subscription id + ``clientState``. A valid notification only schedules a sync.

* ``POST /webhooks/google`` — a Google Calendar push notification: everything is in the
  ``X-Goog-*`` headers (the body is empty). 200 with an empty body; unknown channel 404; token
  mismatch 401.
* ``POST /webhooks/microsoft`` — Microsoft Graph. With a ``validationToken`` query parameter it is
  the subscription handshake: 200 ``text/plain`` with the (URL-decoded) token exactly, within
  Graph's 10 seconds. Otherwise a change-notification collection ``{"value": [...]}``: 202;
  401/404 when no notification in it is valid; a body that is not such JSON 400.

Errors map to responses in :mod:`slotbook.http.webhook_errors`.
"""

from __future__ import annotations

import json
from typing import Any

from aws_lambda_powertools.event_handler import APIGatewayHttpResolver, Response, content_types

from slotbook.container import services
from slotbook.errors import InvalidRequest
from slotbook.http.webhook_errors import register_error_handlers
from slotbook.observability import instrument

app = APIGatewayHttpResolver()
register_error_handlers(app)


@app.post("/webhooks/google")
def google_notification() -> Response:
    """Google push notification (``X-Goog-Channel-ID``, ``-Token``, ``X-Goog-Resource-State``...)."""
    headers = {
        name.lower(): value
        for name, value in (app.current_event.headers or {}).items()
        if name.lower().startswith("x-goog-")
    }
    services().sync.google_notification(headers)
    return Response(status_code=200, content_type=content_types.TEXT_PLAIN, body="")


@app.post("/webhooks/microsoft")
def microsoft_notification() -> Response:
    """Graph's subscription handshake, or a collection of change notifications."""
    query = app.current_event.query_string_parameters or {}
    token = query.get("validationToken")
    if token is not None:
        # Graph requires the token back verbatim, as text/plain, with 200.
        return Response(
            status_code=200,
            content_type=content_types.TEXT_PLAIN,
            body=token,
            headers={"X-Content-Type-Options": "nosniff"},
        )
    services().sync.graph_notifications(_notification_collection())
    return Response(status_code=202, content_type=content_types.TEXT_PLAIN, body="")


def _notification_collection() -> dict[str, Any]:
    """The JSON body as Graph's ``{"value": [...]}``. Raises InvalidRequest (400) otherwise
    (not UTF-8, not JSON, not an object with a ``value`` array)."""
    try:
        body = json.loads(app.current_event.decoded_body or "")
    except (ValueError, RecursionError) as exc:
        raise InvalidRequest("The body must be a JSON change-notification collection.") from exc
    if not isinstance(body, dict) or not isinstance(body.get("value"), list):
        raise InvalidRequest('The body must be a JSON object with a "value" array.')
    return body


lambda_handler = instrument(app.resolve)
