"""The changes table."""

import sqlalchemy as sa

from taskwell.db.types import UTCDateTime, metadata

# SQLite only autoincrements an INTEGER PRIMARY KEY.
Seq = sa.BigInteger().with_variant(sa.Integer(), "sqlite")

changes = sa.Table(
    "changes",
    metadata,
    sa.Column("seq", Seq, primary_key=True, autoincrement=True),
    # PostgreSQL: the writing transaction's id (xid8), which orders commits well enough to
    # never skip one (see feed.py). SQLite: NULL (writers take turns, so seq is commit order).
    sa.Column("txid", sa.BigInteger, nullable=True),
    # Who may see it: the members of project_id, or the one user_id.
    sa.Column("project_id", sa.Uuid, nullable=True),
    sa.Column("user_id", sa.Uuid, nullable=True),
    # task, project, section, member, comment, label, reminder
    sa.Column("entity", sa.String(16), nullable=False),
    sa.Column("entity_id", sa.Uuid, nullable=False),
    # upsert: fetch its current state; delete: a tombstone.
    sa.Column("op", sa.String(8), nullable=False),
    sa.Column("at", UTCDateTime, nullable=False),
    sa.CheckConstraint("op IN ('upsert', 'delete')", name="op"),
    sa.CheckConstraint("project_id IS NOT NULL OR user_id IS NOT NULL", name="scope"),
    sa.Index("ix_changes_project_id", "project_id", "txid", "seq"),
    sa.Index("ix_changes_user_id", "user_id", "txid", "seq"),
    sa.Index("ix_changes_at", "at"),
)
