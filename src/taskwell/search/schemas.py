"""The query and the answer of GET /search."""

from __future__ import annotations

import uuid
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field

from taskwell.tasks.models import LABELS_PER_TASK_MAX, Priority, TaskStatus
from taskwell.tasks.schemas import TaskOut
from taskwell.validation import CleanStr, Instant

# The hard ceiling of the query's length; TASKWELL_SEARCH_QUERY_MAX_LENGTH sets the limit in
# force (at most this).
QUERY_MAX = 1_000


class SearchParams(BaseModel):
    """The query string of GET /search, validated in one go."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    q: Annotated[
        CleanStr,
        Field(
            min_length=1,
            max_length=QUERY_MAX,
            description="Words to find, all of them; the last also as the start of a word. "
            "At most TASKWELL_SEARCH_QUERY_MAX_LENGTH characters (200 by default).",
        ),
    ]
    # Given, that project only (an archived one too); otherwise every live, unarchived
    # project you are a member of.
    project_id: uuid.UUID | None = None
    # A user id, or "me".
    assignee_id: uuid.UUID | Literal["me"] | None = None
    # Any of these labels (your own).
    label: Annotated[list[uuid.UUID], Field(max_length=LABELS_PER_TASK_MAX)] = []
    status: list[TaskStatus] = []
    priority: list[Priority] = []
    due_after: Instant | None = None
    due_before: Instant | None = None
    cursor: Annotated[str, Field(max_length=512)] | None = None
    limit: int | None = None


class SearchHit(BaseModel):
    task: TaskOut
    rank: float = Field(description="Higher is better; comparable within one query only")
    matched_in: list[Literal["title", "description", "comment"]] = Field(
        description="Where the words were found: the task's title or description (any of "
        "the words), or one of its comments (all of them)"
    )


class SearchPage(BaseModel):
    items: list[SearchHit]
    next_cursor: str | None
