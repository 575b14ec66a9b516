"""The tasks table and the value sets its columns take."""

from enum import IntEnum, StrEnum

import sqlalchemy as sa

from taskwell.db.types import UTCDateTime, metadata


class TaskStatus(StrEnum):
    todo = "todo"
    in_progress = "in_progress"
    done = "done"


class Priority(IntEnum):
    none = 0
    low = 1
    medium = 2
    high = 3
    urgent = 4


TITLE_MAX = 500
DESCRIPTION_MAX = 20_000

tasks = sa.Table(
    "tasks",
    metadata,
    sa.Column("id", sa.Uuid, primary_key=True),
    sa.Column("owner_id", sa.Uuid, sa.ForeignKey("users.id", ondelete="CASCADE"), nullable=False),
    sa.Column("title", sa.String(TITLE_MAX), nullable=False),
    sa.Column("description", sa.Text, nullable=False, server_default=""),
    sa.Column("status", sa.String(16), nullable=False, server_default=TaskStatus.todo.value),
    sa.Column("priority", sa.SmallInteger, nullable=False, server_default="0"),
    sa.Column("due_at", UTCDateTime, nullable=True),
    sa.Column("completed_at", UTCDateTime, nullable=True),
    sa.Column("position", sa.Float, nullable=False),
    sa.Column("version", sa.Integer, nullable=False, server_default="1"),
    sa.Column("created_at", UTCDateTime, nullable=False),
    sa.Column("updated_at", UTCDateTime, nullable=False),
    sa.CheckConstraint("status IN ('todo', 'in_progress', 'done')", name="status"),
    sa.CheckConstraint("priority BETWEEN 0 AND 4", name="priority"),
    sa.CheckConstraint("version >= 1", name="version"),
    # One index per sort order of the list endpoint, all scoped by owner, id as tie-break.
    sa.Index("ix_tasks_owner_created", "owner_id", "created_at", "id"),
    sa.Index("ix_tasks_owner_updated", "owner_id", "updated_at", "id"),
    sa.Index("ix_tasks_owner_due", "owner_id", "due_at", "id"),
    sa.Index("ix_tasks_owner_priority", "owner_id", "priority", "id"),
    sa.Index("ix_tasks_owner_position", "owner_id", "position", "id"),
    sa.Index("ix_tasks_owner_status", "owner_id", "status"),
)
