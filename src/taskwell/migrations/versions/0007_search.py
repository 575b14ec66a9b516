"""full-text search over task titles, descriptions and comments

PostgreSQL: a text search configuration `taskwell_search` (`simple`, with `unaccent` in front
when that extension can be installed), expression GIN indexes over tasks (title weight A,
description weight B; live tasks only) and comments, and a pg_trgm GIN index on live task
titles when pg_trgm can be installed. The indexes are expressions, not generated columns: no
rewrite of the tasks table, and the rows the task list reads stay as narrow as they were.
Without either extension the migration still succeeds (a warning says what is missing): search
then does not fold accents, or finds title substrings without an index.

SQLite: FTS5 tables fts_tasks (ref, title, description) and fts_comments (ref, task_ref, body),
kept in step by triggers on tasks and comments. Rows are found again by their `ref` token (the
row's id), never by rowid: VACUUM may renumber the rowids of tables without an INTEGER PRIMARY
KEY. Note for later migrations: a batch ("move and copy") rebuild of tasks or comments on SQLite
drops these triggers; recreate them there (the statements below).

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-06
"""

import logging
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

log = logging.getLogger("taskwell.migrations")

_CONFIG = "'taskwell_search'::regconfig"
# Must stay the very expression search/repository.py matches, or the index is not used.
_TASK_DOCUMENT = (
    f"setweight(to_tsvector({_CONFIG}, title), 'A') || "
    f"setweight(to_tsvector({_CONFIG}, description), 'B')"
)

_FTS_OPTIONS = "tokenize = 'unicode61 remove_diacritics 2', prefix = '2 3'"
_SQLITE_UP = (
    f"CREATE VIRTUAL TABLE fts_tasks USING fts5(ref, title, description, {_FTS_OPTIONS})",
    f"CREATE VIRTUAL TABLE fts_comments USING fts5(ref, task_ref UNINDEXED, body, {_FTS_OPTIONS})",
    "INSERT INTO fts_tasks (ref, title, description) SELECT id, title, description FROM tasks",
    "INSERT INTO fts_comments (ref, task_ref, body) SELECT id, task_id, body FROM comments",
    """CREATE TRIGGER fts_tasks_insert AFTER INSERT ON tasks BEGIN
        INSERT INTO fts_tasks (ref, title, description)
        VALUES (new.id, new.title, new.description);
    END""",
    """CREATE TRIGGER fts_tasks_update AFTER UPDATE OF id, title, description ON tasks BEGIN
        DELETE FROM fts_tasks WHERE fts_tasks MATCH 'ref : "' || old.id || '"';
        INSERT INTO fts_tasks (ref, title, description)
        VALUES (new.id, new.title, new.description);
    END""",
    """CREATE TRIGGER fts_tasks_delete AFTER DELETE ON tasks BEGIN
        DELETE FROM fts_tasks WHERE fts_tasks MATCH 'ref : "' || old.id || '"';
    END""",
    """CREATE TRIGGER fts_comments_insert AFTER INSERT ON comments BEGIN
        INSERT INTO fts_comments (ref, task_ref, body) VALUES (new.id, new.task_id, new.body);
    END""",
    """CREATE TRIGGER fts_comments_update AFTER UPDATE OF id, task_id, body ON comments BEGIN
        DELETE FROM fts_comments WHERE fts_comments MATCH 'ref : "' || old.id || '"';
        INSERT INTO fts_comments (ref, task_ref, body) VALUES (new.id, new.task_id, new.body);
    END""",
    """CREATE TRIGGER fts_comments_delete AFTER DELETE ON comments BEGIN
        DELETE FROM fts_comments WHERE fts_comments MATCH 'ref : "' || old.id || '"';
    END""",
)
_SQLITE_DOWN = (
    "DROP TRIGGER fts_comments_delete",
    "DROP TRIGGER fts_comments_update",
    "DROP TRIGGER fts_comments_insert",
    "DROP TRIGGER fts_tasks_delete",
    "DROP TRIGGER fts_tasks_update",
    "DROP TRIGGER fts_tasks_insert",
    "DROP TABLE fts_comments",
    "DROP TABLE fts_tasks",
)


def _attempt(statement: str, missing: str) -> bool:
    """Run statement in a savepoint; on failure (no such extension, not allowed to install
    it) roll back just that, warn, and go on without it."""
    bind = op.get_bind()
    try:
        with bind.begin_nested():
            bind.execute(sa.text(statement))
    except sa.exc.DBAPIError as exc:
        log.warning("search: %s (%s)", missing, str(exc.orig).splitlines()[0])
        return False
    return True


def _upgrade_postgresql() -> None:
    # Both are trusted extensions (PostgreSQL 13+): the database owner may install them.
    unaccent = _attempt(
        "CREATE EXTENSION IF NOT EXISTS unaccent",
        "unaccent is not available; search will not fold accents on PostgreSQL",
    )
    trigram = _attempt(
        "CREATE EXTENSION IF NOT EXISTS pg_trgm",
        "pg_trgm is not available; title substrings are searched without an index",
    )
    op.execute("CREATE TEXT SEARCH CONFIGURATION taskwell_search (COPY = pg_catalog.simple)")
    if unaccent:
        _attempt(
            "ALTER TEXT SEARCH CONFIGURATION taskwell_search "
            "ALTER MAPPING FOR hword, hword_part, word WITH unaccent, simple",
            "the unaccent dictionary is not on the search path; accents are not folded",
        )
    op.execute(
        f"CREATE INDEX ix_tasks_search ON tasks USING gin (({_TASK_DOCUMENT})) "
        "WHERE deleted_at IS NULL"
    )
    op.execute(
        f"CREATE INDEX ix_comments_search ON comments USING gin ((to_tsvector({_CONFIG}, body)))"
    )
    if trigram:
        _attempt(
            "CREATE INDEX ix_tasks_title_trgm ON tasks USING gin (title gin_trgm_ops) "
            "WHERE deleted_at IS NULL",
            "gin_trgm_ops is not on the search path; title substrings have no index",
        )


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        _upgrade_postgresql()
    else:
        for statement in _SQLITE_UP:
            op.execute(statement)


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        # The extensions stay: other objects of the database may have come to use them.
        op.execute("DROP INDEX IF EXISTS ix_tasks_title_trgm")
        op.execute("DROP INDEX ix_comments_search")
        op.execute("DROP INDEX ix_tasks_search")
        op.execute("DROP TEXT SEARCH CONFIGURATION taskwell_search")
    else:
        for statement in _SQLITE_DOWN:
            op.execute(statement)
