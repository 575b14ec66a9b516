"""Create, list, revoke and check API keys. Every check reads the database, so a revoked or
expired key is refused at once on every instance."""

from __future__ import annotations

import hashlib
import secrets
import string
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa

from taskwell.apikeys.models import SCOPES, api_keys
from taskwell.auth.session_guard import Principal
from taskwell.db.engine import Database
from taskwell.db.types import utcnow
from taskwell.errors import NotFound, Unauthorized, ValidationFailed
from taskwell.users.models import users

KEY_PREFIX = "tw_"
_ALPHABET = string.ascii_letters + string.digits
# last_used_at is written at most this often per key, not on every request.
_TOUCH_EVERY = timedelta(seconds=60)
MAX_KEYS_PER_USER = 50


class InvalidApiKey(Unauthorized):
    slug, title, status = "invalid-api-key", "The API key is not valid", 401


class ApiKeyNotFound(NotFound):
    slug, title, status = "api-key-not-found", "API key not found", 404


@dataclass(frozen=True, slots=True)
class ApiKey:
    id: uuid.UUID
    name: str
    prefix: str
    scopes: tuple[str, ...]
    created_at: datetime
    expires_at: datetime | None
    last_used_at: datetime | None


@dataclass(frozen=True, slots=True)
class NewApiKey:
    key: ApiKey
    secret: str  # the whole key, shown once


def hash_key(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def looks_like_key(credential: str) -> bool:
    return credential.startswith(KEY_PREFIX)


_K = api_keys
_COLUMNS = (
    _K.c.id,
    _K.c.name,
    _K.c.prefix,
    _K.c.scopes,
    _K.c.created_at,
    _K.c.expires_at,
    _K.c.last_used_at,
)


def _key(row: Any) -> ApiKey:
    key_id, name, prefix, scopes, created, expires, used = row
    return ApiKey(key_id, name, prefix, tuple(scopes.split()), created, expires, used)


class ApiKeyService:
    def __init__(self, db: Database) -> None:
        self._db = db
        self._check = db.prepare(
            sa.select(
                _K.c.id,
                _K.c.user_id,
                _K.c.scopes,
                _K.c.expires_at,
                _K.c.last_used_at,
                users.c.is_active,
                users.c.is_admin,
            )
            .join(users, users.c.id == _K.c.user_id)
            .where(
                _K.c.key_hash == sa.bindparam("key_hash", type_=sa.String),
                _K.c.revoked_at.is_(None),
            )
        )

    async def create(
        self,
        user_id: uuid.UUID,
        *,
        name: str,
        scopes: list[str],
        expires_at: datetime | None,
    ) -> NewApiKey:
        unknown = sorted(set(scopes) - set(SCOPES))
        if unknown or not scopes:
            raise ValidationFailed(
                "scopes",
                f"Choose one or more of {', '.join(SCOPES)}.",
                code="invalid_scope",
            )
        now = utcnow()
        if expires_at is not None and expires_at <= now:
            raise ValidationFailed("expires_at", "The expiry must be in the future.", code="past")
        prefix = "".join(secrets.choice(_ALPHABET) for _ in range(8))
        secret = f"{KEY_PREFIX}{prefix}_{secrets.token_urlsafe(32)}"
        key = ApiKey(
            uuid.uuid4(), name, prefix, tuple(dict.fromkeys(scopes)), now, expires_at, None
        )
        async with self._db.transaction() as conn:
            if conn.dialect.name != "sqlite":
                # Concurrent creations would each count the same keys and overshoot the limit;
                # the owner's row queues them (NO KEY UPDATE: inserts that only reference the
                # user, like tasks, are not held up). SQLite's BEGIN IMMEDIATE serialises writers.
                await conn.execute(
                    sa.select(users.c.id)
                    .where(users.c.id == user_id)
                    .with_for_update(key_share=True)
                )
            count = (
                await conn.execute(
                    sa.select(sa.func.count()).where(
                        _K.c.user_id == user_id, _K.c.revoked_at.is_(None)
                    )
                )
            ).scalar_one()
            if count >= MAX_KEYS_PER_USER:
                raise ValidationFailed(
                    "name", f"At most {MAX_KEYS_PER_USER} keys per account.", code="too_many"
                )
            await conn.execute(
                sa.insert(_K).values(
                    id=key.id,
                    user_id=user_id,
                    name=name,
                    prefix=prefix,
                    key_hash=hash_key(secret),
                    scopes=" ".join(key.scopes),
                    created_at=now,
                    expires_at=expires_at,
                )
            )
        return NewApiKey(key, secret)

    async def list(self, user_id: uuid.UUID) -> list[ApiKey]:
        async with self._db.transaction() as conn:
            rows = await conn.execute(
                sa.select(*_COLUMNS)
                .where(_K.c.user_id == user_id, _K.c.revoked_at.is_(None))
                .order_by(_K.c.created_at, _K.c.id)
            )
            return [_key(row) for row in rows]

    async def revoke(self, user_id: uuid.UUID, key_id: uuid.UUID) -> ApiKey:
        async with self._db.transaction() as conn:
            row = (
                await conn.execute(
                    sa.update(_K)
                    .where(_K.c.id == key_id, _K.c.user_id == user_id, _K.c.revoked_at.is_(None))
                    .values(revoked_at=utcnow())
                    .returning(*_COLUMNS)
                )
            ).first()
        if row is None:
            raise ApiKeyNotFound("No API key with this id.")
        return _key(row)

    async def authenticate(self, secret: str) -> Principal:
        now = utcnow()
        row = await self._db.fetch_one(self._check, {"key_hash": hash_key(secret)})
        if row is None:
            raise InvalidApiKey("The API key is not valid; it may have been revoked.")
        key_id, user_id, scopes, expires_at, last_used_at, active, admin = row
        if expires_at is not None and expires_at <= now:
            raise InvalidApiKey("The API key has expired.")
        if not active:
            raise InvalidApiKey("The API key's account is disabled.")
        if last_used_at is None or now - last_used_at > _TOUCH_EVERY:
            async with self._db.transaction() as conn:
                await conn.execute(sa.update(_K).where(_K.c.id == key_id).values(last_used_at=now))
        return Principal(
            user_id=user_id,
            session_id=None,
            is_admin=bool(admin),
            scopes=frozenset(scopes.split()),
            api_key_id=key_id,
        )
