"""Account and session rules: register, log in, rotate refresh tokens, log out."""

from __future__ import annotations

import hashlib
import hmac
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncConnection

from taskwell.audit.service import AuditLog
from taskwell.auth.login_throttle import LoginThrottle
from taskwell.auth.passwords import PasswordHasher
from taskwell.auth.policy import PasswordPolicy
from taskwell.auth.session_guard import Principal, SessionGuard
from taskwell.auth.session_store import Rotation, SessionRecord, SessionStore
from taskwell.auth.tokens import InvalidToken, TokenCodec, hash_refresh_token, new_refresh_token
from taskwell.auth.totp import InvalidOtp, TotpService
from taskwell.db.engine import Database
from taskwell.db.types import utcnow
from taskwell.errors import Conflict, DomainError, NotFound, Unauthorized
from taskwell.observability.metrics import AUTH_EVENTS
from taskwell.settings import Settings
from taskwell.users.repository import EmailAlreadyUsed, User, UserRepository
from taskwell.validation import normalise_email

RegisterHook = Callable[[AsyncConnection, uuid.UUID, datetime], Awaitable[None]]


class EmailTaken(Conflict):
    slug, title, status = "email-taken", "An account with this email already exists", 409


class InvalidCredentials(Unauthorized):
    slug, title, status = "invalid-credentials", "Email or password is incorrect", 401


class InvalidRefreshToken(Unauthorized):
    slug, title, status = "invalid-refresh-token", "The refresh token is not valid", 401


def _email_fingerprint(email: str, key: bytes) -> str:
    """Failed logins name the attempted account without storing what was typed; keyed, so
    the fingerprint cannot be reversed by hashing likely addresses."""
    return "email-hmac:" + hmac.new(key, email.encode(), hashlib.sha256).hexdigest()[:32]


class SessionNotFound(NotFound):
    slug, title, status = "session-not-found", "Session not found", 404


@dataclass(frozen=True, slots=True)
class TokenPair:
    access_token: str
    refresh_token: str
    expires_in: int
    session_id: uuid.UUID


@dataclass(frozen=True, slots=True)
class ClientInfo:
    user_agent: str
    ip: str


