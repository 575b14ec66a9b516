"""The export document (version 1): what GET /export writes and POST /import reads.

One set of models serves both directions: the export writes exactly these fields, so
whatever it writes, the import reads back. A field added to tasks is exported and imported by
adding it to DocumentTask (named as its column in `tasks`, typed as TaskCreate types it) and,
when the import should write it as given, to COPIED_TASK_FIELDS; the CSV has its own column
list (portability/csv_format.py: COLUMNS).
"""

from __future__ import annotations

import uuid
from typing import Annotated, Literal

from pydantic import BaseModel, Field

from taskwell.comments.schemas import CommentText
from taskwell.labels.schemas import Color as LabelColor
from taskwell.labels.schemas import LabelName
from taskwell.projects.models import Role
from taskwell.projects.schemas import Color as ProjectColor
from taskwell.projects.schemas import Name
from taskwell.tasks.models import Priority, TaskStatus
from taskwell.tasks.schemas import Description, LabelIds, Position, PriorityIn, Rule, Title
from taskwell.validation import (
    JSON_INTEGER,
    CalendarDate,
    CleanStr,
    Instant,
    StrictModel,
    TimeZoneName,
)

FORMAT = "taskwell-export"
VERSION = 1

# Only the JSON type the schema names (no "true" or 1 for true), as the numbers (JSON_INTEGER,
# JSON_NUMBER) and instants (Instant) of every other body.
StrictBool = Annotated[bool, Field(strict=True)]
# Read back but never written by the import: bounded, like everything in the document.
Info = Annotated[CleanStr, Field(max_length=320)]


class DocumentUser(StrictModel):
    """Who exported: their comments and assignments become the importer's."""

    id: uuid.UUID
    email: Info
    display_name: Info = ""


class DocumentMember(StrictModel):
    """A member of a shared project when it was exported (read for the names of comment
    authors; the import makes the importer the only member)."""

    user_id: uuid.UUID
    email: Info
    display_name: Info = ""
    role: Role


class DocumentSection(StrictModel):
    id: uuid.UUID
    name: Name
    position: Position | None = None


class DocumentProject(StrictModel):
    id: uuid.UUID
    name: Name
    color: ProjectColor | None = None
    # The exporter's Inbox: its sections and tasks go into the importer's Inbox.
    is_inbox: StrictBool = False
    archived: StrictBool = False
    # The exporter's role, for the record: the importer owns every project the import makes.
    role: Role = Role.owner
    # Its place in the exporter's sidebar.
    position: Position | None = None
    sections: list[DocumentSection] = []
    members: list[DocumentMember] = []


class DocumentLabel(StrictModel):
    id: uuid.UUID
    name: LabelName
    color: LabelColor | None = None


class DocumentTask(StrictModel):
    id: uuid.UUID
    project_id: uuid.UUID
    section_id: uuid.UUID | None = None
    parent_id: uuid.UUID | None = None
    title: Title
    description: Description = ""
    status: TaskStatus = TaskStatus.todo
    priority: PriorityIn = Priority.none
    # A due is a date-time (due_at, in due_timezone's wall clock when it recurs) or a whole
    # day (due_date; due_at is then its midnight UTC), as the task API has them.
    due_at: Instant | None = None
    due_date: CalendarDate | None = None
    due_timezone: TimeZoneName | None = None
    start_date: CalendarDate | None = None
    recurrence: Rule | None = None
    # The task completing this one created (a task of the document, or none).
    next_occurrence_id: uuid.UUID | None = None
    completed_at: Instant | None = None
    position: Position | None = None
    assignee_id: uuid.UUID | None = None
    created_by: uuid.UUID | None = None
    # The exporter's labels on the task (ids of `labels`); other members' are theirs.
    labels: LabelIds = []
    created_at: Instant | None = None
    updated_at: Instant | None = None


# Fields the import writes as the document gives them (after validation; the due fields are
# checked together, as the task API checks them). The others are references it maps to the
# new rows (project_id, section_id, parent_id, next_occurrence_id, labels, assignee_id), or
# values it decides itself (id, created_by; position is renumbered in the same order;
# completed_at is kept only on done tasks).
COPIED_TASK_FIELDS = (
    "title",
    "description",
    "status",
    "priority",
    "due_at",
    "due_date",
    "due_timezone",
    "start_date",
    "recurrence",
)
# The task's own columns, in the document's order (labels come from task_labels).
TASK_FIELDS = tuple(DocumentTask.model_fields)
TASK_COLUMNS = tuple(name for name in TASK_FIELDS if name != "labels")


class DocumentComment(StrictModel):
    id: uuid.UUID | None = None
    task_id: uuid.UUID
    # None once the author's account was deleted.
    author_id: uuid.UUID | None = None
    body: CommentText
    created_at: Instant | None = None
    updated_at: Instant | None = None


COMMENT_FIELDS = tuple(DocumentComment.model_fields)


class DocumentReminder(StrictModel):
    """One of the exporter's own reminders (other members' are theirs)."""

    id: uuid.UUID | None = None
    task_id: uuid.UUID
    remind_at: Instant
    # Set: the reminder follows the task's due (remind_at is recomputed from it).
    minutes_before: Annotated[int, Field(ge=0, le=525_600, strict=True)] | None = None
    # Set once it was sent: an imported reminder is not sent again.
    delivered_at: Instant | None = None


REMINDER_FIELDS = tuple(DocumentReminder.model_fields)


class Document(StrictModel):
    """Everything one user sees: the live projects they are a member of (archived ones too,
    never the trash), their sections and members, the user's labels, every live task in those
    projects with the user's labels on it, the tasks' comments, and the user's reminders."""

    format: Literal["taskwell-export"]
    version: Annotated[Literal[1], JSON_INTEGER]
    exported_at: Instant | None = None
    user: DocumentUser | None = None
    projects: list[DocumentProject] = []
    labels: list[DocumentLabel] = []
    tasks: list[DocumentTask] = []
    comments: list[DocumentComment] = []
    reminders: list[DocumentReminder] = []


class ImportResult(BaseModel):
    """What an import created. Labels that already existed (same name, ignoring case) are
    reused and not counted; tasks of the Inbox go into the importer's Inbox, which is not
    counted among the projects."""

    project_ids: list[uuid.UUID] = Field(description="The projects the import created")
    projects: int
    sections: int
    tasks: int
    labels: int
    comments: int
    reminders: int
