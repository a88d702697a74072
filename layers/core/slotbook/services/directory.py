"""The per-location recipient directory (contacts and users) and the outgoing-webhook registry.

Slotbook keeps no CRM: a notification can reach a contact or a user only through a small
directory entry (:class:`~slotbook.delivery.models.Person`: name, e-mail, E.164 phone, IANA time
zone) written by the admin API (``PUT /admin/locations/{locationId}/contacts/{contactId}`` and
``.../users/{userId}``) or remembered from booking payloads that carry contact details
(:meth:`DirectoryService.remember_contact`, for the oHallo bookings).

Recipient resolution (:meth:`DirectoryService.recipients`), per ``receiverType``:

* ``contact`` — the appointment's ``contactId`` entry;
* ``guest`` — never resolved: appointments do not store guests yet (reported, not failed);
* ``assignedUser`` — the appointment's ``assignedUserId`` entry (for a collective booking, the
  primary host it names, not every member);
* ``business`` — the ``selectedUsers`` entries; the keyword ``sub_account_admin`` stands for every
  user of the directory flagged ``isAdmin``, and an empty ``selectedUsers`` means the same;
* ``emails`` / ``phoneNumbers`` — the setting's ``additionalEmailIds`` / ``additionalPhoneNumbers``.

The channel picks the address: ``email`` needs an e-mail, ``sms`` and ``whatsapp`` a phone
number, ``inApp`` a user id (a user absent from the directory can still get an in-app item;
contacts never can). A recipient's time zone is its entry's, else the location's. Whoever cannot
be reached is reported as a human-readable reason (ids only, no personal data) and the others
still go out.
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Callable
from datetime import datetime
from email.errors import HeaderParseError
from email.headerregistry import Address
from urllib.parse import urlsplit

from slotbook.delivery.models import BookingChange, Person, Recipient, WebhookEndpoint
from slotbook.domain import Event, NotificationChannel, NotificationReceiver, NotificationSetting
from slotbook.errors import ConcurrentUpdate, NotFound, ValidationFailed
from slotbook.ids import new_id
from slotbook.store.dynamo import DynamoStore
from slotbook.timeutil import is_zone

CONTACT, USER = "contact", "user"
KINDS = (CONTACT, USER)
ADMIN_KEYWORD = "sub_account_admin"
"""``selectedUsers`` entry standing for every admin user of the location (GoHighLevel's keyword)."""
MAX_WEBHOOKS = 10
"""Endpoints a location may register (checked before the write: a soft cap under concurrency)."""
MAX_URL = 2048
MAX_ATTEMPTS = 5
"""Read-modify-write attempts of :meth:`DirectoryService.remember_contact` before ConcurrentUpdate."""
LOCAL_HTTP_HOSTS = frozenset({"localhost", "127.0.0.1"})
"""The only hosts a plain-``http`` webhook URL may name (local development)."""

EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s.]+$")
PHONE = re.compile(r"^\+[1-9][0-9]{6,14}$")

Clock = Callable[[], datetime]


def is_email(text: str) -> bool:
    """An address SES and the email headers can carry: ASCII, one ``@``, a dotted domain, and
    parseable as an RFC 5322 addr-spec (``a,b@x.com`` or ``jörg@example.de`` are not)."""
    if not text.isascii() or not EMAIL.match(text):
        return False
    try:
        Address(addr_spec=text)
    except (ValueError, IndexError, TypeError, HeaderParseError):
        return False
    return True


def person_errors(email: str | None, phone: str | None, timezone: str | None) -> list[str]:
    """Field errors of a directory entry: ``email`` an address (≤ 254 characters), ``phone`` E.164
    (``+`` and 7-15 digits), ``timezone`` an IANA zone. None is always fine."""
    errors = []
    if email is not None and (len(email) > 254 or not is_email(email)):
        errors.append("email must be an e-mail address")
    if phone is not None and not PHONE.match(phone):
        errors.append("phone must be an E.164 phone number (+ and 7 to 15 digits)")
    if timezone is not None and not is_zone(timezone):
        errors.append("timezone must be a valid IANA time zone")
    return errors


