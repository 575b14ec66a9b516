"""time: a time zone per user; due dates, start dates, recurrence; reminders

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-05
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import taskwell.db.types

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_PENDING = sa.text("delivered_at IS NULL")


def upgrade() -> None:
    utc = taskwell.db.types.UTCDateTime(timezone=True)
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("time_zone", sa.String(length=64), server_default="UTC", nullable=False)
        )
    with op.batch_alter_table("tasks", schema=None) as batch_op:
        batch_op.add_column(sa.Column("due_date", sa.Date(), nullable=True))
        batch_op.add_column(sa.Column("due_timezone", sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column("start_date", sa.Date(), nullable=True))
        batch_op.add_column(sa.Column("recurrence", sa.String(length=500), nullable=True))
        batch_op.add_column(sa.Column("next_occurrence_id", sa.Uuid(), nullable=True))
        batch_op.create_foreign_key(
            op.f("fk_tasks_next_occurrence_id_tasks"),
            "tasks",
            ["next_occurrence_id"],
            ["id"],
            ondelete="SET NULL",
        )
    op.create_table(
        "reminders",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("task_id", sa.Uuid(), nullable=False),
        sa.Column("user_id", sa.Uuid(), nullable=False),
        sa.Column("remind_at", utc, nullable=False),
        sa.Column("minutes_before", sa.Integer(), nullable=True),
        sa.Column("delivered_at", utc, nullable=True),
        sa.Column("created_at", utc, nullable=False),
        sa.CheckConstraint(
            "minutes_before IS NULL OR minutes_before >= 0",
            name=op.f("ck_reminders_minutes_before"),
        ),
        sa.ForeignKeyConstraint(
            ["task_id"], ["tasks.id"], name=op.f("fk_reminders_task_id_tasks"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_reminders_user_id_users"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_reminders")),
    )
    op.create_index(
        "ix_reminders_pending",
        "reminders",
        ["remind_at"],
        sqlite_where=_PENDING,
        postgresql_where=_PENDING,
    )
    op.create_index("ix_reminders_task_id", "reminders", ["task_id", "user_id"])
    op.create_index("ix_reminders_user_id", "reminders", ["user_id"])


def downgrade() -> None:
    op.drop_table("reminders")
    with op.batch_alter_table("tasks", schema=None) as batch_op:
        batch_op.drop_constraint("fk_tasks_next_occurrence_id_tasks", type_="foreignkey")
        for column in (
            "next_occurrence_id",
            "recurrence",
            "start_date",
            "due_timezone",
            "due_date",
        ):
            batch_op.drop_column(column)
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.drop_column("time_zone")
