"""SQL for projects, members and sections (SQLAlchemy Core, on the connection given)."""

from __future__ import annotations

import builtins
import uuid
from collections.abc import Sequence
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from taskwell.projects.models import project_members, projects, sections
from taskwell.reminders.models import reminders
from taskwell.tasks.models import tasks
from taskwell.users.models import users

PROJECT_FIELDS = (
    "id",
    "name",
    "color",
    "is_inbox",
    "role",
    "position",
    "archived",
    "member_count",
    "owner_id",
    "version",
    "created_at",
    "updated_at",
)
SECTION_FIELDS = ("id", "project_id", "name", "position", "version", "created_at", "updated_at")
MEMBER_FIELDS = ("user_id", "email", "display_name", "role", "joined_at")


def _project_select(user_id: uuid.UUID) -> sa.Select[Any]:
    p, m = projects, project_members
    count = (
        sa.select(sa.func.count())
        .select_from(m.alias("all_members"))
        .where(sa.literal_column("all_members.project_id") == p.c.id)
        .scalar_subquery()
    )
    return (
        sa.select(
            p.c.id,
            p.c.name,
            p.c.color,
            p.c.is_inbox,
            m.c.role,
            m.c.position,
            p.c.archived_at.is_not(None).label("archived"),
            count.label("member_count"),
            p.c.owner_id,
            p.c.version,
            p.c.created_at,
            p.c.updated_at,
        )
        .join(m, sa.and_(m.c.project_id == p.c.id, m.c.user_id == user_id))
        .where(p.c.deleted_at.is_(None))
    )


def project_dict(row: Sequence[Any]) -> dict[str, Any]:
    item = dict(zip(PROJECT_FIELDS, row, strict=True))
    item["archived"] = bool(item["archived"])
    item["is_inbox"] = bool(item["is_inbox"])
    item["position"] = float(item["position"])
    return item


