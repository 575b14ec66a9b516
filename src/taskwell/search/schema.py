"""The database objects search lives on, which the models (and so autogenerate) do not know.

Migration 0007 makes them: on PostgreSQL, expression GIN indexes over tasks and comments (and a
trigram index on titles); on SQLite, FTS5 tables that triggers keep in step with tasks and
comments. The migration writes their DDL out in full (a migration never changes once shipped);
the names here are what the queries and the schema comparison rely on.
"""

from __future__ import annotations

# PostgreSQL: the text search configuration (simple, plus unaccent when it could be installed)
# and the indexes built on it.
TEXT_SEARCH_CONFIG = "taskwell_search"
POSTGRES_INDEXES = frozenset(
    {"ix_tasks_search", "ix_comments_search", "ix_tasks_title_trgm", "ix_tasks_description_trgm"}
)

# SQLite: the FTS5 tables; FTS5 adds shadow tables named after each (fts_tasks_data, ...).
FTS_PREFIX = "fts_"
FTS_TASKS = "fts_tasks"
FTS_COMMENTS = "fts_comments"


def is_search_object(name: str | None, type_: str) -> bool:
    """Whether a reflected table or index belongs to search rather than to the models."""
    if name is None:
        return False
    if type_ == "table":
        return name.startswith(FTS_PREFIX)
    if type_ == "index":
        return name in POSTGRES_INDEXES
    return False
