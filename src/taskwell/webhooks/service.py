"""Webhook endpoint rules: each user's own, a cap per user, targets checked by the SSRF guard,
secrets shown once and kept encrypted, a test ping, the delivery log. The API never calls a
remote host: everything that is sent, the worker sends."""

from __future__ import annotations

import builtins
import uuid
from collections.abc import Awaitable, Callable, Iterable
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncConnection

from taskwell.changes.service import SyncService
from taskwell.crypto import Encryptor
from taskwell.db.engine import Database
from taskwell.db.pagination import decode_time_cursor, encode_cursor, page_size
from taskwell.db.types import utcnow
from taskwell.errors import Conflict, NotFound
from taskwell.http.json_body import dumps
from taskwell.settings import Settings
from taskwell.webhooks import signing
from taskwell.webhooks.events import PING
from taskwell.webhooks.models import PENDING
from taskwell.webhooks.repository import Endpoint, WebhookRepository
from taskwell.webhooks.ssrf import TargetGuard

Wake = Callable[[Iterable[uuid.UUID]], Awaitable[None]]
_LOG_SORT = "created"


class WebhookNotFound(NotFound):
    slug, title, status = "webhook-not-found", "Webhook not found", 404


class WebhookLimit(Conflict):
    slug, title, status = "webhook-limit", "Too many webhooks", 409


class WebhookDisabled(Conflict):
    slug, title, status = "webhook-disabled", "The webhook is disabled", 409


def secret_context(endpoint_id: uuid.UUID, column: str = "secret_enc") -> str:
    return f"webhook_endpoints.{column}:{endpoint_id}"


