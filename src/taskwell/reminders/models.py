"""One row per reminder: whose, for which task, when; delivered_at once sent."""

import sqlalchemy as sa

from taskwell.db.types import UTCDateTime, metadata

PENDING = sa.text("delivered_at IS NULL")

reminders = sa.Table(
    "reminders",
    metadata,
    sa.Column("id", sa.Uuid, primary_key=True),
    sa.Column("task_id", sa.Uuid, sa.ForeignKey("tasks.id", ondelete="CASCADE"), nullable=False),
    sa.Column("user_id", sa.Uuid, sa.ForeignKey("users.id", ondelete="CASCADE"), nullable=False),
    sa.Column("remind_at", UTCDateTime, nullable=False),
    # Set for a reminder relative to the task's due: it moves when the due does.
    sa.Column("minutes_before", sa.Integer, nullable=True),
    sa.Column("delivered_at", UTCDateTime, nullable=True),
    sa.Column("created_at", UTCDateTime, nullable=False),
    sa.CheckConstraint("minutes_before IS NULL OR minutes_before >= 0", name="minutes_before"),
    # The delivery worker's scan: what is due and not yet sent.
    sa.Index("ix_reminders_pending", "remind_at", sqlite_where=PENDING, postgresql_where=PENDING),
    sa.Index("ix_reminders_task_id", "task_id", "user_id"),
    sa.Index("ix_reminders_user_id", "user_id"),
)
