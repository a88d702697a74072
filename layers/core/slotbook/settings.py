"""Runtime configuration: one pydantic settings object, validated at cold start.

Nothing is read from the environment at import time: :func:`get_settings` is called by the
function's container on its first invocation (so moto, in tests and ``make dev``, starts first).
"""

from __future__ import annotations

from functools import lru_cache

from pydantic import Field, SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    """Environment of every Slotbook function.

    ``TABLE_NAME``: the single DynamoDB table. ``SLOTBOOK_ADMIN_TOKEN``: the admin token, for
    local runs only. ``ADMIN_TOKEN_HASH_PARAMETER``: SSM parameter holding the hex SHA-256 of
    the admin token (AWS). ``SLOTBOOK_STAGE``: deployment stage name.
    """

    model_config = SettingsConfigDict(extra="ignore", populate_by_name=True)

    table_name: str = Field(alias="TABLE_NAME", min_length=3, max_length=255)
    admin_token: SecretStr | None = Field(default=None, alias="SLOTBOOK_ADMIN_TOKEN")
    admin_token_hash_parameter: str | None = Field(default=None, alias="ADMIN_TOKEN_HASH_PARAMETER")
    stage: str = Field(default="dev", alias="SLOTBOOK_STAGE")
    delivery_queue_url: str | None = Field(default=None, alias="DELIVERY_QUEUE_URL")
    """SQS queue of notification deliveries (issue 5); unset: due jobs are delivered inline by the sweep."""
    email_sender: str = Field(default="slotbook@example.com", alias="EMAIL_SENDER")
    """The verified SES identity notification emails are sent from."""
    public_base_url: str = Field(default="http://127.0.0.1:3000", alias="PUBLIC_BASE_URL")
    """Base of the reschedule/cancel links in notification messages, of the OAuth redirect URI
    (``<base>/api/calendar-connections/oauth/callback``) and of provider webhook addresses
    (``<base>/webhooks/google``, ``<base>/webhooks/microsoft``)."""
    webhook_private_targets: bool = Field(default=False, alias="SLOTBOOK_WEBHOOK_PRIVATE_TARGETS")
    """Allow outgoing webhooks to loopback/private/link-local addresses: ``make dev`` and the tests
    only. Off on AWS, so a registered URL cannot reach the VPC, the metadata service or localhost."""

    # -- calendar connections (issue 4) --------------------------------------------------------
    token_key_id: str | None = Field(default=None, alias="TOKEN_KEY_ID")
    """KMS key (id, ARN or alias) encrypting provider OAuth tokens. Unset: connections can't be
    authorised (the OAuth routes answer 400)."""
    oauth_state_key_id: str | None = Field(default=None, alias="OAUTH_STATE_KEY_ID")
    """KMS HMAC_256 key signing the OAuth ``state`` parameter."""
    sync_queue_url: str | None = Field(default=None, alias="SYNC_QUEUE_URL")
    """SQS FIFO queue of sync and provider-write messages (the sync function consumes it); unset
    (``make dev``, tests): messages are handled in-process at once."""
    google_client_id: str | None = Field(default=None, alias="GOOGLE_CLIENT_ID")
    google_client_secret: SecretStr | None = Field(default=None, alias="GOOGLE_CLIENT_SECRET")
    google_client_secret_parameter: str | None = Field(default=None, alias="GOOGLE_CLIENT_SECRET_PARAMETER")
    """SSM SecureString parameter holding the Google OAuth client secret (AWS)."""
    google_auth_url: str | None = Field(default=None, alias="GOOGLE_AUTH_URL")
    google_token_url: str | None = Field(default=None, alias="GOOGLE_TOKEN_URL")
    google_api_url: str | None = Field(default=None, alias="GOOGLE_API_URL")
    """Endpoint overrides (``make dev`` and tests point them at localdev/fake_providers)."""
    microsoft_client_id: str | None = Field(default=None, alias="MICROSOFT_CLIENT_ID")
    microsoft_client_secret: SecretStr | None = Field(default=None, alias="MICROSOFT_CLIENT_SECRET")
    microsoft_client_secret_parameter: str | None = Field(
        default=None, alias="MICROSOFT_CLIENT_SECRET_PARAMETER"
    )
    microsoft_auth_url: str | None = Field(default=None, alias="MICROSOFT_AUTH_URL")
    microsoft_token_url: str | None = Field(default=None, alias="MICROSOFT_TOKEN_URL")
    microsoft_api_url: str | None = Field(default=None, alias="MICROSOFT_API_URL")

    @model_validator(mode="after")
    def _admin_secret_source(self) -> Settings:
        if self.admin_token is not None and len(self.admin_token.get_secret_value()) < 16:
            raise ValueError("SLOTBOOK_ADMIN_TOKEN must be at least 16 characters")
        return self


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The validated settings (cached for the life of the execution environment)."""
    return Settings()  # type: ignore[call-arg]