class WebhookService:
    def __init__(
        self,
        settings: Settings,
        db: Database,
        repo: WebhookRepository,
        guard: TargetGuard,
        encryptor: Encryptor,
        sync: SyncService,
        wake: Wake,
    ) -> None:
        self._db = db
        self._repo = repo
        self._guard = guard
        self._encryptor = encryptor
        self._sync = sync
        self._wake = wake
        self._max = settings.webhooks_max_per_user
        self._grace = timedelta(seconds=settings.webhook_secret_grace_seconds)
        self._page_default = settings.page_size_default
        self._page_max = settings.page_size_max
        self._log_retention = timedelta(days=settings.webhook_log_retention_days)

    async def _start_token(self, user_id: uuid.UUID) -> str:
        """A feed position at "now": an endpoint is sent what changes from here on."""
        token: str = (await self._sync.sync(user_id, None, None))["token"]
        return token

    async def create(
        self, user_id: uuid.UUID, *, url: str, event_types: list[str], description: str
    ) -> tuple[Endpoint, str]:
        """The new endpoint and its signing secret (shown this once)."""
        await self._guard.vet(url)
        secret = signing.new_secret()
        endpoint_id = uuid.uuid4()
        now = utcnow()
        token = await self._start_token(user_id)
        async with self._db.transaction() as conn:
            if await self._repo.count_for_user(conn, user_id) >= self._max:
                raise WebhookLimit(f"You can have at most {self._max} webhooks.")
            await self._repo.insert_endpoint(
                conn,
                {
                    "id": endpoint_id,
                    "user_id": user_id,
                    "url": url,
                    "description": description,
                    "event_types": " ".join(event_types),
                    "secret_enc": self._encryptor.encrypt(secret, secret_context(endpoint_id)),
                    "previous_secret_enc": None,
                    "previous_secret_until": None,
                    "enabled": True,
                    "disabled_reason": None,
                    "failure_count": 0,
                    "failing_since": None,
                    "feed_cursor": token,
                    "created_at": now,
                    "updated_at": now,
                },
            )
            endpoint = await self._repo.endpoint(conn, user_id, endpoint_id)
        assert endpoint is not None
        return endpoint, secret

    async def list(self, user_id: uuid.UUID) -> builtins.list[Endpoint]:
        async with self._db.engine.connect() as conn:
            return await self._repo.endpoints_of(conn, user_id)

    async def get(self, user_id: uuid.UUID, endpoint_id: uuid.UUID) -> Endpoint:
        async with self._db.engine.connect() as conn:
            return await self._own(conn, user_id, endpoint_id)

    async def _own(
        self, conn: AsyncConnection, user_id: uuid.UUID, endpoint_id: uuid.UUID
    ) -> Endpoint:
        endpoint = await self._repo.endpoint(conn, user_id, endpoint_id)
        if endpoint is None:
            raise WebhookNotFound("You have no webhook with this id.")
        return endpoint

    async def update(
        self, user_id: uuid.UUID, endpoint_id: uuid.UUID, changes: dict[str, Any]
    ) -> Endpoint:
        """Change the URL, event types, description or enabled; enabling again starts afresh
        (failures forgotten, changes made while it was off are not sent)."""
        if "url" in changes:
            await self._guard.vet(changes["url"])
        values: dict[str, Any] = {}
        for name in ("url", "description"):
            if name in changes:
                values[name] = changes[name]
        if "event_types" in changes:
            values["event_types"] = " ".join(changes["event_types"])
        token = await self._start_token(user_id) if changes.get("enabled") is True else None
        async with self._db.transaction() as conn:
            current = await self._own(conn, user_id, endpoint_id)
            if "enabled" in changes and changes["enabled"] != current.enabled:
                if changes["enabled"]:
                    assert token is not None
                    # Afresh: what waited from before is not sent now, maybe long after and
                    # to a changed URL, with what its owner could see then.
                    await self._repo.abandon_pending(conn, endpoint_id, utcnow())
                    values.update(
                        enabled=True,
                        disabled_reason=None,
                        failure_count=0,
                        failing_since=None,
                        feed_cursor=token,
                    )
                else:
                    values.update(enabled=False, disabled_reason="Disabled by its owner.")
            if values:
                values["updated_at"] = utcnow()
                await self._repo.update_endpoint(conn, endpoint_id, values)
            endpoint = await self._own(conn, user_id, endpoint_id)
        if endpoint.enabled and not current.enabled:
            await self._wake([user_id])  # its pending deliveries are due again
        return endpoint

    async def delete(self, user_id: uuid.UUID, endpoint_id: uuid.UUID) -> Endpoint:
        async with self._db.transaction() as conn:
            endpoint = await self._own(conn, user_id, endpoint_id)
            await self._repo.delete_endpoint(conn, user_id, endpoint_id)
        return endpoint

    async def rotate_secret(
        self, user_id: uuid.UUID, endpoint_id: uuid.UUID
    ) -> tuple[Endpoint, str]:
        """A new secret (shown this once); the old one also signs until the grace period ends,
        so receivers can switch without dropping deliveries."""
        secret = signing.new_secret()
        now = utcnow()
        async with self._db.transaction() as conn:
            await self._own(conn, user_id, endpoint_id)
            stored, _previous, _until = await self._repo.secrets(conn, endpoint_id)
            old = self._encryptor.decrypt(stored, secret_context(endpoint_id))
            values: dict[str, Any] = {
                "secret_enc": self._encryptor.encrypt(secret, secret_context(endpoint_id)),
                "previous_secret_enc": None,
                "previous_secret_until": None,
                "updated_at": now,
            }
            if self._grace:
                values["previous_secret_enc"] = self._encryptor.encrypt(
                    old, secret_context(endpoint_id, "previous_secret_enc")
                )
                values["previous_secret_until"] = now + self._grace
            await self._repo.update_endpoint(conn, endpoint_id, values)
            endpoint = await self._own(conn, user_id, endpoint_id)
        return endpoint, secret

    async def send_test(self, user_id: uuid.UUID, endpoint_id: uuid.UUID) -> dict[str, Any]:
        """Queue a `webhook.ping` delivery; the worker sends it like any other."""
        now = utcnow()
        delivery_id = uuid.uuid4()
        payload = {"type": PING, "timestamp": now, "data": {"webhook_id": endpoint_id}}
        async with self._db.transaction() as conn:
            endpoint = await self._own(conn, user_id, endpoint_id)
            if not endpoint.enabled:
                raise WebhookDisabled("Enable the webhook before sending it a test.")
            await self._repo.insert_deliveries(
                conn, [delivery_row(delivery_id, endpoint_id, PING, dumps(payload), now)]
            )
        await self._wake([user_id])
        return {"id": delivery_id, "event_type": PING, "state": PENDING, "created_at": now}

    async def deliveries(
        self, user_id: uuid.UUID, endpoint_id: uuid.UUID, cursor: str | None, limit: int | None
    ) -> dict[str, Any]:
        size = page_size(limit, default=self._page_default, maximum=self._page_max)
        after = decode_time_cursor(cursor, sort=_LOG_SORT) if cursor is not None else None
        await self.get(user_id, endpoint_id)
        rows = await self._repo.delivery_page(endpoint_id, after, size + 1)
        more = len(rows) > size
        rows = rows[:size]
        items = [
            {
                "id": row["id"],
                "event_type": row["event_type"],
                "state": row["state"],
                "attempt_count": row["attempts"],
                "next_attempt_at": row["next_attempt_at"],
                "created_at": row["created_at"],
                "finished_at": row["finished_at"],
                "attempts": row["attempt_log"],
            }
            for row in rows
        ]
        following = None
        if more:
            last = rows[-1]
            following = encode_cursor(_LOG_SORT, last["created_at"], last["id"])
        return {"items": items, "next_cursor": following}

    async def purge_log(self, now: datetime) -> int:
        """Finished deliveries older than the log's retention (maintenance)."""
        return await self._repo.purge(now - self._log_retention)

    async def rotate_keys(self) -> int:
        """Re-encrypt every stored secret not under the current at-rest key (keys rotate)."""
        moved = 0
        for endpoint_id, stored, previous in await self._repo.all_secrets():
            for column, value in (("secret_enc", stored), ("previous_secret_enc", previous)):
                if value is None or self._encryptor.key_id_of(value) == self._encryptor.current:
                    continue
                context = secret_context(endpoint_id, column)
                fresh = self._encryptor.encrypt(self._encryptor.decrypt(value, context), context)
                moved += await self._repo.replace_secret(endpoint_id, column, value, fresh)
        return moved


def delivery_row(
    delivery_id: uuid.UUID, endpoint_id: uuid.UUID, event_type: str, payload: bytes, now: datetime
) -> dict[str, Any]:
    return {
        "id": delivery_id,
        "endpoint_id": endpoint_id,
        "event_type": event_type,
        "payload": payload.decode(),
        "state": PENDING,
        "attempts": 0,
        "next_attempt_at": now,
        "lease_id": None,
        "created_at": now,
        "finished_at": None,
    }
