"""Request and response bodies of the task routes, and the one JSON encoding of a task."""

from __future__ import annotations

import math
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from enum import StrEnum
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, field_validator, model_validator

from taskwell.tasks import recurrence
from taskwell.tasks.models import (
    DESCRIPTION_MAX,
    LABELS_PER_TASK_MAX,
    TITLE_MAX,
    Priority,
    TaskStatus,
)
from taskwell.validation import (
    JSON_INTEGER,
    JSON_NUMBER,
    CalendarDate,
    CleanStr,
    Instant,
    StrictModel,
    TimeZoneName,
    has_text,
    unicode_text,
)


def _finite(value: float) -> float:
    if not math.isfinite(value):
        raise ValueError("must be a finite number")
    return value


Title = Annotated[
    CleanStr,
    Field(min_length=1, max_length=TITLE_MAX),
    AfterValidator(has_text),
    AfterValidator(unicode_text),
]
Description = Annotated[CleanStr, Field(max_length=DESCRIPTION_MAX), AfterValidator(unicode_text)]


# In bodies, only the documented JSON type (the list filter reads "2" from its query string).
def _rule(value: str) -> str:
    try:
        return recurrence.normalise(value)
    except recurrence.InvalidRule as exc:
        raise ValueError(str(exc)) from exc


Rule = Annotated[str, Field(max_length=recurrence.RULE_MAX * 2), AfterValidator(_rule)]
PriorityIn = Annotated[Priority, JSON_INTEGER]
Position = Annotated[float, JSON_NUMBER, AfterValidator(_finite), Field(ge=-1e15, le=1e15)]


LabelIds = Annotated[list[uuid.UUID], Field(max_length=LABELS_PER_TASK_MAX)]


class TaskCreate(StrictModel):
    # Omitted: the creator's Inbox.
    project_id: uuid.UUID | None = None
    section_id: uuid.UUID | None = None
    parent_id: uuid.UUID | None = None
    assignee_id: uuid.UUID | None = None
    # The creator's own labels (ids); other users' labels are theirs to set.
    labels: LabelIds = []
    title: Title
    description: Description = ""
    status: TaskStatus = TaskStatus.todo
    priority: PriorityIn = Priority.none
    # A due is a date-time (due_at) or a whole day (due_date), not both.
    due_at: Instant | None = None
    due_date: CalendarDate | None = None
    # The zone a recurring due_at keeps its wall-clock time in; default: your time zone.
    due_timezone: TimeZoneName | None = None
    start_date: CalendarDate | None = None
    # An RFC 5545 RRULE, e.g. "FREQ=WEEKLY;BYDAY=MO,TU,WE,TH,FR"; needs a due.
    recurrence: Rule | None = None
    # Manual ordering key inside its section; omitted, the task goes after the project's last.
    position: Position | None = None


class ChildrenOnDone(StrEnum):
    """What completing a task does to its open subtasks."""

    complete = "complete"
    keep = "keep"


class TaskPatch(StrictModel):
    # Moving to another project needs the editor role in both; section and parent, unless
    # given, are cleared, and subtasks move along.
    project_id: uuid.UUID | None = None
    section_id: uuid.UUID | None = None
    parent_id: uuid.UUID | None = None
    assignee_id: uuid.UUID | None = None
    labels: LabelIds | None = None
    # Only read when the patch sets status to done.
    children: ChildrenOnDone = ChildrenOnDone.complete
    title: Title | None = None
    description: Description | None = None
    status: TaskStatus | None = None
    priority: PriorityIn | None = None
    due_at: Instant | None = None
    due_date: CalendarDate | None = None
    due_timezone: TimeZoneName | None = None
    start_date: CalendarDate | None = None
    recurrence: Rule | None = None
    position: Position | None = None

    # Runs only for fields the client sent, so an explicit null is refused like any other
    # invalid value (one `errors` entry per field); `due_at: null` clears the due date.
    @field_validator(
        "title", "description", "status", "priority", "position", "project_id", "labels"
    )
    @classmethod
    def _not_null(cls, value: Any) -> Any:
        if value is None:
            raise ValueError("cannot be null")
        return value

    def changes(self) -> dict[str, Any]:
        """The fields the client sent (`children` is an instruction, not a field)."""
        changes = self.model_dump(exclude_unset=True)
        changes.pop("children", None)
        return changes


BULK_MAX = 500


class BulkItem(StrictModel):
    id: uuid.UUID
    # The version the client last saw (its ETag's number); omitted, any version.
    version: Annotated[int, Field(ge=1, strict=True)] | None = None


class BulkRequest(StrictModel):
    """One action on many tasks, all in one transaction."""

    action: Literal["complete", "move", "label", "delete"]
    items: Annotated[list[BulkItem], Field(min_length=1, max_length=BULK_MAX)]
    # move: the project (and optionally the section) to move to.
    project_id: uuid.UUID | None = None
    section_id: uuid.UUID | None = None
    # label: your labels to put on and take off.
    add_labels: LabelIds = []
    remove_labels: LabelIds = []
    # complete: what happens to open subtasks.
    children: ChildrenOnDone = ChildrenOnDone.complete

    @model_validator(mode="after")
    def _fits_action(self) -> BulkRequest:
        if self.action == "move" and self.project_id is None:
            raise ValueError("move needs project_id")
        if self.action != "move" and (self.project_id or self.section_id):
            raise ValueError("project_id and section_id go with move only")
        if self.action == "label" and not (self.add_labels or self.remove_labels):
            raise ValueError("label needs add_labels or remove_labels")
        if self.action != "label" and (self.add_labels or self.remove_labels):
            raise ValueError("add_labels and remove_labels go with label only")
        return self


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

    project_id: uuid.UUID | None = None
    section_id: uuid.UUID | None = None
    parent_id: uuid.UUID | None = None
    # A user id, or "me".
    assignee_id: uuid.UUID | Literal["me"] | None = None
    # Any of these labels (the caller's own).
    label: Annotated[list[uuid.UUID], Field(max_length=LABELS_PER_TASK_MAX)] = []
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
    project_id: uuid.UUID
    section_id: uuid.UUID | None
    parent_id: uuid.UUID | None
    title: str
    description: str
    status: TaskStatus
    priority: Priority
    due_at: datetime | None
    due_date: date | None
    due_timezone: str | None
    start_date: date | None
    recurrence: str | None
    next_occurrence_id: uuid.UUID | None
    completed_at: datetime | None
    position: float
    assignee_id: uuid.UUID | None
    created_by: uuid.UUID | None
    labels: list[uuid.UUID]
    version: int
    created_at: datetime
    updated_at: datetime


class TaskPage(BaseModel):
    items: list[TaskOut]
    next_cursor: str | None


@dataclass(frozen=True, slots=True)
class Task:
    id: uuid.UUID
    project_id: uuid.UUID
    section_id: uuid.UUID | None
    parent_id: uuid.UUID | None
    title: str
    description: str
    status: str
    priority: int
    due_at: datetime | None
    due_date: date | None
    due_timezone: str | None
    start_date: date | None
    recurrence: str | None
    next_occurrence_id: uuid.UUID | None
    completed_at: datetime | None
    position: float
    assignee_id: uuid.UUID | None
    created_by: uuid.UUID | None
    # The reader's labels on it.
    labels: list[Any]
    version: int
    created_at: datetime
    updated_at: datetime


TASK_FIELDS = tuple(Task.__dataclass_fields__)


def task_dict(row: Sequence[Any]) -> dict[str, Any]:
    return dict(zip(TASK_FIELDS, row))  # noqa: B905 (strict costs ~10% of a page's encoding)
