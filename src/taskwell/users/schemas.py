"""Request and response bodies of the profile routes."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated

from pydantic import BaseModel, EmailStr, Field

from taskwell.auth.schemas import PasswordField
from taskwell.users.avatars import avatar_urls
from taskwell.users.repository import User
from taskwell.users.service import Profile
from taskwell.validation import CleanStr, StrictModel, TimeZoneName


class UserOut(BaseModel):
    id: uuid.UUID
    email: str
    display_name: str
    is_active: bool
    is_admin: bool
    # IANA name: the zone "today" and recurring times are reckoned in.
    time_zone: str
    created_at: datetime
    updated_at: datetime

    @classmethod
    def of(cls, user: User) -> UserOut:
        return cls(
            id=user.id,
            email=user.email,
            display_name=user.display_name,
            is_active=user.is_active,
            is_admin=user.is_admin,
            time_zone=user.time_zone,
            created_at=user.created_at,
            updated_at=user.updated_at,
        )


class AvatarOut(BaseModel):
    """Image addresses for `<img srcset>`: 96 px (1x) and 192 px (2x) square WebP."""

    url_1x: str
    url_2x: str


class ProfileOut(UserOut):
    """The signed-in user's own view: the account and the avatar (null without one)."""

    avatar: AvatarOut | None

    @classmethod
    def of_profile(cls, profile: Profile) -> ProfileOut:
        user, version = profile.user, profile.avatar_version
        avatar = None
        if version is not None:
            url_1x, url_2x = avatar_urls(user.id, version)
            avatar = AvatarOut(url_1x=url_1x, url_2x=url_2x)
        return cls(**UserOut.of(user).model_dump(), avatar=avatar)


class UserPatch(StrictModel):
    display_name: Annotated[CleanStr, Field(max_length=100)] | None = None
    time_zone: TimeZoneName | None = None
    # Changing the email needs the current password (ASVS 7.5.1).
    email: Annotated[EmailStr, Field(max_length=320)] | None = None
    current_password: PasswordField | None = None
