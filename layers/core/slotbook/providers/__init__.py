"""Calendar providers (issue 4): Google Calendar and Microsoft Graph clients behind one protocol
(:mod:`.base`), spoken over their documented REST APIs. Nothing here reads the environment or
creates a client at import; base URLs are arguments, so tests and ``make dev`` point them at the
local fake providers (``localdev.fake_providers``)."""
