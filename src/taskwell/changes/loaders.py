"""The current state of changed things, as each feature's API shows it, for one reader.

Read-only views on the features' tables, kept here so the feed needs no feature's internals
beyond its table and its one JSON shape. Whatever the reader cannot see (any more) is left
out, and the sync answers it with a tombstone.
"""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from taskwell.comments.models import comments
from taskwell.comments.schemas import FIELDS as COMMENT_FIELDS
from taskwell.comments.schemas import comment_dict
from taskwell.labels.models import labels
from taskwell.projects.access import visible_projects
from taskwell.projects.models import project_members, projects, sections
from taskwell.projects.repository import SECTION_FIELDS, _project_select, project_dict
from taskwell.reminders.models import reminders
from taskwell.tasks.models import tasks
from taskwell.tasks.repository import task_columns
from taskwell.tasks.schemas import task_dict

Loader = Callable[[AsyncConnection, uuid.UUID, Sequence[uuid.UUID]], Awaitable[dict[str, Any]]]
LABEL_FIELDS = ("id", "name", "color", "version", "created_at", "updated_at")
REMINDER_FIELDS = ("id", "task_id", "remind_at", "title")


def member_of(user_id: uuid.UUID) -> sa.Select[Any]:
    """Projects the user is a member of, in the trash or not: the feed's scope."""
    return sa.select(project_members.c.project_id).where(project_members.c.user_id == user_id)


def make_loaders(dialect: str) -> dict[str, Loader]:
    async def load_tasks(
        conn: AsyncConnection, user_id: uuid.UUID, ids: Sequence[uuid.UUID]
    ) -> dict[str, Any]:
        t = tasks
        stmt = sa.select(*task_columns(t, dialect)).where(
            t.c.id.in_(ids), t.c.deleted_at.is_(None), t.c.project_id.in_(visible_projects(user_id))
        )
        rows = await conn.execute(stmt, {"user_id": user_id})
        return {str(row[0]): task_dict(row) for row in rows}

    async def load_projects(
        conn: AsyncConnection, user_id: uuid.UUID, ids: Sequence[uuid.UUID]
    ) -> dict[str, Any]:
        rows = await conn.execute(_project_select(user_id).where(projects.c.id.in_(ids)))
        return {str(row[0]): project_dict(row) for row in rows}

    async def load_sections(
        conn: AsyncConnection, user_id: uuid.UUID, ids: Sequence[uuid.UUID]
    ) -> dict[str, Any]:
        s = sections
        stmt = sa.select(*(s.c[name] for name in SECTION_FIELDS)).where(
            s.c.id.in_(ids), s.c.project_id.in_(visible_projects(user_id))
        )
        return {
            str(row[0]): dict(zip(SECTION_FIELDS, row, strict=True))
            for row in await conn.execute(stmt)
        }

    async def load_comments(
        conn: AsyncConnection, user_id: uuid.UUID, ids: Sequence[uuid.UUID]
    ) -> dict[str, Any]:
        c, t = comments, tasks
        stmt = (
            sa.select(*(c.c[name] for name in COMMENT_FIELDS))
            .join(t, t.c.id == c.c.task_id)
            .where(
                c.c.id.in_(ids),
                t.c.deleted_at.is_(None),
                t.c.project_id.in_(visible_projects(user_id)),
            )
        )
        return {str(row[0]): comment_dict(row) for row in await conn.execute(stmt)}

    async def load_labels(
        conn: AsyncConnection, user_id: uuid.UUID, ids: Sequence[uuid.UUID]
    ) -> dict[str, Any]:
        lb = labels
        stmt = sa.select(*(lb.c[name] for name in LABEL_FIELDS)).where(
            lb.c.id.in_(ids), lb.c.owner_id == user_id
        )
        return {
            str(row[0]): dict(zip(LABEL_FIELDS, row, strict=True))
            for row in await conn.execute(stmt)
        }

    async def load_reminders(
        conn: AsyncConnection, user_id: uuid.UUID, ids: Sequence[uuid.UUID]
    ) -> dict[str, Any]:
        """A due reminder of the reader's own, while they can still see its task."""
        r, t = reminders, tasks
        stmt = (
            sa.select(r.c.id, r.c.task_id, r.c.remind_at, t.c.title)
            .join(t, t.c.id == r.c.task_id)
            .where(
                r.c.id.in_(ids),
                r.c.user_id == user_id,
                t.c.deleted_at.is_(None),
                t.c.project_id.in_(visible_projects(user_id)),
            )
        )
        return {
            str(row[0]): dict(zip(REMINDER_FIELDS, row, strict=True))
            for row in await conn.execute(stmt)
        }

    return {
        "task": load_tasks,
        "project": load_projects,
        "section": load_sections,
        "comment": load_comments,
        "label": load_labels,
        "reminder": load_reminders,
    }
