"""One row per change to a task: who, what, when."""

import sqlalchemy as sa

from taskwell.db.types import UTCDateTime, metadata

task_activity = sa.Table(
    "task_activity",
    metadata,
    sa.Column("id", sa.Uuid, primary_key=True),
    sa.Column("task_id", sa.Uuid, sa.ForeignKey("tasks.id", ondelete="CASCADE"), nullable=False),
    sa.Column("actor_id", sa.Uuid, sa.ForeignKey("users.id", ondelete="SET NULL"), nullable=True),
    # created, updated, moved, completed, reopened, deleted, restored, commented, ...
    sa.Column("action", sa.String(32), nullable=False),
    # JSON: {"field": [old, new], ...}
    sa.Column("changes", sa.Text, nullable=False, server_default="{}"),
    sa.Column("created_at", UTCDateTime, nullable=False),
    sa.Index("ix_task_activity_task_id", "task_id", "created_at", "id"),
)
