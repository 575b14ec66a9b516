"""Request and response bodies of the task routes, and the one JSON encoding of a task."""

from __future__ import annotations

import math
import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Annotated, Any

import orjson
from pydantic import AfterValidator, AwareDatetime, BaseModel, Field

from taskwell.tasks.models import DESCRIPTION_MAX, TITLE_MAX, Priority, TaskStatus
from taskwell.validation import CleanStr, StrictModel


def _has_text(value: str) -> str:
    if not value.strip():
        raise ValueError("must contain a non-space character")
    return value


def _finite(value: float) -> float:
    if not math.isfinite(value):
        raise ValueError("must be a finite number")
    return value


Title = Annotated[CleanStr, Field(min_length=1, max_length=TITLE_MAX), AfterValidator(_has_text)]
Description = Annotated[CleanStr, Field(max_length=DESCRIPTION_MAX)]
Position = Annotated[float, AfterValidator(_finite), Field(ge=-1e15, le=1e15)]


class TaskCreate(StrictModel):
    title: Title
    description: Description = ""
    status: TaskStatus = TaskStatus.todo
    priority: Priority = Priority.none
    due_at: AwareDatetime | None = None
    # Manual ordering key; omitted, the task goes after the owner's last one.
    position: Position | None = None


class TaskPatch(StrictModel):
    title: Title | None = None
    description: Description | None = None
    status: TaskStatus | None = None
    priority: Priority | None = None
    due_at: AwareDatetime | None = None
    position: Position | None = None

    def changes(self) -> dict[str, Any]:
        """The fields the client sent; `due_at: null` clears it, other nulls are refused."""
        sent = self.model_dump(exclude_unset=True)
        for name in ("title", "description", "status", "priority", "position"):
            if name in sent and sent[name] is None:
                raise ValueError(f"{name} cannot be null")
        return sent


class TaskOut(BaseModel):
    id: uuid.UUID
    title: str
    description: str
    status: TaskStatus
    priority: Priority
    due_at: datetime | None
    completed_at: datetime | None
    position: float
    version: int
    created_at: datetime
    updated_at: datetime


class TaskPage(BaseModel):
    items: list[TaskOut]
    next_cursor: str | None


@dataclass(frozen=True, slots=True)
class Task:
    id: uuid.UUID
    title: str
    description: str
    status: str
    priority: int
    due_at: datetime | None
    completed_at: datetime | None
    position: float
    version: int
    created_at: datetime
    updated_at: datetime


TASK_FIELDS = tuple(Task.__dataclass_fields__)


def _default(value: Any) -> Any:
    # asyncpg hands back its own UUID subclass, which orjson does not know.
    if isinstance(value, uuid.UUID):
        return str(value)
    raise TypeError


def task_dict(row: tuple[Any, ...]) -> dict[str, Any]:
    return dict(zip(TASK_FIELDS, row, strict=True))


def dumps(payload: Any) -> bytes:
    # UTC as "Z", matching the Pydantic-serialised responses of the other routes.
    return orjson.dumps(payload, default=_default, option=orjson.OPT_UTC_Z)
