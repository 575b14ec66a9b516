"""HTTP for the audit log: your own events; admins see everyone's and can filter."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Query
from pydantic import BaseModel

from taskwell.audit.service import AuditEvent, AuditQuery
from taskwell.auth.deps import Context, CurrentPrincipal
from taskwell.errors import Forbidden, problem_responses
from taskwell.http import API_V1
from taskwell.validation import Instant

router = APIRouter(
    prefix=f"{API_V1}/audit", tags=["audit"], responses=problem_responses(401, 403, 422, 429)
)


class AuditEventOut(BaseModel):
    id: int
    at: datetime
    event: str
    actor_id: uuid.UUID | None
    subject_id: uuid.UUID | None
    target: str | None
    ip: str
    user_agent: str
    request_id: str
    details: dict[str, Any]


class AuditPage(BaseModel):
    items: list[AuditEventOut]
    next_cursor: str | None


def _out(event: AuditEvent) -> AuditEventOut:
    return AuditEventOut(**{name: getattr(event, name) for name in AuditEventOut.model_fields})


@router.get("", response_model=AuditPage)
async def list_audit_events(
    principal: CurrentPrincipal,
    ctx: Context,
    user_id: uuid.UUID | None = None,
    event: Annotated[str | None, Query(max_length=64, pattern=r"^[a-z_.]+$")] = None,
    since: Instant | None = None,
    until: Instant | None = None,
    # 18 digits always fit the 64-bit id column; longer ones would overflow it.
    cursor: Annotated[str | None, Query(max_length=18, pattern=r"^[0-9]+$")] = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
) -> AuditPage:
    """Newest first. Everyone sees the events they did or that concern them; admins see all
    (`user_id` narrows to one account)."""
    if user_id is not None and user_id != principal.user_id and not principal.is_admin:
        raise Forbidden("Only admins can read other accounts' events.")
    subject = user_id if principal.is_admin else principal.user_id
    events = await ctx.audit.events(
        AuditQuery(
            subject_id=subject,
            event=event,
            since=since,
            until=until,
            before_id=int(cursor) if cursor else None,
            limit=limit,
        )
    )
    next_cursor = str(events[-1].id) if len(events) == limit else None
    return AuditPage(items=[_out(e) for e in events], next_cursor=next_cursor)
