"""Account and session rules: register, log in, rotate refresh tokens, log out."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncConnection

from taskwell.auth.passwords import PasswordHasher
from taskwell.auth.policy import PasswordPolicy
from taskwell.auth.repository import SessionRepository
from taskwell.auth.session_guard import Principal, SessionGuard
from taskwell.auth.tokens import InvalidToken, TokenCodec, hash_refresh_token, new_refresh_token
from taskwell.db.engine import Database
from taskwell.db.types import utcnow
from taskwell.errors import Conflict, Unauthorized
from taskwell.settings import Settings
from taskwell.users.repository import EmailAlreadyUsed, User, UserRepository
from taskwell.validation import normalise_email


class EmailTaken(Conflict):
    slug, title, status = "email-taken", "An account with this email already exists", 409


class InvalidCredentials(Unauthorized):
    slug, title, status = "invalid-credentials", "Email or password is incorrect", 401


class InvalidRefreshToken(Unauthorized):
    slug, title, status = "invalid-refresh-token", "The refresh token is not valid", 401


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
        sessions: SessionRepository,
        guard: SessionGuard,
        hasher: PasswordHasher,
        policy: PasswordPolicy,
        tokens: TokenCodec,
    ) -> None:
        self._db = db
        self._users = users
        self._sessions = sessions
        self._guard = guard
        self._hasher = hasher
        self._policy = policy
        self._tokens = tokens
        self._session_lifetime = timedelta(seconds=settings.refresh_token_ttl_seconds)
        self._idle_timeout = timedelta(seconds=settings.session_idle_timeout_seconds)

    async def register(
        self, *, email: str, password: str, display_name: str, is_admin: bool = False
    ) -> User:
        email = normalise_email(email)
        await self._policy.check(password, context=[email, email.split("@")[0], display_name])
        password_hash = await self._hasher.hash(password)
        try:
            async with self._db.transaction() as conn:
                return await self._users.insert(
                    conn,
                    email=email,
                    display_name=display_name,
                    password_hash=password_hash,
                    is_admin=is_admin,
                    now=utcnow(),
                )
        except EmailAlreadyUsed as exc:
            raise EmailTaken("Choose another email, or log in to the existing account.") from exc

    async def login(self, *, email: str, password: str, client: ClientInfo) -> TokenPair:
        email = normalise_email(email)
        async with self._db.transaction() as conn:
            creds = await self._users.credentials_by_email(conn, email)
        # Unknown accounts still pay for a hash check, so timing says nothing (ASVS 6.3.8).
        result = await self._hasher.verify(creds.password_hash if creds else None, password)
        if creds is None or not result.ok or not creds.user.is_active:
            raise InvalidCredentials("Email or password is incorrect.")
        now = utcnow()
        async with self._db.transaction() as conn:
            if result.new_hash is not None:
                await self._users.update(conn, creds.user.id, now, password_hash=result.new_hash)
            session_id = await self._sessions.create(
                conn,
                user_id=creds.user.id,
                now=now,
                expires_at=now + self._session_lifetime,
                user_agent=client.user_agent,
                ip=client.ip,
            )
            return await self._issue(conn, creds.user.id, session_id, now)

    async def refresh(self, refresh_token: str) -> TokenPair:
        token_hash = hash_refresh_token(refresh_token)
        now = utcnow()
        reused_session: uuid.UUID | None = None
        async with self._db.transaction() as conn:
            record = await self._sessions.find_refresh(conn, token_hash)
            if record is None:
                raise InvalidRefreshToken("The refresh token is not valid; log in again.")
            # A disabled account's sessions are over (ASVS 7.4.2): no new tokens for it.
            if record.revoked or record.expires_at <= now or not record.user_active:
                raise InvalidRefreshToken("This session has ended; log in again.")
            if record.last_used_at + self._idle_timeout <= now:
                await self._sessions.revoke(conn, record.session_id, now, "idle")
                reused_session = record.session_id
            elif record.used or not await self._sessions.spend_refresh(conn, token_hash, now):
                # A spent token came back: someone holds a copy. End the whole family.
                await self._sessions.revoke(conn, record.session_id, now, "refresh-reuse")
                reused_session = record.session_id
            else:
                await self._sessions.touch(conn, record.session_id, now)
                return await self._issue(conn, record.user_id, record.session_id, now)
        self._guard.forget([reused_session])
        raise InvalidRefreshToken("This session has ended; log in again.")

    async def authenticate(self, access_token: str) -> Principal:
        claims = self._tokens.decode_access(access_token)
        principal = await self._guard.principal(
            claims.user_id, claims.session_id, utcnow().timestamp()
        )
        if principal is None:
            raise InvalidToken("This session has ended; log in again.")
        return principal

    async def logout(self, principal: Principal) -> None:
        async with self._db.transaction() as conn:
            await self._sessions.revoke(conn, principal.session_id, utcnow(), "logout")
        self._guard.forget([principal.session_id])

    async def logout_all(self, principal: Principal) -> None:
        await self.end_sessions(principal.user_id, reason="logout-all")

    async def end_sessions(
        self, user_id: uuid.UUID, *, reason: str, keep: uuid.UUID | None = None
    ) -> None:
        async with self._db.transaction() as conn:
            ended = await self._sessions.revoke_all_for_user(
                conn, user_id, utcnow(), reason, keep=keep
            )
        self._guard.forget(ended)

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

    async def verify_password(self, user_id: uuid.UUID, password: str) -> bool:
        async with self._db.transaction() as conn:
            creds = await self._users.credentials_by_id(conn, user_id)
        result = await self._hasher.verify(creds.password_hash if creds else None, password)
        return creds is not None and result.ok

    async def _issue(
        self, conn: AsyncConnection, user_id: uuid.UUID, session_id: uuid.UUID, now: datetime
    ) -> TokenPair:
        refresh = new_refresh_token()
        await self._sessions.add_refresh_token(
            conn, session_id=session_id, token_hash=hash_refresh_token(refresh), now=now
        )
        return TokenPair(
            access_token=self._tokens.issue_access(user_id, session_id, now),
            refresh_token=refresh,
            expires_in=self._tokens.access_ttl,
            session_id=session_id,
        )
