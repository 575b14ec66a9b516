"""Housekeeping every instance runs now and then: drop what has expired.

Each job is idempotent (a DELETE of rows past a cut-off), so several instances running it at
once is harmless. Failures are logged and retried on the next round, never raised.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import timedelta

from taskwell.auth.session_store_sql import SqlSessionStore
from taskwell.context import AppContext
from taskwell.db import idempotency
from taskwell.db.types import utcnow

log = logging.getLogger("taskwell.maintenance")
# Ended sessions are kept a week after they end, so a replayed refresh token of theirs is
# still recognised (and audited) rather than being merely unknown.
ENDED_SESSION_KEEP = timedelta(days=7)


async def run_once(ctx: AppContext) -> dict[str, int]:
    now = utcnow()
    done: dict[str, int] = {}
    cutoff = idempotency.expiry_cutoff(now, ctx.settings.idempotency_ttl_seconds)
    async with ctx.db.transaction() as conn:
        done["idempotency_keys"] = await idempotency.purge_older_than(conn, cutoff)
    if isinstance(ctx.auth.store, SqlSessionStore):
        done["sessions"] = await ctx.auth.store.purge(now, ENDED_SESSION_KEEP)
    done["audit_events"] = await ctx.audit.purge(ctx.settings.audit_retention_days)
    # Tasks first: a purged project takes its tasks along by cascade anyway.
    done["trashed_tasks"] = await ctx.tasks.purge_trash(now)
    done["trashed_projects"] = await ctx.projects.purge_trash(now)
    done["changes"] = await ctx.sync.purge()
    done["webhook_deliveries"] = await ctx.webhooks.purge_log(now)
    return done


async def run_forever(ctx: AppContext, interval_seconds: float) -> None:
    while True:
        await asyncio.sleep(interval_seconds)
        try:
            removed = await run_once(ctx)
        except Exception:  # a failed round is retried next time; it must not kill the loop
            log.exception("maintenance round failed")
        else:
            if any(removed.values()):
                log.info("maintenance", extra={"removed": removed})