class ProjectRepository:
    async def list(
        self, conn: AsyncConnection, user_id: uuid.UUID, *, archived: bool
    ) -> builtins.list[dict[str, Any]]:
        p, m = projects, project_members
        stmt = _project_select(user_id).where(
            p.c.archived_at.is_not(None) if archived else p.c.archived_at.is_(None)
        )
        stmt = stmt.order_by(p.c.is_inbox.desc(), m.c.position, p.c.created_at, p.c.id)
        return [project_dict(row) for row in await conn.execute(stmt)]

    async def get(
        self, conn: AsyncConnection, user_id: uuid.UUID, project_id: uuid.UUID
    ) -> dict[str, Any] | None:
        row = (
            await conn.execute(_project_select(user_id).where(projects.c.id == project_id))
        ).first()
        return None if row is None else project_dict(row)

    async def count_memberships(self, conn: AsyncConnection, user_id: uuid.UUID) -> int:
        m = project_members
        stmt = sa.select(sa.func.count()).select_from(m).where(m.c.user_id == user_id)
        return int((await conn.execute(stmt)).scalar_one())

    async def next_member_position(self, conn: AsyncConnection, user_id: uuid.UUID) -> float:
        m = project_members
        stmt = sa.select(sa.func.coalesce(sa.func.max(m.c.position), 0.0) + 1024.0).where(
            m.c.user_id == user_id
        )
        return float((await conn.execute(stmt)).scalar_one())

    async def insert(
        self,
        conn: AsyncConnection,
        *,
        owner_id: uuid.UUID,
        name: str,
        color: str | None,
        position: float,
        is_inbox: bool,
        now: datetime,
    ) -> uuid.UUID:
        project_id = uuid.uuid4()
        await conn.execute(
            sa.insert(projects).values(
                id=project_id,
                owner_id=owner_id,
                name=name,
                color=color,
                is_inbox=is_inbox,
                version=1,
                created_at=now,
                updated_at=now,
            )
        )
        await self.add_member(conn, project_id, owner_id, "owner", position, now)
        return project_id

    async def update(
        self,
        conn: AsyncConnection,
        project_id: uuid.UUID,
        values: dict[str, Any],
        expected_versions: frozenset[int] | None,
        now: datetime,
    ) -> bool:
        p = projects
        stmt = (
            sa.update(p)
            .where(p.c.id == project_id, p.c.deleted_at.is_(None))
            .values(**values, version=p.c.version + 1, updated_at=now)
        )
        if expected_versions is not None:
            stmt = stmt.where(p.c.version.in_(sorted(expected_versions)))
        return bool((await conn.execute(stmt)).rowcount)

    async def version(self, conn: AsyncConnection, project_id: uuid.UUID) -> int:
        stmt = sa.select(projects.c.version).where(projects.c.id == project_id)
        return int((await conn.execute(stmt)).scalar_one())

    async def set_position(
        self, conn: AsyncConnection, project_id: uuid.UUID, user_id: uuid.UUID, position: float
    ) -> None:
        m = project_members
        await conn.execute(
            sa.update(m)
            .where(m.c.project_id == project_id, m.c.user_id == user_id)
            .values(position=position)
        )

    async def trashed(
        self, conn: AsyncConnection, user_id: uuid.UUID, project_id: uuid.UUID
    ) -> bool:
        """Whether project_id is in the trash and user_id its owner."""
        p = projects
        stmt = sa.select(p.c.id).where(
            p.c.id == project_id, p.c.owner_id == user_id, p.c.deleted_at.is_not(None)
        )
        return (await conn.execute(stmt)).first() is not None

    async def restore(self, conn: AsyncConnection, project_id: uuid.UUID, now: datetime) -> None:
        p = projects
        await conn.execute(
            sa.update(p)
            .where(p.c.id == project_id)
            .values(deleted_at=None, version=p.c.version + 1, updated_at=now)
        )

    async def trash_list(
        self, conn: AsyncConnection, user_id: uuid.UUID
    ) -> builtins.list[dict[str, Any]]:
        p = projects
        stmt = (
            sa.select(p.c.id, p.c.name, p.c.color, p.c.deleted_at)
            .where(p.c.owner_id == user_id, p.c.deleted_at.is_not(None))
            .order_by(p.c.deleted_at.desc(), p.c.id)
        )
        # Plain str keys: SQLAlchemy's own (a str subclass) are not JSON object keys to orjson.
        keys = ("id", "name", "color", "deleted_at")
        return [dict(zip(keys, row, strict=True)) for row in await conn.execute(stmt)]

    async def purge(self, conn: AsyncConnection, before: datetime) -> int:
        result = await conn.execute(sa.delete(projects).where(projects.c.deleted_at < before))
        return int(result.rowcount or 0)

    # Members

    async def members(
        self, conn: AsyncConnection, project_id: uuid.UUID
    ) -> builtins.list[dict[str, Any]]:
        m, u = project_members, users
        stmt = (
            sa.select(m.c.user_id, u.c.email, u.c.display_name, m.c.role, m.c.created_at)
            .join(u, u.c.id == m.c.user_id)
            .where(m.c.project_id == project_id)
            .order_by(
                sa.case((m.c.role == "owner", 0), (m.c.role == "editor", 1), else_=2),
                u.c.email,
            )
        )
        return [dict(zip(MEMBER_FIELDS, row, strict=True)) for row in await conn.execute(stmt)]

    async def member_role(
        self, conn: AsyncConnection, project_id: uuid.UUID, user_id: uuid.UUID
    ) -> str | None:
        m = project_members
        stmt = sa.select(m.c.role).where(m.c.project_id == project_id, m.c.user_id == user_id)
        return (await conn.execute(stmt)).scalar_one_or_none()

    async def count_members(self, conn: AsyncConnection, project_id: uuid.UUID) -> int:
        m = project_members
        stmt = sa.select(sa.func.count()).select_from(m).where(m.c.project_id == project_id)
        return int((await conn.execute(stmt)).scalar_one())

    async def active_user_by_email(self, conn: AsyncConnection, email: str) -> uuid.UUID | None:
        stmt = sa.select(users.c.id).where(users.c.email == email, users.c.is_active)
        return (await conn.execute(stmt)).scalar_one_or_none()

    async def add_member(
        self,
        conn: AsyncConnection,
        project_id: uuid.UUID,
        user_id: uuid.UUID,
        role: str,
        position: float,
        now: datetime,
    ) -> None:
        await conn.execute(
            sa.insert(project_members).values(
                project_id=project_id, user_id=user_id, role=role, position=position, created_at=now
            )
        )

    async def set_role(
        self, conn: AsyncConnection, project_id: uuid.UUID, user_id: uuid.UUID, role: str
    ) -> None:
        m = project_members
        await conn.execute(
            sa.update(m)
            .where(m.c.project_id == project_id, m.c.user_id == user_id)
            .values(role=role)
        )

    async def remove_member(
        self, conn: AsyncConnection, project_id: uuid.UUID, user_id: uuid.UUID, now: datetime
    ) -> builtins.list[uuid.UUID]:
        """The member goes; the ids of the tasks they were assigned there come back."""
        m, t = project_members, tasks
        await conn.execute(sa.delete(m).where(m.c.project_id == project_id, m.c.user_id == user_id))
        # Their reminders on its tasks and their assignments there end with their membership.
        in_project = sa.select(t.c.id).where(t.c.project_id == project_id)
        await conn.execute(
            sa.delete(reminders).where(
                reminders.c.user_id == user_id, reminders.c.task_id.in_(in_project)
            )
        )
        assigned = list(
            (
                await conn.execute(
                    sa.select(t.c.id).where(
                        t.c.project_id == project_id, t.c.assignee_id == user_id
                    )
                )
            ).scalars()
        )
        await conn.execute(
            sa.update(t)
            .where(t.c.project_id == project_id, t.c.assignee_id == user_id)
            .values(assignee_id=None, version=t.c.version + 1, updated_at=now)
        )
        return assigned

    # Sections

    async def sections(
        self, conn: AsyncConnection, project_id: uuid.UUID
    ) -> builtins.list[dict[str, Any]]:
        s = sections
        stmt = (
            sa.select(*(s.c[name] for name in SECTION_FIELDS))
            .where(s.c.project_id == project_id)
            .order_by(s.c.position, s.c.id)
        )
        return [_section(row) for row in await conn.execute(stmt)]

    async def section(
        self, conn: AsyncConnection, project_id: uuid.UUID, section_id: uuid.UUID
    ) -> dict[str, Any] | None:
        s = sections
        stmt = sa.select(*(s.c[name] for name in SECTION_FIELDS)).where(
            s.c.id == section_id, s.c.project_id == project_id
        )
        row = (await conn.execute(stmt)).first()
        return None if row is None else _section(row)

    async def count_sections(self, conn: AsyncConnection, project_id: uuid.UUID) -> int:
        s = sections
        stmt = sa.select(sa.func.count()).select_from(s).where(s.c.project_id == project_id)
        return int((await conn.execute(stmt)).scalar_one())

    async def next_section_position(self, conn: AsyncConnection, project_id: uuid.UUID) -> float:
        s = sections
        stmt = sa.select(sa.func.coalesce(sa.func.max(s.c.position), 0.0) + 1024.0).where(
            s.c.project_id == project_id
        )
        return float((await conn.execute(stmt)).scalar_one())

    async def insert_section(
        self,
        conn: AsyncConnection,
        project_id: uuid.UUID,
        name: str,
        position: float,
        now: datetime,
    ) -> uuid.UUID:
        section_id = uuid.uuid4()
        await conn.execute(
            sa.insert(sections).values(
                id=section_id,
                project_id=project_id,
                name=name,
                position=position,
                version=1,
                created_at=now,
                updated_at=now,
            )
        )
        return section_id

    async def update_section(
        self,
        conn: AsyncConnection,
        section_id: uuid.UUID,
        values: dict[str, Any],
        expected_versions: frozenset[int] | None,
        now: datetime,
    ) -> bool:
        s = sections
        stmt = (
            sa.update(s)
            .where(s.c.id == section_id)
            .values(**values, version=s.c.version + 1, updated_at=now)
        )
        if expected_versions is not None:
            stmt = stmt.where(s.c.version.in_(sorted(expected_versions)))
        return bool((await conn.execute(stmt)).rowcount)

    async def delete_section(
        self,
        conn: AsyncConnection,
        section_id: uuid.UUID,
        expected_versions: frozenset[int] | None,
        now: datetime,
    ) -> builtins.list[uuid.UUID] | None:
        """The ids of the tasks the section held, or None when its version did not match."""
        s, t = sections, tasks
        stmt = sa.delete(s).where(s.c.id == section_id)
        if expected_versions is not None:
            stmt = stmt.where(s.c.version.in_(sorted(expected_versions)))
        # Its tasks stay in the project, out of any section; their versions move on, so a
        # client holding an old copy learns of the change.
        held = list(
            (await conn.execute(sa.select(t.c.id).where(t.c.section_id == section_id))).scalars()
        )
        await conn.execute(
            sa.update(t)
            .where(t.c.section_id == section_id)
            .values(section_id=None, version=t.c.version + 1, updated_at=now)
        )
        return held if (await conn.execute(stmt)).rowcount else None


def _section(row: Sequence[Any]) -> dict[str, Any]:
    item = dict(zip(SECTION_FIELDS, row, strict=True))
    item["position"] = float(item["position"])
    return item
