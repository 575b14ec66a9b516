"""Who may do what: every check of object-level access goes through here.

A user sees a project, and everything in it, when they are a member of it and it is not in
the trash. What they may do there follows from their role (projects/models.py: READ, WRITE,
MANAGE). A project or task the user may not see is answered as not found, never as forbidden,
so ids taken from elsewhere reveal nothing; a visible one the role does not allow changing is
forbidden.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from taskwell.db.engine import Database
from taskwell.errors import NotFound
from taskwell.projects.models import Role, project_members, projects, sections
from taskwell.tasks.errors import RoleTooLow, TaskNotFound
from taskwell.tasks.models import tasks


class ProjectNotFound(NotFound):
    slug, title, status = "project-not-found", "Project not found", 404


@dataclass(frozen=True, slots=True)
class Grant:
    """The caller's role in one project, and that project."""

    project_id: uuid.UUID
    role: Role

    def require(self, allowed: frozenset[Role], what: str) -> Grant:
        if self.role not in allowed:
            raise RoleTooLow(f"As {self.role} of this project you cannot {what}.")
        return self


_USER = sa.bindparam("user_id", type_=sa.Uuid)


def visible_projects(
    user_id: sa.ColumnElement[uuid.UUID] | uuid.UUID,
) -> sa.Select[tuple[uuid.UUID]]:
    """The ids of the live projects user_id is a member of (archived ones included)."""
    return (
        sa.select(project_members.c.project_id)
        .join(projects, projects.c.id == project_members.c.project_id)
        .where(project_members.c.user_id == user_id, projects.c.deleted_at.is_(None))
    )


class ProjectAccess:
    def __init__(self, db: Database) -> None:
        self._db = db
        m, p, t = project_members, projects, tasks
        self._project_role = (
            sa.select(m.c.role)
            .join(p, p.c.id == m.c.project_id)
            .where(
                m.c.user_id == _USER,
                m.c.project_id == sa.bindparam("project_id", type_=sa.Uuid),
                p.c.deleted_at.is_(None),
            )
        )
        self._task_role = (
            sa.select(t.c.project_id, m.c.role)
            .join(p, p.c.id == t.c.project_id)
            .join(m, sa.and_(m.c.project_id == t.c.project_id, m.c.user_id == _USER))
            .where(
                t.c.id == sa.bindparam("task_id", type_=sa.Uuid),
                t.c.deleted_at.is_(None),
                p.c.deleted_at.is_(None),
            )
        )

    async def project(
        self,
        conn: AsyncConnection | None,
        user_id: uuid.UUID,
        project_id: uuid.UUID,
        allowed: frozenset[Role],
        what: str,
    ) -> Grant:
        """The caller's grant on a live project; 404 when they cannot see it, 403 when their
        role does not allow `what`."""
        params = {"user_id": user_id, "project_id": project_id}
        role = await self._scalar(conn, self._project_role, params)
        if role is None:
            raise ProjectNotFound("No project with this id.")
        return Grant(project_id, Role(role)).require(allowed, what)

    async def task(
        self,
        conn: AsyncConnection | None,
        user_id: uuid.UUID,
        task_id: uuid.UUID,
        allowed: frozenset[Role],
        what: str,
    ) -> Grant:
        """The caller's grant on the project of a live task; as for project()."""
        row = await self._row(conn, self._task_role, {"user_id": user_id, "task_id": task_id})
        if row is None:
            raise TaskNotFound("No task with this id.")
        return Grant(row[0], Role(row[1])).require(allowed, what)

    async def lock(self, conn: AsyncConnection, *project_ids: uuid.UUID) -> None:
        """Serialise changes to the shape of these projects (their task trees, their members,
        their settings) until the transaction ends: a check (no cycle, still a member, the
        version If-Match named) then stays true until the write it guards commits.

        FOR NO KEY UPDATE: task inserts and updates still take their foreign-key share locks
        on the project row meanwhile. Several projects are locked in id order, so two moves
        in opposite directions cannot deadlock. SQLite renders no lock: writers take turns.
        """
        for project_id in sorted(set(project_ids), key=str):
            await conn.execute(
                sa.select(projects.c.id)
                .where(projects.c.id == project_id)
                .with_for_update(key_share=True)
            )

    async def inbox(self, conn: AsyncConnection, user_id: uuid.UUID) -> uuid.UUID:
        """The user's Inbox: made at registration, never trashed or given away."""
        found = await conn.execute(
            sa.select(projects.c.id).where(projects.c.owner_id == user_id, projects.c.is_inbox)
        )
        project_id: uuid.UUID | None = found.scalar_one_or_none()
        if project_id is None:  # an account from before the migration that made Inboxes
            raise ProjectNotFound("You have no Inbox; name a project_id.")
        return project_id

    async def section_in(
        self, conn: AsyncConnection, section_id: uuid.UUID, project_id: uuid.UUID
    ) -> bool:
        found = await conn.execute(
            sa.select(sections.c.id).where(
                sections.c.id == section_id, sections.c.project_id == project_id
            )
        )
        return found.first() is not None

    async def members(self, conn: AsyncConnection | None, project_id: uuid.UUID) -> list[uuid.UUID]:
        """Everyone who sees the project: whose caches and feeds a change in it touches."""
        stmt = sa.select(project_members.c.user_id).where(
            project_members.c.project_id == project_id
        )
        if conn is not None:
            return list((await conn.execute(stmt)).scalars())
        async with self._db.engine.connect() as own:
            return list((await own.execute(stmt)).scalars())

    async def _row(
        self,
        conn: AsyncConnection | None,
        stmt: sa.Select[Any],
        params: dict[str, uuid.UUID],
    ) -> Any:
        if conn is not None:
            return (await conn.execute(stmt, params)).first()
        async with self._db.engine.connect() as own:
            return (await own.execute(stmt, params)).first()

    async def _scalar(
        self,
        conn: AsyncConnection | None,
        stmt: sa.Select[Any],
        params: dict[str, uuid.UUID],
    ) -> Any:
        if conn is not None:
            return (await conn.execute(stmt, params)).scalar_one_or_none()
        async with self._db.engine.connect() as own:
            return (await own.execute(stmt, params)).scalar_one_or_none()
