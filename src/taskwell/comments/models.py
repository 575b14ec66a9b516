"""Comments: markdown text on a task, by one author."""

import sqlalchemy as sa

from taskwell.db.types import UTCDateTime, metadata

BODY_MAX = 10_000

comments = sa.Table(
    "comments",
    metadata,
    sa.Column("id", sa.Uuid, primary_key=True),
    sa.Column("task_id", sa.Uuid, sa.ForeignKey("tasks.id", ondelete="CASCADE"), nullable=False),
    # A deleted account leaves its comments, authorless.
    sa.Column("author_id", sa.Uuid, sa.ForeignKey("users.id", ondelete="SET NULL"), nullable=True),
    sa.Column("body", sa.Text, nullable=False),
    sa.Column("version", sa.Integer, nullable=False, server_default="1"),
    sa.Column("created_at", UTCDateTime, nullable=False),
    sa.Column("updated_at", UTCDateTime, nullable=False),
    sa.CheckConstraint("version >= 1", name="version"),
    sa.Index("ix_comments_task_id", "task_id", "created_at", "id"),
)
