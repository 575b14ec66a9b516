"""Stored responses for Idempotency-Key retries, kept in the same transaction as the write."""

from __future__ import annotations

import hashlib
import re
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import orjson
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from taskwell.db.types import UTCDateTime, metadata
from taskwell.errors import BadRequest, Unprocessable

idempotency_keys = sa.Table(
    "idempotency_keys",
    metadata,
    sa.Column("owner_id", sa.Uuid, sa.ForeignKey("users.id", ondelete="CASCADE"), primary_key=True),
    sa.Column("scope", sa.String(64), primary_key=True),
    sa.Column("key", sa.String(255), primary_key=True),
    sa.Column("request_hash", sa.String(64), nullable=False),
    sa.Column("status_code", sa.Integer, nullable=False),
    sa.Column("response_body", sa.Text, nullable=False),
    sa.Column("created_at", UTCDateTime, nullable=False),
    sa.Index("ix_idempotency_keys_created_at", "created_at"),
)

# Printable ASCII without spaces at the ends, as the Idempotency-Key draft suggests.
_KEY_SHAPE = re.compile(r"^[\x21-\x7e][\x20-\x7e]{0,253}[\x21-\x7e]$|^[\x21-\x7e]$")


class IdempotencyKeyReused(Unprocessable):
    slug, title, status = (
        "idempotency-key-reused",
        "This Idempotency-Key was already used with a different request",
        422,
    )


@dataclass(frozen=True, slots=True)
class StoredResponse:
    status_code: int
    body: bytes


def validate_key(key: str) -> str:
    if not _KEY_SHAPE.match(key):
        raise BadRequest("Idempotency-Key must be 1-255 printable ASCII characters.")
    return key


def fingerprint(payload: Any) -> str:
    return hashlib.sha256(orjson.dumps(payload, option=orjson.OPT_SORT_KEYS)).hexdigest()


async def find(
    conn: AsyncConnection,
    *,
    owner_id: uuid.UUID,
    scope: str,
    key: str,
    request_hash: str,
    not_before: datetime,
) -> StoredResponse | None:
    t = idempotency_keys
    row = (
        await conn.execute(
            sa.select(t.c.request_hash, t.c.status_code, t.c.response_body, t.c.created_at).where(
                t.c.owner_id == owner_id, t.c.scope == scope, t.c.key == key
            )
        )
    ).first()
    if row is None:
        return None
    if row.created_at < not_before:
        # Expired: the key may be used again for a new request.
        await conn.execute(
            sa.delete(t).where(t.c.owner_id == owner_id, t.c.scope == scope, t.c.key == key)
        )
        return None
    if row.request_hash != request_hash:
        raise IdempotencyKeyReused(
            "The same Idempotency-Key was sent with a different body; use a new key."
        )
    return StoredResponse(row.status_code, row.response_body.encode())


async def save(
    conn: AsyncConnection,
    *,
    owner_id: uuid.UUID,
    scope: str,
    key: str,
    request_hash: str,
    status_code: int,
    body: bytes,
    now: datetime,
) -> None:
    """Insert the record; a concurrent duplicate fails here on the primary key."""
    await conn.execute(
        sa.insert(idempotency_keys).values(
            owner_id=owner_id,
            scope=scope,
            key=key,
            request_hash=request_hash,
            status_code=status_code,
            response_body=body.decode(),
            created_at=now,
        )
    )


async def purge_older_than(conn: AsyncConnection, cutoff: datetime) -> int:
    result = await conn.execute(
        sa.delete(idempotency_keys).where(idempotency_keys.c.created_at < cutoff)
    )
    return int(result.rowcount)


def expiry_cutoff(now: datetime, ttl_seconds: int) -> datetime:
    return now - timedelta(seconds=ttl_seconds)
