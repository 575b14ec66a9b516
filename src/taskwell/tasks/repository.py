"""SQL for tasks, built with SQLAlchemy Core; the hot reads are prepared once per shape.

Who sees a task is decided by membership of its project (projects/access.py): every read
here joins the reader's memberships, so a task outside them is simply not found.
"""

from __future__ import annotations

import builtins
import hashlib
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from typing import Any, NamedTuple

import orjson
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql
from sqlalchemy.engine import Dialect
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlalchemy.types import TypeDecorator

from taskwell.db.engine import Database
from taskwell.db.prepared import PreparedQuery
from taskwell.db.types import UTCDateTime
from taskwell.labels.mirror import label_ids
from taskwell.labels.models import labels, task_labels
from taskwell.projects.access import visible_projects
from taskwell.projects.models import project_members, projects
from taskwell.reminders.models import reminders
from taskwell.tasks.models import MAX_DEPTH, TaskStatus, tasks
from taskwell.tasks.recurrence import handed_on, moved_by_days
from taskwell.tasks.schemas import TASK_FIELDS, Task
from taskwell.tasks.text_match import SEPARATOR, contains, in_title_or_description
from taskwell.users.models import users

SORTABLE: dict[str, sa.Column[Any]] = {
    "created_at": tasks.c.created_at,
    "updated_at": tasks.c.updated_at,
    "due_at": tasks.c.due_at,
    "priority": tasks.c.priority,
    "position": tasks.c.position,
}
TABLE_FIELDS = tuple(name for name in TASK_FIELDS if name != "labels")
_USER = sa.bindparam("user_id", type_=sa.Uuid)
_ID = sa.bindparam("task_id", type_=sa.Uuid)


class LabelIdList(TypeDecorator[list[Any]]):
    """The reader's label ids on a task: a uuid[] on PostgreSQL, a JSON array on SQLite."""

    impl = sa.Text
    cache_ok = True

    def process_result_value(self, value: Any, dialect: Dialect) -> builtins.list[Any]:
        if value is None:
            return []
        if isinstance(value, str):
            return sorted(str(uuid.UUID(hex=v)) for v in orjson.loads(value))
        return list(value)


def _label_ids(task_id: sa.ColumnElement[Any], dialect: str) -> sa.ColumnElement[Any]:
    """A correlated subquery: the ids of the reader's labels on the task, sorted."""
    owned = (
        sa.select(task_labels.c.label_id)
        .join(labels, labels.c.id == task_labels.c.label_id)
        .where(task_labels.c.task_id == task_id, labels.c.owner_id == _USER)
    )
    if dialect == "postgresql":
        expr: sa.ColumnElement[Any] = sa.func.array(
            owned.order_by(task_labels.c.label_id).scalar_subquery()
        )
    else:
        # Aggregated in the correlated subquery itself (a FROM subquery would lose the
        # correlation); LabelIdList sorts the ids.
        expr = (
            sa.select(sa.func.json_group_array(task_labels.c.label_id))
            .join(labels, labels.c.id == task_labels.c.label_id)
            .where(task_labels.c.task_id == task_id, labels.c.owner_id == _USER)
            .scalar_subquery()
        )
    return sa.type_coerce(expr, LabelIdList()).label("labels")


def task_columns(source: sa.FromClause, dialect: str) -> builtins.list[sa.ColumnElement[Any]]:
    """The columns of a Task, in order, read from `source` (tasks or a subquery of it)."""
    columns: builtins.list[sa.ColumnElement[Any]] = []
    for name in TASK_FIELDS:
        if name == "labels":
            columns.append(_label_ids(source.c.id, dialect))
        else:
            columns.append(source.c[name])
    return columns


def _live_memberships(include_archived: bool) -> sa.Select[tuple[uuid.UUID]]:
    visible = visible_projects(_USER)
    return visible if include_archived else visible.where(projects.c.archived_at.is_(None))


@dataclass(frozen=True, slots=True)
class ListShape:
    """Everything about a list query but its values: one prepared statement per shape."""

    project: bool
    section: bool
    parent: bool
    assignee: bool
    labels: int
    statuses: int
    priorities: int
    text: bool
    # The text holds text_match.SEPARATOR (PostgreSQL then checks title and description too).
    text_crosses: bool
    due_before: bool
    due_after: bool
    sort: str
    descending: bool
    # None: first page; True/False: a cursor whose sort value is / is not NULL.
    cursor_null: bool | None

    @property
    def filtered(self) -> bool:
        return bool(
            self.project
            or self.section
            or self.parent
            or self.assignee
            or self.labels
            or self.statuses
            or self.priorities
            or self.text
            or self.due_before
            or self.due_after
        )


