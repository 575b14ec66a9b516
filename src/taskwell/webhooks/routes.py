"""HTTP for webhooks: parse, call the service, shape the response, audit the sensitive acts."""

from __future__ import annotations

import uuid
from typing import Annotated
from urllib.parse import urlsplit

from fastapi import APIRouter, Depends, Query, Request, Response, status

from taskwell.auth.deps import Context, require_scope
from taskwell.auth.session_guard import Principal
from taskwell.errors import problem_responses
from taskwell.http import API_V1
from taskwell.webhooks.schemas import (
    DeliveryPage,
    TestQueued,
    WebhookCreate,
    WebhookCreated,
    WebhookList,
    WebhookOut,
    WebhookPatch,
)

# A signed-in session, or an API key with both scopes: a webhook sends what `GET /sync` shows,
# so managing one is reading tasks (a `webhooks:manage` key alone must not read them through it).
WebhooksManager = Annotated[Principal, Depends(require_scope("webhooks:manage", "tasks:read"))]
_NO_STORE = {"Cache-Control": "no-store"}

router = APIRouter(
    prefix=f"{API_V1}/webhooks",
    tags=["webhooks"],
    responses=problem_responses(401, 403, 422, 429),
)


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    response_model=WebhookCreated,
    responses=problem_responses(400, 409, 413),
)
async def create_webhook(
    body: WebhookCreate,
    principal: WebhooksManager,
    ctx: Context,
    request: Request,
    response: Response,
) -> WebhookCreated:
    """Register an endpoint for these event types. The answer holds its signing secret, the
    only time it is shown. The URL must be https:// and resolve to public addresses."""
    endpoint, secret = await ctx.webhooks.create(
        principal.user_id,
        url=body.url,
        event_types=body.event_types,
        description=body.description,
    )
    await ctx.audit.record(
        "webhook.created",
        actor=principal,
        target=str(endpoint.id),
        details={"url": _where(endpoint.url), "event_types": list(endpoint.event_types)},
    )
    response.headers.update(_NO_STORE)
    response.headers["Location"] = str(request.url_for("get_webhook", webhook_id=endpoint.id))
    return WebhookCreated(**WebhookOut.of(endpoint).model_dump(), secret=secret)


@router.get("", response_model=WebhookList)
async def list_webhooks(principal: WebhooksManager, ctx: Context) -> WebhookList:
    """All your webhooks, oldest first."""
    endpoints = await ctx.webhooks.list(principal.user_id)
    return WebhookList(items=[WebhookOut.of(endpoint) for endpoint in endpoints])


@router.get(
    "/{webhook_id}",
    response_model=WebhookOut,
    name="get_webhook",
    responses=problem_responses(404),
)
async def get_webhook(
    webhook_id: uuid.UUID, principal: WebhooksManager, ctx: Context
) -> WebhookOut:
    return WebhookOut.of(await ctx.webhooks.get(principal.user_id, webhook_id))


@router.patch(
    "/{webhook_id}", response_model=WebhookOut, responses=problem_responses(400, 404, 413)
)
async def update_webhook(
    webhook_id: uuid.UUID, body: WebhookPatch, principal: WebhooksManager, ctx: Context
) -> WebhookOut:
    """Change the URL, event types, description, or `enabled`. Enabling a disabled webhook
    forgets its failures and sends what changes from then on."""
    changes = body.changes()
    endpoint = await ctx.webhooks.update(principal.user_id, webhook_id, changes)
    if "url" in changes:
        # Where deliveries go is as sensitive as creating the webhook.
        await ctx.audit.record(
            "webhook.updated",
            actor=principal,
            target=str(webhook_id),
            details={"url": _where(endpoint.url)},
        )
    return WebhookOut.of(endpoint)


@router.delete(
    "/{webhook_id}", status_code=status.HTTP_204_NO_CONTENT, responses=problem_responses(404)
)
async def delete_webhook(
    webhook_id: uuid.UUID, principal: WebhooksManager, ctx: Context
) -> Response:
    """Delete the webhook and its delivery log; nothing more is sent to it."""
    endpoint = await ctx.webhooks.delete(principal.user_id, webhook_id)
    await ctx.audit.record(
        "webhook.deleted",
        actor=principal,
        target=str(webhook_id),
        details={"url": _where(endpoint.url)},
    )
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.post(
    "/{webhook_id}/rotate-secret",
    response_model=WebhookCreated,
    responses=problem_responses(404),
)
async def rotate_webhook_secret(
    webhook_id: uuid.UUID, principal: WebhooksManager, ctx: Context, response: Response
) -> WebhookCreated:
    """A new signing secret, shown only here. Until `previous_secret_expires_at` deliveries
    carry a signature by the old secret too, so the receiver can switch without a gap."""
    endpoint, secret = await ctx.webhooks.rotate_secret(principal.user_id, webhook_id)
    await ctx.audit.record("webhook.secret_rotated", actor=principal, target=str(webhook_id))
    response.headers.update(_NO_STORE)
    return WebhookCreated(**WebhookOut.of(endpoint).model_dump(), secret=secret)


@router.get(
    "/{webhook_id}/deliveries",
    response_model=DeliveryPage,
    responses=problem_responses(400, 404),
)
async def list_webhook_deliveries(
    webhook_id: uuid.UUID,
    principal: WebhooksManager,
    ctx: Context,
    cursor: Annotated[str | None, Query(max_length=512)] = None,
    limit: int | None = None,
) -> DeliveryPage:
    """The delivery log, newest first, a page at a time (follow `next_cursor`): each
    delivery's state and every attempt's status code, duration, error and next retry."""
    page = await ctx.webhooks.deliveries(principal.user_id, webhook_id, cursor, limit)
    return DeliveryPage.model_validate(page)


@router.post(
    "/{webhook_id}/test",
    status_code=status.HTTP_202_ACCEPTED,
    response_model=TestQueued,
    responses=problem_responses(404, 409),
)
async def test_webhook(
    webhook_id: uuid.UUID, principal: WebhooksManager, ctx: Context
) -> TestQueued:
    """Queue a `webhook.ping` delivery; follow it in the delivery log."""
    return TestQueued.model_validate(await ctx.webhooks.send_test(principal.user_id, webhook_id))


def _where(url: str) -> str:
    """A webhook URL as the audit log keeps it: scheme, host, port and path. Its query and any
    user info may carry a receiver's token, which the log must not hold."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    if ":" in host:
        host = f"[{host}]"
    port = f":{parts.port}" if parts.port else ""
    return f"{parts.scheme}://{host}{port}{parts.path}"
