"""Optional second factor: TOTP (RFC 6238) with single-use recovery codes."""

from __future__ import annotations

import hashlib
import hmac
import secrets
import time
import uuid
from dataclasses import dataclass

import pyotp
import sqlalchemy as sa

from taskwell.auth.models import auth_totp, recovery_codes
from taskwell.crypto import Encryptor
from taskwell.db.engine import Database
from taskwell.db.types import utcnow
from taskwell.errors import Conflict, Unauthorized

ISSUER = "Taskwell"
RECOVERY_CODES = 10
_T, _R = auth_totp, recovery_codes


class OtpRequired(Unauthorized):
    slug, title, status = "otp-required", "A one-time code is required", 401


class InvalidOtp(Unauthorized):
    slug, title, status = "invalid-otp", "The one-time code is not valid", 401


class TotpStateConflict(Conflict):
    slug, title, status = "totp-state", "The second factor is not in the state this needs", 409


@dataclass(frozen=True, slots=True)
class TotpSetup:
    secret: str
    otpauth_uri: str


def _context(user_id: uuid.UUID) -> str:
    return f"auth_totp.secret_enc:{user_id}"


def _new_recovery_code() -> str:
    raw = secrets.token_hex(5)  # 40 bits, single use, rate limited like a password
    return f"{raw[:5]}-{raw[5:]}"


class TotpService:
    def __init__(self, db: Database, encryptor: Encryptor, pepper: str) -> None:
        self._db = db
        self._encryptor = encryptor
        self._pepper = pepper.encode()

    def _hash_code(self, code: str) -> str:
        normalised = code.strip().lower().replace(" ", "")
        return hmac.new(self._pepper, normalised.encode(), hashlib.sha256).hexdigest()

    async def enabled(self, user_id: uuid.UUID) -> bool:
        async with self._db.transaction() as conn:
            value = (
                await conn.execute(sa.select(_T.c.enabled).where(_T.c.user_id == user_id))
            ).scalar_one_or_none()
        return bool(value)

    async def begin_setup(self, user_id: uuid.UUID, email: str) -> TotpSetup:
        if await self.enabled(user_id):
            raise TotpStateConflict("A second factor is already on; turn it off first.")
        secret = pyotp.random_base32()
        stored = self._encryptor.encrypt(secret, _context(user_id))
        async with self._db.transaction() as conn:
            await conn.execute(sa.delete(_T).where(_T.c.user_id == user_id))
            await conn.execute(
                sa.insert(_T).values(
                    user_id=user_id, secret_enc=stored, enabled=False, created_at=utcnow()
                )
            )
        uri = pyotp.TOTP(secret).provisioning_uri(name=email, issuer_name=ISSUER)
        return TotpSetup(secret, uri)

    async def enable(self, user_id: uuid.UUID, code: str) -> list[str]:
        async with self._db.transaction() as conn:
            row = (
                await conn.execute(
                    sa.select(_T.c.secret_enc, _T.c.enabled).where(_T.c.user_id == user_id)
                )
            ).first()
        if row is None or row.enabled:
            raise TotpStateConflict("Start with POST /auth/totp/setup.")
        if not await self._accept(user_id, row.secret_enc, code):
            raise InvalidOtp("The code does not match; check the device's clock.")
        codes = [_new_recovery_code() for _ in range(RECOVERY_CODES)]
        async with self._db.transaction() as conn:
            await conn.execute(sa.update(_T).where(_T.c.user_id == user_id).values(enabled=True))
            await conn.execute(sa.delete(_R).where(_R.c.user_id == user_id))
            await conn.execute(
                sa.insert(_R),
                [{"code_hash": self._hash_code(c), "user_id": user_id} for c in codes],
            )
        return codes

    async def disable(self, user_id: uuid.UUID) -> None:
        async with self._db.transaction() as conn:
            await conn.execute(sa.delete(_T).where(_T.c.user_id == user_id))
            await conn.execute(sa.delete(_R).where(_R.c.user_id == user_id))

    async def verify_login(
        self, user_id: uuid.UUID, *, otp: str | None, recovery_code: str | None
    ) -> None:
        """Raise unless the second factor (if on) is satisfied by a fresh code."""
        async with self._db.transaction() as conn:
            row = (
                await conn.execute(
                    sa.select(_T.c.secret_enc).where(_T.c.user_id == user_id, _T.c.enabled)
                )
            ).first()
        if row is None:
            return
        if otp:
            if await self._accept(user_id, row.secret_enc, otp):
                return
            raise InvalidOtp("The one-time code is not valid.")
        if recovery_code:
            async with self._db.transaction() as conn:
                spent = await conn.execute(
                    sa.update(_R)
                    .where(
                        _R.c.user_id == user_id,
                        _R.c.code_hash == self._hash_code(recovery_code),
                        _R.c.used_at.is_(None),
                    )
                    .values(used_at=utcnow())
                )
            if spent.rowcount == 1:
                return
            raise InvalidOtp("The recovery code is not valid or was already used.")
        raise OtpRequired("This account uses a second factor: send `otp` (or `recovery_code`).")

    async def _accept(self, user_id: uuid.UUID, secret_enc: str, code: str) -> bool:
        code = code.strip().replace(" ", "")
        if not (code.isdigit() and len(code) == 6):
            return False
        totp = pyotp.TOTP(self._encryptor.decrypt(secret_enc, _context(user_id)))
        now = time.time()
        for drift in (0, -1, 1):  # one step of clock skew either way
            at = now + drift * totp.interval
            if hmac.compare_digest(totp.at(at), code):
                step = int(at // totp.interval)
                # Conditional update: a code (step) is accepted once, even under races.
                async with self._db.transaction() as conn:
                    moved = await conn.execute(
                        sa.update(_T)
                        .where(_T.c.user_id == user_id, _T.c.last_step < step)
                        .values(last_step=step)
                    )
                return moved.rowcount == 1
        return False

    async def rotate_keys(self) -> int:
        """Re-encrypt every secret not under the current key; safe while the service runs."""
        moved = 0
        async with self._db.transaction() as conn:
            rows = (await conn.execute(sa.select(_T.c.user_id, _T.c.secret_enc))).all()
        for user_id, stored in rows:
            if self._encryptor.key_id_of(stored) == self._encryptor.current:
                continue
            fresh = self._encryptor.encrypt(
                self._encryptor.decrypt(stored, _context(user_id)), _context(user_id)
            )
            async with self._db.transaction() as conn:
                result = await conn.execute(
                    sa.update(_T)
                    .where(_T.c.user_id == user_id, _T.c.secret_enc == stored)
                    .values(secret_enc=fresh)
                )
            moved += result.rowcount
        return moved
