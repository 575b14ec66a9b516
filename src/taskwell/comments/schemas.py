"""Request and response bodies of the comment routes, and the one JSON encoding of a comment."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime
from typing import Annotated, Any

from pydantic import AfterValidator, BaseModel, Field

from taskwell.comments.models import BODY_MAX
from taskwell.validation import CleanStr, StrictModel, has_text, unicode_text

# Markdown, stored and sent as written; rendering (and sanitising) it is the client's job.
CommentText = Annotated[
    CleanStr,
    Field(min_length=1, max_length=BODY_MAX),
    AfterValidator(has_text),
    AfterValidator(unicode_text),
]


class CommentIn(StrictModel):
    """The body of POST (a new comment) and PATCH (its new text)."""

    body: CommentText


class CommentOut(BaseModel):
    id: uuid.UUID
    task_id: uuid.UUID
    author_id: uuid.UUID | None = Field(description="None once the author's account is deleted")
    body: str
    version: int
    created_at: datetime
    updated_at: datetime
    edited: bool = Field(description="Whether the text was changed after it was posted")


class CommentPage(BaseModel):
    items: list[CommentOut]
    next_cursor: str | None


FIELDS = ("id", "task_id", "author_id", "body", "version", "created_at", "updated_at")


def comment_dict(row: Sequence[Any]) -> dict[str, Any]:
    comment = dict(zip(FIELDS, row, strict=True))
    comment["edited"] = comment["updated_at"] > comment["created_at"]
    return comment
