"""Wake-ups: after a committed change, tell every open event stream of its readers to look.

A wake-up carries no data, only *whose* view changed (user ids, as `TaskService.changed_for`
computes them for every write). The stream then reads what changed from the change feed, so a
lost or duplicated wake-up costs a little latency or one extra read, never a change: each
stream also looks by itself every `TASKWELL_EVENTS_POLL_SECONDS`.

Embedded default: one process, so a dict of waiting streams is enough. With Redis, writes on
any instance (and the worker process) publish on one channel and every instance listens on one
dedicated connection, waking its own local streams. Redis pub/sub delivers to whoever listens
at that moment and keeps nothing, which is all a wake-up needs.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import Awaitable, Callable, Iterable, Iterator
from contextlib import contextmanager, suppress
from typing import TYPE_CHECKING

import orjson

if TYPE_CHECKING:
    from redis.asyncio import Redis

    from taskwell.settings import Settings

log = logging.getLogger("taskwell.events")

CHANNEL = "taskwell:wake"
# Told of every wake-up: the user ids, or None for "anything may have changed".
Observer = Callable[[list[str] | None], None]
# Something that moves whenever any process commits a change (the feed's watermark).
Beacon = Callable[[], Awaitable[object]]
# One message names at most this many users; a bigger change is sent in several.
_BATCH = 1_000
# How long closing waits for the listener to let go of its Redis connection.
_CLOSE_WAIT_SECONDS = 5.0


class Wakeups:
    """In-process: wakes this process's streams. The base of the Redis variant.

    Without Redis, other processes' writes (`serve --workers N`, several instances on one
    PostgreSQL, a separate `taskwell worker`) publish nowhere this process hears. So while
    this process has streams open, a `beacon` (the change feed's watermark) is read every
    `interval` seconds, and when it moves every local stream looks: one small query per
    interval per process, whatever the number of streams."""

    def __init__(self, beacon: Beacon | None = None, interval: float = 0.25) -> None:
        self._waiting: dict[str, set[asyncio.Event]] = {}
        self._observers: list[Observer] = []
        self._beacon = beacon
        self._interval = interval
        self._watcher: asyncio.Task[None] | None = None

    @contextmanager
    def observing(self, observer: Observer) -> Iterator[None]:
        """Call `observer` with the user ids of every wake-up this process hears (its own
        and, with Redis, every process's), or with None after a gap in which some may have
        been missed. The worker follows writes this way."""
        self._observers.append(observer)
        try:
            yield
        finally:
            self._observers.remove(observer)

    @contextmanager
    def listen(self, user_id: uuid.UUID) -> Iterator[asyncio.Event]:
        """An event set whenever `user_id`'s view may have changed; clear it before looking."""
        event = asyncio.Event()
        key = str(user_id)
        self._waiting.setdefault(key, set()).add(event)
        if self._beacon is not None and self._watcher is None:
            self._watcher = asyncio.create_task(self._watch(self._beacon), name="wake-beacon")
        try:
            yield event
        finally:
            events = self._waiting.get(key)
            if events is not None:
                events.discard(event)
                if not events:
                    del self._waiting[key]

    async def publish(self, user_ids: Iterable[uuid.UUID | str]) -> None:
        self.wake(str(user_id) for user_id in user_ids)

    def wake(self, user_ids: Iterable[str]) -> None:
        ids = list(user_ids)
        for user_id in ids:
            for event in self._waiting.get(user_id, ()):
                event.set()
        for observer in self._observers:
            observer(ids)

    def wake_all(self) -> None:
        """Every local stream looks now (after a gap in which wake-ups may have been lost)."""
        self._wake_streams()
        for observer in self._observers:
            observer(None)

    def _wake_streams(self) -> None:
        for events in self._waiting.values():
            for event in events:
                event.set()

    async def _watch(self, beacon: Beacon) -> None:
        last: object = None
        try:
            while self._waiting:
                try:
                    mark = await beacon()
                except Exception:  # the database may be away: streams poll too
                    log.debug("could not read the wake-up beacon", exc_info=True)
                else:
                    if last is not None and mark != last:
                        self._wake_streams()
                    last = mark
                await asyncio.sleep(self._interval)
        finally:
            self._watcher = None

    async def start(self) -> None:
        """Begin receiving other processes' wake-ups (nothing to do in-process)."""

    async def close(self) -> None:
        """Stop receiving."""


class RedisWakeups(Wakeups):
    """Publishes on the app's Redis client; listens on a connection of its own, so a stream
    waiting never holds one of the pool's connections."""

    def __init__(self, redis: Redis, settings: Settings) -> None:
        super().__init__()
        self._redis = redis
        self._url = settings.redis_url
        self._timeout = settings.redis_timeout_seconds
        self._listener: asyncio.Task[None] | None = None

    async def publish(self, user_ids: Iterable[uuid.UUID | str]) -> None:
        ids = [str(user_id) for user_id in user_ids]
        for start in range(0, len(ids), _BATCH):
            try:
                await self._redis.publish(CHANNEL, orjson.dumps(ids[start : start + _BATCH]))
            except Exception:
                log.warning("could not publish a wake-up", exc_info=True)
                # This process's streams at least need not wait for their poll.
                self.wake(ids[start : start + _BATCH])

    async def start(self) -> None:
        if self._listener is None:
            self._listener = asyncio.create_task(self._listen_forever(), name="wakeups")

    async def close(self) -> None:
        if self._listener is not None:
            listener, self._listener = self._listener, None
            listener.cancel()
            # Its clean-up closes a Redis connection; a Redis that stopped answering must not
            # hold the shutdown.
            with suppress(asyncio.CancelledError, TimeoutError):
                await asyncio.wait_for(listener, _CLOSE_WAIT_SECONDS)

    async def _listen_forever(self) -> None:
        from redis.asyncio import Redis

        assert self._url is not None
        backoff = 0.1
        while True:
            client = Redis.from_url(
                self._url,
                socket_connect_timeout=self._timeout,
                socket_keepalive=True,
                health_check_interval=30,
            )
            try:
                async with client.pubsub(ignore_subscribe_messages=True) as pubsub:
                    await pubsub.subscribe(CHANNEL)
                    # Subscribed: anything published while we were away may have been missed.
                    self.wake_all()
                    backoff = 0.1
                    while True:
                        message = await pubsub.get_message(timeout=5.0)
                        if message is not None and message.get("type") == "message":
                            self._dispatch(message["data"])
            except asyncio.CancelledError:
                raise
            except Exception:
                log.warning("wake-up listener lost Redis; reconnecting", exc_info=True)
                await asyncio.sleep(backoff)
                backoff = min(backoff * 2, 5.0)
            finally:
                await client.aclose()

    def _dispatch(self, data: bytes) -> None:
        try:
            ids = orjson.loads(data)
        except orjson.JSONDecodeError:
            return
        if isinstance(ids, list):
            self.wake(str(user_id) for user_id in ids)


def make_wakeups(redis: Redis | None, settings: Settings, beacon: Beacon | None = None) -> Wakeups:
    if redis is not None:
        return RedisWakeups(redis, settings)
    return Wakeups(beacon, settings.events_beacon_seconds)
