"""GET /sync: every change since a token, as current states and tombstones, and a new token."""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from taskwell.changes.feed import DELETE, ChangeFeed, SyncExpired, Token
from taskwell.changes.loaders import make_loaders, member_of
from taskwell.db.engine import Database
from taskwell.db.pagination import page_size
from taskwell.db.types import utcnow
from taskwell.settings import Settings


@dataclass(frozen=True, slots=True)
class Window:
    """Where an answer's window ends, and where it would end once every transaction running
    at that moment had finished (equal when none was)."""

    end: int
    settles_at: int


class SyncService:
    def __init__(self, settings: Settings, db: Database, feed: ChangeFeed) -> None:
        self._db = db
        self._feed = feed
        self._loaders = make_loaders(db.dialect.name)
        self._retention = timedelta(days=settings.sync_retention_days)
        self._page_default = settings.sync_page_default
        self._page_max = settings.sync_page_max

    async def sync(
        self, user_id: uuid.UUID, since: str | None, limit: int | None
    ) -> dict[str, Any]:
        return (await self.page(user_id, since, limit))[0]

    async def page(
        self,
        user_id: uuid.UUID,
        since: str | None,
        limit: int | None,
        *,
        max_age: float | None = None,
    ) -> tuple[dict[str, Any], Window]:
        """One answer of GET /sync, and its window (see ChangeFeed.watermark_state): while
        `end < settles_at`, a change just committed may come only in a later answer.
        `max_age` (seconds) refuses older tokens, as the retention does."""
        size = page_size(limit, default=self._page_default, maximum=self._page_max)
        now = time.time()
        # The primary: a replica's watermark would be its own, and could be behind.
        async with self._db.engine.connect() as conn:
            if since is None:
                mark, settles = await self._feed.watermark_state(conn)
                body = {"changes": [], "token": Token(mark, now).encode(), "has_more": False}
                return body, Window(mark, settles)
            token = Token.decode(since)
            oldest = self._retention.total_seconds()
            if now - token.issued > (oldest if max_age is None else min(max_age, oldest)):
                raise SyncExpired(
                    "Changes this old are no longer kept; load everything again, then sync "
                    "from the token GET /sync gives without `since`."
                )
            if token.high is not None:
                high = settles = token.high
            else:
                high, settles = await self._feed.watermark_state(conn)
            rows = await self._feed.read(
                conn,
                visible_projects=member_of(user_id),
                user_id=user_id,
                low=token.low,
                high=high,
                after=token.after,
                limit=size + 1,
            )
            has_more = len(rows) > size
            rows = rows[:size]
            # The last row of each thing decides: its current state, or a tombstone.
            latest: dict[tuple[str, uuid.UUID], str] = {}
            for row in rows:
                latest.pop((row.entity, row.entity_id), None)
                latest[(row.entity, row.entity_id)] = row.op
            wanted: dict[str, list[uuid.UUID]] = {}
            for (entity, entity_id), op in latest.items():
                if op != DELETE:
                    wanted.setdefault(entity, []).append(entity_id)
            states: dict[str, dict[str, Any]] = {}
            for entity, ids in wanted.items():
                states[entity] = await self._loaders[entity](conn, user_id, ids)
        out = []
        for (entity, entity_id), _op in latest.items():
            data = states.get(entity, {}).get(str(entity_id))
            if data is None:
                out.append({"entity": entity, "id": entity_id, "op": "delete"})
            else:
                out.append({"entity": entity, "id": entity_id, "op": "upsert", "data": data})
        if has_more:
            last = rows[-1]
            following = Token(token.low, now, (last.key, last.seq), high)
        else:
            following = Token(high, now)
        body = {"changes": out, "token": following.encode(), "has_more": has_more}
        return body, Window(high, settles)

    async def purge(self) -> int:
        """Rows older than the retention, and a day: no valid token needs them."""
        async with self._db.transaction() as conn:
            return await self._feed.purge(conn, utcnow() - self._retention - timedelta(days=1))
