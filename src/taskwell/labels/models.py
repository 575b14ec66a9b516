"""Labels belong to one user; a task carries any number of each viewer's labels."""

import sqlalchemy as sa

from taskwell.db.types import UTCDateTime, metadata

NAME_MAX = 60

labels = sa.Table(
    "labels",
    metadata,
    sa.Column("id", sa.Uuid, primary_key=True),
    sa.Column("owner_id", sa.Uuid, sa.ForeignKey("users.id", ondelete="CASCADE"), nullable=False),
    sa.Column("name", sa.String(NAME_MAX), nullable=False),
    sa.Column("color", sa.String(7), nullable=True),
    sa.Column("version", sa.Integer, nullable=False, server_default="1"),
    sa.Column("created_at", UTCDateTime, nullable=False),
    sa.Column("updated_at", UTCDateTime, nullable=False),
    sa.UniqueConstraint("owner_id", "name"),
)

task_labels = sa.Table(
    "task_labels",
    metadata,
    sa.Column("task_id", sa.Uuid, sa.ForeignKey("tasks.id", ondelete="CASCADE"), primary_key=True),
    sa.Column(
        "label_id", sa.Uuid, sa.ForeignKey("labels.id", ondelete="CASCADE"), primary_key=True
    ),
    sa.Index("ix_task_labels_label_id", "label_id", "task_id"),
)
