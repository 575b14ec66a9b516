"""Request and response bodies of the task routes, and the one JSON encoding of a task."""

from __future__ import annotations

import math
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Annotated, Any, Literal

import orjson
from pydantic import AfterValidator, BaseModel, ConfigDict, Field, field_validator

from taskwell.tasks.models import DESCRIPTION_MAX, TITLE_MAX, Priority, TaskStatus
from taskwell.validation import JSON_INTEGER, JSON_NUMBER, CleanStr, Instant, StrictModel


def _has_text(value: str) -> str:
    if not value.strip():
        raise ValueError("must contain a non-space character")
    return value


def _unicode_text(value: str) -> str:
    # JSON may escape a lone surrogate ("\ud800"); it is no character, and neither the
    # database drivers nor orjson can encode it.
    try:
        value.encode()
    except UnicodeEncodeError as exc:
        raise ValueError("must be valid Unicode text (no lone surrogates)") from exc
    return value


def _finite(value: float) -> float:
    if not math.isfinite(value):
        raise ValueError("must be a finite number")
    return value


Title = Annotated[
    CleanStr,
    Field(min_length=1, max_length=TITLE_MAX),
    AfterValidator(_has_text),
    AfterValidator(_unicode_text),
]
Description = Annotated[CleanStr, Field(max_length=DESCRIPTION_MAX), AfterValidator(_unicode_text)]
# In bodies, only the documented JSON type (the list filter reads "2" from its query string).
PriorityIn = Annotated[Priority, JSON_INTEGER]
Position = Annotated[float, JSON_NUMBER, AfterValidator(_finite), Field(ge=-1e15, le=1e15)]


class TaskCreate(StrictModel):
    title: Title
    description: Description = ""
    status: TaskStatus = TaskStatus.todo
    priority: PriorityIn = Priority.none
    due_at: Instant | None = None
    # Manual ordering key; omitted, the task goes after the owner's last one.
    position: Position | None = None


class TaskPatch(StrictModel):
    title: Title | None = None
    description: Description | None = None
    status: TaskStatus | None = None
    priority: PriorityIn | None = None
    due_at: Instant | None = None
    position: Position | None = None

    # Runs only for fields the client sent, so an explicit null is refused like any other
    # invalid value (one `errors` entry per field); `due_at: null` clears the due date.
    @field_validator("title", "description", "status", "priority", "position")
    @classmethod
    def _not_null(cls, value: Any) -> Any:
        if value is None:
            raise ValueError("cannot be null")
        return value

    def changes(self) -> dict[str, Any]:
        """The fields the client sent."""
        return self.model_dump(exclude_unset=True)


SortKey = Literal[
    "created_at",
    "-created_at",
    "updated_at",
    "-updated_at",
    "due_at",
    "-due_at",
    "priority",
    "-priority",
    "position",
    "-position",
]


class TaskListParams(BaseModel):
    """The query of GET /tasks, validated in one go (one model, not ten parameters).
    Frozen: parse_query may hand the same instance to several requests."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    status: list[TaskStatus] = []
    priority: list[Priority] = []
    q: Annotated[CleanStr, Field(min_length=1, max_length=200)] | None = None
    due_before: Instant | None = None
    due_after: Instant | None = None
    sort: SortKey = "created_at"
    cursor: Annotated[str, Field(max_length=512)] | None = None
    limit: int | None = None


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


def task_dict(row: Sequence[Any]) -> dict[str, Any]:
    return dict(zip(TASK_FIELDS, row))  # noqa: B905 (strict costs ~10% of a page's encoding)


def dumps(payload: Any) -> bytes:
    # UTC as "Z", matching the Pydantic-serialised responses of the other routes.
    return orjson.dumps(payload, default=_default, option=orjson.OPT_UTC_Z)
