"""Is this session still alive? One database look-up per session per short interval.

A per-request session look-up costs about a third of the list endpoint's throughput
(../shared/ARCHITECTURE.md), so each process remembers the answer briefly. A logout made in
this process forgets it at once; other processes notice within `session_check_cache_seconds`.
"""

from __future__ import annotations

import time
import uuid
from collections import OrderedDict
from collections.abc import Iterable
from dataclasses import dataclass

from taskwell.auth.repository import SessionRepository


@dataclass(frozen=True, slots=True)
class Principal:
    user_id: uuid.UUID
    session_id: uuid.UUID
    is_admin: bool


_MAX_ENTRIES = 100_000


class SessionGuard:
    def __init__(self, sessions: SessionRepository, ttl_seconds: float) -> None:
        self._sessions = sessions
        self._ttl = ttl_seconds
        # session id -> (principal or None when dead, monotonic time it was checked)
        self._seen: OrderedDict[uuid.UUID, tuple[Principal | None, float]] = OrderedDict()

    async def principal(
        self, user_id: uuid.UUID, session_id: uuid.UUID, now_epoch: float
    ) -> Principal | None:
        checked = time.monotonic()
        entry = self._seen.get(session_id)
        if entry is not None and checked - entry[1] < self._ttl:
            found = entry[0]
        else:
            found = await self._load(session_id, now_epoch)
            self._remember(session_id, found, checked)
        if found is None or found.user_id != user_id:
            return None
        return found

    async def _load(self, session_id: uuid.UUID, now_epoch: float) -> Principal | None:
        state = await self._sessions.state(session_id)
        if state is None or state.revoked or not state.user_active:
            return None
        if state.expires_at.timestamp() <= now_epoch:
            return None
        return Principal(state.user_id, session_id, state.is_admin)

    def _remember(self, session_id: uuid.UUID, found: Principal | None, checked: float) -> None:
        self._seen[session_id] = (found, checked)
        self._seen.move_to_end(session_id)
        while len(self._seen) > _MAX_ENTRIES:
            self._seen.popitem(last=False)

    def forget(self, session_ids: Iterable[uuid.UUID]) -> None:
        for session_id in session_ids:
            self._seen.pop(session_id, None)
