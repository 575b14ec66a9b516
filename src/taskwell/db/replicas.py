"""Read replicas: which reads may use one, which one, and when a replica must be skipped.

Reads that name a reader (Database.fetch(..., reader=user)) may be served by a streaming replica;
everything else, and every read inside a write, stays on the primary. Read-your-writes: a write
made for a reader (Database.transaction(reader=user)) notes the primary's WAL position after its
commit as that reader's *write mark*, shared by every instance through Redis (in-process without
it). A replica serves the reader only once it has replayed past the mark. Marks expire once any
usable replica must have replayed them anyway (max lag + two check intervals), so a reader who
has not written lately costs one mark look-up and nothing else.

Each instance checks every replica every TASKWELL_DB_REPLICA_CHECK_INTERVAL_SECONDS on a
connection of its own (so a busy pool cannot make a healthy replica look dead): how far it has
replayed, compared with where the primary's WAL was at earlier checks. That gives its lag. A
replica that does not answer, is no longer in recovery (promoted), lags past
TASKWELL_DB_REPLICA_MAX_LAG_SECONDS, or whose last check is stale is skipped, and a read that
fails on a replica is answered from the primary; both are retried at the next check. See
docs/scaling.md.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import logging
import math
import time
from collections import OrderedDict, deque
from collections.abc import Sequence
from typing import TYPE_CHECKING, Protocol

import asyncpg
import sqlalchemy as sa

from taskwell.db.read_pool import ReadPool
from taskwell.kv.errors import StoreUnavailable
from taskwell.observability.metrics import DB_REPLICA_LAG, DB_REPLICA_ROUTING, DB_REPLICA_UP

if TYPE_CHECKING:
    from redis.asyncio import Redis

log = logging.getLogger("taskwell.db.replicas")

# A mark that cannot be compared with any replay position: the reader reads from the primary
# until it expires (used when the primary's WAL position could not be read after a write).
PRIMARY_ONLY = 2**63 - 1
_ROUTED = {
    outcome: DB_REPLICA_ROUTING.labels(outcome)
    for outcome in ("replica", "behind", "unavailable", "error")
}


def parse_lsn(text: str) -> int:
    """PostgreSQL's textual WAL position "16/B374D848" as one integer."""
    high, _, low = text.partition("/")
    return (int(high, 16) << 32) | int(low, 16)


def describe(url: sa.URL) -> str:
    """A replica's name in logs and metrics: host:port/database, never credentials."""
    return f"{url.host or 'localhost'}:{url.port or 5432}/{url.database or ''}"


class WriteMarks(Protocol):
    async def get(self, reader: str) -> int | None:
        """The reader's newest write mark, or None when it has none that still matters."""

    async def raise_to(self, reader: str, lsn: int, ttl_seconds: float) -> None:
        """Keep the larger of the stored mark and lsn, for ttl_seconds from now."""


class MemoryWriteMarks:
    """One instance's marks (the embedded default, or replicas without Redis): bounded LRU."""

    def __init__(self, max_readers: int = 100_000) -> None:
        self._max = max_readers
        self._marks: OrderedDict[str, tuple[int, float]] = OrderedDict()

    async def get(self, reader: str) -> int | None:
        found = self._marks.get(reader)
        if found is None or found[1] <= time.monotonic():
            return None
        return found[0]

    async def raise_to(self, reader: str, lsn: int, ttl_seconds: float) -> None:
        current = await self.get(reader)
        self._marks[reader] = (max(lsn, current or 0), time.monotonic() + ttl_seconds)
        self._marks.move_to_end(reader)
        while len(self._marks) > self._max:
            self._marks.popitem(last=False)


# KEYS[1] the mark; ARGV[1] the new position, ARGV[2] its lifetime in ms. Never lowers a mark
# (two instances writing for one reader), always renews its lifetime.
_RAISE = """
local current = tonumber(redis.call('GET', KEYS[1]) or '0')
if tonumber(ARGV[1]) > current then
  redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
else
  redis.call('PEXPIRE', KEYS[1], ARGV[2])
end
return 1
"""


