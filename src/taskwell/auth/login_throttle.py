"""Account protection: failed logins for one email slow further attempts, exponentially.

Per target account and whatever the source address (ASVS 6.3.1). After `threshold` failures
within the window, the next attempt must wait base * 2^(failures - threshold) seconds (capped);
attempts inside that wait get 429 without checking the password. Nobody is locked out for good:
the wait is bounded and the count is forgotten a window after the last failure. Unknown emails
are counted the same way, so the answer says nothing about whether an account exists.
"""

from __future__ import annotations

import hashlib
import math
import time

from taskwell.errors import DomainError
from taskwell.kv.attempts import AttemptLog
from taskwell.kv.ratelimit import RateLimiter
from taskwell.settings import Settings


class LoginThrottled(DomainError):
    slug, title, status = "login-throttled", "Too many failed logins for this account", 429


class LoginThrottle:
    def __init__(self, settings: Settings, attempts: AttemptLog, limiter: RateLimiter) -> None:
        self._attempts = attempts
        self._limiter = limiter
        self._threshold = settings.login_failure_threshold
        self._window = settings.login_failure_window_seconds
        self._base = settings.login_backoff_base_seconds
        self._max = settings.login_backoff_max_seconds

    @staticmethod
    def _key(email: str) -> str:
        # Hashed: the store never holds the address itself.
        return hashlib.sha256(email.encode()).hexdigest()

    def delay_after(self, failures: int) -> float:
        if failures < self._threshold:
            return 0.0
        return min(self._max, self._base * 2.0 ** (failures - self._threshold))

    async def check(self, email: str) -> None:
        key = self._key(email)
        await self._limiter.check("login_account", key)
        failures = await self._attempts.failures(key)
        if failures is None:
            return
        wait = failures.last_at + self.delay_after(failures.count) - time.time()
        if wait > 0:
            retry = max(1, math.ceil(wait))
            raise LoginThrottled(
                f"Too many failed logins for this account; try again in {retry} s.",
                headers={"Retry-After": str(retry)},
            )

    async def failed(self, email: str) -> None:
        await self._attempts.record_failure(self._key(email), time.time(), self._window)

    async def succeeded(self, email: str) -> None:
        await self._attempts.clear(self._key(email))
