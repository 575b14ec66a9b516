"""Sessions in Redis, shared by every app instance; rotation is one atomic Lua script.

Keys: `tw:s:<sid>` a hash of the session; `tw:us:<uid>` the user's session ids;
`tw:rt:<sha256>` "<sid>|<0 or 1 when spent>". All expire with the session. Revoking deletes the
session hash, so every instance's next look-up misses. Run Redis with persistence (AOF) in
production, or a Redis restart logs everybody out (docs/operations.md).
"""

from __future__ import annotations

import math
import uuid
from collections.abc import Awaitable, Callable, Sequence
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, TypeVar, cast

from taskwell.auth.session_store import Rotation, RotationResult, SessionRecord
from taskwell.kv.errors import StoreUnavailable

if TYPE_CHECKING:
    from redis.asyncio import Redis

T = TypeVar("T")

_ROTATE = """
local v = redis.call('GET', KEYS[1])
if not v then return {'unknown'} end
local sep = string.find(v, '|', 1, true)
local sid, used = string.sub(v, 1, sep - 1), string.sub(v, sep + 1)
local skey = ARGV[3] .. 's:' .. sid
local s = redis.call('HMGET', skey, 'u', 'l', 'e')
if not s[1] then return {'ended', sid} end
local now = tonumber(ARGV[1])
if tonumber(s[3]) <= now then return {'ended', sid, s[1]} end
local function revoke()
  redis.call('DEL', skey)
  redis.call('SREM', ARGV[3] .. 'us:' .. s[1], sid)
end
if used ~= '0' then revoke() return {'reused', sid, s[1]} end
if tonumber(s[2]) + tonumber(ARGV[2]) <= now then revoke() return {'idle', sid, s[1]} end
redis.call('SET', KEYS[1], sid .. '|1', 'KEEPTTL')
redis.call('SET', KEYS[2], sid .. '|0', 'EXAT', string.format('%d', math.ceil(tonumber(s[3]))))
redis.call('HSET', skey, 'l', ARGV[1])
return {'rotated', sid, s[1]}
"""

_REVOKE = """
if redis.call('HGET', KEYS[1], 'u') ~= ARGV[1] then return 0 end
redis.call('DEL', KEYS[1])
redis.call('SREM', KEYS[2], ARGV[2])
return 1
"""

_REVOKE_ALL = """
local ended = {}
for _, sid in ipairs(redis.call('SMEMBERS', KEYS[1])) do
  if sid ~= ARGV[1] then
    redis.call('DEL', ARGV[2] .. 's:' .. sid)
    redis.call('SREM', KEYS[1], sid)
    table.insert(ended, sid)
  end
end
return ended
"""


def _epoch(moment: datetime) -> str:
    return repr(moment.timestamp())


def _moment(value: bytes | str) -> datetime:
    return datetime.fromtimestamp(float(value), UTC)


def _text(value: bytes | str) -> str:
    return value.decode() if isinstance(value, bytes) else value


