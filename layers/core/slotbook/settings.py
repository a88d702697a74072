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
    webhook_private_targets: bool = Field(default=False, alias="SLOTBOOK_WEBHOOK_PRIVATE_TARGETS")
    """Allow outgoing webhooks to loopback/private/link-local addresses: ``make dev`` and the tests
    only. Off on AWS, so a registered URL cannot reach the VPC, the metadata service or localhost."""
    """Base of the reschedule/cancel links in notification messages."""

    @model_validator(mode="after")
    def _admin_secret_source(self) -> Settings:
        if self.admin_token is not None and len(self.admin_token.get_secret_value()) < 16:
            raise ValueError("SLOTBOOK_ADMIN_TOKEN must be at least 16 characters")
        return self


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The validated settings (cached for the life of the execution environment)."""
    return Settings()  # type: ignore[call-arg]
