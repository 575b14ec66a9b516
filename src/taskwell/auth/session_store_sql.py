"""Sessions in the app's own database: the embedded default, durable across restarts."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from taskwell.auth.models import auth_sessions, refresh_tokens
from taskwell.auth.session_store import Rotation, RotationResult, SessionRecord
from taskwell.db.engine import Database

_S, _R = auth_sessions, refresh_tokens
_RECORD_COLUMNS = (
    _S.c.id,
    _S.c.user_id,
    _S.c.created_at,
    _S.c.last_used_at,
    _S.c.expires_at,
    _S.c.user_agent,
    _S.c.ip,
)


class SqlSessionStore:
    def __init__(self, db: Database) -> None:
        self._db = db
        self._get = db.prepare(
            sa.select(*_RECORD_COLUMNS).where(
                _S.c.id == sa.bindparam("sid", type_=sa.Uuid), _S.c.revoked_at.is_(None)
            )
        )

    async def create(
        self,
        *,
        user_id: uuid.UUID,
        refresh_hash: str,
        now: datetime,
        expires_at: datetime,
        user_agent: str,
        ip: str,
    ) -> uuid.UUID:
        session_id = uuid.uuid4()
        async with self._db.transaction() as conn:
            await conn.execute(
                sa.insert(_S).values(
                    id=session_id,
                    user_id=user_id,
                    created_at=now,
                    last_used_at=now,
                    expires_at=expires_at,
                    user_agent=user_agent[:512],
                    ip=ip[:64],
                )
            )
            await conn.execute(
                sa.insert(_R).values(token_hash=refresh_hash, session_id=session_id, created_at=now)
            )
        return session_id

    async def rotate(
        self, *, old_hash: str, new_hash: str, now: datetime, idle_seconds: int
    ) -> RotationResult:
        async with self._db.transaction() as conn:
            row = (
                await conn.execute(
                    sa.select(
                        _R.c.session_id,
                        _R.c.used_at,
                        _S.c.user_id,
                        _S.c.expires_at,
                        _S.c.last_used_at,
                        _S.c.revoked_at,
                    )
                    .join(_S, _S.c.id == _R.c.session_id)
                    .where(_R.c.token_hash == old_hash)
                )
            ).first()
            if row is None:
                return RotationResult(Rotation.unknown)
            sid, uid = row.session_id, row.user_id
            if row.revoked_at is not None or row.expires_at <= now:
                return RotationResult(Rotation.ended, sid, uid)
            if row.last_used_at + timedelta(seconds=idle_seconds) <= now:
                await self._revoke(conn, sid, now, "idle")
                return RotationResult(Rotation.idle, sid, uid)
            spent = await conn.execute(
                sa.update(_R)
                .where(_R.c.token_hash == old_hash, _R.c.used_at.is_(None))
                .values(used_at=now)
            )
            if row.used_at is not None or spent.rowcount != 1:
                # A spent token came back: someone holds a copy. End the whole family.
                await self._revoke(conn, sid, now, "refresh-reuse")
                return RotationResult(Rotation.reused, sid, uid)
            await conn.execute(sa.update(_S).where(_S.c.id == sid).values(last_used_at=now))
            await conn.execute(
                sa.insert(_R).values(token_hash=new_hash, session_id=sid, created_at=now)
            )
        return RotationResult(Rotation.rotated, sid, uid)

    async def get(self, session_id: uuid.UUID, now: datetime) -> SessionRecord | None:
        row = await self._db.fetch_one(self._get, {"sid": session_id})
        if row is None:
            return None
        record = SessionRecord(*row)
        return record if record.expires_at > now else None

    async def list_for_user(self, user_id: uuid.UUID, now: datetime) -> list[SessionRecord]:
        async with self._db.transaction() as conn:
            rows = await conn.execute(
                sa.select(*_RECORD_COLUMNS)
                .where(_S.c.user_id == user_id, _S.c.revoked_at.is_(None), _S.c.expires_at > now)
                .order_by(_S.c.last_used_at.desc(), _S.c.id)
            )
            return [SessionRecord(*row) for row in rows]

    async def revoke(
        self, session_id: uuid.UUID, *, user_id: uuid.UUID, now: datetime, reason: str
    ) -> bool:
        async with self._db.transaction() as conn:
            result = await conn.execute(
                sa.update(_S)
                .where(_S.c.id == session_id, _S.c.user_id == user_id, _S.c.revoked_at.is_(None))
                .values(revoked_at=now, revoked_reason=reason)
            )
        return bool(result.rowcount)

    async def revoke_all(
        self, user_id: uuid.UUID, *, now: datetime, reason: str, keep: uuid.UUID | None = None
    ) -> list[uuid.UUID]:
        condition = sa.and_(_S.c.user_id == user_id, _S.c.revoked_at.is_(None))
        if keep is not None:
            condition = sa.and_(condition, _S.c.id != keep)
        async with self._db.transaction() as conn:
            ended = [row.id for row in await conn.execute(sa.select(_S.c.id).where(condition))]
            if ended:
                await conn.execute(
                    sa.update(_S)
                    .where(_S.c.id.in_(ended))
                    .values(revoked_at=now, revoked_reason=reason)
                )
        return ended

    async def purge(self, now: datetime, keep_ended_for: timedelta) -> int:
        """Delete sessions that ended more than keep_ended_for ago (and their tokens)."""
        cutoff = now - keep_ended_for
        async with self._db.transaction() as conn:
            result = await conn.execute(
                sa.delete(_S).where(sa.or_(_S.c.expires_at < cutoff, _S.c.revoked_at < cutoff))
            )
        return int(result.rowcount)

    @staticmethod
    async def _revoke(conn: AsyncConnection, sid: uuid.UUID, now: datetime, reason: str) -> None:
        await conn.execute(
            sa.update(_S)
            .where(_S.c.id == sid, _S.c.revoked_at.is_(None))
            .values(revoked_at=now, revoked_reason=reason)
        )
