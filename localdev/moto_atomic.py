"""Make every moto DynamoDB request atomic, the way each request to real DynamoDB is.

Why: the local server runs Lambda handlers concurrently on threads (like separate Lambda instances) against
moto's in-memory DynamoDB. Real DynamoDB applies each request atomically - a conditional ``UpdateItem`` checks
its condition and writes in one step, and a ``TransactWriteItems`` either applies all of its writes or none
of them, isolated from every other request. moto's backend is plain Python objects with no locking, so two
threads can interleave *inside* one request:

* two conditional updates can both evaluate their condition against the old item and both write (a lost
  update that real DynamoDB would have rejected with ``ConditionalCheckFailedException``);
* ``transact_write_items`` deep-copies the tables it touches and, when one condition fails, restores those
  copies - wiping out every write other threads committed in between;
* the per-account/region backend is created lazily, so two first requests can race to create it.

Such races would make concurrency tests (double-booking a slot, version checks) fail or pass for the
wrong reasons. :func:`install` serialises the *server side* of each DynamoDB API call with one
process-wide re-entrant lock: request parsing, the backend operation and response serialisation all run
while holding it. Client code is untouched: a handler that reads, computes and then writes with a condition
still interleaves freely with other threads between its requests - exactly the races the application must
handle against the real service, and that its conditional writes and transactions are meant to resolve.
"""

from __future__ import annotations

import functools
import threading
from collections.abc import Callable
from typing import Any

#: The process-wide lock held while moto executes one DynamoDB request (re-entrant: moto may nest calls).
DYNAMODB_LOCK = threading.RLock()

_INSTALL_LOCK = threading.Lock()
_MARKER = "__slotbook_atomic__"


def _atomic(dispatch: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(dispatch)
    def locked_dispatch(*args: Any, **kwargs: Any) -> Any:
        with DYNAMODB_LOCK:
            return dispatch(*args, **kwargs)

    setattr(locked_dispatch, _MARKER, True)
    return locked_dispatch


def install() -> None:
    """Wrap moto's DynamoDB request handling in :data:`DYNAMODB_LOCK` (idempotent, thread-safe).

    Patches ``moto.dynamodb.responses.DynamoHandler._dispatch``: every DynamoDB request that reaches moto
    (through ``mock_aws`` or the moto server) goes ``DynamoHandler.dispatch`` -> ``_dispatch`` (parse the
    request, then ``call_action`` runs the backend operation and serialises the response), so wrapping
    ``_dispatch`` on the handler class makes the whole request one critical section. Safe to call before or
    after ``mock_aws()`` starts; calling it again does nothing.

    :raises RuntimeError: if the installed moto no longer routes DynamoDB requests through ``_dispatch``.
    """
    from moto.dynamodb.responses import DynamoHandler  # imported lazily: moto is a dev-only dependency

    with _INSTALL_LOCK:
        current = DynamoHandler.__dict__.get("_dispatch")
        if current is not None and getattr(current, _MARKER, False):
            return
        dispatch = getattr(DynamoHandler, "_dispatch", None)
        if dispatch is None or not callable(dispatch):
            raise RuntimeError("moto DynamoHandler._dispatch not found; localdev.moto_atomic needs updating")
        DynamoHandler._dispatch = _atomic(dispatch)  # type: ignore[method-assign]


def is_installed() -> bool:
    """Whether :func:`install` has patched moto's DynamoDB handler in this process."""
    from moto.dynamodb.responses import DynamoHandler

    return bool(getattr(DynamoHandler.__dict__.get("_dispatch"), _MARKER, False))
