"""Recurring tasks: RFC 5545 rules (RRULE) and the next occurrence after a completed one.

A rule repeats in wall-clock time of one time zone: "every weekday at 09:00" in
Europe/Berlin stays at 09:00 there across daylight-saving changes, so its UTC instant moves.
A date-only due repeats over calendar dates and has no zone at all.

Only the RRULE part is accepted (no DTSTART, RDATE or EXDATE lines): the start is the task's
own due. COUNT counts the occurrences left, this one included; each completion carries the
rule on with one fewer, and the last one creates nothing.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from dateutil.rrule import rrule, rrulestr

RULE_MAX = 500
# The next occurrence is searched this far ahead at most (a rule like "every Feb 29 that is
# a Monday" still finds one; a rule that never fires again ends the series).
HORIZON = timedelta(days=366 * 30)
_ALLOWED = re.compile(r"^[A-Z0-9=;,+\-:]+$")
_COUNT = re.compile(r"(?:^|;)COUNT=(\d+)(?:;|$)")


class InvalidRule(ValueError):
    """The text is not an RRULE this service accepts; the message says why."""


@dataclass(frozen=True, slots=True)
class Occurrence:
    due_at: datetime  # UTC; for a date-only due, midnight UTC of due_date
    due_date: date | None
    rule: str | None  # the rule the next occurrence carries (None: the series ended)


def normalise(text: str) -> str:
    """The rule as stored: upper case, without an "RRULE:" prefix; checked to parse."""
    rule = text.strip().upper().removeprefix("RRULE:")
    if not rule or len(rule) > RULE_MAX:
        raise InvalidRule(f"A rule is 1 to {RULE_MAX} characters.")
    if not _ALLOWED.match(rule) or "FREQ=" not in rule:
        raise InvalidRule('Give an RRULE such as "FREQ=WEEKLY;BYDAY=MO,TU,WE,TH,FR".')
    if any(part in rule for part in ("DTSTART", "RDATE", "EXDATE", "EXRULE")):
        raise InvalidRule("Only the RRULE part is accepted; the start is the task's due.")
    try:
        _parse(rule, datetime(2000, 1, 1))
    except (ValueError, TypeError, OverflowError) as exc:
        raise InvalidRule(f"Not a valid RRULE: {exc}.") from exc
    if (count := _COUNT.search(rule)) and int(count.group(1)) < 1:
        raise InvalidRule("COUNT must be at least 1.")
    return rule


def _parse(rule: str, start: datetime) -> rrule:
    parsed = rrulestr(rule, dtstart=start, ignoretz=True)
    if not isinstance(parsed, rrule):  # a set: more than one rule
        raise ValueError("one rule only")
    return parsed


def next_occurrence(
    rule: str, *, due_at: datetime, due_date: date | None, time_zone: str
) -> Occurrence | None:
    """The occurrence after the one due at due_at (or on due_date), or None when the rule
    has no more."""
    remaining = int(m.group(1)) if (m := _COUNT.search(rule)) else None
    if remaining is not None and remaining <= 1:
        return None
    carried = _with_count(rule, remaining - 1) if remaining is not None else rule
    # The series goes on from this occurrence; COUNT is the caller's, so it is dropped here.
    stepping = ";".join(p for p in rule.split(";") if not p.startswith("COUNT="))
    if due_date is not None:
        start = datetime.combine(due_date, time())
        found = _after(stepping, start)
        if found is None:
            return None
        day = found.date()
        return Occurrence(datetime.combine(day, time(), UTC), day, carried)
    zone = ZoneInfo(time_zone)
    local = due_at.astimezone(zone).replace(tzinfo=None)
    found = _after(stepping, local)
    if found is None:
        return None
    # Wall-clock time in the zone: the same 09:00 after a daylight-saving change. A time that
    # does not exist that day (the hour skipped in spring) comes out an hour later.
    instant = found.replace(tzinfo=zone).astimezone(UTC)
    return Occurrence(instant, None, carried)


def _after(rule: str, start: datetime) -> datetime | None:
    found = _parse(rule, start).after(start, inc=False)
    if found is None or found - start > HORIZON:
        return None
    return found


def _with_count(rule: str, count: int) -> str:
    return ";".join(f"COUNT={count}" if p.startswith("COUNT=") else p for p in rule.split(";"))