def webhook_errors(url: str, events: list[str]) -> list[str]:
    """Field errors of a webhook registration: ``url`` https with a host (plain http only for
    :data:`LOCAL_HTTP_HOSTS`), no credentials, no whitespace, at most :data:`MAX_URL` characters;
    ``events`` :class:`BookingChange` values without repeats (empty = every change)."""
    errors = []
    try:
        parts = urlsplit(url)
        host = parts.hostname
        _ = parts.port  # raises ValueError for a port that is not a number in range
    except ValueError:
        parts, host = None, None
    if len(url) > MAX_URL:
        errors.append(f"url must be at most {MAX_URL} characters")
    elif parts is None or any(c.isspace() or ord(c) < 32 for c in url):
        errors.append("url must be a valid URL")
    elif parts.username is not None or parts.password is not None:
        errors.append("url must not carry credentials")
    elif not ((parts.scheme == "https" and host) or (parts.scheme == "http" and host in LOCAL_HTTP_HOSTS)):
        errors.append("url must be https (plain http only for localhost or 127.0.0.1)")
    allowed = {c.value for c in BookingChange}
    for i, event in enumerate(events):
        if event not in allowed:
            errors.append(f"events.{i} must be one of {', '.join(c.value for c in BookingChange)}")
    if len(set(events)) != len(events):
        errors.append("events must not contain duplicates")
    return errors


def new_webhook_secret() -> str:
    """A signing secret: ``whsec_`` + 43 url-safe characters (256 bits)."""
    return "whsec_" + secrets.token_urlsafe(32)


