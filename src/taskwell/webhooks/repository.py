"""SQL for webhooks: endpoints, the delivery queue (claimed with leases), the delivery log."""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from taskwell.db.engine import Database
from taskwell.users.models import users
from taskwell.webhooks.models import (
    FAILED,
    PENDING,
    webhook_attempts,
    webhook_deliveries,
    webhook_endpoints,
)

_E, _D, _A = webhook_endpoints, webhook_deliveries, webhook_attempts
# A literal, not a bound value: the planner can then use the partial index (state = 'pending')
# in a generic plan too.
_IS_PENDING = _D.c.state == sa.literal_column(f"'{PENDING}'")
ENDPOINT_FIELDS = (
    "id",
    "user_id",
    "url",
    "description",
    "event_types",
    "enabled",
    "disabled_reason",
    "failure_count",
    "previous_secret_until",
    "created_at",
    "updated_at",
)
DELIVERY_FIELDS = (
    "id",
    "event_type",
    "state",
    "attempts",
    "next_attempt_at",
    "created_at",
    "finished_at",
)
ATTEMPT_FIELDS = ("number", "at", "status_code", "duration_ms", "error", "next_retry_at")


@dataclass(frozen=True, slots=True)
class Endpoint:
    id: uuid.UUID
    user_id: uuid.UUID
    url: str
    description: str
    event_types: tuple[str, ...]
    enabled: bool
    disabled_reason: str | None
    failure_count: int
    previous_secret_until: datetime | None
    created_at: datetime
    updated_at: datetime


@dataclass(frozen=True, slots=True)
class ScanTarget:
    """What the worker needs to turn an endpoint's new changes into deliveries."""

    id: uuid.UUID
    user_id: uuid.UUID
    event_types: tuple[str, ...]
    feed_cursor: str


@dataclass(frozen=True, slots=True)
class Claimed:
    """A delivery a worker holds under its lease, with what it needs to send it."""

    id: uuid.UUID
    endpoint_id: uuid.UUID
    user_id: uuid.UUID
    payload: str
    attempts: int
    lease_id: uuid.UUID
    url: str
    secret_enc: str
    previous_secret_enc: str | None
    previous_secret_until: datetime | None


@dataclass(frozen=True, slots=True)
class Health:
    failure_count: int
    failing_since: datetime | None
    enabled: bool


def _endpoint(row: Sequence[Any]) -> Endpoint:
    values = dict(zip(ENDPOINT_FIELDS, row, strict=True))
    values["event_types"] = tuple(values["event_types"].split())
    return Endpoint(**values)


def _in_flight(now: datetime, key: sa.ColumnElement[Any]) -> sa.Select[Any]:
    """Deliveries claimed and not yet settled (their lease still runs), counted by `key` (an
    endpoint's or an account's id): `key`, `n`."""
    return (
        sa.select(key.label("key"), sa.func.count().label("n"))
        .select_from(_D.join(_E, _E.c.id == _D.c.endpoint_id))
        .where(_IS_PENDING, _D.c.lease_id.is_not(None), _D.c.next_attempt_at > now)
        .group_by(key)
    )


