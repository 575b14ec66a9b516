"""The shape of the activity routes' answers, for the OpenAPI document (bodies are built as
bytes by the service)."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from pydantic import BaseModel, Field


class ActivityOut(BaseModel):
    id: uuid.UUID
    task_id: uuid.UUID
    actor_id: uuid.UUID | None = Field(description="None once the actor's account is deleted")
    action: str = Field(description="created, updated, moved, completed, reopened, deleted, ...")
    changes: dict[str, list[Any]] = Field(description="Each changed field: [old, new]")
    created_at: datetime


class ActivityPage(BaseModel):
    items: list[ActivityOut]
    next_cursor: str | None