@dataclass(frozen=True, slots=True)
class ListQuery:
    user_id: uuid.UUID
    project_id: uuid.UUID | None = None
    section_id: uuid.UUID | None = None
    parent_id: uuid.UUID | None = None
    assignee_id: uuid.UUID | None = None
    labels: tuple[uuid.UUID, ...] = ()
    statuses: tuple[str, ...] = ()
    priorities: tuple[int, ...] = ()
    text: str | None = None
    due_before: datetime | None = None
    due_after: datetime | None = None
    sort: str = "created_at"
    descending: bool = False
    cursor_value: Any = None
    cursor_id: uuid.UUID | None = None
    limit: int = 50

    def cache_key(self) -> str:
        """Everything but the reader (the cache bucket is per reader), hashed."""
        parts = (
            self.project_id,
            self.section_id,
            self.parent_id,
            self.assignee_id,
            self.labels,
            self.statuses,
            self.priorities,
            self.text,
            self.due_before,
            self.due_after,
            self.sort,
            self.descending,
            self.cursor_value,
            self.cursor_id,
            self.limit,
        )
        raw = orjson.dumps(parts, default=str, option=orjson.OPT_PASSTHROUGH_DATETIME)
        return hashlib.blake2b(raw, digest_size=16).hexdigest()

    def shape(self) -> ListShape:
        return ListShape(
            project=self.project_id is not None,
            section=self.section_id is not None,
            parent=self.parent_id is not None,
            assignee=self.assignee_id is not None,
            labels=len(self.labels),
            statuses=len(self.statuses),
            priorities=len(self.priorities),
            text=self.text is not None,
            text_crosses=self.text is not None and SEPARATOR in self.text,
            due_before=self.due_before is not None,
            due_after=self.due_after is not None,
            sort=self.sort,
            descending=self.descending,
            cursor_null=None if self.cursor_id is None else self.cursor_value is None,
        )

    def params(self) -> dict[str, Any]:
        params: dict[str, Any] = {"user_id": self.user_id, "limit": self.limit + 1}
        params["project_id"] = self.project_id
        params["section_id"] = self.section_id
        params["parent_id"] = self.parent_id
        params["assignee_id"] = self.assignee_id
        params.update({f"label_{i}": label for i, label in enumerate(self.labels)})
        params.update({f"status_{i}": s for i, s in enumerate(self.statuses)})
        params.update({f"priority_{i}": p for i, p in enumerate(self.priorities)})
        if self.text is not None:
            escaped = self.text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
            params["text"] = f"%{escaped}%"
        params["due_before"] = self.due_before
        params["due_after"] = self.due_after
        params["cursor_value"] = self.cursor_value
        params["cursor_id"] = self.cursor_id
        return params


def _keyset(t: sa.FromClause, shape: ListShape) -> sa.ColumnElement[bool]:
    """Rows after the cursor in (sort column, id) order, NULLs last in both directions."""
    column = t.c[shape.sort]
    after_id = sa.bindparam("cursor_id", type_=sa.Uuid)
    beyond_id = t.c.id < after_id if shape.descending else t.c.id > after_id
    if shape.cursor_null:
        return sa.and_(column.is_(None), beyond_id)
    value = sa.bindparam("cursor_value", type_=SORTABLE[shape.sort].type)
    beyond = column < value if shape.descending else column > value
    condition = sa.or_(beyond, sa.and_(column == value, beyond_id))
    if SORTABLE[shape.sort].nullable:
        condition = sa.or_(condition, column.is_(None))
    return condition


def _label_params(count: int) -> builtins.list[sa.BindParameter[Any]]:
    return [sa.bindparam(f"label_{i}", type_=sa.Uuid) for i in range(count)]


def _owned(label: sa.ColumnElement[Any]) -> sa.Exists:
    """The label is the reader's: another member's labels are not theirs to filter by."""
    return sa.exists().where(labels.c.id == label, labels.c.owner_id == _USER)


def _mirrored_label_filters(
    t: sa.TableClause | sa.Alias, count: int
) -> builtins.list[sa.ColumnElement[bool]]:
    """PostgreSQL: the labels tested on the task row's own label_ids (labels/mirror.py)."""
    mirrored = label_ids(t)
    if count == 1:
        # The owner check does not depend on the task: a one-time filter beside the test.
        label = _label_params(1)[0]
        return [mirrored.contains(postgresql.array([label])), _owned(label)]
    # Any of the labels that are the reader's (an InitPlan, computed once).
    mine = sa.select(labels.c.id).where(
        labels.c.id.in_(_label_params(count)), labels.c.owner_id == _USER
    )
    return [mirrored.overlap(sa.func.array(mine.scalar_subquery()))]


