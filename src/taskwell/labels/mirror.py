"""On PostgreSQL, every task row also carries its label ids, for the label filters.

`task_labels` is the record of which labels a task carries. On PostgreSQL migration 0013 mirrors
it onto the task itself: `tasks.label_ids` (uuid[], every user's labels on the task, unordered),
kept by a trigger on `task_labels` (insert, delete, update, and so the cascades from deleted
labels and tasks), with a GIN index over live tasks. The list and search filters by label read
the column: walking a project's tasks in list order, a label is then a test of the row already
in hand rather than a probe of `task_labels` for every row walked (a first page filtered by a
label on 7 % of a 100,000-task project walks ~850 rows), and a rare label is found through the
GIN index. docs/query-plans.md has the plans and what this changed.

The column is the migration's, not the models': SQLite has no arrays, and its filters probe
`task_labels` as before. Like search's indexes (search/schema.py), the names here are what the
queries and the schema comparison rely on.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

COLUMN = "label_ids"
INDEX = "ix_tasks_label_ids"


def label_ids(t: sa.TableClause | sa.Alias) -> sa.ColumnElement[Any]:
    """The mirrored column of `t` (tasks, or an alias of it): PostgreSQL only."""
    return sa.literal_column(f"{t.name}.{COLUMN}", type_=postgresql.ARRAY(sa.Uuid))