class RedisWriteMarks:
    """Marks every instance sees. Redis unreachable: reads go to the primary (never stale)."""

    def __init__(self, redis: Redis) -> None:
        self._redis = redis
        self._raise = redis.register_script(_RAISE)

    @staticmethod
    def _key(reader: str) -> str:
        return f"tw:rw:{reader}"

    async def get(self, reader: str) -> int | None:
        try:
            value = await self._redis.get(self._key(reader))
        except Exception as exc:
            raise StoreUnavailable(str(exc)) from exc
        return None if value is None else int(value)

    async def raise_to(self, reader: str, lsn: int, ttl_seconds: float) -> None:
        try:
            await self._raise(keys=[self._key(reader)], args=[lsn, math.ceil(ttl_seconds * 1000)])
        except Exception as exc:
            raise StoreUnavailable(str(exc)) from exc


class CheckConnection:
    """One connection of its own for health checks, reopened when it dies: a busy read pool
    must never make a healthy server look dead (or stall the checks of the others)."""

    def __init__(self, pool: ReadPool) -> None:
        self._pool = pool
        self._connection: asyncpg.Connection | None = None

    async def fetchrow(self, sql: str) -> asyncpg.Record | None:
        """The caller bounds the wait."""
        if self._connection is None or self._connection.is_closed():
            self._connection = await asyncpg.connect(**self._pool.connect_arguments)
        try:
            row: asyncpg.Record | None = await self._connection.fetchrow(sql)
            return row
        except BaseException:
            # Half-done (timed out, cancelled, broken): start afresh next time.
            await self.close()
            raise

    async def close(self) -> None:
        if self._connection is not None:
            connection, self._connection = self._connection, None
            connection.terminate()


class Replica:
    """One replica: its read pool, its own check connection, and what the last check found."""

    def __init__(self, name: str, pool: ReadPool) -> None:
        self.name = name
        self.pool = pool
        self.replayed = -1  # WAL position replayed at the last good check
        self.usable = False
        self.checked_at = -math.inf  # monotonic time of the last good check
        self._checker = CheckConnection(pool)
        self._lag = DB_REPLICA_LAG.labels(name)
        self._up = DB_REPLICA_UP.labels(name)
        self._up.set(0)

    async def replay_position(self) -> int | None:
        """Where the replica has replayed to; None when it is not a replica (any more).
        The caller bounds the wait."""
        row = await self._checker.fetchrow(
            "SELECT pg_is_in_recovery(), pg_last_wal_replay_lsn()::text"
        )
        if row is None or not row[0] or row[1] is None:
            return None
        return parse_lsn(row[1])

    def record(self, replayed: int, lag: float, usable: bool, now: float) -> None:
        """A good check: how far it has replayed, its lag, and whether reads may use it."""
        self.replayed = replayed
        if usable and not self.usable:
            log.info("replica usable", extra={"replica": self.name, "lag_seconds": lag})
        elif self.usable and not usable:
            log.warning("replica skipped", extra={"replica": self.name, "lag_seconds": lag})
        self.usable = usable
        self.checked_at = now
        self._lag.set(lag)
        self._up.set(1 if usable else 0)

    def fail(self, reason: str) -> None:
        """Skip until the next good check."""
        if self.usable:
            log.warning("replica skipped", extra={"replica": self.name, "reason": reason})
        self.usable = False
        self._up.set(0)

    async def close(self) -> None:
        await self._checker.close()
        await self.pool.close()


