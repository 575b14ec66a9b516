"""an index on tasks.next_occurrence_id

Deleting tasks (the trash purge, an import's rollback) checks this self-reference for every
deleted row; without an index each check scanned the table (20,000 deletes took 90 s).

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-05
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index("ix_tasks_next_occurrence_id", "tasks", ["next_occurrence_id"])


def downgrade() -> None:
    op.drop_index("ix_tasks_next_occurrence_id", table_name="tasks")
