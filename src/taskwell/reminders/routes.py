"""HTTP for reminders on a task: each user's own."""

from __future__ import annotations

import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Response, status
from pydantic import Field, model_validator

from taskwell.auth.deps import Context, TasksReader
from taskwell.errors import problem_responses
from taskwell.http import API_V1
from taskwell.http.json_body import dumps
from taskwell.validation import Instant, StrictModel

router = APIRouter(
    prefix=f"{API_V1}/tasks/{{task_id}}/reminders",
    tags=["reminders"],
    responses=problem_responses(401, 403, 404, 422, 429),
)

_JSON = "application/json"


class ReminderCreate(StrictModel):
    """At a time, or some minutes before the task's due (then it moves with the due)."""

    remind_at: Instant | None = None
    minutes_before: Annotated[int, Field(ge=0, le=525_600, strict=True)] | None = None

    @model_validator(mode="after")
    def _one_of(self) -> ReminderCreate:
        if (self.remind_at is None) == (self.minutes_before is None):
            raise ValueError("give exactly one of remind_at and minutes_before")
        return self


def _json(payload: Any, status_code: int = 200) -> Response:
    return Response(dumps(payload), status_code=status_code, media_type=_JSON)


# Setting a reminder for oneself needs only read access to the task (a viewer may be
# reminded too), so these routes take the tasks:read scope.


@router.get("")
async def list_reminders(task_id: uuid.UUID, principal: TasksReader, ctx: Context) -> Response:
    """Your reminders on this task, soonest first."""
    return _json({"items": await ctx.reminders.list(principal.user_id, task_id)})


@router.post("", status_code=status.HTTP_201_CREATED, responses=problem_responses(409, 413))
async def create_reminder(
    task_id: uuid.UUID, body: ReminderCreate, principal: TasksReader, ctx: Context
) -> Response:
    values = body.model_dump(exclude_none=True)
    return _json(await ctx.reminders.create(principal.user_id, task_id, values), 201)


@router.delete("/{reminder_id}", status_code=status.HTTP_204_NO_CONTENT)
async def delete_reminder(
    task_id: uuid.UUID, reminder_id: uuid.UUID, principal: TasksReader, ctx: Context
) -> Response:
    await ctx.reminders.delete(principal.user_id, task_id, reminder_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)
