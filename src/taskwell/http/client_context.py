"""Who is on the other end of the current request, for code far from the HTTP layer."""

from __future__ import annotations

from contextvars import ContextVar
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class ClientContext:
    ip: str = ""
    user_agent: str = ""
    request_id: str = ""


# The default is a frozen dataclass, so sharing it is safe.
CURRENT_CLIENT: ContextVar[ClientContext] = ContextVar(
    "taskwell_client",
    default=ClientContext(),  # noqa: B039
)
