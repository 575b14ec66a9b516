"""Account protection: failed logins for one email slow further attempts, exponentially.

Per target account and whatever the source address (ASVS 6.3.1). After `threshold` failures
within the window, the next attempt must wait base * 2^(failures - threshold) seconds (capped);
attempts inside that wait get 429 without checking the password. An attempt counts as a failure
from the moment it is let through, until a successful login clears the count, so concurrent
guesses cannot overtake the count. Nobody is locked out for good: the wait is bounded and the
count is forgotten a window after the last attempt. Unknown emails are counted the same way, so
the answer says nothing about whether an account exists.
"""

from __future__ import annotations

import hashlib
import math
import time

from taskwell.errors import DomainError
from taskwell.kv.attempts import AttemptLog
from taskwell.kv.ratelimit import RateLimiter
from taskwell.settings import Settings

# Compare-and-set retries before an attempt is told to wait; each lost race means another
# attempt on the same account was counted meanwhile.
_MAX_RACES = 32


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
        # 2.0 ** n overflows past n = 1023; any cap is reached long before 2 ** 64.
        exponent = min(failures - self._threshold, 64)
        return min(self._max, self._base * 2.0**exponent)

    async def check(self, email: str) -> None:
        """Let one attempt through, counted as a failure until `succeeded` clears it, or raise.

        Counting as the attempt starts, by compare and set, is what makes a burst of concurrent
        guesses get no more password checks than the same guesses sent one after another."""
        key = self._key(email)
        await self._limiter.check("login_account", key)
        for _ in range(_MAX_RACES):
            now = time.time()
            seen = await self._attempts.failures(key)
            wait = 0.0 if seen is None else seen.last_at + self.delay_after(seen.count) - now
            if wait > 0:
                raise self._throttled(wait)
            if await self._attempts.claim(key, seen, now, self._window):
                return
        # Other attempts on this account keep landing first: this one waits its turn.
        raise self._throttled(1.0)

    @staticmethod
    def _throttled(wait: float) -> LoginThrottled:
        retry = max(1, math.ceil(wait))
        return LoginThrottled(
            f"Too many failed logins for this account; try again in {retry} s.",
            headers={"Retry-After": str(retry)},
        )

    async def failed(self, email: str) -> None:
        """Nothing more to count: `check` counted the attempt when it let it through."""

    async def succeeded(self, email: str) -> None:
        await self._attempts.clear(self._key(email))
