"""SQL for login sessions and refresh tokens."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from taskwell.auth.models import auth_sessions, refresh_tokens
from taskwell.db.engine import Database
from taskwell.users.models import users


@dataclass(frozen=True, slots=True)
class SessionState:
    """What an access-token check needs to know about its session."""

    user_id: uuid.UUID
    expires_at: datetime
    revoked: bool
    user_active: bool
    is_admin: bool


@dataclass(frozen=True, slots=True)
class RefreshRecord:
    session_id: uuid.UUID
    used: bool
    user_id: uuid.UUID
    expires_at: datetime
    last_used_at: datetime
    revoked: bool
    user_active: bool


class SessionRepository:
    def __init__(self, db: Database) -> None:
        s, u = auth_sessions, users
        self._state_query = db.prepare(
            sa.select(s.c.user_id, s.c.expires_at, s.c.revoked_at, u.c.is_active, u.c.is_admin)
            .join(u, u.c.id == s.c.user_id)
            .where(s.c.id == sa.bindparam("sid", type_=sa.Uuid))
        )
        self._db = db

    async def state(self, session_id: uuid.UUID) -> SessionState | None:
        row = await self._db.fetch_one(self._state_query, {"sid": session_id})
        if row is None:
            return None
        user_id, expires_at, revoked_at, active, admin = row
        return SessionState(user_id, expires_at, revoked_at is not None, bool(active), bool(admin))

    async def create(
        self,
        conn: AsyncConnection,
        *,
        user_id: uuid.UUID,
        now: datetime,
        expires_at: datetime,
        user_agent: str,
        ip: str,
    ) -> uuid.UUID:
        session_id = uuid.uuid4()
        await conn.execute(
            sa.insert(auth_sessions).values(
                id=session_id,
                user_id=user_id,
                created_at=now,
                last_used_at=now,
                expires_at=expires_at,
                user_agent=user_agent[:512],
                ip=ip[:64],
            )
        )
        return session_id

    async def add_refresh_token(
        self, conn: AsyncConnection, *, session_id: uuid.UUID, token_hash: str, now: datetime
    ) -> None:
        await conn.execute(
            sa.insert(refresh_tokens).values(
                token_hash=token_hash, session_id=session_id, created_at=now
            )
        )

    async def find_refresh(self, conn: AsyncConnection, token_hash: str) -> RefreshRecord | None:
        s, r, u = auth_sessions, refresh_tokens, users
        row = (
            await conn.execute(
                sa.select(
                    r.c.session_id,
                    r.c.used_at,
                    s.c.user_id,
                    s.c.expires_at,
                    s.c.last_used_at,
                    s.c.revoked_at,
                    u.c.is_active,
                )
                .join(s, s.c.id == r.c.session_id)
                .join(u, u.c.id == s.c.user_id)
                .where(r.c.token_hash == token_hash)
            )
        ).first()
        if row is None:
            return None
        return RefreshRecord(
            session_id=row.session_id,
            used=row.used_at is not None,
            user_id=row.user_id,
            expires_at=row.expires_at,
            last_used_at=row.last_used_at,
            revoked=row.revoked_at is not None,
            user_active=bool(row.is_active),
        )

    async def spend_refresh(self, conn: AsyncConnection, token_hash: str, now: datetime) -> bool:
        """Mark the token used; False when another request spent it first."""
        r = refresh_tokens
        result = await conn.execute(
            sa.update(r)
            .where(r.c.token_hash == token_hash, r.c.used_at.is_(None))
            .values(used_at=now)
        )
        return result.rowcount == 1

    async def touch(self, conn: AsyncConnection, session_id: uuid.UUID, now: datetime) -> None:
        await conn.execute(
            sa.update(auth_sessions)
            .where(auth_sessions.c.id == session_id)
            .values(last_used_at=now)
        )

    async def revoke(
        self, conn: AsyncConnection, session_id: uuid.UUID, now: datetime, reason: str
    ) -> None:
        s = auth_sessions
        await conn.execute(
            sa.update(s)
            .where(s.c.id == session_id, s.c.revoked_at.is_(None))
            .values(revoked_at=now, revoked_reason=reason)
        )

    async def revoke_all_for_user(
        self,
        conn: AsyncConnection,
        user_id: uuid.UUID,
        now: datetime,
        reason: str,
        *,
        keep: uuid.UUID | None = None,
    ) -> list[uuid.UUID]:
        s = auth_sessions
        condition = sa.and_(s.c.user_id == user_id, s.c.revoked_at.is_(None))
        if keep is not None:
            condition = sa.and_(condition, s.c.id != keep)
        ended = [row.id for row in await conn.execute(sa.select(s.c.id).where(condition))]
        if ended:
            await conn.execute(
                sa.update(s).where(s.c.id.in_(ended)).values(revoked_at=now, revoked_reason=reason)
            )
        return ended
