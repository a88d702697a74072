"""Local fake calendar providers (Google Calendar, Microsoft Graph) for tests and ``make dev``."""
