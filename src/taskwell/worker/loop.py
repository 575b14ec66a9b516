"""The worker loop: due reminders, new changes into webhook deliveries, deliveries sent.

Any number of workers may run (one in each app process on the embedded default, or separate
`taskwell worker` processes at scale): every step claims its rows in the database (leases,
SKIP LOCKED, compare-and-set), so no two workers do the same piece of work at the same time,
and a worker that dies leaves nothing that another one does not pick up.
"""

from __future__ import annotations

import asyncio
import logging
import secrets
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable
from contextlib import asynccontextmanager
from datetime import datetime
from typing import TYPE_CHECKING

from taskwell.db.types import utcnow
from taskwell.events.wakeups import Wakeups
from taskwell.reminders.delivery import ReminderDelivery
from taskwell.webhooks.dispatch import Dispatcher
from taskwell.webhooks.outbox import Outbox
from taskwell.webhooks.repository import Claimed, WebhookRepository
from taskwell.worker.nudge import Dirty, Nudges

if TYPE_CHECKING:
    from taskwell.context import AppContext

log = logging.getLogger("taskwell.worker")
Publish = Callable[[Iterable[uuid.UUID]], Awaitable[None]]
_shuffle = secrets.SystemRandom().shuffle
# The shortest idle wait: rows another worker is claiming this instant are not waited for.
_MIN_WAIT = 0.1


