"""Password hashing (argon2id; bcrypt read for imported accounts), off the event loop."""

from __future__ import annotations

import secrets
import unicodedata
from dataclasses import dataclass

import anyio
import argon2
import bcrypt
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

from taskwell.settings import Settings

# Hashing is CPU- and memory-bound: a small dedicated pool keeps a burst of logins from
# taking every worker thread, and each hash holds argon2_memory_kib while it runs.
_HASH_THREADS = 4


def normalise(password: str) -> str:
    """NFKC, so the same password typed on two keyboards verifies (NIST SP 800-63B 5.1.1.2)."""
    return unicodedata.normalize("NFKC", password)


@dataclass(frozen=True, slots=True)
class Verification:
    ok: bool
    # Set when the stored hash should be replaced (old parameters, or bcrypt).
    new_hash: str | None = None


class PasswordHasher:
    def __init__(self, settings: Settings) -> None:
        self._argon = argon2.PasswordHasher(
            time_cost=settings.argon2_time_cost,
            memory_cost=settings.argon2_memory_kib,
            parallelism=settings.argon2_parallelism,
            type=argon2.Type.ID,
        )
        self._limiter = anyio.CapacityLimiter(_HASH_THREADS)
        # Unknown accounts are verified against this so a miss costs what a hit costs.
        self._dummy_hash = self._argon.hash(secrets.token_urlsafe(24))

    async def hash(self, password: str) -> str:
        return await anyio.to_thread.run_sync(
            self._argon.hash, normalise(password), limiter=self._limiter
        )

    async def verify(self, stored_hash: str | None, password: str) -> Verification:
        return await anyio.to_thread.run_sync(
            self._verify_sync, stored_hash, normalise(password), limiter=self._limiter
        )

    def _verify_sync(self, stored_hash: str | None, password: str) -> Verification:
        if stored_hash is None:
            self._check_argon(self._dummy_hash, password)
            return Verification(ok=False)
        if stored_hash.startswith(("$2a$", "$2b$", "$2y$")):
            if not _check_bcrypt(stored_hash, password):
                return Verification(ok=False)
            return Verification(ok=True, new_hash=self._argon.hash(password))
        if not self._check_argon(stored_hash, password):
            return Verification(ok=False)
        if self._argon.check_needs_rehash(stored_hash):
            return Verification(ok=True, new_hash=self._argon.hash(password))
        return Verification(ok=True)

    def _check_argon(self, stored_hash: str, password: str) -> bool:
        try:
            return self._argon.verify(stored_hash, password)
        except (VerifyMismatchError, VerificationError, InvalidHashError):
            return False


def _check_bcrypt(stored_hash: str, password: str) -> bool:
    encoded = password.encode()
    if len(encoded) > 72:
        # bcrypt cannot see past 72 bytes; rather than truncate, refuse (ASVS 6.2.8).
        return False
    try:
        return bcrypt.checkpw(encoded, stored_hash.encode())
    except ValueError:
        return False
