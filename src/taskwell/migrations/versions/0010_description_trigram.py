"""a trigram index on task descriptions, for the list's `q` filter

The list's `q` is a substring of the title or the description (ILIKE '%...%'). Titles have a
trigram index since 0007; with one on descriptions too, PostgreSQL answers `q` from the two
indexes (a BitmapOr) instead of reading every task of the project: a `q` that matches nothing
in a 100,000-task project took ~100 ms. Made only where pg_trgm is installed (0007 installs it
when the database allows); SQLite's list reads its few rows as before.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-05
"""

import logging
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

log = logging.getLogger("alembic.runtime.migration")


def upgrade() -> None:
    bind = op.get_bind()
    if bind.dialect.name != "postgresql":
        return
    installed = bind.execute(
        sa.text("SELECT 1 FROM pg_extension WHERE extname = 'pg_trgm'")
    ).first()
    if installed is None:
        log.warning("pg_trgm is not installed; description substrings have no index")
        return
    op.execute(
        "CREATE INDEX IF NOT EXISTS ix_tasks_description_trgm ON tasks "
        "USING gin (description gin_trgm_ops) WHERE deleted_at IS NULL"
    )


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP INDEX IF EXISTS ix_tasks_description_trgm")
