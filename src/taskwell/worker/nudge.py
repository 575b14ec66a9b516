"""What wakes an idle worker early: whose changes to look at, or "look at everything".

The database stays the queue of record (deliveries, reminders and the change feed are rows
written in their writers' transactions); a nudge only saves the wait. So losing one costs a
little latency, never a delivery: the worker also looks by itself every poll interval.

A worker hears every wake-up its process hears (events/wakeups.py, the same that wakes event
streams): in-process on the embedded default, and with Redis every wake-up any process
publishes after a write, so separate `taskwell worker` processes react to writes at once
without polling tightly. Plus pokes from this process (the webhook routes, the worker's own
finished deliveries).
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Awaitable, Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

from taskwell.events.wakeups import Wakeups


@dataclass
class Dirty:
    """Owners whose endpoints may have new changes, or every endpoint (`sweep`)."""

    users: set[uuid.UUID] = field(default_factory=set)
    sweep: bool = False


class Nudges:
    """Pokes gathered for a worker; while no worker listens (an API-only process), none are
    kept."""

    def __init__(self) -> None:
        self._event = asyncio.Event()
        self._dirty = Dirty()
        self._listening = False

    @contextmanager
    def listening(self, wakeups: Wakeups) -> Iterator[None]:
        """While a worker runs: gather pokes, and every wake-up `wakeups` hears."""
        self._listening = True
        try:
            with wakeups.observing(self._heard):
                yield
        finally:
            self._listening = False
            self._dirty = Dirty()

    def poke(self, user_ids: Iterable[uuid.UUID | str] = (), *, sweep: bool = False) -> None:
        if not self._listening:
            return
        for user_id in user_ids:
            try:
                self._dirty.users.add(
                    user_id if isinstance(user_id, uuid.UUID) else uuid.UUID(user_id)
                )
            except ValueError:
                continue
        self._dirty.sweep = self._dirty.sweep or sweep
        self._event.set()

    def _heard(self, user_ids: list[str] | None) -> None:
        if user_ids is None:  # wake-ups may have been missed: look at everything
            self.poke(sweep=True)
        else:
            self.poke(user_ids)

    async def wait(self, seconds: float) -> Dirty | None:
        """What was poked since the last wait, or None if nothing was within `seconds`."""
        if not self._event.is_set():
            try:
                async with asyncio.timeout(max(seconds, 0.0)):
                    await self._event.wait()
            except TimeoutError:
                return None
        self._event.clear()
        dirty, self._dirty = self._dirty, Dirty()
        return dirty


def waker(
    publish: Callable[[Iterable[uuid.UUID]], Awaitable[None]], nudges: Nudges
) -> Callable[[Iterable[uuid.UUID]], Awaitable[None]]:
    """After a webhook change (a test ping queued, an endpoint enabled): this process's worker
    looks at once, and with Redis so do the `taskwell worker` processes."""

    async def wake(user_ids: Iterable[uuid.UUID]) -> None:
        ids = list(user_ids)
        nudges.poke(ids)
        await publish(ids)

    return wake