class ReplicaSet:
    """The replicas of one primary, their health checks, and the choice for each read."""

    def __init__(
        self,
        primary: ReadPool,
        replicas: Sequence[Replica],
        marks: WriteMarks,
        *,
        max_lag_seconds: float,
        check_interval_seconds: float,
    ) -> None:
        self._primary = primary
        self._primary_checker = CheckConnection(primary)
        self.replicas = tuple(replicas)
        self._marks = marks
        self._max_lag = max_lag_seconds
        self._interval = check_interval_seconds
        # A replica that takes longer than this to say where it is counts as down.
        self._check_timeout = max(check_interval_seconds, 0.5)
        # After this long, any usable replica has replayed a write (see the module docstring).
        self._mark_ttl = max_lag_seconds + 2 * check_interval_seconds + 1.0
        # (monotonic time, primary WAL position) at each check, oldest first.
        self._history: deque[tuple[float, int]] = deque()
        self._turn = itertools.count()
        self._checks: asyncio.Task[None] | None = None

    def _start(self) -> None:
        if self._checks is None:
            self._checks = asyncio.get_running_loop().create_task(
                self._check_forever(), name="taskwell-replica-checks"
            )

    async def choose(self, reader: str) -> Replica | None:
        """A replica that may serve this reader now, or None: read from the primary."""
        self._start()
        now = time.monotonic()
        fresh_since = now - 3 * self._interval
        candidates = [r for r in self.replicas if r.usable and r.checked_at >= fresh_since]
        if not candidates:
            _ROUTED["unavailable"].inc()
            return None
        try:
            mark = await self._marks.get(reader)
        except StoreUnavailable:
            _ROUTED["unavailable"].inc()
            return None
        if mark is not None:
            candidates = [r for r in candidates if r.replayed >= mark]
            if not candidates:
                _ROUTED["behind"].inc()
                return None
        _ROUTED["replica"].inc()
        return candidates[next(self._turn) % len(candidates)]

    def failed(self, replica: Replica, exc: BaseException) -> None:
        _ROUTED["error"].inc()
        replica.fail(f"{type(exc).__name__}: {exc}")

    async def note_write(self, reader: str) -> None:
        """After a commit made for reader: its next reads must see it."""
        await self.note_writes([reader])

    async def note_writes(self, readers: Sequence[str]) -> None:
        """After a commit these readers can see: the primary's position is read once and
        becomes each one's mark."""
        if not readers:
            return
        try:
            rows = await self._primary.fetch("SELECT pg_current_wal_lsn()::text", (), 2)
            lsn = parse_lsn(rows[0][0])
        except Exception:
            log.warning("WAL position unknown after a write; reader pinned to the primary")
            lsn = PRIMARY_ONLY
        try:
            for reader in readers:
                await self._marks.raise_to(reader, lsn, self._mark_ttl)
        except StoreUnavailable:
            # Reads find the store unreachable too, and use the primary, while it lasts.
            log.warning("write mark not stored: the store is unreachable")

    async def check(self) -> None:
        """One round: the primary's WAL position, then each replica's replay position."""
        try:
            async with asyncio.timeout(self._check_timeout):
                row = await self._primary_checker.fetchrow("SELECT pg_current_wal_lsn()::text")
        except Exception:
            log.warning("replica check skipped: the primary did not answer")
            return
        assert row is not None
        now = time.monotonic()
        self._history.append((now, parse_lsn(row[0])))
        keep_since = now - self._max_lag - 2 * self._interval
        while len(self._history) > 2 and self._history[1][0] < keep_since:
            self._history.popleft()
        await asyncio.gather(*(self._check_one(r) for r in self.replicas))

    async def _check_one(self, replica: Replica) -> None:
        try:
            async with asyncio.timeout(self._check_timeout):
                replayed = await replica.replay_position()
        except Exception as exc:
            replica.fail(f"check failed: {type(exc).__name__}: {exc}")
            return
        now = time.monotonic()
        if replayed is None:
            replica.fail("not in recovery: it is no replica (promoted?)")
            return
        lag = self.lag(replayed, now)
        replica.record(replayed, lag, lag <= self._max_lag, now)

    def lag(self, replayed: int, now: float) -> float:
        """Seconds since the newest primary position the replica has replayed was current."""
        for seen_at, position in reversed(self._history):
            if position <= replayed:
                return 0.0 if seen_at == self._history[-1][0] else now - seen_at
        oldest = self._history[0][0] if self._history else now
        return max(now - oldest, self._max_lag + self._interval)

    async def _check_forever(self) -> None:
        while True:
            try:
                await self.check()
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("replica check failed")
            await asyncio.sleep(self._interval)

    async def close(self) -> None:
        if self._checks is not None:
            self._checks.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._checks
            self._checks = None
        await self._primary_checker.close()
        for replica in self.replicas:
            await replica.close()


def replica_names(urls: Sequence[str]) -> list[tuple[sa.URL, str]]:
    """Each replica URL (as asyncpg URLs) with its name."""
    parsed = []
    for raw in urls:
        url = sa.make_url(raw)
        if url.drivername == "postgresql":
            url = url.set(drivername="postgresql+asyncpg")
        parsed.append((url, describe(url)))
    return parsed
