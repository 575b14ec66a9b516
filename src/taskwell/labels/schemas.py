"""Request and response bodies of the label routes."""

from __future__ import annotations

import re
import uuid
from datetime import datetime
from typing import Annotated, Any

from pydantic import AfterValidator, BaseModel, BeforeValidator, Field, field_validator

from taskwell.labels.models import NAME_MAX
from taskwell.labels.service import Label
from taskwell.validation import CleanStr, StrictModel, unicode_text

_COLOR = re.compile(r"^#[0-9A-Fa-f]{6}$")


def _trimmed(value: Any) -> Any:
    # Before the length check, so the limits apply to the name as stored. Other types pass
    # through to get the usual type error.
    if isinstance(value, str):
        value = value.strip()
        if not value:
            raise ValueError("must contain a non-space character")
    return value


def _no_comma(value: str) -> str:
    if "," in value:
        raise ValueError(
            "must not contain a comma: commas separate labels in CSV import and export"
        )
    return value


def _hex_color(value: str) -> str:
    if not _COLOR.fullmatch(value):
        raise ValueError('must be a colour written "#rrggbb" (six hexadecimal digits)')
    return value.lower()


LabelName = Annotated[
    CleanStr,
    BeforeValidator(_trimmed),
    Field(min_length=1, max_length=NAME_MAX),
    AfterValidator(_no_comma),
    AfterValidator(unicode_text),
]
# The pattern is documented for clients; _hex_color checks it, with a clearer message.
Color = Annotated[
    str, AfterValidator(_hex_color), Field(json_schema_extra={"pattern": _COLOR.pattern})
]


class LabelCreate(StrictModel):
    name: LabelName
    color: Color | None = None


class LabelPatch(StrictModel):
    name: LabelName | None = None
    # null clears the colour.
    color: Color | None = None

    # Runs only when the client sent a name, so an explicit null is refused.
    @field_validator("name")
    @classmethod
    def _not_null(cls, value: Any) -> Any:
        if value is None:
            raise ValueError("cannot be null")
        return value

    def changes(self) -> dict[str, Any]:
        """The fields the client sent."""
        return self.model_dump(exclude_unset=True)


class LabelOut(BaseModel):
    id: uuid.UUID
    name: str
    color: str | None
    version: int
    created_at: datetime
    updated_at: datetime

    @classmethod
    def of(cls, label: Label) -> LabelOut:
        return cls(
            id=label.id,
            name=label.name,
            color=label.color,
            version=label.version,
            created_at=label.created_at,
            updated_at=label.updated_at,
        )


class LabelList(BaseModel):
    items: list[LabelOut]
