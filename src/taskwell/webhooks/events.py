"""The event types an endpoint can ask for, and how a change of the feed becomes one."""

from __future__ import annotations

from collections.abc import Iterable

# Changes, as GET /sync reports them: `<entity>.updated` carries the thing's current state
# (creation included: the feed does not tell a first write from a later one), `<entity>.deleted`
# says it is gone or no longer visible to the endpoint's owner.
_CHANGED = ("task", "project", "section", "comment", "label")
EVENT_TYPES: tuple[str, ...] = (
    *(f"{entity}.{what}" for entity in _CHANGED for what in ("updated", "deleted")),
    "reminder.due",
)
# Sent by POST /webhooks/{id}/test whatever the endpoint asked for.
PING = "webhook.ping"
WILDCARD = "*"
MAX_PATTERNS = 20


def is_pattern(text: str) -> bool:
    """`*`, an event type, or `<entity>.*`."""
    if text in (WILDCARD, *EVENT_TYPES):
        return True
    entity, dot, rest = text.partition(".")
    return bool(dot) and rest == WILDCARD and any(t.startswith(f"{entity}.") for t in EVENT_TYPES)


def matches(patterns: Iterable[str], event_type: str) -> bool:
    for pattern in patterns:
        if pattern in (WILDCARD, event_type):
            return True
        if pattern.endswith(".*") and event_type.startswith(pattern[:-1]):
            return True
    return False


def event_of(entity: str, op: str) -> str | None:
    """The event type of a change as GET /sync gives it, or None (a reminder taken back)."""
    if entity == "reminder":
        return "reminder.due" if op == "upsert" else None
    if entity not in _CHANGED:
        return None
    return f"{entity}.{'deleted' if op == 'delete' else 'updated'}"


def normalised(patterns: Iterable[str]) -> list[str]:
    """Each pattern once, in the order given; `*` alone when present."""
    unique = list(dict.fromkeys(patterns))
    return [WILDCARD] if WILDCARD in unique else unique
