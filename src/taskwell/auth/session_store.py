"""Login sessions (refresh-token families): the interface and what it deals in.

Two backends implement it: `SqlSessionStore` (the embedded default, durable in the app's own
database) and `RedisSessionStore` (shared by every instance when TASKWELL_REDIS_URL is set).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Protocol


@dataclass(frozen=True, slots=True)
class SessionRecord:
    id: uuid.UUID
    user_id: uuid.UUID
    created_at: datetime
    last_used_at: datetime
    expires_at: datetime
    user_agent: str
    ip: str


class Rotation(StrEnum):
    rotated = "rotated"
    unknown = "unknown"  # no such refresh token
    ended = "ended"  # its session was revoked or is past its absolute lifetime
    reused = "reused"  # the token was already spent: the session is now revoked
    idle = "idle"  # unused past the idle timeout: the session is now revoked


@dataclass(frozen=True, slots=True)
class RotationResult:
    outcome: Rotation
    session_id: uuid.UUID | None = None
    user_id: uuid.UUID | None = None


class SessionStore(Protocol):
    async def create(
        self,
        *,
        user_id: uuid.UUID,
        refresh_hash: str,
        now: datetime,
        expires_at: datetime,
        user_agent: str,
        ip: str,
    ) -> uuid.UUID: ...

    async def rotate(
        self, *, old_hash: str, new_hash: str, now: datetime, idle_seconds: int
    ) -> RotationResult:
        """Spend old_hash and issue new_hash in its session, atomically; reuse revokes."""
        ...

    async def get(self, session_id: uuid.UUID, now: datetime) -> SessionRecord | None:
        """The live session, or None when unknown, revoked or expired."""
        ...

    async def list_for_user(self, user_id: uuid.UUID, now: datetime) -> list[SessionRecord]: ...

    async def revoke(
        self, session_id: uuid.UUID, *, user_id: uuid.UUID, now: datetime, reason: str
    ) -> bool:
        """End one of user_id's sessions; False when it has no such live session."""
        ...

    async def revoke_all(
        self, user_id: uuid.UUID, *, now: datetime, reason: str, keep: uuid.UUID | None = None
    ) -> list[uuid.UUID]: ...
