"""PostgreSQL: the list's `q` tests a stored, lower-cased copy of title and description

`q` was `title ILIKE p OR description ILIKE p`, and ILIKE lower-cases the row's text for every
row it tests: most of what `q` cost over a large project (docs/query-plans.md). tasks.match_text
is `lower(title) || E'\\n' || lower(description)`, generated and stored, so `q` becomes
`match_text LIKE lower(p)` (tasks/text_match.py), with one trigram index over live tasks in
place of the description's (0010; the title's stays for search). Adding a stored generated
column rewrites the table once, under an exclusive lock, and the index is built in the same
transaction: 4 s for 120,000 tasks on a two-core machine, so plan for about half a minute per
million tasks during which the service waits on `tasks`. SQLite is left as it was.

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-05
"""

import logging
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0014"
down_revision: str | None = "0013"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

log = logging.getLogger("alembic.runtime.migration")


def _trigrams() -> bool:
    found = op.get_bind().execute(sa.text("SELECT 1 FROM pg_extension WHERE extname = 'pg_trgm'"))
    return found.first() is not None


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute(
        "ALTER TABLE tasks ADD COLUMN match_text text "
        "GENERATED ALWAYS AS (lower(title) || E'\\n' || lower(description)) STORED"
    )
    if not _trigrams():
        log.warning("pg_trgm is not installed; the list's q has no index")
        return
    op.execute(
        "CREATE INDEX ix_tasks_match_text_trgm ON tasks "
        "USING gin (match_text gin_trgm_ops) WHERE deleted_at IS NULL"
    )
    op.execute("DROP INDEX IF EXISTS ix_tasks_description_trgm")


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    if _trigrams():
        op.execute(
            "CREATE INDEX IF NOT EXISTS ix_tasks_description_trgm ON tasks "
            "USING gin (description gin_trgm_ops) WHERE deleted_at IS NULL"
        )
    op.execute("DROP INDEX IF EXISTS ix_tasks_match_text_trgm")
    op.execute("ALTER TABLE tasks DROP COLUMN IF EXISTS match_text")
