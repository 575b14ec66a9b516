"""PostgreSQL: each task's label ids on the task row (tasks.label_ids), kept by a trigger

A list filtered by a label walked the project's tasks in list order and probed task_labels for
every row walked (~850 probes for a page over a label on 7 % of a 100,000-task project): the
slowest filter of the list (docs/query-plans.md). The task row now carries the ids of every
label on it, so the filter is a test of the row in hand; a GIN index over live tasks finds the
tasks of a rare label. task_labels stays the record; a row trigger on it keeps the column in
step, cascades included (a deleted label leaves every task it was on). Each change edits the
array of the locked row (array_append / array_remove), so two transactions labelling one task
at once both land. SQLite has no arrays and is left as it was (labels/mirror.py).

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-05
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0013"
down_revision: str | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Written out in full (a migration never changes once shipped); labels/mirror.py names them.
# OR REPLACE: restoring an older backup over this schema (`taskwell restore`, pg_restore
# --clean) drops and recreates the tables but leaves the function, and the upgrade that
# follows must still go through.
_FUNCTION = """
CREATE OR REPLACE FUNCTION taskwell_mirror_task_labels() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP IN ('DELETE', 'UPDATE') THEN
        UPDATE tasks SET label_ids = array_remove(label_ids, OLD.label_id)
        WHERE id = OLD.task_id;
    END IF;
    IF TG_OP IN ('INSERT', 'UPDATE') THEN
        UPDATE tasks SET label_ids = array_append(array_remove(label_ids, NEW.label_id), NEW.label_id)
        WHERE id = NEW.task_id;
    END IF;
    RETURN NULL;
END
$$
"""


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    # A constant default: no table rewrite; the fill below touches only labelled tasks.
    op.execute("ALTER TABLE tasks ADD COLUMN label_ids uuid[] NOT NULL DEFAULT '{}'")
    op.execute(_FUNCTION)
    op.execute(
        "CREATE TRIGGER task_labels_mirror AFTER INSERT OR UPDATE OR DELETE ON task_labels "
        "FOR EACH ROW EXECUTE FUNCTION taskwell_mirror_task_labels()"
    )
    # The ALTER above holds tasks until commit, so no label lands between this fill and the
    # trigger (a task_labels insert needs a lock on its task's row).
    op.execute(
        "UPDATE tasks SET label_ids = m.ids FROM ("
        " SELECT task_id, array_agg(label_id ORDER BY label_id) AS ids"
        " FROM task_labels GROUP BY task_id) AS m WHERE tasks.id = m.task_id"
    )
    op.execute(
        "CREATE INDEX ix_tasks_label_ids ON tasks USING gin (label_ids) WHERE deleted_at IS NULL"
    )


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute("DROP TRIGGER IF EXISTS task_labels_mirror ON task_labels")
    op.execute("DROP FUNCTION IF EXISTS taskwell_mirror_task_labels()")
    op.execute("DROP INDEX IF EXISTS ix_tasks_label_ids")
    op.execute("ALTER TABLE tasks DROP COLUMN IF EXISTS label_ids")