class DirectoryService:
    """Directory entries, recipient resolution and webhook endpoints over one store.
    ``clock`` returns an aware UTC now."""

    def __init__(self, store: DynamoStore, clock: Clock) -> None:
        self._store = store
        self._clock = clock

    # -- directory (admin) ------------------------------------------------------------------------

    def put_person(
        self,
        location_id: str,
        kind: str,
        person_id: str,
        *,
        name: str = "",
        email: str | None = None,
        phone: str | None = None,
        timezone: str | None = None,
        admin: bool = False,
    ) -> tuple[Person, bool]:
        """Create or replace (PUT: every field as given) a contact or user of a location.
        Returns ``(entry, created)``. NotFound for an unknown location; ValidationFailed naming
        each bad field (email, phone, timezone). ``admin`` is for users only."""
        assert kind in KINDS
        self._location(location_id)
        errors = person_errors(email, phone, timezone)
        if admin and kind != USER:
            errors.append("isAdmin is only allowed for users")
        if errors:
            raise ValidationFailed(errors)
        person = Person(
            id=person_id,
            location_id=location_id,
            kind=kind,
            name=name.strip(),
            email=email,
            phone=phone,
            timezone=timezone,
            admin=admin,
            updated_at=self._clock(),
        )
        created = self._store.put_person(person)
        return person, created

    def get_person(self, location_id: str, kind: str, person_id: str) -> Person:
        """One entry. NotFound for an unknown location or entry."""
        self._location(location_id)
        person = self._store.get_person(location_id, kind, person_id)
        if person is None:
            raise NotFound(kind.capitalize(), person_id)
        return person

    def delete_person(self, location_id: str, kind: str, person_id: str) -> None:
        """Delete one entry. NotFound for an unknown location or entry."""
        self._location(location_id)
        self._store.delete_person(location_id, kind, person_id)

    def lookup(self, location_id: str, kind: str, person_id: str | None) -> Person | None:
        """An entry or None, without errors (for message contexts: the contact, the host)."""
        if not person_id:
            return None
        return self._store.get_person(location_id, kind, person_id)

    def remember_contact(
        self,
        location_id: str,
        contact_id: str,
        *,
        name: str | None = None,
        email: str | None = None,
        phone: str | None = None,
        timezone: str | None = None,
    ) -> Person:
        """Fill the directory from a booking payload that carries contact details (issue 4's
        oHallo bookings call this): the given, valid, non-empty fields replace the stored ones,
        the others are kept; an invalid value (a malformed e-mail, a non-E.164 phone, an unknown
        zone) is skipped rather than failing the booking. Creates the entry when missing. The
        caller has already checked the location. Conditional write (re-read and retry on a
        concurrent change); ConcurrentUpdate after :data:`MAX_ATTEMPTS` attempts."""
        given: dict[str, str] = {}
        if name is not None and name.strip():
            given["name"] = name.strip()[:200]
        if email is not None and not person_errors(email.strip(), None, None):
            given["email"] = email.strip()
        if phone is not None and not person_errors(None, phone.strip(), None):
            given["phone"] = phone.strip()
        if timezone is not None and not person_errors(None, None, timezone):
            given["timezone"] = timezone
        for _ in range(MAX_ATTEMPTS):
            current = self._store.get_person(location_id, CONTACT, contact_id)
            if current is not None and all(getattr(current, f) == v for f, v in given.items()):
                return current
            base = current or Person(
                id=contact_id, location_id=location_id, kind=CONTACT, updated_at=self._clock()
            )
            updated = base.model_copy(update={**given, "updated_at": self._clock()})
            try:
                self._store.replace_person(updated, current)
            except ConcurrentUpdate:
                continue
            return updated
        raise ConcurrentUpdate("The contact is being changed by other requests; please retry.")

    # -- recipients ---------------------------------------------------------------------------

    def recipients(
        self, location_id: str, setting: NotificationSetting, event: Event, location_timezone: str
    ) -> tuple[list[Recipient], list[str]]:
        """Who ``setting`` reaches for ``event`` (see the module docstring), and a reason for
        each recipient it cannot reach. Recipients are unique by address, in a stable order.
        Reads: at most one BatchGetItem (plus one Query for ``sub_account_admin``)."""
        receiver, channel = setting.receiver_type, setting.channel
        rtype = receiver.value
        found: list[Recipient] = []
        problems: list[str] = []

        if receiver is NotificationReceiver.GUEST:
            problems.append("guest recipients cannot be resolved: appointments do not store guests yet")
        elif receiver is NotificationReceiver.EMAILS:
            if channel is NotificationChannel.EMAIL:
                found += [
                    Recipient(receiver_type=rtype, address=a, timezone=location_timezone)
                    for a in setting.additional_emails
                ]
            else:
                problems.append(f"additionalEmailIds cannot be reached over {channel.value}")
        elif receiver is NotificationReceiver.PHONE_NUMBERS:
            if channel in (NotificationChannel.SMS, NotificationChannel.WHATSAPP):
                found += [
                    Recipient(receiver_type=rtype, address=a, timezone=location_timezone)
                    for a in setting.additional_phones
                ]
            else:
                problems.append(f"additionalPhoneNumbers cannot be reached over {channel.value}")
        elif receiver is NotificationReceiver.CONTACT:
            if event.contact_id is None:
                problems.append("the appointment has no contact")
            else:
                people = self._store.get_people(location_id, CONTACT, [event.contact_id])
                self._reach(CONTACT, [event.contact_id], people, setting, location_timezone, found, problems)
        elif receiver is NotificationReceiver.ASSIGNED_USER:
            if event.assigned_user_id is None:
                problems.append("the appointment has no assigned user")
            else:
                ids = [event.assigned_user_id]
                people = self._store.get_people(location_id, USER, ids)
                self._reach(USER, ids, people, setting, location_timezone, found, problems)
        else:  # business
            selected = setting.selected_users or [ADMIN_KEYWORD]
            ids = [u for u in selected if u != ADMIN_KEYWORD]
            people = self._store.get_people(location_id, USER, ids)
            if ADMIN_KEYWORD in selected:
                admins = self._store.admin_users(location_id)
                if not admins:
                    problems.append(
                        f"{ADMIN_KEYWORD}: no user of the location's directory is flagged isAdmin"
                    )
                for admin in admins:
                    people.setdefault(admin.id, admin)
                    ids.append(admin.id)
            self._reach(USER, list(dict.fromkeys(ids)), people, setting, location_timezone, found, problems)
        return _unique(found), problems

    @staticmethod
    def _reach(
        kind: str,
        ids: list[str],
        people: dict[str, Person],
        setting: NotificationSetting,
        location_timezone: str,
        found: list[Recipient],
        problems: list[str],
    ) -> None:
        """Append a recipient (or a reason) for each of ``ids`` on the setting's channel."""
        channel, rtype = setting.channel, setting.receiver_type.value
        for person_id in ids:
            person = people.get(person_id)
            if channel is NotificationChannel.IN_APP:
                if kind != USER:
                    problems.append(f"{kind} {person_id} cannot receive in-app notifications (users only)")
                    continue
                address: str | None = person_id
            elif person is None:
                problems.append(f"{kind} {person_id} is not in the directory")
                continue
            elif channel is NotificationChannel.EMAIL:
                address = person.email
                if address is None:
                    problems.append(f"{kind} {person_id} has no email")
            else:
                address = person.phone
                if address is None:
                    problems.append(f"{kind} {person_id} has no phone number")
            if address is None:
                continue
            found.append(
                Recipient(
                    receiver_type=rtype,
                    address=address,
                    name=person.name if person else "",
                    timezone=(person.timezone if person and person.timezone else location_timezone),
                    person_id=person_id,
                )
            )

    # -- webhook endpoints ----------------------------------------------------------------------

    def create_webhook(self, location_id: str, url: str, events: list[str]) -> WebhookEndpoint:
        """Register an endpoint with a fresh signing secret; the returned endpoint is the only
        place the secret is ever shown. NotFound for an unknown location; ValidationFailed for a
        bad url or event list, or beyond :data:`MAX_WEBHOOKS` endpoints."""
        self._location(location_id)
        errors = webhook_errors(url, events)
        if errors:
            raise ValidationFailed(errors)
        if len(self._store.list_webhooks(location_id)) >= MAX_WEBHOOKS:
            raise ValidationFailed([f"a location can register at most {MAX_WEBHOOKS} webhook endpoints"])
        endpoint = WebhookEndpoint(
            id=new_id(),
            location_id=location_id,
            url=url,
            secret=new_webhook_secret(),
            events=list(events),
            created_at=self._clock(),
        )
        self._store.put_webhook(endpoint)
        return endpoint

    def list_webhooks(self, location_id: str) -> list[WebhookEndpoint]:
        """A location's endpoints, oldest first, secrets included — callers showing them must
        leave the secret out. NotFound for an unknown location."""
        self._location(location_id)
        return self._store.list_webhooks(location_id)

    def delete_webhook(self, location_id: str, webhook_id: str) -> None:
        """Unregister an endpoint. NotFound for an unknown location or endpoint."""
        self._location(location_id)
        self._store.delete_webhook(location_id, webhook_id)

    def webhook_endpoints(self, location_id: str) -> list[WebhookEndpoint]:
        """The active endpoints booking events go to, with their secrets (for signing; never log
        them). One Query; no location check."""
        return [e for e in self._store.list_webhooks(location_id) if e.active]

    def _location(self, location_id: str) -> None:
        if self._store.get_location(location_id) is None:
            raise NotFound("Location", location_id)


def _unique(found: list[Recipient]) -> list[Recipient]:
    seen: set[str] = set()
    out = []
    for recipient in found:
        key = recipient.address.lower()
        if key not in seen:
            seen.add(key)
            out.append(recipient)
    return out