class RedisSessionStore:
    def __init__(self, redis: Redis, prefix: str = "tw:") -> None:
        self._redis = redis
        self._prefix = prefix
        self._rotate = redis.register_script(_ROTATE)
        self._revoke = redis.register_script(_REVOKE)
        self._revoke_all = redis.register_script(_REVOKE_ALL)

    async def _call(self, operation: Callable[[], Awaitable[T]]) -> T:
        from redis.exceptions import RedisError

        try:
            return await operation()
        except (RedisError, OSError) as exc:
            raise StoreUnavailable("The session store is unavailable; retry shortly.") from exc

    def _session_key(self, session_id: uuid.UUID | str) -> str:
        return f"{self._prefix}s:{session_id}"

    def _user_key(self, user_id: uuid.UUID) -> str:
        return f"{self._prefix}us:{user_id}"

    def _token_key(self, token_hash: str) -> str:
        return f"{self._prefix}rt:{token_hash}"

    async def create(
        self,
        *,
        user_id: uuid.UUID,
        refresh_hash: str,
        now: datetime,
        expires_at: datetime,
        user_agent: str,
        ip: str,
    ) -> uuid.UUID:
        session_id = uuid.uuid4()
        expire_at = math.ceil(expires_at.timestamp())
        key = self._session_key(session_id)

        async def write() -> None:
            async with self._redis.pipeline(transaction=True) as pipe:
                pipe.hset(
                    key,
                    mapping={
                        "u": str(user_id),
                        "c": _epoch(now),
                        "l": _epoch(now),
                        "e": _epoch(expires_at),
                        "a": user_agent[:512],
                        "i": ip[:64],
                    },
                )
                pipe.expireat(key, expire_at)
                pipe.sadd(self._user_key(user_id), str(session_id))
                pipe.expireat(self._user_key(user_id), expire_at, gt=True)
                pipe.set(self._token_key(refresh_hash), f"{session_id}|0", exat=expire_at)
                await pipe.execute()

        await self._call(write)
        return session_id

    async def rotate(
        self, *, old_hash: str, new_hash: str, now: datetime, idle_seconds: int
    ) -> RotationResult:
        async def run() -> Any:
            return await self._rotate(
                keys=[self._token_key(old_hash), self._token_key(new_hash)],
                args=[_epoch(now), idle_seconds, self._prefix],
            )

        reply = await self._call(run)
        outcome = Rotation(reply[0].decode())
        sid = uuid.UUID(reply[1].decode()) if len(reply) > 1 else None
        uid = uuid.UUID(reply[2].decode()) if len(reply) > 2 else None
        return RotationResult(outcome, sid, uid)

    async def get(self, session_id: uuid.UUID, now: datetime) -> SessionRecord | None:
        fields = await self._call(
            lambda: cast(
                Awaitable[list[Any]],
                self._redis.hmget(self._session_key(session_id), ["u", "c", "l", "e", "a", "i"]),
            )
        )
        return self._record(session_id, fields, now)

    def _record(
        self, session_id: uuid.UUID, fields: Sequence[bytes | str | None], now: datetime
    ) -> SessionRecord | None:
        user, created, last_used, expires, agent, ip = fields
        if user is None or created is None or last_used is None or expires is None:
            return None
        record = SessionRecord(
            id=session_id,
            user_id=uuid.UUID(_text(user)),
            created_at=_moment(created),
            last_used_at=_moment(last_used),
            expires_at=_moment(expires),
            user_agent=_text(agent or b""),
            ip=_text(ip or b""),
        )
        return record if record.expires_at > now else None

    async def list_for_user(self, user_id: uuid.UUID, now: datetime) -> list[SessionRecord]:
        async def read() -> list[SessionRecord]:
            ids = [
                uuid.UUID(_text(raw))
                for raw in await cast(
                    Awaitable[set[Any]], self._redis.smembers(self._user_key(user_id))
                )
            ]
            async with self._redis.pipeline(transaction=False) as pipe:
                for sid in ids:
                    pipe.hmget(self._session_key(sid), ["u", "c", "l", "e", "a", "i"])
                replies = await pipe.execute()
            records = [
                self._record(sid, fields, now) for sid, fields in zip(ids, replies, strict=True)
            ]
            found = [r for r in records if r is not None and r.user_id == user_id]
            return sorted(found, key=lambda r: (-r.last_used_at.timestamp(), str(r.id)))

        return await self._call(read)

    async def revoke(
        self, session_id: uuid.UUID, *, user_id: uuid.UUID, now: datetime, reason: str
    ) -> bool:
        async def run() -> Any:
            return await self._revoke(
                keys=[self._session_key(session_id), self._user_key(user_id)],
                args=[str(user_id), str(session_id)],
            )

        return bool(await self._call(run))

    async def revoke_all(
        self, user_id: uuid.UUID, *, now: datetime, reason: str, keep: uuid.UUID | None = None
    ) -> list[uuid.UUID]:
        async def run() -> Any:
            return await self._revoke_all(
                keys=[self._user_key(user_id)], args=[str(keep or ""), self._prefix]
            )

        return [uuid.UUID(raw.decode()) for raw in await self._call(run)]
