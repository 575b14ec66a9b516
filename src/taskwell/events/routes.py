"""HTTP for the live event stream (server-sent events)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from typing import Annotated

from fastapi import APIRouter, Header, Query, Request
from fastapi.responses import StreamingResponse
from starlette.types import Receive, Scope, Send

from taskwell.auth.deps import Context, TasksReader, bearer_of, credential_of
from taskwell.errors import DomainError, problem_responses
from taskwell.http import API_V1

router = APIRouter(prefix=API_V1, tags=["sync"], responses=problem_responses(401, 403, 429))

_MEDIA_TYPE = "text/event-stream"
# One event of the stream, as an SSE parser hands it over (its data is one line of JSON).
_EVENT_SCHEMA = {
    "type": "object",
    "properties": {
        "event": {"type": "string", "enum": ["changes", "ready", "resync"]},
        "id": {"type": "string", "description": "A sync token: send it as Last-Event-ID"},
        "data": {
            "type": "string",
            "description": "JSON: {changes, token} | {token} | {reason, token}",
        },
        "retry": {"type": "integer"},
    },
}


@router.get(
    "/events",
    response_class=StreamingResponse,
    responses={200: {"content": {_MEDIA_TYPE: {"schema": _EVENT_SCHEMA}}}},
)
async def events(
    request: Request,
    principal: TasksReader,
    ctx: Context,
    since: Annotated[str | None, Query(max_length=256)] = None,
    last_event_id: Annotated[str | None, Header(max_length=256)] = None,
) -> StreamingResponse:
    """Changes you can see, pushed as server-sent events as they happen, whichever instance
    made them. Each `changes` event holds what GET /sync would return, and its id is a sync
    token: reconnect with `Last-Event-ID` (EventSource does it by itself) or `since` to
    resume without gaps. `ready` says the stream has caught up; `resync` (an id older than
    the replay window, or not from this server) says: reload, then follow on from its token.
    A comment (`: ping`) every `TASKWELL_EVENTS_HEARTBEAT_SECONDS` keeps proxies from closing
    it. The stream ends when the instance shuts down, or after
    `TASKWELL_EVENTS_STREAM_MAX_SECONDS`; reconnect."""
    streams = ctx.events
    credential = credential_of(request, bearer_of(request), request.headers.get("x-api-key"))
    user_id = principal.user_id
    slot = streams.slot(user_id)
    slot.__enter__()  # 429 here, before the response starts

    async def still_allowed() -> bool:
        try:
            checked = await credential.check(ctx)
        except DomainError:
            return False
        return checked.user_id == user_id and checked.allows("tasks:read")

    return _EventStream(
        streams.run(user_id, last_event_id or since, still_allowed, lambda: _draining(request)),
        release=lambda: slot.__exit__(None, None, None),
    )


class _EventStream(StreamingResponse):
    """Streams the events, and gives the stream's slot back however it ends (also when the
    client left before the first byte)."""

    def __init__(self, content: AsyncIterator[bytes], release: Callable[[], object]) -> None:
        super().__init__(
            content,
            media_type=_MEDIA_TYPE,
            headers={
                "Cache-Control": "no-store",
                # nginx: pass it on as it comes, never buffered (deploy/nginx gives it a
                # location of its own too).
                "X-Accel-Buffering": "no",
            },
        )
        self._release = release

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        try:
            await super().__call__(scope, receive, send)
        finally:
            self._release()


def _draining(request: Request) -> bool:
    drain = getattr(request.app.state, "drain", None)
    return bool(drain is not None and drain.draining)
