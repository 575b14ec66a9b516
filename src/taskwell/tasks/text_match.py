"""On PostgreSQL, the list's `q` tests one lower-cased copy of a task's title and description.

`q` keeps the tasks whose title or description holds the text, ignoring case: `title ILIKE
'%q%' OR description ILIKE '%q%'`. In a multi-byte (UTF-8) database ILIKE lower-cases the row's
text and the pattern for every row it tests and then compares them (it *is* `lower(x) LIKE
lower(p)`), and that lowering was most of the cost of `q` over a large project: a first page for
a word on 1 % of 100,000 tasks walked ~3,700 rows at ~1 µs each, or rechecked ~990 trigram
candidates (docs/query-plans.md).

Migration 0014 keeps the lowering on the row: `tasks.match_text`, a stored generated column,
`lower(title) || E'\\n' || lower(description)`, with a trigram GIN index over live tasks (it
replaces the description's own trigram index from 0010; the title's stays, search uses it).
`q` is then `match_text LIKE lower(pattern)`: the same rows as the two ILIKEs, except that a
pattern holding the separator (a newline) could match across the end of the title and the
start of the description; such a `q` also keeps the two ILIKEs as a final check. The cost is
one more copy of each task's title and description, lower-cased, on its row.

The column is the migration's, not the models' (SQLite's list tests its few rows with ILIKE as
before); like search's indexes (search/schema.py), the names here are what the queries and the
schema comparison rely on.
"""

from __future__ import annotations

import sqlalchemy as sa

COLUMN = "match_text"
INDEX = "ix_tasks_match_text_trgm"
SEPARATOR = "\n"


def match_text(t: sa.TableClause | sa.Alias) -> sa.ColumnElement[str]:
    """The column of `t` (tasks, or an alias of it): PostgreSQL only."""
    return sa.literal_column(f"{t.name}.{COLUMN}", type_=sa.Text)


def contains(
    t: sa.TableClause | sa.Alias, pattern: sa.BindParameter[str], crosses: bool
) -> sa.ColumnElement[bool]:
    """`pattern` (a LIKE pattern, backslash escapes) is in the title or the description of
    the task, ignoring case; `crosses`: the pattern holds SEPARATOR."""
    found = match_text(t).like(sa.func.lower(pattern), escape="\\")
    return sa.and_(found, in_title_or_description(t, pattern)) if crosses else found


def in_title_or_description(
    t: sa.TableClause | sa.Alias, pattern: sa.BindParameter[str]
) -> sa.ColumnElement[bool]:
    """The plain test, on any database: `pattern` in the title or the description, any case."""
    return sa.or_(
        t.c.title.ilike(pattern, escape="\\"), t.c.description.ilike(pattern, escape="\\")
    )