class Worker:
    def __init__(
        self,
        *,
        repo: WebhookRepository,
        outbox: Outbox,
        dispatcher: Dispatcher,
        reminders: ReminderDelivery,
        nudges: Nudges,
        wakeups: Wakeups,
        batch: int,
        concurrency: int,
        poll_seconds: float,
        sweep_seconds: float,
        drain_seconds: float,
    ) -> None:
        self._repo = repo
        self._outbox = outbox
        self._dispatcher = dispatcher
        self._reminders = reminders
        self._nudges = nudges
        self._wakeups = wakeups
        self._publish = wakeups.publish
        self._batch = batch
        self._concurrency = concurrency
        self._poll = poll_seconds
        self._sweep = sweep_seconds
        self._drain = drain_seconds
        self._inflight: set[asyncio.Task[None]] = set()
        self._stopping = False
        self._last_round = time.monotonic()

    @classmethod
    @asynccontextmanager
    async def open(cls, ctx: AppContext) -> AsyncIterator[Worker]:
        """A worker on this app context's pools (its HTTP client closed when done)."""
        from taskwell.audit.service import AuditLog
        from taskwell.changes.feed import ChangeFeed
        from taskwell.crypto import Encryptor
        from taskwell.webhooks.client import DeliveryClient

        settings = ctx.settings
        repo = WebhookRepository(ctx.db)
        client = DeliveryClient(settings, ctx.webhook_guard)
        try:
            yield cls(
                repo=repo,
                outbox=Outbox(settings, ctx.db, repo, ctx.sync),
                dispatcher=Dispatcher(
                    settings,
                    ctx.db,
                    repo,
                    client,
                    Encryptor.from_settings(settings),
                    AuditLog(ctx.db),
                ),
                reminders=ReminderDelivery(ctx.db, ChangeFeed(ctx.db.dialect.name)),
                nudges=ctx.worker_nudges,
                wakeups=ctx.wakeups,
                batch=settings.worker_batch_size,
                concurrency=settings.webhook_concurrency,
                poll_seconds=settings.worker_poll_seconds,
                sweep_seconds=settings.worker_sweep_seconds,
                drain_seconds=settings.webhook_timeout_seconds + 1.0,
            )
        finally:
            await client.close()

    @property
    def dispatcher(self) -> Dispatcher:
        return self._dispatcher

    def alive(self) -> bool:
        """The loop went round lately (it does at least every poll interval when healthy)."""
        return time.monotonic() - self._last_round < 60.0 + 3 * self._poll

    def stop(self) -> None:
        """Finish: claim nothing more, let what is in flight end (run() returns after)."""
        self._stopping = True
        self._nudges.poke()

    async def run(self) -> None:
        with self._nudges.listening(self._wakeups):
            await self._run()

    async def _run(self) -> None:
        log.info("worker started")
        dirty = Dirty(sweep=True)
        last_sweep = time.monotonic()
        try:
            while not self._stopping:
                self._last_round = time.monotonic()
                if dirty.sweep:
                    last_sweep = time.monotonic()
                try:
                    more = await self.tick(dirty)
                    idle = 0.0 if more else await self._idle_seconds()
                except asyncio.CancelledError:
                    raise
                except Exception:
                    # The database may be away for a moment: look again after a poll.
                    log.exception("worker round failed")
                    more, idle = False, self._poll
                if more:
                    await asyncio.sleep(0)
                    continue
                heard = await self._nudges.wait(idle)
                swept_long_ago = time.monotonic() - last_sweep >= self._sweep
                if heard is None:
                    dirty = Dirty(sweep=swept_long_ago)
                else:
                    dirty = heard
                    dirty.sweep = dirty.sweep or swept_long_ago
        finally:
            await self._finish_inflight()
            log.info("worker stopped")

    async def run_until_idle(self, rounds: int = 100) -> None:
        """Work until nothing is due now and nothing is in flight (for tests and drills)."""
        for _ in range(rounds):
            more = await self.tick(Dirty(sweep=True))
            if self._inflight:
                await asyncio.wait(set(self._inflight))
                continue
            if not more:
                return
        raise RuntimeError(f"the worker was still busy after {rounds} rounds")

    async def tick(self, dirty: Dirty) -> bool:
        """One round of everything; True when more is waiting at once."""
        more = False
        # A read first: an idle worker takes no write transaction (on SQLite, the lock).
        if _due(await self._reminders.next_due()):
            told, claimed = await self._reminders.deliver_due(utcnow(), self._batch)
            if told:
                await self._publish(told)
                dirty.users |= told
            more = claimed >= self._batch
        targets = await self._repo.scan_targets(None if dirty.sweep else dirty.users)
        # Several workers sweeping at once meet on fewer endpoints in a random order.
        _shuffle(targets)
        for target in targets:
            if self._stopping:
                break
            more |= await self._outbox.scan(target)
        return await self._dispatch() or more

    async def _dispatch(self) -> bool:
        free = self._concurrency - len(self._inflight)
        if free <= 0 or self._stopping or not _due(await self._dispatcher.next_due()):
            return False
        claimed = await self._dispatcher.claim(free)
        for delivery in claimed:
            task = asyncio.create_task(self._deliver(delivery), name=f"webhook-{delivery.id}")
            self._inflight.add(task)
            task.add_done_callback(self._finished)
        return len(claimed) == free

    async def _deliver(self, delivery: Claimed) -> None:
        try:
            outcome = await self._dispatcher.deliver(delivery)
        except asyncio.CancelledError:
            raise
        except Exception:
            # Not recorded: the lease runs out and the delivery is tried again.
            log.exception("webhook delivery failed", extra={"delivery_id": str(delivery.id)})
            return
        if not outcome.ok:
            log.info(
                "webhook attempt failed",
                extra={
                    "webhook_id": str(delivery.endpoint_id),
                    "delivery_id": str(delivery.id),
                    "status_code": outcome.status_code,
                    "error": outcome.error,
                },
            )

    def _finished(self, task: asyncio.Task[None]) -> None:
        self._inflight.discard(task)
        self._nudges.poke()  # a slot is free: due deliveries may be waiting for it

    async def _idle_seconds(self) -> float:
        """Until the next reminder or delivery is due, at most the poll interval."""
        now = utcnow()
        wait = self._poll
        due = [await self._reminders.next_due()]
        if len(self._inflight) < self._concurrency:
            due.append(await self._dispatcher.next_due())
        for when in due:
            if when is not None:
                wait = min(wait, max((when - now).total_seconds(), _MIN_WAIT))
        return wait

    async def _finish_inflight(self) -> None:
        if not self._inflight:
            return
        _done, pending = await asyncio.wait(set(self._inflight), timeout=self._drain)
        for task in pending:
            task.cancel()  # its lease runs out and another worker sends it again
        if pending:
            await asyncio.wait(pending)


def _due(when: datetime | None) -> bool:
    return when is not None and when <= utcnow()
