"""Profile rules: read and change one's own account."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from taskwell.auth.service import AuthService, EmailTaken, InvalidCredentials
from taskwell.auth.session_guard import Principal
from taskwell.auth.tokens import InvalidToken
from taskwell.db.engine import Database
from taskwell.db.types import utcnow
from taskwell.errors import ValidationFailed
from taskwell.users.repository import EmailAlreadyUsed, User, UserRepository
from taskwell.validation import normalise_email


@dataclass(frozen=True, slots=True)
class Profile:
    user: User
    avatar_version: int | None  # None: no avatar


class UserService:
    def __init__(self, db: Database, users: UserRepository, auth: AuthService) -> None:
        self._db = db
        self._users = users
        self._auth = auth

    async def me(self, principal: Principal) -> User:
        async with self._db.transaction() as conn:
            user = await self._users.get(conn, principal.user_id)
        if user is None:
            raise InvalidToken("This session has ended; log in again.")
        return user

    async def profile(self, principal: Principal) -> Profile:
        """The signed-in user with their avatar's version."""
        async with self._db.transaction() as conn:
            found = await self._users.profile(conn, principal.user_id)
        if found is None:
            raise InvalidToken("This session has ended; log in again.")
        return Profile(*found)

    async def update_me(
        self,
        principal: Principal,
        *,
        display_name: str | None,
        email: str | None,
        current_password: str | None,
        time_zone: str | None = None,
    ) -> Profile:
        values: dict[str, Any] = {}
        if display_name is not None:
            values["display_name"] = display_name
        if time_zone is not None:
            values["time_zone"] = time_zone
        if email is not None:
            if current_password is None:
                raise ValidationFailed(
                    "current_password",
                    "Changing the email needs `current_password`.",
                    code="missing",
                )
            if not await self._auth.verify_password(principal.user_id, current_password):
                raise InvalidCredentials("The current password is incorrect.")
            values["email"] = normalise_email(email)
        if not values:
            return await self.profile(principal)
        try:
            async with self._db.transaction() as conn:
                user = await self._users.update(conn, principal.user_id, utcnow(), **values)
                found = await self._users.profile(conn, principal.user_id)
        except EmailAlreadyUsed as exc:
            raise EmailTaken("Another account already uses this email.") from exc
        if user is None or found is None:
            raise InvalidToken("This session has ended; log in again.")
        return Profile(*found)
