"""an index for the task list filtered by one status and one priority, in creation order

The list filtered by status and priority (with or without more filters) read every task of
the priority from ix_tasks_project_priority, dropped those of other statuses and sorted the
rest: ~8,000 rows for a page of 50 in a 100,000-task project (docs/query-plans.md). The new
index holds a project's live tasks by (status, priority) in the list's default order, so such
a page is a walk of its first rows. It starts with ix_tasks_project_status's columns, which
it replaces (one index more to keep up on every write would buy nothing).

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-05
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_LIVE = sa.text("deleted_at IS NULL")


def upgrade() -> None:
    op.create_index(
        "ix_tasks_project_status_priority",
        "tasks",
        ["project_id", "status", "priority", "created_at", "id"],
        sqlite_where=_LIVE,
        postgresql_where=_LIVE,
    )
    op.drop_index("ix_tasks_project_status", table_name="tasks")


def downgrade() -> None:
    op.create_index(
        "ix_tasks_project_status",
        "tasks",
        ["project_id", "status"],
        sqlite_where=_LIVE,
        postgresql_where=_LIVE,
    )
    op.drop_index("ix_tasks_project_status_priority", table_name="tasks")
