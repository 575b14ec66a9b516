"""Opaque keyset cursors: the last row's sort value and id, tied to the sort they came from."""

from __future__ import annotations

import base64
import binascii
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import orjson

from taskwell.errors import InvalidCursor, ValidationFailed

MAX_CURSOR_LENGTH = 512


@dataclass(frozen=True, slots=True)
class Cursor:
    sort: str
    value: Any
    last_id: uuid.UUID


def encode_cursor(sort: str, value: Any, last_id: uuid.UUID) -> str:
    if isinstance(value, datetime):
        value = {"t": value.isoformat()}
    raw = orjson.dumps([sort, value, str(last_id)])
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(token: str, *, sort: str, value_kind: type) -> Cursor:
    """Parse a cursor made by encode_cursor for this same sort; anything else is a 400."""
    if len(token) > MAX_CURSOR_LENGTH:
        raise InvalidCursor("The cursor is too long.")
    try:
        raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
        sort_name, value, last_id = orjson.loads(raw)
        if not isinstance(last_id, str):
            raise TypeError("the id in a cursor is a string")
        parsed_id = uuid.UUID(last_id)
    except (ValueError, TypeError, binascii.Error, orjson.JSONDecodeError) as exc:
        raise InvalidCursor("The cursor could not be read; start again without one.") from exc
    if sort_name != sort:
        raise InvalidCursor("The cursor belongs to another sort order; start again without one.")
    return Cursor(sort, _parse_value(value, value_kind), parsed_id)


def _parse_value(value: Any, kind: type) -> Any:
    if value is None:
        return None
    try:
        if kind is datetime and isinstance(value, dict) and isinstance(value.get("t"), str):
            parsed = datetime.fromisoformat(value["t"])
            if parsed.tzinfo is not None:
                return parsed
        elif kind is float and isinstance(value, int | float) and not isinstance(value, bool):
            return float(value)
        elif kind is int and isinstance(value, int) and not isinstance(value, bool):
            return value
    except ValueError:
        pass
    raise InvalidCursor("The cursor holds a value of the wrong kind; start again without one.")


def page_size(limit: int | None, *, default: int, maximum: int) -> int:
    """The page size a list was asked for, or the default; out of range is a 422 on `limit`."""
    size = default if limit is None else limit
    if not 1 <= size <= maximum:
        raise ValidationFailed(
            "limit", f"limit must be between 1 and {maximum}.", location="query", code="range"
        )
    return size


def decode_time_cursor(token: str, *, sort: str) -> tuple[datetime, uuid.UUID]:
    """The (time, id) of a cursor of a list kept in time order, the time in UTC."""
    cursor = decode_cursor(token, sort=sort, value_kind=datetime)
    if cursor.value is None:
        raise InvalidCursor("The cursor holds an empty time this list never has.")
    try:
        # A forged offset can push the time out of what UTC (and the column) can hold.
        return cursor.value.astimezone(UTC), cursor.last_id
    except OverflowError as exc:
        raise InvalidCursor("The cursor holds a time out of range.") from exc