class WebhookRepository:
    def __init__(self, db: Database) -> None:
        self._db = db
        self._pg = db.dialect.name == "postgresql"

    # --- endpoints -------------------------------------------------------------------------

    async def count_for_user(self, conn: AsyncConnection, user_id: uuid.UUID) -> int:
        """For the cap: on PostgreSQL the owner's row is locked first, so two concurrent
        creates count one after the other (SQLite's writers take turns anyway)."""
        if self._pg:
            mine = sa.select(users.c.id).where(users.c.id == user_id)
            await conn.execute(mine.with_for_update(key_share=True))
        found = await conn.execute(
            sa.select(sa.func.count()).select_from(_E).where(_E.c.user_id == user_id)
        )
        return int(found.scalar_one())

    async def insert_endpoint(self, conn: AsyncConnection, row: dict[str, Any]) -> None:
        await conn.execute(sa.insert(_E).values(**row))

    async def endpoints_of(self, conn: AsyncConnection, user_id: uuid.UUID) -> list[Endpoint]:
        rows = await conn.execute(
            sa.select(*(_E.c[name] for name in ENDPOINT_FIELDS))
            .where(_E.c.user_id == user_id)
            .order_by(_E.c.created_at, _E.c.id)
        )
        return [_endpoint(row) for row in rows]

    async def endpoint(
        self, conn: AsyncConnection, user_id: uuid.UUID, endpoint_id: uuid.UUID
    ) -> Endpoint | None:
        row = (
            await conn.execute(
                sa.select(*(_E.c[name] for name in ENDPOINT_FIELDS)).where(
                    _E.c.id == endpoint_id, _E.c.user_id == user_id
                )
            )
        ).first()
        return None if row is None else _endpoint(row)

    async def secrets(
        self, conn: AsyncConnection, endpoint_id: uuid.UUID
    ) -> tuple[str, str | None, datetime | None]:
        row = (
            await conn.execute(
                sa.select(
                    _E.c.secret_enc, _E.c.previous_secret_enc, _E.c.previous_secret_until
                ).where(_E.c.id == endpoint_id)
            )
        ).one()
        return row[0], row[1], row[2]

    async def update_endpoint(
        self, conn: AsyncConnection, endpoint_id: uuid.UUID, values: dict[str, Any]
    ) -> None:
        await conn.execute(sa.update(_E).where(_E.c.id == endpoint_id).values(**values))

    async def abandon_pending(
        self, conn: AsyncConnection, endpoint_id: uuid.UUID, now: datetime
    ) -> None:
        """Give up what is still waiting (an attempt in flight loses its claim, so it cannot
        record an outcome over this)."""
        await conn.execute(
            sa.update(_D)
            .where(_D.c.endpoint_id == endpoint_id, _IS_PENDING)
            .values(state=FAILED, next_attempt_at=None, lease_id=None, finished_at=now)
        )

    async def delete_endpoint(
        self, conn: AsyncConnection, user_id: uuid.UUID, endpoint_id: uuid.UUID
    ) -> bool:
        result = await conn.execute(
            sa.delete(_E).where(_E.c.id == endpoint_id, _E.c.user_id == user_id)
        )
        return bool(result.rowcount)

    async def all_secrets(self) -> list[tuple[uuid.UUID, str, str | None]]:
        async with self._db.engine.connect() as conn:
            rows = await conn.execute(sa.select(_E.c.id, _E.c.secret_enc, _E.c.previous_secret_enc))
            return [(row[0], row[1], row[2]) for row in rows]

    async def replace_secret(
        self, endpoint_id: uuid.UUID, column: str, stored: str, fresh: str
    ) -> bool:
        async with self._db.transaction() as conn:
            result = await conn.execute(
                sa.update(_E)
                .where(_E.c.id == endpoint_id, _E.c[column] == stored)
                .values({column: fresh})
            )
        return bool(result.rowcount)

    # --- the worker's side of endpoints ----------------------------------------------------

    async def scan_targets(self, user_ids: Iterable[uuid.UUID] | None) -> list[ScanTarget]:
        """Enabled endpoints of active accounts (of these owners, or all)."""
        stmt = (
            sa.select(_E.c.id, _E.c.user_id, _E.c.event_types, _E.c.feed_cursor)
            .join(users, users.c.id == _E.c.user_id)
            .where(_E.c.enabled.is_(True), users.c.is_active.is_(True))
        )
        if user_ids is not None:
            owners = list(user_ids)
            if not owners:
                return []
            stmt = stmt.where(_E.c.user_id.in_(owners))
        async with self._db.engine.connect() as conn:
            rows = await conn.execute(stmt)
            return [ScanTarget(row[0], row[1], tuple(row[2].split()), row[3]) for row in rows]

    async def advance_cursor(
        self, conn: AsyncConnection, endpoint_id: uuid.UUID, seen: str, following: str
    ) -> bool:
        """Compare and set: only the worker that read from `seen` moves it on (another that
        read the same changes loses here and writes nothing)."""
        result = await conn.execute(
            sa.update(_E)
            .where(_E.c.id == endpoint_id, _E.c.feed_cursor == seen, _E.c.enabled.is_(True))
            .values(feed_cursor=following)
        )
        return bool(result.rowcount)

    async def note_success(self, conn: AsyncConnection, endpoint_id: uuid.UUID) -> None:
        await conn.execute(
            sa.update(_E)
            .where(_E.c.id == endpoint_id, _E.c.failure_count > 0)
            .values(failure_count=0, failing_since=None)
        )

    async def note_failure(
        self, conn: AsyncConnection, endpoint_id: uuid.UUID, now: datetime
    ) -> Health | None:
        row = (
            await conn.execute(
                sa.update(_E)
                .where(_E.c.id == endpoint_id)
                .values(
                    failure_count=_E.c.failure_count + 1,
                    failing_since=sa.func.coalesce(_E.c.failing_since, now),
                )
                .returning(_E.c.failure_count, _E.c.failing_since, _E.c.enabled)
            )
        ).first()
        return None if row is None else Health(row[0], row[1], row[2])

    # --- deliveries ------------------------------------------------------------------------

    async def insert_deliveries(self, conn: AsyncConnection, rows: list[dict[str, Any]]) -> None:
        if rows:
            await conn.execute(sa.insert(_D), rows)

    async def claim_due(
        self,
        now: datetime,
        lease_until: datetime,
        lease_id: uuid.UUID,
        limit: int,
        *,
        per_endpoint: int,
        per_account: int,
    ) -> list[Claimed]:
        """Take up to `limit` due deliveries of enabled endpoints of active accounts (a
        disabled account's wait, and go when it is enabled again), at most `per_endpoint` in
        flight per endpoint and `per_account` per account, counting every worker's claims:
        each is due again at `lease_until` unless its outcome is recorded first. PostgreSQL:
        rows another worker is claiming are skipped, not waited for. Two workers cannot both
        fill an endpoint's (or an account's) last slot: each picks its earliest due
        deliveries, the same rows, and of rows picked by both only one claim can lock and
        still find them due. SQLite: writers take turns."""
        busy = _in_flight(now, _D.c.endpoint_id).subquery("busy")
        busy_account = _in_flight(now, _E.c.user_id).subquery("busy_account")
        # Each endpoint's earliest due deliveries, as many as it has slots free, so an
        # endpoint with a long backlog cannot crowd the others out of the batch...
        ranked = (
            sa.select(
                _D.c.id,
                _D.c.next_attempt_at,
                _E.c.user_id,
                sa.func.row_number()
                .over(partition_by=_D.c.endpoint_id, order_by=(_D.c.next_attempt_at, _D.c.id))
                .label("rank"),
                (per_endpoint - sa.func.coalesce(busy.c.n, 0)).label("free"),
            )
            .join(_E, _E.c.id == _D.c.endpoint_id)
            .join(users, users.c.id == _E.c.user_id)
            .outerjoin(busy, busy.c.key == _D.c.endpoint_id)
            .where(
                _IS_PENDING,
                _D.c.next_attempt_at <= now,
                _E.c.enabled.is_(True),
                users.c.is_active.is_(True),
            )
            .subquery("ranked")
        )
        fits = (
            sa.select(ranked.c.id, ranked.c.next_attempt_at, ranked.c.user_id)
            .where(ranked.c.rank <= ranked.c.free)
            .subquery("fits_endpoint")
        )
        # ...and of those, each account's earliest, as many as the account has free: one
        # account's many endpoints (say, ten at one slow host) cannot hold every slot either.
        by_account = (
            sa.select(
                fits.c.id,
                fits.c.next_attempt_at,
                sa.func.row_number()
                .over(partition_by=fits.c.user_id, order_by=(fits.c.next_attempt_at, fits.c.id))
                .label("rank"),
                (per_account - sa.func.coalesce(busy_account.c.n, 0)).label("free"),
            )
            .outerjoin(busy_account, busy_account.c.key == fits.c.user_id)
            .subquery("by_account")
        )
        candidates = (
            sa.select(by_account.c.id)
            .where(by_account.c.rank <= by_account.c.free)
            .order_by(by_account.c.next_attempt_at)
            .limit(limit)
        )
        # Due and pending once more at the lock: a row another worker claimed and committed
        # meanwhile fails this on its new version and is left out.
        pick = (
            sa.select(_D.c.id)
            .where(_D.c.id.in_(candidates), _IS_PENDING, _D.c.next_attempt_at <= now)
            .order_by(_D.c.next_attempt_at)
        )
        if self._pg:
            pick = pick.with_for_update(skip_locked=True)
        async with self._db.transaction() as conn:
            ids = list((await conn.execute(pick)).scalars())
            if not ids:
                return []
            await conn.execute(
                sa.update(_D)
                .where(_D.c.id.in_(ids))
                .values(next_attempt_at=lease_until, lease_id=lease_id)
            )
            rows = await conn.execute(
                sa.select(
                    _D.c.id,
                    _D.c.endpoint_id,
                    _E.c.user_id,
                    _D.c.payload,
                    _D.c.attempts,
                    _D.c.lease_id,
                    _E.c.url,
                    _E.c.secret_enc,
                    _E.c.previous_secret_enc,
                    _E.c.previous_secret_until,
                )
                .join(_E, _E.c.id == _D.c.endpoint_id)
                .where(_D.c.id.in_(ids))
            )
            return [Claimed(**row) for row in rows.mappings()]

    async def next_due(self, now: datetime, per_endpoint: int, per_account: int) -> datetime | None:
        """When the earliest pending delivery of an enabled endpoint is due: for an endpoint
        (and account) with a slot free its earliest due delivery, for one at its limit the
        earliest end of the leases that fill it (an outcome recorded sooner wakes this
        process's worker; the lease's end is when one held by a dead worker comes free)."""
        endpoints = _in_flight(now, _D.c.endpoint_id).subquery("endpoints")
        busy = sa.select(endpoints.c.key).where(endpoints.c.n >= per_endpoint)
        accounts = _in_flight(now, _E.c.user_id).subquery("accounts")
        busy_accounts = sa.select(accounts.c.key).where(accounts.c.n >= per_account)
        async with self._db.engine.connect() as conn:
            found = await conn.execute(
                sa.select(sa.func.min(_D.c.next_attempt_at))
                .join(_E, _E.c.id == _D.c.endpoint_id)
                .join(users, users.c.id == _E.c.user_id)
                .where(
                    _IS_PENDING,
                    _E.c.enabled.is_(True),
                    users.c.is_active.is_(True),
                    sa.or_(
                        sa.and_(_D.c.endpoint_id.not_in(busy), _E.c.user_id.not_in(busy_accounts)),
                        _D.c.lease_id.is_not(None),
                    ),
                )
            )
            value: datetime | None = found.scalar_one_or_none()
            return value

    async def count_attempt(
        self, conn: AsyncConnection, delivery_id: uuid.UUID
    ) -> tuple[int, uuid.UUID | None] | None:
        """One more attempt made; its number, and the lease now on the delivery."""
        row = (
            await conn.execute(
                sa.update(_D)
                .where(_D.c.id == delivery_id)
                .values(attempts=_D.c.attempts + 1)
                .returning(_D.c.attempts, _D.c.lease_id)
            )
        ).first()
        return None if row is None else (int(row[0]), row[1])

    async def settle(
        self, conn: AsyncConnection, delivery_id: uuid.UUID, values: dict[str, Any]
    ) -> None:
        await conn.execute(sa.update(_D).where(_D.c.id == delivery_id).values(**values))

    async def insert_attempt(self, conn: AsyncConnection, row: dict[str, Any]) -> None:
        await conn.execute(sa.insert(_A).values(**row))

    # --- the delivery log ------------------------------------------------------------------

    async def delivery_page(
        self,
        endpoint_id: uuid.UUID,
        after: tuple[datetime, uuid.UUID] | None,
        limit: int,
    ) -> list[dict[str, Any]]:
        """Newest first; after a cursor, those older than its (time, id)."""
        stmt = sa.select(*(_D.c[name] for name in DELIVERY_FIELDS)).where(
            _D.c.endpoint_id == endpoint_id
        )
        if after is not None:
            at, last_id = after
            stmt = stmt.where(
                sa.or_(_D.c.created_at < at, sa.and_(_D.c.created_at == at, _D.c.id < last_id))
            )
        stmt = stmt.order_by(_D.c.created_at.desc(), _D.c.id.desc()).limit(limit)
        async with self._db.engine.connect() as conn:
            rows = [
                dict(zip(DELIVERY_FIELDS, row, strict=True)) for row in await conn.execute(stmt)
            ]
            if rows:
                attempts = await conn.execute(
                    sa.select(_A.c.delivery_id, *(_A.c[name] for name in ATTEMPT_FIELDS))
                    .where(_A.c.delivery_id.in_([row["id"] for row in rows]))
                    .order_by(_A.c.delivery_id, _A.c.number, _A.c.at)
                )
                by_delivery: dict[uuid.UUID, list[dict[str, Any]]] = {}
                for attempt in attempts:
                    by_delivery.setdefault(attempt[0], []).append(
                        dict(zip(ATTEMPT_FIELDS, attempt[1:], strict=True))
                    )
                for row in rows:
                    row["attempt_log"] = by_delivery.get(row["id"], [])
        return rows

    async def purge(self, before: datetime) -> int:
        """Finished deliveries created before the cut-off (their attempts go by cascade)."""
        async with self._db.transaction() as conn:
            result = await conn.execute(
                sa.delete(_D).where(_D.c.created_at < before, _D.c.state != PENDING)
            )
        return int(result.rowcount or 0)