def task_filters(
    t: sa.TableClause | sa.Alias,
    dialect: str,
    *,
    assignee: bool = False,
    labels_: int = 0,
    statuses: int = 0,
    priorities: int = 0,
    due_before: bool = False,
    due_after: bool = False,
) -> builtins.list[sa.ColumnElement[bool]]:
    """The filters the list and search share, on bind parameters of the same names:
    assignee_id, label_<i>, status_<i>, priority_<i>, due_before, due_after."""
    where: builtins.list[sa.ColumnElement[bool]] = []
    if assignee:
        where.append(t.c.assignee_id == sa.bindparam("assignee_id", type_=sa.Uuid))
    if labels_ and dialect == "postgresql":
        where += _mirrored_label_filters(t, labels_)
    elif labels_ == 1:
        # Whether the one label is the reader's does not depend on the task: checked once (a
        # one-time filter), so the task's side is a bare probe of task_labels. With the owner
        # check inside, each probe looked like a join to the planner, which then often chose
        # hashing all the label's tasks over walking the list, at twice the cost
        # (docs/query-plans.md). Several labels keep the check per label, below.
        label = sa.bindparam("label_0", type_=sa.Uuid)
        where.append(
            sa.exists().where(task_labels.c.task_id == t.c.id, task_labels.c.label_id == label)
        )
        where.append(_owned(label))
    elif labels_:
        where.append(
            sa.exists()
            .where(
                task_labels.c.task_id == t.c.id,
                task_labels.c.label_id.in_(_label_params(labels_)),
            )
            # Only the reader's own labels count: another member's are not theirs to query.
            .where(_owned(task_labels.c.label_id))
        )
    if statuses:
        where.append(t.c.status.in_([sa.bindparam(f"status_{i}") for i in range(statuses)]))
    if priorities:
        where.append(t.c.priority.in_([sa.bindparam(f"priority_{i}") for i in range(priorities)]))
    if due_before:
        where.append(t.c.due_at < sa.bindparam("due_before", type_=UTCDateTime))
    if due_after:
        where.append(t.c.due_at >= sa.bindparam("due_after", type_=UTCDateTime))
    return where


def _filters(shape: ListShape, dialect: str) -> builtins.list[sa.ColumnElement[bool]]:
    t = tasks
    where: builtins.list[sa.ColumnElement[bool]] = [t.c.deleted_at.is_(None)]
    if shape.section:
        where.append(t.c.section_id == sa.bindparam("section_id", type_=sa.Uuid))
    if shape.parent:
        where.append(t.c.parent_id == sa.bindparam("parent_id", type_=sa.Uuid))
    if shape.text:
        pattern = sa.bindparam("text", type_=sa.String)
        where.append(
            contains(t, pattern, shape.text_crosses)
            if dialect == "postgresql"
            else in_title_or_description(t, pattern)
        )
    where += task_filters(
        t,
        dialect,
        assignee=shape.assignee,
        labels_=shape.labels,
        statuses=shape.statuses,
        priorities=shape.priorities,
        due_before=shape.due_before,
        due_after=shape.due_after,
    )
    return where


def _order(t: sa.FromClause, shape: ListShape) -> builtins.list[sa.ColumnElement[Any]]:
    column = t.c[shape.sort]
    order = column.desc() if shape.descending else column.asc()
    if SORTABLE[shape.sort].nullable:
        order = order.nulls_last()
    tie = t.c.id.desc() if shape.descending else t.c.id.asc()
    return [order, tie]


def build_list(shape: ListShape, dialect: str) -> sa.Select[Any]:
    """One page of the tasks the reader sees, in (sort, id) order after the cursor.

    On PostgreSQL each visible project contributes its own first page from its index (a
    LATERAL subquery), and the pages are merged: the cost follows the page size times the
    number of projects, not the number of tasks. SQLite plans the plain IN just as well for
    the sizes it serves.
    """
    t = tasks
    limit = sa.bindparam("limit", type_=sa.Integer)
    where = _filters(shape, dialect)
    if shape.cursor_null is not None:
        where.append(_keyset(t, shape))
    if shape.project:
        # One project: named to the planner as itself (with a custom plan it knows its size),
        # the reader's membership an EXISTS beside it.
        project = sa.bindparam("project_id", type_=sa.Uuid)
        member = _live_memberships(True).where(project_members.c.project_id == project)
        stmt = sa.select(*task_columns(t, dialect)).where(
            t.c.project_id == project, sa.exists(member), *where
        )
        return stmt.order_by(*_order(t, shape)).limit(limit)
    visible = _live_memberships(False)
    if dialect != "postgresql":
        stmt = sa.select(*task_columns(t, dialect)).where(t.c.project_id.in_(visible), *where)
        return stmt.order_by(*_order(t, shape)).limit(limit)
    scopes = visible.subquery("scope")
    page = (
        sa.select(*(t.c[name] for name in TABLE_FIELDS))
        .where(t.c.project_id == scopes.c.project_id, *where)
        .order_by(*_order(t, shape))
        .limit(limit)
        .lateral("page")
    )
    return (
        sa.select(*task_columns(page, dialect))
        .select_from(scopes.join(page, sa.true()))
        .order_by(*_order(page, shape))
        .limit(limit)
    )


def _visible_task(dialect: str) -> sa.Select[Any]:
    t, m, p = tasks, project_members, projects
    return (
        sa.select(*task_columns(t, dialect))
        .join(p, p.c.id == t.c.project_id)
        .join(m, sa.and_(m.c.project_id == t.c.project_id, m.c.user_id == _USER))
        .where(t.c.id == _ID, t.c.deleted_at.is_(None), p.c.deleted_at.is_(None))
    )