class AuthService:
    def __init__(
        self,
        settings: Settings,
        db: Database,
        users: UserRepository,
        store: SessionStore,
        guard: SessionGuard,
        hasher: PasswordHasher,
        policy: PasswordPolicy,
        tokens: TokenCodec,
        throttle: LoginThrottle,
        audit: AuditLog,
        totp: TotpService,
    ) -> None:
        self._throttle = throttle
        self._totp = totp
        self._audit = audit
        self._db = db
        self._users = users
        self.store = store
        self._guard = guard
        self._hasher = hasher
        self._policy = policy
        self._tokens = tokens
        self._session_lifetime = timedelta(seconds=settings.refresh_token_ttl_seconds)
        self._idle_seconds = settings.session_idle_timeout_seconds
        self._fingerprint_key = settings.secret_key.get_secret_value().encode()
        self._on_register: list[RegisterHook] = []

    def on_register(self, hook: RegisterHook) -> None:
        """Run hook(conn, user_id, now) inside every registration's transaction (the Inbox)."""
        self._on_register.append(hook)

    async def register(
        self, *, email: str, password: str, display_name: str, is_admin: bool = False
    ) -> User:
        email = normalise_email(email)
        await self._policy.check(password, context=[email, email.split("@")[0], display_name])
        password_hash = await self._hasher.hash(password)
        now = utcnow()
        try:
            async with self._db.transaction() as conn:
                user = await self._users.insert(
                    conn,
                    email=email,
                    display_name=display_name,
                    password_hash=password_hash,
                    is_admin=is_admin,
                    now=now,
                )
                for hook in self._on_register:
                    await hook(conn, user.id, now)
        except EmailAlreadyUsed as exc:
            raise EmailTaken("Choose another email, or log in to the existing account.") from exc
        await self._audit.record(
            "user.registered", subject_id=user.id, details={"is_admin": is_admin}
        )
        return user

    async def login(
        self,
        *,
        email: str,
        password: str,
        client: ClientInfo,
        otp: str | None = None,
        recovery_code: str | None = None,
    ) -> TokenPair:
        email = normalise_email(email)
        # Per target account, whatever the address: slows credential stuffing and spraying.
        try:
            await self._throttle.check(email)
        except DomainError:
            AUTH_EVENTS.labels("login_failure", "throttled").inc()
            raise
        async with self._db.transaction() as conn:
            creds = await self._users.credentials_by_email(conn, email)
        # Unknown accounts still pay for a hash check, so timing says nothing (ASVS 6.3.8).
        result = await self._hasher.verify(creds.password_hash if creds else None, password)
        if creds is None or not result.ok or not creds.user.is_active:
            reason = (
                "unknown_account"
                if creds is None
                else "bad_password"
                if not result.ok
                else "inactive_account"
            )
            AUTH_EVENTS.labels("login_failure", reason).inc()
            await self._audit.record(
                "login.failed",
                subject_id=creds.user.id if creds else None,
                target=_email_fingerprint(email, self._fingerprint_key),
                details={"reason": reason},
            )
            await self._throttle.failed(email)
            raise InvalidCredentials("Email or password is incorrect.")
        try:
            await self._totp.verify_login(creds.user.id, otp=otp, recovery_code=recovery_code)
        except InvalidOtp:
            AUTH_EVENTS.labels("login_failure", "bad_otp").inc()
            await self._audit.record(
                "login.failed", subject_id=creds.user.id, details={"reason": "bad_otp"}
            )
            await self._throttle.failed(email)
            raise
        await self._throttle.succeeded(email)
        AUTH_EVENTS.labels("login_success", "").inc()
        now = utcnow()
        if result.new_hash is not None:
            async with self._db.transaction() as conn:
                await self._users.update(conn, creds.user.id, now, password_hash=result.new_hash)
        refresh = new_refresh_token()
        session_id = await self.store.create(
            user_id=creds.user.id,
            refresh_hash=hash_refresh_token(refresh),
            now=now,
            expires_at=now + self._session_lifetime,
            user_agent=client.user_agent,
            ip=client.ip,
        )
        await self._audit.record(
            "login.succeeded", subject_id=creds.user.id, target=str(session_id)
        )
        return self._pair(creds.user.id, session_id, refresh, now)

    async def refresh(self, refresh_token: str) -> TokenPair:
        now = utcnow()
        refresh = new_refresh_token()
        result = await self.store.rotate(
            old_hash=hash_refresh_token(refresh_token),
            new_hash=hash_refresh_token(refresh),
            now=now,
            idle_seconds=self._idle_seconds,
        )
        AUTH_EVENTS.labels(
            "refresh_reuse" if result.outcome is Rotation.reused else "refresh",
            result.outcome.value,
        ).inc()
        if result.outcome is Rotation.unknown:
            raise InvalidRefreshToken("The refresh token is not valid; log in again.")
        assert result.session_id is not None
        if result.outcome is not Rotation.rotated:
            # Ended, idle, or a spent token came back (someone holds a copy): the session is
            # over on every instance, and this process forgets it at once.
            self._guard.forget([result.session_id])
            if result.outcome is Rotation.reused:
                await self._audit.record(
                    "session.refresh_reused",
                    subject_id=result.user_id,
                    target=str(result.session_id),
                )
            raise InvalidRefreshToken("This session has ended; log in again.")
        assert result.user_id is not None
        flags = await self._users.flags(result.user_id)
        if flags is None or not flags.is_active:
            # A disabled account's sessions are over (ASVS 7.4.2).
            await self._end(result.session_id, result.user_id, now, "account-disabled")
            raise InvalidRefreshToken("This session has ended; log in again.")
        return self._pair(result.user_id, result.session_id, refresh, now)

    async def authenticate(self, access_token: str) -> Principal:
        claims = self._tokens.decode_access(access_token)
        principal = await self._guard.principal(claims.user_id, claims.session_id, utcnow())
        if principal is None:
            raise InvalidToken("This session has ended; log in again.")
        return principal

    async def sessions(self, principal: Principal) -> list[SessionRecord]:
        return await self.store.list_for_user(principal.user_id, utcnow())

    async def end_session(self, principal: Principal, session_id: uuid.UUID) -> None:
        if not await self._end(session_id, principal.user_id, utcnow(), "ended-by-user"):
            raise SessionNotFound("No session with this id.")
        await self._audit.record("session.ended", actor=principal, target=str(session_id))

    async def logout(self, principal: Principal) -> None:
        AUTH_EVENTS.labels("logout", "").inc()
        if principal.session_id is not None:
            await self._end(principal.session_id, principal.user_id, utcnow(), "logout")
        await self._audit.record("logout", actor=principal, target=str(principal.session_id))

    async def logout_all(self, principal: Principal) -> None:
        AUTH_EVENTS.labels("logout", "all").inc()
        await self.end_sessions(principal.user_id, reason="logout-all")
        await self._audit.record("logout.all", actor=principal)

    async def end_sessions(
        self, user_id: uuid.UUID, *, reason: str, keep: uuid.UUID | None = None
    ) -> None:
        ended = await self.store.revoke_all(user_id, now=utcnow(), reason=reason, keep=keep)
        self._guard.forget(ended)

    async def _end(
        self, session_id: uuid.UUID, user_id: uuid.UUID, now: datetime, reason: str
    ) -> bool:
        ended = await self.store.revoke(session_id, user_id=user_id, now=now, reason=reason)
        if ended:  # only one's own session: a guessed id must not mark another's as ended
            self._guard.forget([session_id])
        return ended

    async def change_password(
        self, principal: Principal, *, current_password: str, new_password: str
    ) -> None:
        async with self._db.transaction() as conn:
            creds = await self._users.credentials_by_id(conn, principal.user_id)
        if creds is None:
            raise InvalidToken("This session has ended; log in again.")
        result = await self._hasher.verify(creds.password_hash, current_password)
        if not result.ok:
            raise InvalidCredentials("The current password is incorrect.")
        email = creds.user.email
        await self._policy.check(
            new_password, context=[email, email.split("@")[0], creds.user.display_name]
        )
        new_hash = await self._hasher.hash(new_password)
        async with self._db.transaction() as conn:
            await self._users.update(conn, principal.user_id, utcnow(), password_hash=new_hash)
        await self.end_sessions(
            principal.user_id, reason="password-change", keep=principal.session_id
        )
        await self._audit.record("password.changed", actor=principal)

    async def verify_password(self, user_id: uuid.UUID, password: str) -> bool:
        async with self._db.transaction() as conn:
            creds = await self._users.credentials_by_id(conn, user_id)
        result = await self._hasher.verify(creds.password_hash if creds else None, password)
        return creds is not None and result.ok

    def _pair(
        self, user_id: uuid.UUID, session_id: uuid.UUID, refresh: str, now: datetime
    ) -> TokenPair:
        return TokenPair(
            access_token=self._tokens.issue_access(user_id, session_id, now),
            refresh_token=refresh,
            expires_in=self._tokens.access_ttl,
            session_id=session_id,
        )
