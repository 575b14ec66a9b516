"""SQL for users."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection

from taskwell.db.engine import Database
from taskwell.users.models import users


@dataclass(frozen=True, slots=True)
class User:
    id: uuid.UUID
    email: str
    display_name: str
    is_active: bool
    is_admin: bool
    created_at: datetime
    updated_at: datetime


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
