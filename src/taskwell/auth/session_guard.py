"""Is this session still alive? One store look-up per session per short interval.

A per-request session look-up costs about a third of the list endpoint's throughput
(../shared/ARCHITECTURE.md), so each process remembers the answer briefly. A logout made in
this process forgets it at once; other processes notice within `session_check_cache_seconds`.
When the session store is unreachable, access tokens that are still valid keep working for
`session_store_grace_seconds` (a session this process knew to be dead stays dead).
"""

from __future__ import annotations

import asyncio
import logging
import math
import time
import uuid
from collections import OrderedDict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from taskwell.auth.session_store import SessionStore
from taskwell.kv.errors import StoreUnavailable
from taskwell.users.repository import UserRepository

log = logging.getLogger("taskwell.auth")


@dataclass(frozen=True, slots=True)
class Principal:
    """Who is calling: a login session (all rights) or an API key (its scopes only)."""

    user_id: uuid.UUID
    session_id: uuid.UUID | None
    is_admin: bool
    scopes: frozenset[str] | None = None  # None: a session, which may do everything
    api_key_id: uuid.UUID | None = None

    def allows(self, scope: str) -> bool:
        return self.scopes is None or scope in self.scopes


_MAX_ENTRIES = 100_000


class SessionGuard:
    def __init__(
        self,
        store: SessionStore,
        users: UserRepository,
        ttl_seconds: float,
        grace_seconds: float,
    ) -> None:
        self._store = store
        self._users = users
        self._ttl = ttl_seconds
        self._grace = grace_seconds
        self._outage_since: float | None = None
        # session id -> (principal or None when dead, monotonic time it was checked)
        self._seen: OrderedDict[uuid.UUID, tuple[Principal | None, float]] = OrderedDict()
        self._loading: dict[uuid.UUID, asyncio.Future[Principal | None]] = {}

    async def principal(
        self, user_id: uuid.UUID, session_id: uuid.UUID, now: datetime
    ) -> Principal | None:
        checked = time.monotonic()
        entry = self._seen.get(session_id)
        if entry is not None and checked - entry[1] < self._ttl:
            found = entry[0]
        else:
            try:
                found = await self._load_once(session_id, now, checked)
            except StoreUnavailable:
                found = self._during_outage(entry, user_id, session_id, checked)
        if found is None or found.user_id != user_id:
            return None
        return found

    def _during_outage(
        self,
        entry: tuple[Principal | None, float] | None,
        user_id: uuid.UUID,
        session_id: uuid.UUID,
        checked: float,
    ) -> Principal | None:
        if self._outage_since is None:
            self._outage_since = checked
            log.warning(
                "session store unavailable; trusting valid access tokens for a grace period"
            )
        if checked - self._outage_since > self._grace:
            raise StoreUnavailable("The session store is unavailable; retry shortly.")
        if entry is not None:
            return entry[0]
        # Signature and expiry were verified; admin rights wait until the store is back.
        return Principal(user_id, session_id, is_admin=False)

    async def _load_once(
        self, session_id: uuid.UUID, now: datetime, checked: float
    ) -> Principal | None:
        """Concurrent requests of one session share one look-up (under load, each would
        otherwise reload it, and the memo would save almost nothing)."""
        running = self._loading.get(session_id)
        if running is not None:
            return await asyncio.shield(running)
        future: asyncio.Future[Principal | None] = asyncio.get_running_loop().create_future()
        self._loading[session_id] = future
        try:
            found = await self._load(session_id, now)
        except BaseException as exc:
            future.set_exception(exc)
            future.exception()  # retrieved: an unshared failure is reported once, by raise
            raise
        finally:
            del self._loading[session_id]
        future.set_result(found)
        self._outage_since = None
        # Stamped with the time the look-up began: a logout racing with it is never hidden
        # for longer than the memo's lifetime.
        self._remember(session_id, found, checked)
        return found

    async def _load(self, session_id: uuid.UUID, now: datetime) -> Principal | None:
        record = await self._store.get(session_id, now)
        if record is None:
            return None
        flags = await self._users.flags(record.user_id)
        if flags is None or not flags.is_active:
            return None
        return Principal(record.user_id, session_id, flags.is_admin)

    def _remember(self, session_id: uuid.UUID, found: Principal | None, checked: float) -> None:
        self._seen[session_id] = (found, checked)
        self._seen.move_to_end(session_id)
        while len(self._seen) > _MAX_ENTRIES:
            self._seen.popitem(last=False)

    def forget(self, session_ids: Iterable[uuid.UUID]) -> None:
        """Stop trusting what this process knew of these sessions (they were just ended here).

        Each is remembered as dead but checked long ago: while the store answers, the next
        request asks it afresh (an id that was not the caller's to end stays alive); while
        it is down, the session counts as ended rather than as unknown, which the grace
        would let through again."""
        for session_id in session_ids:
            self._remember(session_id, None, -math.inf)
