"""The one JSON encoding of response bodies built as bytes (lists, and rows sent as they are)."""

from __future__ import annotations

import uuid
from typing import Any

import orjson


def _default(value: Any) -> Any:
    # asyncpg hands back its own UUID type, which orjson does not know.
    if isinstance(value, uuid.UUID):
        return str(value)
    raise TypeError(f"{type(value).__name__} is not JSON serialisable")


def dumps(payload: Any) -> bytes:
    # UTC as "Z", matching the Pydantic-serialised responses of the other routes.
    return orjson.dumps(payload, default=_default, option=orjson.OPT_UTC_Z)
