"""Request and response bodies of the webhook routes."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, Field, StrictBool, field_validator

from taskwell.validation import CleanStr, StrictModel, unicode_text
from taskwell.webhooks.events import EVENT_TYPES, MAX_PATTERNS, is_pattern, normalised
from taskwell.webhooks.repository import Endpoint


def _pattern(value: str) -> str:
    if not is_pattern(value):
        raise ValueError(
            f"must be one of {', '.join(EVENT_TYPES)}, `<entity>.*` (e.g. task.*) or `*`"
        )
    return value


EventPattern = Annotated[str, AfterValidator(_pattern)]
EventPatterns = Annotated[
    list[EventPattern], Field(min_length=1, max_length=MAX_PATTERNS), AfterValidator(normalised)
]
Url = Annotated[CleanStr, Field(min_length=1, max_length=2048)]
Description = Annotated[CleanStr, Field(max_length=200), AfterValidator(unicode_text)]


class WebhookCreate(StrictModel):
    url: Url = Field(description="https://... ; it must resolve to public addresses")
    event_types: EventPatterns
    description: Description = ""


class WebhookPatch(StrictModel):
    url: Url | None = None
    event_types: EventPatterns | None = None
    description: Description | None = None
    # false: no more deliveries; true again: failures forgotten, sent from now on.
    enabled: StrictBool | None = None

    @field_validator("url", "event_types", "description", "enabled")
    @classmethod
    def _not_null(cls, value: Any) -> Any:
        if value is None:
            raise ValueError("cannot be null")
        return value

    def changes(self) -> dict[str, Any]:
        return self.model_dump(exclude_unset=True)


class WebhookOut(BaseModel):
    id: uuid.UUID
    url: str
    description: str
    event_types: list[str]
    enabled: bool
    disabled_reason: str | None
    failure_count: int = Field(description="Failed attempts in a row")
    previous_secret_expires_at: datetime | None = Field(
        description="After a rotation, the old secret also signs until then"
    )
    created_at: datetime
    updated_at: datetime

    @classmethod
    def of(cls, endpoint: Endpoint) -> WebhookOut:
        return cls(
            id=endpoint.id,
            url=endpoint.url,
            description=endpoint.description,
            event_types=list(endpoint.event_types),
            enabled=endpoint.enabled,
            disabled_reason=endpoint.disabled_reason,
            failure_count=endpoint.failure_count,
            previous_secret_expires_at=endpoint.previous_secret_until,
            created_at=endpoint.created_at,
            updated_at=endpoint.updated_at,
        )


class WebhookCreated(WebhookOut):
    secret: str = Field(description="The signing secret (whsec_...). Shown only here: store it.")


class WebhookList(BaseModel):
    items: list[WebhookOut]


class AttemptOut(BaseModel):
    number: int
    at: datetime
    status_code: int | None
    duration_ms: int
    error: str | None
    next_retry_at: datetime | None


class DeliveryOut(BaseModel):
    id: uuid.UUID = Field(description="Sent as webhook-id on every attempt")
    event_type: str
    state: Literal["pending", "delivered", "failed"]
    attempt_count: int
    next_attempt_at: datetime | None
    created_at: datetime
    finished_at: datetime | None
    attempts: list[AttemptOut]


class DeliveryPage(BaseModel):
    items: list[DeliveryOut]
    next_cursor: str | None


class TestQueued(BaseModel):
    id: uuid.UUID
    event_type: str
    state: str
    created_at: datetime