def row_to_task(row: Sequence[Any]) -> Task:
    task = Task(*row)
    # SQLite's RETURNING hands back REAL values before column affinity: 1024 not 1024.0.
    return Task(**{**{n: getattr(task, n) for n in TASK_FIELDS}, "position": float(task.position)})


async def lock_in_id_order(
    conn: AsyncConnection, ids: builtins.list[uuid.UUID] | sa.Select[tuple[uuid.UUID]]
) -> None:
    """Hold these tasks' rows (ids, or a query of them), taken in id order: transactions that
    each take several tasks this way (a bulk change, a label's deletion, whose cascade updates
    every task carrying it) cannot wait on each other. SQLite: writers take turns already.
    FOR NO KEY UPDATE, the lock an UPDATE takes (as TaskRepository.lock)."""
    if conn.dialect.name == "sqlite" or (isinstance(ids, builtins.list) and not ids):
        return
    await conn.execute(
        sa.select(tasks.c.id)
        .where(tasks.c.id.in_(ids))
        .order_by(tasks.c.id)
        .with_for_update(key_share=True)
    )


class HandedOver(NamedTuple):
    """A recurring subtask whose rule went on to its copy under the next occurrence."""

    original: uuid.UUID
    copy: uuid.UUID
    rule: str


# Locking a subtree, then reading it again: what committed while the locks were awaited (a
# subtask's next occurrence) is locked in the next round. Each round only follows a change
# that committed meanwhile; 3 is plenty, and what is left unlocked is read as committed.
_SUBTREE_LOCK_ROUNDS = 3


