"""SQL for import and export, on the connection the service holds.

An export reads, and an import writes, every feature's rows of one user at once: one query
per kind and batch here, where going through each feature's service would be one round trip
per task. What may be seen and what rows must hold still follows those features' rules
(projects/access.py, the schemas the document is validated with); this module only moves rows.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from taskwell.comments.models import comments
from taskwell.labels.models import labels, task_labels
from taskwell.portability.schemas import COMMENT_FIELDS, REMINDER_FIELDS, TASK_COLUMNS
from taskwell.projects.access import visible_projects
from taskwell.projects.models import project_members, projects, sections
from taskwell.reminders.models import reminders
from taskwell.tasks.models import tasks
from taskwell.users.models import users

# Rows per INSERT batch and per SELECT page: bounded memory, few round trips.
BATCH = 500

_COMMENT_COLUMNS = tuple(comments.c[name] for name in COMMENT_FIELDS)
_TASK_COLUMNS = tuple(tasks.c[name] for name in TASK_COLUMNS)
_REMINDER_COLUMNS = tuple(reminders.c[name] for name in REMINDER_FIELDS)


def _dicts(keys: Sequence[str], rows: Any) -> list[dict[str, Any]]:
    # Plain str keys: SQLAlchemy's own (a str subclass) are not JSON object keys to orjson.
    return [dict(zip(keys, row, strict=True)) for row in rows]


class PortabilityRepository:
    # Export

    async def user(self, conn: AsyncConnection, user_id: uuid.UUID) -> dict[str, Any]:
        u = users
        row = (
            await conn.execute(
                sa.select(u.c.id, u.c.email, u.c.display_name).where(u.c.id == user_id)
            )
        ).one()
        return {"id": row[0], "email": row[1], "display_name": row[2]}

    async def projects(self, conn: AsyncConnection, user_id: uuid.UUID) -> list[dict[str, Any]]:
        """The live projects the user is a member of, archived ones too, Inbox first, then
        in the order of the user's sidebar."""
        p, m = projects, project_members
        stmt = (
            sa.select(
                p.c.id,
                p.c.name,
                p.c.color,
                p.c.is_inbox,
                p.c.archived_at.is_not(None),
                m.c.role,
                m.c.position,
            )
            .join(m, sa.and_(m.c.project_id == p.c.id, m.c.user_id == user_id))
            .where(p.c.deleted_at.is_(None))
            .order_by(p.c.is_inbox.desc(), m.c.position, p.c.created_at, p.c.id)
        )
        keys = ("id", "name", "color", "is_inbox", "archived", "role", "position")
        found = _dicts(keys, await conn.execute(stmt))
        for project in found:
            project["is_inbox"] = bool(project["is_inbox"])
            project["archived"] = bool(project["archived"])
            project["position"] = float(project["position"])
        return found

    async def sections(self, conn: AsyncConnection, project_id: uuid.UUID) -> list[dict[str, Any]]:
        s = sections
        stmt = (
            sa.select(s.c.id, s.c.name, s.c.position)
            .where(s.c.project_id == project_id)
            .order_by(s.c.position, s.c.id)
        )
        found = _dicts(("id", "name", "position"), await conn.execute(stmt))
        for section in found:
            section["position"] = float(section["position"])
        return found

    async def members(self, conn: AsyncConnection, project_id: uuid.UUID) -> list[dict[str, Any]]:
        m, u = project_members, users
        stmt = (
            sa.select(m.c.user_id, u.c.email, u.c.display_name, m.c.role)
            .join(u, u.c.id == m.c.user_id)
            .where(m.c.project_id == project_id)
            .order_by(u.c.email)
        )
        return _dicts(("user_id", "email", "display_name", "role"), await conn.execute(stmt))

    async def labels(self, conn: AsyncConnection, user_id: uuid.UUID) -> list[dict[str, Any]]:
        stmt = (
            sa.select(labels.c.id, labels.c.name, labels.c.color)
            .where(labels.c.owner_id == user_id)
            .order_by(labels.c.name, labels.c.id)
        )
        return _dicts(("id", "name", "color"), await conn.execute(stmt))

    async def count_tasks(self, conn: AsyncConnection, user_id: uuid.UUID) -> int:
        t = tasks
        stmt = (
            sa.select(sa.func.count())
            .select_from(t)
            .where(t.c.project_id.in_(visible_projects(user_id)), t.c.deleted_at.is_(None))
        )
        return int((await conn.execute(stmt)).scalar_one())

    async def tasks(
        self,
        conn: AsyncConnection,
        project_id: uuid.UUID,
        after: tuple[datetime, uuid.UUID] | None,
    ) -> list[dict[str, Any]]:
        """A page of the project's live tasks, oldest first (the index lists serve from)."""
        t = tasks
        stmt = sa.select(*_TASK_COLUMNS).where(
            t.c.project_id == project_id, t.c.deleted_at.is_(None)
        )
        if after is not None:
            at, last_id = after
            stmt = stmt.where(
                sa.or_(t.c.created_at > at, sa.and_(t.c.created_at == at, t.c.id > last_id))
            )
        stmt = stmt.order_by(t.c.created_at, t.c.id).limit(BATCH)
        return _dicts(TASK_COLUMNS, await conn.execute(stmt))

    async def label_ids(
        self, conn: AsyncConnection, user_id: uuid.UUID, task_ids: Sequence[uuid.UUID]
    ) -> dict[str, list[str]]:
        """The user's labels on each of the tasks (ids as text, sorted)."""
        tl, lb = task_labels, labels
        stmt = (
            sa.select(tl.c.task_id, tl.c.label_id)
            .join(lb, lb.c.id == tl.c.label_id)
            .where(lb.c.owner_id == user_id, tl.c.task_id.in_(task_ids))
        )
        found: dict[str, list[str]] = {}
        for task_id, label_id in await conn.execute(stmt):
            found.setdefault(str(task_id), []).append(str(label_id))
        for ids in found.values():
            ids.sort()
        return found

    async def comments(
        self,
        conn: AsyncConnection,
        task_ids: Sequence[uuid.UUID],
        after: tuple[uuid.UUID, datetime, uuid.UUID] | None,
    ) -> list[dict[str, Any]]:
        """A page of the comments on these tasks, by task, oldest first (their index)."""
        c = comments
        stmt = sa.select(*_COMMENT_COLUMNS).where(c.c.task_id.in_(task_ids))
        if after is not None:
            task_id, at, last_id = after
            stmt = stmt.where(
                sa.or_(
                    c.c.task_id > task_id,
                    sa.and_(c.c.task_id == task_id, c.c.created_at > at),
                    sa.and_(c.c.task_id == task_id, c.c.created_at == at, c.c.id > last_id),
                )
            )
        stmt = stmt.order_by(c.c.task_id, c.c.created_at, c.c.id).limit(BATCH)
        return _dicts(COMMENT_FIELDS, await conn.execute(stmt))

    async def reminders(
        self, conn: AsyncConnection, user_id: uuid.UUID, task_ids: Sequence[uuid.UUID]
    ) -> list[dict[str, Any]]:
        """The user's reminders on these tasks (at most reminders_max_per_task each)."""
        r = reminders
        stmt = (
            sa.select(*_REMINDER_COLUMNS)
            .where(r.c.user_id == user_id, r.c.task_id.in_(task_ids))
            .order_by(r.c.task_id, r.c.remind_at, r.c.id)
        )
        return _dicts(REMINDER_FIELDS, await conn.execute(stmt))

    # Import

    async def lock_user(self, conn: AsyncConnection, user_id: uuid.UUID) -> None:
        """Hold the user's row (as label changes do, labels/service.py) so that a concurrent
        label creation or import cannot add a name this import is about to add, or pass a
        limit it counted. SQLite's BEGIN IMMEDIATE already serialises writers."""
        if conn.dialect.name != "sqlite":
            await conn.execute(
                sa.select(users.c.id).where(users.c.id == user_id).with_for_update(key_share=True)
            )

    async def count_memberships(self, conn: AsyncConnection, user_id: uuid.UUID) -> int:
        m = project_members
        stmt = sa.select(sa.func.count()).select_from(m).where(m.c.user_id == user_id)
        return int((await conn.execute(stmt)).scalar_one())

    async def last_member_position(self, conn: AsyncConnection, user_id: uuid.UUID) -> float:
        m = project_members
        stmt = sa.select(sa.func.coalesce(sa.func.max(m.c.position), 0.0)).where(
            m.c.user_id == user_id
        )
        return float((await conn.execute(stmt)).scalar_one())

    async def section_count_and_last(
        self, conn: AsyncConnection, project_id: uuid.UUID
    ) -> tuple[int, float]:
        s = sections
        stmt = sa.select(sa.func.count(), sa.func.coalesce(sa.func.max(s.c.position), 0.0)).where(
            s.c.project_id == project_id
        )
        count, last = (await conn.execute(stmt)).one()
        return int(count), float(last)

    async def last_task_position(self, conn: AsyncConnection, project_id: uuid.UUID) -> float:
        t = tasks
        stmt = sa.select(sa.func.coalesce(sa.func.max(t.c.position), 0.0)).where(
            t.c.project_id == project_id, t.c.deleted_at.is_(None)
        )
        return float((await conn.execute(stmt)).scalar_one())

    async def label_names(self, conn: AsyncConnection, user_id: uuid.UUID) -> dict[str, uuid.UUID]:
        """The user's labels by name as compared (casefolded, as labels/service.py does)."""
        stmt = sa.select(labels.c.id, labels.c.name).where(labels.c.owner_id == user_id)
        return {name.casefold(): label_id for label_id, name in await conn.execute(stmt)}

    async def time_zone(self, conn: AsyncConnection, user_id: uuid.UUID) -> str:
        stmt = sa.select(users.c.time_zone).where(users.c.id == user_id)
        return str((await conn.execute(stmt)).scalar_one())

    async def link_occurrences(
        self, conn: AsyncConnection, links: Sequence[tuple[uuid.UUID, uuid.UUID]]
    ) -> None:
        """Set (task, next occurrence) pairs: after both rows exist."""
        t = tasks
        stmt = (
            sa.update(t)
            .where(t.c.id == sa.bindparam("task"))
            .values(next_occurrence_id=sa.bindparam("next"))
        )
        for start in range(0, len(links), BATCH):
            chunk = links[start : start + BATCH]
            await conn.execute(stmt, [{"task": task, "next": nxt} for task, nxt in chunk])

    async def insert(
        self, conn: AsyncConnection, table: sa.Table, rows: Sequence[Mapping[str, Any]]
    ) -> None:
        for start in range(0, len(rows), BATCH):
            await conn.execute(sa.insert(table), list(rows[start : start + BATCH]))
