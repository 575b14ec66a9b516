"""Sending deliveries: claim due ones under a lease, sign, POST, record the attempt, and retry
with exponential back-off or give up; disable an endpoint that keeps failing.

At least once: a worker killed after its claim leaves the delivery pending with its lease as
the due time, so another worker sends it again (same webhook-id) once the lease runs out.
"""

from __future__ import annotations

import logging
import secrets
import time
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncConnection

from taskwell.audit.service import AuditLog
from taskwell.crypto import Encryptor, UndecryptableValue
from taskwell.db.engine import Database
from taskwell.db.types import utcnow
from taskwell.settings import Settings
from taskwell.webhooks.client import DeliveryClient, Outcome
from taskwell.webhooks.models import DELIVERED, FAILED
from taskwell.webhooks.repository import Claimed, WebhookRepository
from taskwell.webhooks.service import secret_context
from taskwell.webhooks.signing import signature_header

log = logging.getLogger("taskwell.webhooks")
_jitter = secrets.SystemRandom()


@dataclass(frozen=True, slots=True)
class Backoff:
    base: float
    cap: float

    def delay(self, attempt: int, spread: float = 0.25) -> timedelta:
        """After the n-th failed attempt: base * 2^(n-1), +-spread at random, at most cap."""
        raw = self.base * 2.0 ** min(attempt - 1, 60)
        jittered = raw * (1 + _jitter.uniform(-spread, spread))
        return timedelta(seconds=min(self.cap, jittered))


class Dispatcher:
    def __init__(
        self,
        settings: Settings,
        db: Database,
        repo: WebhookRepository,
        client: DeliveryClient,
        encryptor: Encryptor,
        audit: AuditLog,
    ) -> None:
        self._db = db
        self._repo = repo
        self._client = client
        self._encryptor = encryptor
        self._audit = audit
        self._lease = timedelta(seconds=settings.webhook_lease_seconds)
        self._per_endpoint = settings.webhook_concurrency_per_endpoint
        self._per_account = settings.webhook_concurrency_per_account
        self._backoff = Backoff(
            settings.webhook_retry_base_seconds, settings.webhook_retry_max_seconds
        )
        self._max_attempts = settings.webhook_max_attempts
        self._disable_after = settings.webhook_disable_after_failures
        self._disable_min = timedelta(seconds=settings.webhook_disable_after_seconds)

    async def claim(self, limit: int) -> list[Claimed]:
        now = utcnow()
        return await self._repo.claim_due(
            now,
            now + self._lease,
            uuid.uuid4(),
            limit,
            per_endpoint=self._per_endpoint,
            per_account=self._per_account,
        )

    async def next_due(self) -> datetime | None:
        return await self._repo.next_due(utcnow(), self._per_endpoint, self._per_account)

    async def deliver(self, claimed: Claimed) -> Outcome:
        """One attempt, recorded; never raises for the remote side's failures."""
        body = claimed.payload.encode()
        try:
            signing = self._secrets(claimed)
        except UndecryptableValue:
            outcome = Outcome(None, 0, "the signing secret cannot be decrypted (key missing)")
        else:
            timestamp = int(time.time())
            headers = {
                "webhook-id": str(claimed.id),
                "webhook-timestamp": str(timestamp),
                "webhook-signature": signature_header(signing, str(claimed.id), timestamp, body),
            }
            outcome = await self._client.post(claimed.url, body, headers)
        await self.record(claimed, outcome)
        return outcome

    def _secrets(self, claimed: Claimed) -> list[str]:
        found = [self._encryptor.decrypt(claimed.secret_enc, secret_context(claimed.endpoint_id))]
        until = claimed.previous_secret_until
        if claimed.previous_secret_enc is not None and until is not None and until > utcnow():
            context = secret_context(claimed.endpoint_id, "previous_secret_enc")
            found.append(self._encryptor.decrypt(claimed.previous_secret_enc, context))
        return found

    async def record(self, claimed: Claimed, outcome: Outcome) -> None:
        now = utcnow()
        disabled_reason: str | None = None
        async with self._db.transaction() as conn:
            counted = await self._repo.count_attempt(conn, claimed.id)
            if counted is None:
                return  # the endpoint, and its deliveries, were deleted meanwhile
            number, lease = counted
            # Our claim still holds unless the lease ran out and another worker took it over;
            # then that worker records the outcome of its own attempt.
            ours = lease == claimed.lease_id
            next_retry: datetime | None = None
            if outcome.ok:
                await self._repo.note_success(conn, claimed.endpoint_id)
                state = {"state": DELIVERED, "next_attempt_at": None, "finished_at": now}
            else:
                disabled_reason = await self._note_failure(conn, claimed, now)
                if disabled_reason is not None or number >= self._max_attempts:
                    # Given up; the one that disabled the endpoint stays in the log as failed.
                    state = {"state": FAILED, "next_attempt_at": None, "finished_at": now}
                else:
                    next_retry = now + self._backoff.delay(number)
                    state = {"next_attempt_at": next_retry}
            if ours:
                await self._repo.settle(conn, claimed.id, {**state, "lease_id": None})
            await self._repo.insert_attempt(
                conn,
                {
                    "id": uuid.uuid4(),
                    "delivery_id": claimed.id,
                    "number": number,
                    "at": now,
                    "status_code": outcome.status_code,
                    "duration_ms": outcome.duration_ms,
                    "error": outcome.error,
                    "next_retry_at": next_retry if ours else None,
                },
            )
        if disabled_reason is not None:
            log.warning("webhook disabled", extra={"webhook_id": str(claimed.endpoint_id)})
            await self._audit.record(
                "webhook.disabled",
                subject_id=claimed.user_id,
                target=str(claimed.endpoint_id),
                details={"reason": disabled_reason},
            )

    async def _note_failure(
        self, conn: AsyncConnection, claimed: Claimed, now: datetime
    ) -> str | None:
        """Count the failure against the endpoint; disable it after too many in a row.
        Returns why it was disabled, if it was just now."""
        health = await self._repo.note_failure(conn, claimed.endpoint_id, now)
        if health is None or not health.enabled:
            return None
        if health.failure_count < self._disable_after:
            return None
        if health.failing_since is not None and now - health.failing_since < self._disable_min:
            return None
        reason = (
            f"Disabled after {health.failure_count} failed attempts in a row; "
            "fix the receiver, then enable it again."
        )
        await self._repo.update_endpoint(
            conn,
            claimed.endpoint_id,
            {"enabled": False, "disabled_reason": reason, "updated_at": now},
        )
        return reason
