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
# Subtasks nest at most this deep (a top-level task is depth 0).
MAX_DEPTH = 5
RECURRENCE_MAX = 500
# Labels one user may put on one task.
LABELS_PER_TASK_MAX = 50

LIVE = sa.text("deleted_at IS NULL")


def _live_index(name: str, *columns: str) -> sa.Index:
    """Partial: the lists read live tasks only; the trash is small and read rarely."""
    return sa.Index(name, *columns, sqlite_where=LIVE, postgresql_where=LIVE)


tasks = sa.Table(
    "tasks",
    metadata,
    sa.Column("id", sa.Uuid, primary_key=True),
    sa.Column(
        "project_id", sa.Uuid, sa.ForeignKey("projects.id", ondelete="CASCADE"), nullable=False
    ),
    sa.Column(
        "section_id", sa.Uuid, sa.ForeignKey("sections.id", ondelete="SET NULL"), nullable=True
    ),
    sa.Column("parent_id", sa.Uuid, sa.ForeignKey("tasks.id", ondelete="CASCADE"), nullable=True),
    sa.Column("title", sa.String(TITLE_MAX), nullable=False),
    sa.Column("description", sa.Text, nullable=False, server_default=""),
    sa.Column("status", sa.String(16), nullable=False, server_default=TaskStatus.todo.value),
    sa.Column("priority", sa.SmallInteger, nullable=False, server_default="0"),
    # A due is a date-time (due_at), or a date (due_date, and due_at its midnight UTC, which is
    # what lists sort and filter by).
    sa.Column("due_at", UTCDateTime, nullable=True),
    sa.Column("due_date", sa.Date, nullable=True),
    # The zone whose wall clock a recurring date-time keeps (IANA name).
    sa.Column("due_timezone", sa.String(64), nullable=True),
    sa.Column("start_date", sa.Date, nullable=True),
    # RFC 5545 RRULE; completing the task creates the next occurrence (next_occurrence_id).
    sa.Column("recurrence", sa.String(RECURRENCE_MAX), nullable=True),
    sa.Column(
        "next_occurrence_id",
        sa.Uuid,
        sa.ForeignKey("tasks.id", ondelete="SET NULL"),
        nullable=True,
    ),
    sa.Column("completed_at", UTCDateTime, nullable=True),
    sa.Column("position", sa.Float, nullable=False),
    sa.Column(
        "assignee_id", sa.Uuid, sa.ForeignKey("users.id", ondelete="SET NULL"), nullable=True
    ),
    # Who created it; the project, not the creator, decides who may see it.
    sa.Column("created_by", sa.Uuid, sa.ForeignKey("users.id", ondelete="SET NULL"), nullable=True),
    sa.Column("version", sa.Integer, nullable=False, server_default="1"),
    sa.Column("created_at", UTCDateTime, nullable=False),
    sa.Column("updated_at", UTCDateTime, nullable=False),
    # Set while the task is in the trash (restorable, purged after the retention period).
    sa.Column("deleted_at", UTCDateTime, nullable=True),
    sa.CheckConstraint("status IN ('todo', 'in_progress', 'done')", name="status"),
    sa.CheckConstraint("priority BETWEEN 0 AND 4", name="priority"),
    sa.CheckConstraint("version >= 1", name="version"),
    # One index per sort order of the list endpoint, all scoped by project, id as tie-break.
    _live_index("ix_tasks_project_created", "project_id", "created_at", "id"),
    _live_index("ix_tasks_project_updated", "project_id", "updated_at", "id"),
    _live_index("ix_tasks_project_due", "project_id", "due_at", "id"),
    _live_index("ix_tasks_project_priority", "project_id", "priority", "id"),
    _live_index("ix_tasks_project_position", "project_id", "position", "id"),
    # One status and one priority in the default order (and the status alone, a prefix).
    _live_index(
        "ix_tasks_project_status_priority", "project_id", "status", "priority", "created_at", "id"
    ),
    sa.Index("ix_tasks_section_id", "section_id"),
    sa.Index("ix_tasks_parent_id", "parent_id"),
    sa.Index("ix_tasks_assignee_id", "assignee_id"),
    sa.Index("ix_tasks_created_by", "created_by"),
    sa.Index("ix_tasks_next_occurrence_id", "next_occurrence_id"),
    sa.Index(
        "ix_tasks_deleted_at",
        "deleted_at",
        sqlite_where=sa.text("deleted_at IS NOT NULL"),
        postgresql_where=sa.text("deleted_at IS NOT NULL"),
    ),
)
