"""SQL for users."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection

from taskwell.db.engine import Database
from taskwell.users.models import user_avatars, users


@dataclass(frozen=True, slots=True)
class User:
    id: uuid.UUID
    email: str
    display_name: str
    is_active: bool
    is_admin: bool
    created_at: datetime
    updated_at: datetime
    time_zone: str = "UTC"


@dataclass(frozen=True, slots=True)
class Credentials:
    user: User
    password_hash: str


@dataclass(frozen=True, slots=True)
class UserFlags:
    is_active: bool
    is_admin: bool


class EmailAlreadyUsed(Exception):
    """The unique index on users.email refused the row."""


_USER_COLUMNS = (
    users.c.id,
    users.c.email,
    users.c.display_name,
    users.c.is_active,
    users.c.is_admin,
    users.c.created_at,
    users.c.updated_at,
    users.c.time_zone,
)


def _user(row: Any) -> User:
    return User(*row[: len(_USER_COLUMNS)])


class UserRepository:
    def __init__(self, db: Database) -> None:
        self._flags = db.prepare(
            sa.select(users.c.is_active, users.c.is_admin).where(
                users.c.id == sa.bindparam("user_id", type_=sa.Uuid)
            )
        )
        self._db = db

    async def flags(self, user_id: uuid.UUID) -> UserFlags | None:
        """The two flags every session check needs, on the prepared read path."""
        row = await self._db.fetch_one(self._flags, {"user_id": user_id})
        return UserFlags(bool(row[0]), bool(row[1])) if row else None

    async def insert(
        self,
        conn: AsyncConnection,
        *,
        email: str,
        display_name: str,
        password_hash: str,
        is_admin: bool,
        now: datetime,
    ) -> User:
        user_id = uuid.uuid4()
        try:
            async with conn.begin_nested():
                await conn.execute(
                    sa.insert(users).values(
                        id=user_id,
                        email=email,
                        display_name=display_name,
                        password_hash=password_hash,
                        is_active=True,
                        is_admin=is_admin,
                        created_at=now,
                        updated_at=now,
                    )
                )
        except IntegrityError as exc:
            raise EmailAlreadyUsed(email) from exc
        return User(user_id, email, display_name, True, is_admin, now, now)

    async def get(self, conn: AsyncConnection, user_id: uuid.UUID) -> User | None:
        row = (await conn.execute(sa.select(*_USER_COLUMNS).where(users.c.id == user_id))).first()
        return _user(row) if row else None

    async def profile(
        self, conn: AsyncConnection, user_id: uuid.UUID
    ) -> tuple[User, int | None] | None:
        """The user and their avatar's version (None without one), in one round trip."""
        row = (
            await conn.execute(
                sa.select(*_USER_COLUMNS, _AVATAR_VERSION)
                .select_from(users.outerjoin(user_avatars, user_avatars.c.user_id == users.c.id))
                .where(users.c.id == user_id)
            )
        ).first()
        return (_user(row), row[-1]) if row else None

    async def credentials_by_email(self, conn: AsyncConnection, email: str) -> Credentials | None:
        row = (
            await conn.execute(
                sa.select(*_USER_COLUMNS, users.c.password_hash).where(users.c.email == email)
            )
        ).first()
        return Credentials(_user(row), row.password_hash) if row else None

    async def credentials_by_id(
        self, conn: AsyncConnection, user_id: uuid.UUID
    ) -> Credentials | None:
        row = (
            await conn.execute(
                sa.select(*_USER_COLUMNS, users.c.password_hash).where(users.c.id == user_id)
            )
        ).first()
        return Credentials(_user(row), row.password_hash) if row else None

    async def update(
        self, conn: AsyncConnection, user_id: uuid.UUID, now: datetime, **values: Any
    ) -> User | None:
        try:
            async with conn.begin_nested():
                row = (
                    await conn.execute(
                        sa.update(users)
                        .where(users.c.id == user_id)
                        .values(**values, updated_at=now)
                        .returning(*_USER_COLUMNS)
                    )
                ).first()
        except IntegrityError as exc:
            raise EmailAlreadyUsed(str(values.get("email", ""))) from exc
        return _user(row) if row else None


# The version of an avatar that has images; NULL for none, or one that was removed.
_AVATAR_VERSION = sa.case(
    (user_avatars.c.image_1x.is_not(None), user_avatars.c.version), else_=sa.null()
).label("avatar_version")
_A = user_avatars


class AvatarRepository:
    async def store(
        self,
        conn: AsyncConnection,
        user_id: uuid.UUID,
        *,
        image_1x: bytes,
        image_2x: bytes,
        now: datetime,
    ) -> int:
        """Put the user's avatar images, one version up; returns the new version."""
        insert = sqlite_insert(_A) if conn.dialect.name == "sqlite" else postgresql_insert(_A)
        statement = insert.values(
            user_id=user_id, version=1, image_1x=image_1x, image_2x=image_2x, updated_at=now
        )
        upsert = statement.on_conflict_do_update(
            index_elements=[_A.c.user_id],
            set_={
                "version": _A.c.version + 1,
                "image_1x": statement.excluded.image_1x,
                "image_2x": statement.excluded.image_2x,
                "updated_at": statement.excluded.updated_at,
            },
        ).returning(_A.c.version)
        return int((await conn.execute(upsert)).scalar_one())

    async def clear(self, conn: AsyncConnection, user_id: uuid.UUID, now: datetime) -> int | None:
        """Remove the images (the row and its version stay); the new version, or None when
        there was no avatar."""
        version = (
            await conn.execute(
                sa.update(_A)
                .where(_A.c.user_id == user_id, _A.c.image_1x.is_not(None))
                .values(version=_A.c.version + 1, image_1x=None, image_2x=None, updated_at=now)
                .returning(_A.c.version)
            )
        ).scalar_one_or_none()
        return None if version is None else int(version)

    async def image(
        self, conn: AsyncConnection, user_id: uuid.UUID, *, large: bool
    ) -> tuple[bytes, int] | None:
        """One size of the user's avatar and its version, or None without an avatar."""
        column = _A.c.image_2x if large else _A.c.image_1x
        row = (
            await conn.execute(
                sa.select(column, _A.c.version).where(_A.c.user_id == user_id, column.is_not(None))
            )
        ).first()
        return (bytes(row[0]), int(row[1])) if row else None
