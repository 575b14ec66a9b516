"""One user's event stream: the change feed, pushed as server-sent events.

An event's id *is* a sync token (GET /sync). On connect the stream syncs from the client's
last id (Last-Event-ID, or `since`) and sends what was missed; then it waits for a wake-up
(events/wakeups.py) or its own poll and syncs again. So a reconnect replays from the feed
itself, without gaps: a change is in the feed before anyone is woken for it, and a stream
moves its token only past what it has sent. A token older than the replay window, or not
ours, gets a `resync` event with a fresh token instead: the client reloads, then follows on.

Events:
  event: changes   id: <token>   data: {"changes": [...as GET /sync...], "token": <token>}
  event: ready     id: <token>   data: {"token": <token>}   (caught up; live from here)
  event: resync    id: <token>   data: {"reason": "expired"|"invalid", "token": <token>}
  : ping                                                     (heartbeat, a comment)
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import AsyncGenerator, AsyncIterator, Awaitable, Callable, Iterator
from contextlib import aclosing, contextmanager
from typing import Any

from taskwell.changes.feed import SyncExpired
from taskwell.changes.service import SyncService
from taskwell.errors import DomainError, InvalidCursor, is_transient_database_error
from taskwell.events.wakeups import Wakeups
from taskwell.http.json_body import dumps
from taskwell.observability.metrics import EVENT_STREAMS
from taskwell.settings import Settings

log = logging.getLogger("taskwell.events")

# After a wake-up whose change may still be held back behind a running transaction (see
# ChangeFeed.watermark_state), look again after these pauses (seconds), until the window has
# passed every transaction that was running at the wake-up.
_FOLLOW_UPS = (0.02, 0.05, 0.1, 0.2, 0.35, 0.55, 0.8)
# The client's reconnection delay (SSE `retry:`), in milliseconds.
RETRY_MS = 2_000


class TooManyStreams(DomainError):
    slug, title, status = "too-many-streams", "Too many open event streams", 429


def sse(event: str | None, data: Any = None, event_id: str | None = None) -> bytes:
    """One server-sent event. Our data is one line of JSON, so one `data:` field."""
    lines = []
    if event_id is not None:
        lines.append(b"id: " + event_id.encode())
    if event is not None:
        lines.append(b"event: " + event.encode())
    if data is not None:
        lines.append(b"data: " + dumps(data))
    return b"\n".join(lines) + b"\n\n"


PING = b": ping\n\n"


class EventStreams:
    """Opens streams within their limits, and runs them."""

    def __init__(self, settings: Settings, sync: SyncService, wakeups: Wakeups) -> None:
        self._sync = sync
        self._wakeups = wakeups
        self._heartbeat = settings.events_heartbeat_seconds
        self._poll = settings.events_poll_seconds
        self._replay = float(settings.events_replay_seconds)
        self._lifetime = settings.events_stream_max_seconds
        self._per_user = settings.events_streams_per_user
        self._max = settings.events_streams_max
        self._page = settings.sync_page_max
        self._open: dict[uuid.UUID, int] = {}
        self._total = 0
        self._stopping = False

    @contextmanager
    def slot(self, user_id: uuid.UUID) -> Iterator[None]:
        """Hold one of this instance's stream slots for the user while the stream runs."""
        if self._total >= self._max:
            raise TooManyStreams(
                "This server has as many event streams open as it takes; retry shortly."
            )
        if self._open.get(user_id, 0) >= self._per_user:
            raise TooManyStreams(
                f"You have {self._per_user} event streams open; close one (one per tab or "
                "device is enough)."
            )
        self._open[user_id] = self._open.get(user_id, 0) + 1
        self._total += 1
        EVENT_STREAMS.inc()
        try:
            yield
        finally:
            self._total -= 1
            EVENT_STREAMS.dec()
            left = self._open[user_id] - 1
            if left:
                self._open[user_id] = left
            else:
                del self._open[user_id]

    def stop_all(self) -> None:
        """The process is shutting down or draining: every stream ends now (clients reconnect,
        to another instance behind a balancer)."""
        self._stopping = True
        self._wakeups.wake_all()

    async def run(
        self,
        user_id: uuid.UUID,
        since: str | None,
        still_allowed: Callable[[], Awaitable[bool]],
        stopping: Callable[[], bool] = lambda: False,
    ) -> AsyncIterator[bytes]:
        """The stream's bytes. `still_allowed` is asked with every heartbeat (the credential
        may have expired or been revoked since the stream began); `stopping`, after every
        wait (the instance is draining).

        The database away for a moment ends the stream: its status line went out long ago,
        so there is no 503 to give, and the client reconnects (after `retry`) from its
        Last-Event-ID, losing nothing."""
        yield f"retry: {RETRY_MS}\n\n".encode()
        try:
            # Closed with this generator (a client that leaves): it stops listening at once.
            async with aclosing(self._follow(user_id, since, still_allowed, stopping)) as chunks:
                async for chunk in chunks:
                    yield chunk
        except Exception as exc:
            if not is_transient_database_error(exc):
                raise
            log.warning(
                "event stream ended: the database is unavailable",
                extra={"error": type(exc).__name__},
            )

    async def _follow(
        self,
        user_id: uuid.UUID,
        since: str | None,
        still_allowed: Callable[[], Awaitable[bool]],
        stopping: Callable[[], bool],
    ) -> AsyncGenerator[bytes]:
        loop = asyncio.get_running_loop()
        started = loop.time()
        # Listen before the first read: a change committed after it wakes us; one before it
        # is in what the read returns.
        with self._wakeups.listen(user_id) as woken:
            cursor = _Cursor(since)
            if since is not None:
                try:
                    async for chunk in self._catch_up(user_id, cursor, max_age=self._replay):
                        yield chunk
                except (SyncExpired, InvalidCursor) as exc:
                    body, _ = await self._sync.page(user_id, None, None)
                    cursor.token = body["token"]
                    reason = "expired" if isinstance(exc, SyncExpired) else "invalid"
                    yield sse("resync", {"reason": reason, "token": cursor.token}, cursor.token)
            else:
                body, _ = await self._sync.page(user_id, None, None)
                cursor.token = body["token"]
            assert cursor.token is not None
            yield sse("ready", {"token": cursor.token}, cursor.token)
            cursor.sent = cursor.token

            now = loop.time()
            beat_at, poll_at = now + self._heartbeat, now + self._poll
            end_at = started + self._lifetime
            follow_ups: list[float] = []
            target = 0
            while True:
                wake_at = min(beat_at, poll_at, end_at, *follow_ups)
                timeout = max(0.0, wake_at - loop.time())
                woke = False
                if timeout > 0:
                    try:
                        await asyncio.wait_for(woken.wait(), timeout)
                        woke = True
                    except TimeoutError:
                        pass
                if self._stopping or stopping():
                    return
                now = loop.time()
                if now >= end_at:
                    return
                if now >= beat_at:
                    if not await still_allowed():
                        return
                    # The id moves the client's Last-Event-ID on even when nothing it may see
                    # changed, so a reconnect after a long quiet stays inside the window.
                    yield (
                        PING
                        if cursor.token == cursor.sent
                        else sse(None, None, cursor.token) + PING
                    )
                    cursor.sent = cursor.token
                    beat_at = now + self._heartbeat
                due = [at for at in follow_ups if at <= now]
                if not (woke or now >= poll_at or due):
                    continue
                woken.clear()
                follow_ups = [at for at in follow_ups if at > now]
                async for chunk in self._catch_up(user_id, cursor):
                    yield chunk
                poll_at = now + self._poll
                if cursor.end >= target:
                    follow_ups = []  # everything running at the wake-up has been looked past
                if woke and cursor.end < cursor.settles_at:
                    target = cursor.settles_at
                    follow_ups = [now + pause for pause in _FOLLOW_UPS]

    async def _catch_up(
        self, user_id: uuid.UUID, cursor: _Cursor, *, max_age: float | None = None
    ) -> AsyncIterator[bytes]:
        """Sync from the cursor's token until nothing more is waiting; one event per page."""
        while True:
            body, window = await self._sync.page(user_id, cursor.token, self._page, max_age=max_age)
            max_age = None
            cursor.token = body["token"]
            cursor.end, cursor.settles_at = window.end, window.settles_at
            if body["changes"]:
                yield sse(
                    "changes", {"changes": body["changes"], "token": cursor.token}, cursor.token
                )
                cursor.sent = cursor.token
            if not body["has_more"]:
                return


class _Cursor:
    __slots__ = ("end", "sent", "settles_at", "token")

    def __init__(self, token: str | None) -> None:
        self.token = token  # where the next sync starts
        self.sent = token  # the last id the client was given
        self.end = self.settles_at = 0
