"""HTTP for the optional second factor (TOTP) and its recovery codes."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Response, status
from pydantic import BaseModel, Field

from taskwell.auth.deps import Context, CurrentPrincipal
from taskwell.auth.schemas import PasswordField
from taskwell.auth.service import InvalidCredentials
from taskwell.errors import problem_responses
from taskwell.http import API_V1
from taskwell.validation import CleanStr, StrictModel

router = APIRouter(
    prefix=f"{API_V1}/auth/totp",
    tags=["auth"],
    responses=problem_responses(400, 401, 403, 409, 413, 422, 429),
)


class TotpStatus(BaseModel):
    enabled: bool


class TotpSetupOut(BaseModel):
    secret: str = Field(description="Base32 secret for authenticator apps that cannot scan")
    otpauth_uri: str = Field(description="Show as a QR code to scan")


class TotpCodeIn(StrictModel):
    code: Annotated[CleanStr, Field(min_length=6, max_length=10)]


class RecoveryCodesOut(BaseModel):
    recovery_codes: list[str] = Field(description="Shown once; each works once")


class TotpDisableIn(StrictModel):
    password: PasswordField


@router.get("", response_model=TotpStatus)
async def totp_status(principal: CurrentPrincipal, ctx: Context) -> TotpStatus:
    return TotpStatus(enabled=await ctx.totp.enabled(principal.user_id))


@router.post("/setup", response_model=TotpSetupOut)
async def totp_setup(principal: CurrentPrincipal, ctx: Context, response: Response) -> TotpSetupOut:
    """Start: a new secret to put in an authenticator app. Not active until /enable."""
    user = await ctx.users.me(principal)
    setup = await ctx.totp.begin_setup(principal.user_id, user.email)
    response.headers["Cache-Control"] = "no-store"
    return TotpSetupOut(secret=setup.secret, otpauth_uri=setup.otpauth_uri)


@router.post("/enable", response_model=RecoveryCodesOut)
async def totp_enable(
    body: TotpCodeIn, principal: CurrentPrincipal, ctx: Context
) -> RecoveryCodesOut:
    """Confirm with a current code; answers with the recovery codes, shown only now."""
    codes = await ctx.totp.enable(principal.user_id, body.code)
    await ctx.audit.record("totp.enabled", actor=principal)
    return RecoveryCodesOut(recovery_codes=codes)


@router.post("/disable", status_code=status.HTTP_204_NO_CONTENT)
async def totp_disable(body: TotpDisableIn, principal: CurrentPrincipal, ctx: Context) -> Response:
    """Turn the second factor off; needs the account password."""
    if not await ctx.auth.verify_password(principal.user_id, body.password):
        raise InvalidCredentials("The password is incorrect.")
    await ctx.totp.disable(principal.user_id)
    await ctx.audit.record("totp.disabled", actor=principal)
    return Response(status_code=status.HTTP_204_NO_CONTENT)
