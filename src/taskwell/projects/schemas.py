"""Request bodies of the project routes."""

from __future__ import annotations

import uuid
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, Field, field_validator

from taskwell.projects.models import NAME_MAX
from taskwell.tasks.schemas import Position, Title
from taskwell.validation import CleanStr, StrictModel


def _hex_color(value: str) -> str:
    if (
        len(value) != 7
        or value[0] != "#"
        or any(c not in "0123456789abcdefABCDEF" for c in value[1:])
    ):
        raise ValueError('must be a colour as "#rrggbb"')
    return value.lower()


Name = Annotated[Title, Field(max_length=NAME_MAX)]
Color = Annotated[str, AfterValidator(_hex_color)]
Email = Annotated[CleanStr, Field(min_length=3, max_length=320)]
# The owner is made by a transfer, never by an invitation or a role change.
MemberRole = Literal["editor", "viewer"]


class ProjectCreate(StrictModel):
    name: Name
    color: Color | None = None
    # Where it goes in the creator's sidebar; omitted, last.
    position: Position | None = None


class ProjectPatch(StrictModel):
    name: Name | None = None
    color: Color | None = None
    position: Position | None = None
    archived: bool | None = None

    @field_validator("name", "position", "archived")
    @classmethod
    def _not_null(cls, value: Any) -> Any:
        if value is None:
            raise ValueError("cannot be null")
        return value


class SectionCreate(StrictModel):
    name: Name
    position: Position | None = None


class SectionPatch(StrictModel):
    name: Name | None = None
    position: Position | None = None

    @field_validator("name", "position")
    @classmethod
    def _not_null(cls, value: Any) -> Any:
        if value is None:
            raise ValueError("cannot be null")
        return value


class MemberInvite(StrictModel):
    email: Email
    role: MemberRole


class MemberPatch(StrictModel):
    role: MemberRole


class Transfer(StrictModel):
    user_id: uuid.UUID