class TaskRepository:
    def __init__(self, db: Database) -> None:
        self._db = db
        dialect = db.dialect.name
        self._dialect = dialect
        self._get = db.prepare(_visible_task(dialect))
        self._prepared_list = lru_cache(maxsize=512)(self._prepare_list)

    def _prepare_list(self, shape: ListShape) -> PreparedQuery:
        # The plain list (no filter) keeps one generic plan: it is the hot path, and its cost
        # follows the page size. A filter's cost depends on its values: planned each time.
        return self._db.prepare(build_list(shape, self._dialect), custom_plan=shape.filtered)

    async def get(self, user_id: uuid.UUID, task_id: uuid.UUID) -> Sequence[Any] | None:
        return await self._db.fetch_one(
            self._get, {"user_id": user_id, "task_id": task_id}, reader=user_id
        )

    async def list(self, query: ListQuery) -> Sequence[Sequence[Any]]:
        return await self._db.fetch(
            self._prepared_list(query.shape()), query.params(), reader=query.user_id
        )

    # Inside write transactions (the primary, so what the write sees).

    async def read(
        self, conn: AsyncConnection, user_id: uuid.UUID, task_id: uuid.UUID
    ) -> Task | None:
        row = (
            await conn.execute(
                _visible_task(self._dialect), {"user_id": user_id, "task_id": task_id}
            )
        ).first()
        return None if row is None else row_to_task(row)

    async def lock(self, conn: AsyncConnection, task_id: uuid.UUID) -> None:
        """Hold the task's row until the transaction ends, so a read-check-write patch sees
        the version it writes over (SQLite: writers are already one at a time).

        FOR NO KEY UPDATE, the lock the UPDATE itself takes: rows that only refer to the task
        (a subtask's next occurrence inserted under it, a comment, a label) wait for nothing.
        FOR UPDATE would make them wait, and a transaction holding the task while it waits for
        one of its subtasks, held by one that inserts under the task, would deadlock
        (tests/api/test_recurring_subtask_concurrency.py)."""
        await conn.execute(
            sa.select(tasks.c.id).where(tasks.c.id == task_id).with_for_update(key_share=True)
        )

    async def lock_many(self, conn: AsyncConnection, task_ids: Iterable[uuid.UUID]) -> None:
        await lock_in_id_order(conn, list(set(task_ids)))

    async def next_position(self, conn: AsyncConnection, project_id: uuid.UUID) -> float:
        t = tasks
        last = sa.select(sa.func.coalesce(sa.func.max(t.c.position), 0.0) + 1024.0).where(
            t.c.project_id == project_id, t.c.deleted_at.is_(None)
        )
        return float((await conn.execute(last)).scalar_one())

    async def insert(self, conn: AsyncConnection, row: dict[str, Any]) -> None:
        await conn.execute(sa.insert(tasks).values(**row))

    async def update(
        self,
        conn: AsyncConnection,
        *,
        task_id: uuid.UUID,
        values: dict[str, Any],
        expected_versions: frozenset[int] | None,
        now: datetime,
    ) -> bool:
        """One atomic UPDATE of a live task; False when its version did not match."""
        t = tasks
        stmt = (
            sa.update(t)
            .where(t.c.id == task_id, t.c.deleted_at.is_(None))
            .values(**values, version=t.c.version + 1, updated_at=now)
        )
        if expected_versions is not None:
            stmt = stmt.where(t.c.version.in_(sorted(expected_versions)))
        return bool((await conn.execute(stmt)).rowcount)

    async def subtree(
        self, conn: AsyncConnection, task_id: uuid.UUID, *, live: bool = True
    ) -> builtins.list[uuid.UUID]:
        """The ids of the task's descendants (not the task), at most MAX_DEPTH levels down,
        parents before their children."""
        t = tasks
        top = sa.select(t.c.id, sa.literal(1).label("depth")).where(t.c.parent_id == task_id)
        tree = top.cte("tree", recursive=True)
        step = (
            sa.select(t.c.id, (tree.c.depth + 1).label("depth"))
            .join(tree, t.c.parent_id == tree.c.id)
            .where(tree.c.depth < MAX_DEPTH + 1)
        )
        tree = tree.union_all(step)
        stmt = sa.select(tree.c.id).join(t, t.c.id == tree.c.id).order_by(tree.c.depth)
        if live:
            stmt = stmt.where(t.c.deleted_at.is_(None))
        return list((await conn.execute(stmt)).scalars())

    async def height(self, conn: AsyncConnection, task_id: uuid.UUID, *, live: bool = False) -> int:
        """Levels of subtasks below the task (0 for a task without any). Trashed ones count
        too unless `live`: they may be restored, and must fit when they are."""
        t = tasks
        alive = t.c.deleted_at.is_(None) if live else sa.true()
        top = sa.select(t.c.id, sa.literal(1).label("depth")).where(t.c.parent_id == task_id, alive)
        tree = top.cte("tree", recursive=True)
        step = (
            sa.select(t.c.id, (tree.c.depth + 1).label("depth"))
            .join(tree, t.c.parent_id == tree.c.id)
            .where(tree.c.depth < MAX_DEPTH + 1, alive)
        )
        tree = tree.union_all(step)
        found = (await conn.execute(sa.select(sa.func.max(tree.c.depth)))).scalar_one()
        return int(found or 0)

    async def ancestors(
        self, conn: AsyncConnection, task_id: uuid.UUID
    ) -> builtins.list[uuid.UUID]:
        """The task's chain of parents, nearest first (bounded: the schema allows no cycle
        through the API, and the walk stops past MAX_DEPTH levels anyway)."""
        chain: builtins.list[uuid.UUID] = []
        current: uuid.UUID | None = task_id
        t = tasks
        while current is not None and len(chain) <= MAX_DEPTH + 1:
            current = (
                await conn.execute(sa.select(t.c.parent_id).where(t.c.id == current))
            ).scalar_one_or_none()
            if current is not None:
                chain.append(current)
        return chain

    async def live_task_in(
        self, conn: AsyncConnection, task_id: uuid.UUID, project_id: uuid.UUID
    ) -> bool:
        t = tasks
        found = await conn.execute(
            sa.select(t.c.id).where(
                t.c.id == task_id, t.c.project_id == project_id, t.c.deleted_at.is_(None)
            )
        )
        return found.first() is not None

    async def drop_reminders_of_outsiders(
        self, conn: AsyncConnection, task_ids: builtins.list[uuid.UUID], project_id: uuid.UUID
    ) -> None:
        members = sa.select(project_members.c.user_id).where(
            project_members.c.project_id == project_id
        )
        await conn.execute(
            sa.delete(reminders).where(
                reminders.c.task_id.in_(task_ids), reminders.c.user_id.not_in(members)
            )
        )

    async def move_descendants(
        self, conn: AsyncConnection, ids: Iterable[uuid.UUID], project_id: uuid.UUID, now: datetime
    ) -> None:
        ids = list(ids)
        if not ids:
            return
        t = tasks
        await conn.execute(
            sa.update(t)
            .where(t.c.id.in_(ids))
            .values(
                project_id=project_id,
                section_id=None,
                version=t.c.version + 1,
                updated_at=now,
            )
        )
        # Assignees who are not members of the new project are unassigned.
        members = sa.select(project_members.c.user_id).where(
            project_members.c.project_id == project_id
        )
        await conn.execute(
            sa.update(t)
            .where(t.c.id.in_(ids), t.c.assignee_id.is_not(None), t.c.assignee_id.not_in(members))
            .values(assignee_id=None)
        )

    async def complete(
        self, conn: AsyncConnection, ids: Iterable[uuid.UUID], now: datetime
    ) -> builtins.list[uuid.UUID]:
        """Mark the open ones among ids done; their ids."""
        ids = list(ids)
        if not ids:
            return []
        t = tasks
        open_ids = list(
            (
                await conn.execute(
                    sa.select(t.c.id).where(t.c.id.in_(ids), t.c.status != TaskStatus.done.value)
                )
            ).scalars()
        )
        if open_ids:
            await conn.execute(
                sa.update(t)
                .where(t.c.id.in_(open_ids))
                .values(
                    status=TaskStatus.done.value,
                    completed_at=now,
                    version=t.c.version + 1,
                    updated_at=now,
                )
            )
        return open_ids

    async def set_labels(
        self,
        conn: AsyncConnection,
        task_id: uuid.UUID,
        owner_id: uuid.UUID,
        label_ids: Sequence[uuid.UUID],
    ) -> None:
        """Replace owner's labels on the task (other users' labels stay)."""
        mine = sa.select(labels.c.id).where(labels.c.owner_id == owner_id)
        await conn.execute(
            sa.delete(task_labels).where(
                task_labels.c.task_id == task_id, task_labels.c.label_id.in_(mine)
            )
        )
        if label_ids:
            await conn.execute(
                sa.insert(task_labels),
                [
                    {"task_id": task_id, "label_id": label_id}
                    for label_id in dict.fromkeys(label_ids)
                ],
            )

    async def trash(
        self,
        conn: AsyncConnection,
        task_id: uuid.UUID,
        expected_versions: frozenset[int] | None,
        now: datetime,
    ) -> bool:
        """The task and its live subtasks to the trash, all with the same time (which is how
        a restore finds them again)."""
        descendants = await self.subtree(conn, task_id)
        t = tasks
        stmt = (
            sa.update(t)
            .where(t.c.id == task_id, t.c.deleted_at.is_(None))
            .values(deleted_at=now, version=t.c.version + 1, updated_at=now)
        )
        if expected_versions is not None:
            stmt = stmt.where(t.c.version.in_(sorted(expected_versions)))
        if not (await conn.execute(stmt)).rowcount:
            return False
        if descendants:
            await conn.execute(
                sa.update(t)
                .where(t.c.id.in_(descendants))
                .values(deleted_at=now, version=t.c.version + 1, updated_at=now)
            )
        return True

    async def trashed(
        self, conn: AsyncConnection, user_id: uuid.UUID, task_id: uuid.UUID
    ) -> tuple[uuid.UUID, str, datetime, uuid.UUID | None] | None:
        """(project, role, deleted_at, parent) of a trashed task in a live project the user
        is a member of."""
        t, m, p = tasks, project_members, projects
        row = (
            await conn.execute(
                sa.select(t.c.project_id, m.c.role, t.c.deleted_at, t.c.parent_id)
                .join(p, p.c.id == t.c.project_id)
                .join(m, sa.and_(m.c.project_id == t.c.project_id, m.c.user_id == user_id))
                .where(t.c.id == task_id, t.c.deleted_at.is_not(None), p.c.deleted_at.is_(None))
            )
        ).first()
        return None if row is None else (row[0], row[1], row[2], row[3])

    async def restore(
        self,
        conn: AsyncConnection,
        task_id: uuid.UUID,
        deleted_at: datetime,
        detach: bool,
        now: datetime,
    ) -> None:
        """The task and the subtasks trashed with it come back."""
        descendants = await self.subtree(conn, task_id, live=False)
        t = tasks
        values: dict[str, Any] = {"deleted_at": None, "version": t.c.version + 1, "updated_at": now}
        if detach:
            values["parent_id"] = None
        await conn.execute(sa.update(t).where(t.c.id == task_id).values(**values))
        if descendants:
            await conn.execute(
                sa.update(t)
                .where(t.c.id.in_(descendants), t.c.deleted_at == deleted_at)
                .values(deleted_at=None, version=t.c.version + 1, updated_at=now)
            )

    async def trash_list(self, user_id: uuid.UUID, limit: int) -> Sequence[Sequence[Any]]:
        """Trashed tasks in live projects the user may edit, most recently deleted first."""
        t, m, p = tasks, project_members, projects
        stmt = (
            sa.select(*task_columns(t, self._dialect), t.c.deleted_at)
            .join(p, p.c.id == t.c.project_id)
            .join(m, sa.and_(m.c.project_id == t.c.project_id, m.c.user_id == _USER))
            .where(
                t.c.deleted_at.is_not(None),
                p.c.deleted_at.is_(None),
                m.c.role.in_(("owner", "editor")),
            )
            .order_by(t.c.deleted_at.desc(), t.c.id)
            .limit(limit)
        )
        async with self._db.engine.connect() as conn:
            return list((await conn.execute(stmt, {"user_id": user_id})).all())

    async def user_time_zone(self, conn: AsyncConnection, user_id: uuid.UUID) -> str:
        found = await conn.execute(sa.select(users.c.time_zone).where(users.c.id == user_id))
        return str(found.scalar_one_or_none() or "UTC")

    async def shift_reminders(
        self, conn: AsyncConnection, task_id: uuid.UUID, due_at: datetime | None
    ) -> None:
        """Reminders relative to the due follow it; with the due gone, they go too."""
        r = reminders
        pending = sa.and_(
            r.c.task_id == task_id, r.c.minutes_before.is_not(None), r.c.delivered_at.is_(None)
        )
        if due_at is None:
            await conn.execute(sa.delete(r).where(pending))
            return
        rows = (await conn.execute(sa.select(r.c.id, r.c.minutes_before).where(pending))).all()
        for reminder_id, minutes in rows:
            await conn.execute(
                sa.update(r)
                .where(r.c.id == reminder_id)
                .values(remind_at=minutes_before(due_at, minutes))
            )

    async def insert_next_occurrence(
        self,
        conn: AsyncConnection,
        done: Task,
        *,
        due_at: datetime,
        due_date: date | None,
        rule: str | None,
        actor_id: uuid.UUID,
        now: datetime,
    ) -> uuid.UUID:
        """The next occurrence of a completed recurring task: the same task, open, due next;
        everyone's labels and the relative reminders come along. The completed one keeps no
        rule and points at its successor, so the series moves on exactly once."""
        t = tasks
        new_id = uuid.uuid4()
        shift = None
        if done.due_at is not None:
            shift = due_at - done.due_at
        start_date = done.start_date
        if start_date is not None and shift is not None:
            try:
                start_date = (datetime.combine(start_date, time(), UTC) + shift).date()
            except OverflowError:  # past year 9999: the occurrence has no start date
                start_date = None
        await conn.execute(
            sa.insert(t).values(
                id=new_id,
                project_id=done.project_id,
                section_id=done.section_id,
                parent_id=done.parent_id,
                title=done.title,
                description=done.description,
                status=TaskStatus.todo.value,
                priority=done.priority,
                due_at=due_at,
                due_date=due_date,
                due_timezone=done.due_timezone,
                start_date=start_date,
                recurrence=rule,
                completed_at=None,
                position=done.position,
                assignee_id=done.assignee_id,
                created_by=actor_id,
                version=1,
                created_at=now,
                updated_at=now,
            )
        )
        await self._copy_labels_and_reminders(conn, done.id, new_id, due_at, now)
        await conn.execute(
            sa.update(t).where(t.c.id == done.id).values(recurrence=None, next_occurrence_id=new_id)
        )
        return new_id

    async def copy_subtasks(
        self,
        conn: AsyncConnection,
        source_id: uuid.UUID,
        target_id: uuid.UUID,
        *,
        days: int,
        done: bool,
        actor_id: uuid.UUID,
        now: datetime,
    ) -> tuple[builtins.list[tuple[uuid.UUID, uuid.UUID]], builtins.list[HandedOver]]:
        """Open copies of the source task's subtasks (the whole live tree, its shape kept) under
        the target: the next occurrence of a recurring task gets its checklist again. Each
        copy keeps what the subtask had (everyone's labels, relative reminders), its due and
        start date `days` later. A recurring subtask that is done (or, `done`, being completed
        with the source) hands its rule on to its copy, which is then its next occurrence; one
        left open keeps its rule, and its copy has none, so no series runs twice. (copy,
        original) of each, parents first; and the originals that handed their rule on."""
        t = tasks
        live = await self._locked_subtree(conn, source_id)
        if not live:
            return [], []
        rows = (await conn.execute(sa.select(t).where(t.c.id.in_(live)))).mappings().all()
        children: dict[uuid.UUID, builtins.list[Any]] = {}
        for row in rows:
            # An occurrence of a recurring subtask that already has its next one is history:
            # the series' latest occurrence is the one that comes along.
            if row["next_occurrence_id"] is None:
                children.setdefault(row["parent_id"], []).append(row)
        copies: builtins.list[tuple[uuid.UUID, uuid.UUID]] = []
        handed_over: builtins.list[HandedOver] = []
        new_ids = {source_id: target_id}
        # Parents first; a subtask under a trashed one is not reached, so not copied.
        level = [source_id]
        while level:
            following: builtins.list[uuid.UUID] = []
            for parent in level:
                for row in sorted(children.get(parent, []), key=lambda r: (r["position"], r["id"])):
                    copy_id = uuid.uuid4()
                    new_ids[row["id"]] = copy_id
                    copies.append((copy_id, row["id"]))
                    following.append(row["id"])
                    hands_over = row["recurrence"] is not None and (
                        done or row["status"] == TaskStatus.done.value
                    )
                    await self._insert_copy(
                        conn,
                        row,
                        copy_id,
                        new_ids[parent],
                        days=days,
                        hands_over=hands_over,
                        actor_id=actor_id,
                        now=now,
                    )
                    if hands_over:
                        handed_over.append(HandedOver(row["id"], copy_id, row["recurrence"]))
                        await conn.execute(
                            sa.update(t)
                            .where(t.c.id == row["id"])
                            .values(
                                recurrence=None,
                                next_occurrence_id=copy_id,
                                version=t.c.version + 1,
                                updated_at=now,
                            )
                        )
            level = following
        return copies, handed_over

    async def _locked_subtree(
        self, conn: AsyncConnection, root_id: uuid.UUID
    ) -> builtins.list[uuid.UUID]:
        """The live subtree, its rows held: a subtask completed meanwhile by another request
        is read as it committed (done, with its next occurrence, which is then in the tree
        too), never copied from a state that request is overwriting."""
        live = await self.subtree(conn, root_id)
        if conn.dialect.name == "sqlite":  # one writer at a time: nothing commits meanwhile
            return live
        held: set[uuid.UUID] = set()
        for _ in range(_SUBTREE_LOCK_ROUNDS):
            if held.issuperset(live):
                return live
            await lock_in_id_order(conn, [i for i in live if i not in held])
            held.update(live)
            live = await self.subtree(conn, root_id)  # with what committed while we waited
        return live

    async def _insert_copy(
        self,
        conn: AsyncConnection,
        row: Any,
        copy_id: uuid.UUID,
        parent_id: uuid.UUID,
        *,
        days: int,
        hands_over: bool,
        actor_id: uuid.UUID,
        now: datetime,
    ) -> None:
        t = tasks
        due_at, due_date = moved_by_days(
            days, due_at=row["due_at"], due_date=row["due_date"], time_zone=row["due_timezone"]
        )
        rule = None
        if hands_over and due_at is not None and row["due_at"] is not None:
            rule = handed_on(
                row["recurrence"],
                due_at=row["due_at"],
                due_date=row["due_date"],
                time_zone=row["due_timezone"] or "UTC",
                new_due_at=due_at,
                new_due_date=due_date,
            )
        start_date = None
        if row["start_date"] is not None:
            _, start_date = moved_by_days(
                days, due_at=None, due_date=row["start_date"], time_zone=None
            )
        await conn.execute(
            sa.insert(t).values(
                id=copy_id,
                project_id=row["project_id"],
                section_id=row["section_id"],
                parent_id=parent_id,
                title=row["title"],
                description=row["description"],
                status=TaskStatus.todo.value,
                priority=row["priority"],
                due_at=due_at,
                due_date=due_date,
                due_timezone=row["due_timezone"] if due_at is not None else None,
                start_date=start_date,
                recurrence=rule,
                completed_at=None,
                position=row["position"],
                assignee_id=row["assignee_id"],
                created_by=actor_id,
                version=1,
                created_at=now,
                updated_at=now,
            )
        )
        await self._copy_labels_and_reminders(conn, row["id"], copy_id, due_at, now)

    async def _copy_labels_and_reminders(
        self,
        conn: AsyncConnection,
        source_id: uuid.UUID,
        copy_id: uuid.UUID,
        due_at: datetime | None,
        now: datetime,
    ) -> None:
        """Everyone's labels, and the reminders relative to the due (when there is one)."""
        await conn.execute(
            sa.insert(task_labels).from_select(
                ["task_id", "label_id"],
                sa.select(sa.literal(copy_id, sa.Uuid), task_labels.c.label_id).where(
                    task_labels.c.task_id == source_id
                ),
            )
        )
        if due_at is None:
            return
        r = reminders
        relative = (
            await conn.execute(
                sa.select(r.c.user_id, r.c.minutes_before).where(
                    r.c.task_id == source_id, r.c.minutes_before.is_not(None)
                )
            )
        ).all()
        for user_id, minutes in relative:
            await conn.execute(
                sa.insert(r).values(
                    id=uuid.uuid4(),
                    task_id=copy_id,
                    user_id=user_id,
                    remind_at=minutes_before(due_at, minutes),
                    minutes_before=minutes,
                    created_at=now,
                )
            )

    async def purge(
        self, conn: AsyncConnection, before: datetime, now: datetime
    ) -> tuple[int, builtins.list[tuple[uuid.UUID, uuid.UUID]]]:
        """Trashed tasks past the retention go for good. Tasks still pointing at one as their
        next occurrence lose the link, with a new version: (how many went, (task, project)
        of each task that changed)."""
        t = tasks
        expired = sa.select(t.c.id).where(t.c.deleted_at < before)
        pointing = (
            await conn.execute(
                sa.select(t.c.id, t.c.project_id).where(
                    t.c.next_occurrence_id.in_(expired), t.c.deleted_at.is_(None)
                )
            )
        ).all()
        if pointing:
            await conn.execute(
                sa.update(t)
                .where(t.c.id.in_([row[0] for row in pointing]))
                .values(next_occurrence_id=None, version=t.c.version + 1, updated_at=now)
            )
        result = await conn.execute(sa.delete(t).where(t.c.deleted_at < before))
        return int(result.rowcount or 0), [(row[0], row[1]) for row in pointing]


EARLIEST = datetime(1, 1, 1, tzinfo=UTC)


def minutes_before(due_at: datetime, minutes: int) -> datetime:
    """A reminder's time; before the first representable instant it is that instant."""
    try:
        return due_at - timedelta(minutes=minutes)
    except OverflowError:
        return EARLIEST


def utc(value: datetime | None) -> datetime | None:
    return None if value is None else value.astimezone(UTC)
