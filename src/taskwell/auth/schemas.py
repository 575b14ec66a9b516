"""Request and response bodies of the auth routes."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Literal

from pydantic import BaseModel, EmailStr, Field

from taskwell.validation import CleanStr, StrictModel

# Bodies may carry long passwords; the policy enforces the real bounds with a clear error.
PasswordField = Annotated[CleanStr, Field(min_length=1, max_length=1024)]


class RegisterIn(StrictModel):
    email: Annotated[EmailStr, Field(max_length=320)]
    password: PasswordField
    display_name: Annotated[CleanStr, Field(max_length=100)] = ""


class LoginIn(StrictModel):
    email: Annotated[CleanStr, Field(min_length=1, max_length=320)]
    password: PasswordField
    # For accounts with a second factor: the current 6-digit code, or a recovery code.
    otp: Annotated[CleanStr, Field(max_length=10)] | None = None
    recovery_code: Annotated[CleanStr, Field(max_length=20)] | None = None


class RefreshIn(StrictModel):
    refresh_token: Annotated[CleanStr, Field(min_length=1, max_length=256)]


class PasswordChangeIn(StrictModel):
    current_password: PasswordField
    new_password: PasswordField


class SessionOut(BaseModel):
    id: uuid.UUID
    created_at: datetime
    last_used_at: datetime
    expires_at: datetime
    user_agent: str
    ip: str
    current: bool


class TokenOut(BaseModel):
    access_token: str
    token_type: Literal["bearer"] = "bearer"  # noqa: S105 - the OAuth 2 token type name
    expires_in: int
    refresh_token: str
