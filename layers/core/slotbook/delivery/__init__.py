"""Notifications that go out (issue 5): confirmations, reminders and follow-ups over email, SMS,
in-app items and signed webhooks, driven by the calendar notification settings.

* :mod:`.models` — what a delivery is made of (recipients, messages, jobs, delivery records);
* :mod:`.templates` — placeholder rendering and save-time validation of subjects and bodies;
* :mod:`.ics` — ``.ics`` invitations (icalendar): REQUEST, CANCEL, SEQUENCE;
* :mod:`.signing` — HMAC-SHA256 webhook signatures;
* :mod:`.channels` — adapters: SES v2 email, SNS SMS, in-app items, outgoing webhooks;
* :mod:`.planner` — which jobs a booking change creates, moves or cancels (pure);
* :mod:`.service` — the sweep that claims due jobs exactly once and delivers them.
"""
