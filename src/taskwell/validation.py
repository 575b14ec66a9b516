"""Shared input rules: no unknown fields, no NUL, and the JSON types the document names."""

from __future__ import annotations

import functools
import re
import unicodedata
import zoneinfo
from datetime import UTC, date, datetime
from typing import Annotated, Any

from pydantic import (
    AfterValidator,
    AwareDatetime,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
)
from pydantic_core import PydanticCustomError


def _no_nul(value: str) -> str:
    if "\x00" in value:
        # PostgreSQL cannot store NUL in text, and no legitimate input needs one.
        raise ValueError("must not contain NUL characters")
    return value


CleanStr = Annotated[str, AfterValidator(_no_nul)]


def has_text(value: str) -> str:
    if not value.strip():
        raise ValueError("must contain a non-space character")
    return value


def unicode_text(value: str) -> str:
    # JSON may escape a lone surrogate ("\ud800"); it is no character, and neither the
    # database drivers nor orjson can encode it.
    try:
        value.encode()
    except UnicodeEncodeError as exc:
        raise ValueError("must be valid Unicode text (no lone surrogates)") from exc
    return value


def as_utc(value: datetime) -> datetime:
    # An offset can push an instant near year 1 or 9999 outside what UTC can represent;
    # refused here it is a 422, not an error where the column converts it.
    try:
        return value.astimezone(UTC)
    except OverflowError as exc:
        raise ValueError("must be an instant between years 1 and 9999 in UTC") from exc


def _json_type(name: str, *types: type) -> BeforeValidator:
    def check(value: Any) -> Any:
        # The exact type: bool is a subclass of int, and `true` is not a number here.
        if type(value) not in types:
            raise PydanticCustomError(f"json_{name}_type", f"Input should be a JSON {name}")
        return value

    return BeforeValidator(check)


# For body fields: only the JSON type the OpenAPI document names. Pydantic's lax mode would
# otherwise read `true` as 1 and "2" as 2.
JSON_NUMBER = _json_type("number", int, float)
JSON_INTEGER = _json_type("integer", int)

_DATE_TIME = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}[Tt ][0-9]{2}:[0-9]{2}")


def _date_time_text(value: Any) -> Any:
    # Pydantic also reads numbers and numeric text as Unix times, so 0 would be 1970.
    if type(value) is not str or not _DATE_TIME.match(value):
        raise PydanticCustomError(
            "date_time_text", "Input should be an RFC 3339 date-time, e.g. 2025-01-31T09:00:00Z"
        )
    return value


# A timezone-aware instant, normalised to UTC, given as text shaped as the OpenAPI
# document's `date-time` (in bodies and query strings alike).
Instant = Annotated[AwareDatetime, BeforeValidator(_date_time_text), AfterValidator(as_utc)]


def normalise_email(email: str) -> str:
    return unicodedata.normalize("NFKC", email).strip().lower()


class StrictModel(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=False)


@functools.cache
def _zone_names() -> frozenset[str]:
    return frozenset(zoneinfo.available_timezones())


def _time_zone(value: str) -> str:
    if value not in _zone_names():
        raise ValueError('must be an IANA time zone name, such as "Europe/Berlin" or "UTC"')
    return value


# An IANA time zone name ("Europe/Berlin").
TimeZoneName = Annotated[str, Field(min_length=1, max_length=64), AfterValidator(_time_zone)]
_DATE_TEXT = re.compile(r"^\d{4}-\d{2}-\d{2}$")


def _date_text(value: Any) -> Any:
    if isinstance(value, date) and not isinstance(value, datetime):
        return value
    if not isinstance(value, str) or not _DATE_TEXT.match(value):
        raise PydanticCustomError("date_format", 'must be a date as "YYYY-MM-DD"')
    try:
        return date.fromisoformat(value)
    except ValueError as exc:
        raise PydanticCustomError("date_value", "must be a date that exists") from exc


# A calendar date as "YYYY-MM-DD" (nothing looser: no numbers, no date-times).
CalendarDate = Annotated[date, BeforeValidator(_date_text)]
