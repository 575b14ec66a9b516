"""From the change feed to deliveries: the outbox is the feed itself.

Every write records its change in `changes` in its own transaction, so nothing is lost between
a commit and a delivery. Per endpoint the worker keeps a sync token (`feed_cursor`) and reads
on from it exactly as GET /sync does for the endpoint's owner (same visibility, same states and
tombstones, same watermarks that never skip a change). The deliveries made from one page and
the cursor's move past it are written in one transaction, guarded by compare-and-set on the
cursor: two workers that read the same page cannot both write it.
"""

from __future__ import annotations

import logging
import time
import uuid
from typing import Any

from taskwell.changes.feed import SyncExpired, Token
from taskwell.changes.service import SyncService
from taskwell.db.engine import Database
from taskwell.db.types import utcnow
from taskwell.errors import InvalidCursor
from taskwell.http.json_body import dumps
from taskwell.settings import Settings
from taskwell.webhooks.events import event_of, matches
from taskwell.webhooks.repository import ScanTarget, WebhookRepository
from taskwell.webhooks.service import delivery_row

log = logging.getLogger("taskwell.webhooks")
# An idle endpoint's cursor is rewritten this often, so its token never ages past the feed's
# retention while nothing happens.
_REFRESH_SECONDS = 3_600.0


class Outbox:
    def __init__(
        self, settings: Settings, db: Database, repo: WebhookRepository, sync: SyncService
    ) -> None:
        self._db = db
        self._repo = repo
        self._sync = sync
        self._batch = min(settings.worker_batch_size, settings.sync_page_max)

    async def scan(self, endpoint: ScanTarget) -> bool:
        """Turn the endpoint's next page of changes into deliveries; True if more are waiting."""
        try:
            page = await self._sync.sync(endpoint.user_id, endpoint.feed_cursor, self._batch)
        except SyncExpired:
            # The worker was away longer than the feed is kept: go on from now.
            log.warning("webhook feed cursor expired", extra={"webhook_id": str(endpoint.id)})
            page = await self._sync.sync(endpoint.user_id, None, None)
        if not page["changes"] and not _stale(endpoint.feed_cursor):
            return False  # nothing new: re-reading an empty window later costs one index read
        now = utcnow()
        rows = []
        for change in page["changes"]:
            event_type = event_of(change["entity"], change["op"])
            if event_type is None or not matches(endpoint.event_types, event_type):
                continue
            data: Any = change["data"] if change["op"] == "upsert" else {"id": change["id"]}
            body = dumps({"type": event_type, "timestamp": now, "data": data})
            rows.append(delivery_row(uuid.uuid4(), endpoint.id, event_type, body, now))
        async with self._db.transaction() as conn:
            if not await self._repo.advance_cursor(
                conn, endpoint.id, endpoint.feed_cursor, page["token"]
            ):
                return False  # another worker took this page (or the endpoint went)
            await self._repo.insert_deliveries(conn, rows)
        return bool(page["has_more"])


def _stale(cursor: str) -> bool:
    try:
        issued = Token.decode(cursor).issued
    except InvalidCursor:  # an unreadable cursor is replaced by the next page's
        return True
    return time.time() - issued > _REFRESH_SECONDS
