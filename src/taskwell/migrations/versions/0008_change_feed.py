"""change feed for incremental sync and live updates

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-05
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import taskwell.db.types

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "changes",
        sa.Column(
            "seq",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("txid", sa.BigInteger(), nullable=True),
        sa.Column("project_id", sa.Uuid(), nullable=True),
        sa.Column("user_id", sa.Uuid(), nullable=True),
        sa.Column("entity", sa.String(length=16), nullable=False),
        sa.Column("entity_id", sa.Uuid(), nullable=False),
        sa.Column("op", sa.String(length=8), nullable=False),
        sa.Column("at", taskwell.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.CheckConstraint("op IN ('upsert', 'delete')", name=op.f("ck_changes_op")),
        sa.CheckConstraint(
            "project_id IS NOT NULL OR user_id IS NOT NULL", name=op.f("ck_changes_scope")
        ),
        sa.PrimaryKeyConstraint("seq", name=op.f("pk_changes")),
    )
    op.create_index("ix_changes_project_id", "changes", ["project_id", "txid", "seq"])
    op.create_index("ix_changes_user_id", "changes", ["user_id", "txid", "seq"])
    op.create_index("ix_changes_at", "changes", ["at"])


def downgrade() -> None:
    op.drop_table("changes")
