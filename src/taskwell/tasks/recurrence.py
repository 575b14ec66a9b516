"""Recurring tasks: RFC 5545 rules (RRULE) and the next occurrence after a completed one.

A rule repeats in wall-clock time of one time zone: "every weekday at 09:00" in
Europe/Berlin stays at 09:00 there across daylight-saving changes, so its UTC instant moves.
A date-only due repeats over calendar dates and has no zone at all: its next occurrence is
the first day after it on which the rule fires, so a rule that repeats within a day
(FREQ=HOURLY, MINUTELY or SECONDLY, or BYHOUR, BYMINUTE or BYSECOND) moves on a day at a time
rather than repeating the same day.

Only the RRULE part is accepted (no DTSTART, RDATE or EXDATE lines): the start is the task's
own due. COUNT counts the occurrences left, this one included; each completion carries the
rule on with one fewer, and the last one creates nothing. UNTIL is inclusive: a UTC
date-time ("...Z") is that instant, a date-time without "Z" is wall-clock time in the
series' zone, and a date (YYYYMMDD) is the whole of that day in the series' zone.

A local time that does not exist on a day (02:30 when the clocks skip from 02:00 to 03:00)
comes out as many minutes later as the clocks skipped (03:30), and the series then returns
to its own time (02:30 the next day). With no column for the series' time of day, that time
is read back from the completed occurrence: one due on a spring-forward day within the
skipped span after the change (03:00 to 03:59 in Berlin) is read as a skipped time; a series
really at 03:30 completed on that day would step to 02:30 (BYHOUR and BYMINUTE in the rule
avoid the guess). Sub-daily rules step on wall-clock time and are not corrected.

The next occurrence is searched at most HORIZON ahead, and the search itself is bounded, so
a rule that never fires (every minute of 30 February) ends the series at once instead of
searching to the year 9999.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from dateutil.rrule import rrule, rrulestr

RULE_MAX = 500
# The next occurrence is searched this far ahead at most (a rule like "every Feb 29 that is
# a Monday" still finds one; a rule that never fires again ends the series).
HORIZON = timedelta(days=366 * 30)
_ALLOWED = re.compile(r"^[A-Z0-9=;,+\-:]+$")
_COUNT = re.compile(r"(?:^|;)COUNT=(\d+)(?:;|$)")
_UNTIL = re.compile(r"^(\d{4})(\d{2})(\d{2})(?:T(\d{2})(\d{2})(\d{2})(Z?))?$")
_SUB_DAILY = frozenset({"HOURLY", "MINUTELY", "SECONDLY"})
_TIME_PARTS = ("BYHOUR", "BYMINUTE", "BYSECOND")
# How many new months (new years for FREQ=YEARLY) dateutil may enter in one search: more
# than HORIZON holds (10,980 days: at most 393 months of 28 days, or 31 years), plus the
# two reads at the start of the search.
_MONTH_STEPS = 400
_YEAR_STEPS = 34


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
    until = _part(rule, "UNTIL")
    if until is not None and not _UNTIL.match(until):
        raise InvalidRule("Give UNTIL as YYYYMMDD, YYYYMMDDTHHMMSS or YYYYMMDDTHHMMSSZ.")
    if until is not None and _part(rule, "COUNT") is not None:
        raise InvalidRule("Give COUNT or UNTIL, not both.")
    if _part(rule, "FREQ") in _SUB_DAILY and _part(rule, "BYSETPOS") is not None:
        raise InvalidRule("BYSETPOS is not accepted with HOURLY, MINUTELY or SECONDLY.")
    try:
        _parse(rule, datetime(2000, 1, 1))
        if until is not None:
            _until(until, None)
    except (ValueError, TypeError, OverflowError) as exc:
        raise InvalidRule(f"Not a valid RRULE: {exc}.") from exc
    if (count := _COUNT.search(rule)) and int(count.group(1)) < 1:
        raise InvalidRule("COUNT must be at least 1.")
    return rule


def repeats_within_a_day(rule: str) -> bool:
    """Whether the rule repeats more often than daily or at set times of day, which a
    date-only due (a whole day, no time) cannot follow."""
    return _part(rule, "FREQ") in _SUB_DAILY or any(
        _part(rule, name) is not None for name in _TIME_PARTS
    )


def next_occurrence(
    rule: str, *, due_at: datetime, due_date: date | None, time_zone: str
) -> Occurrence | None:
    """The occurrence after the one due at due_at (or on due_date), or None when the rule
    has no more (or none within HORIZON, or none before the end of the calendar)."""
    remaining = int(m.group(1)) if (m := _COUNT.search(rule)) else None
    if remaining is not None and remaining <= 1:
        return None
    carried = _with_count(rule, remaining - 1) if remaining is not None else rule
    try:
        if due_date is not None:
            day = _next_day(rule, due_date)
            if day is None:
                return None
            return Occurrence(datetime.combine(day, time(), UTC), day, carried)
        instant = _next_instant(rule, due_at, ZoneInfo(time_zone))
    except (OverflowError, InvalidRule):  # past the calendar's end, or a rule stored earlier
        return None
    return None if instant is None else Occurrence(instant, None, carried)


def days_between(before: Occurrence, after: Occurrence, time_zone: str) -> int:
    """Calendar days from one occurrence to the next, as the series' own calendar counts them
    (a date-time's days in its zone: a week is 7 across a change of the clocks)."""
    if before.due_date is not None and after.due_date is not None:
        return (after.due_date - before.due_date).days
    zone = ZoneInfo(time_zone)
    return (after.due_at.astimezone(zone).date() - before.due_at.astimezone(zone).date()).days


def handed_on(
    rule: str,
    *,
    due_at: datetime,
    due_date: date | None,
    time_zone: str,
    new_due_at: datetime,
    new_due_date: date | None,
) -> str | None:
    """The rule a recurring task's copy carries when it takes the place of its next
    occurrence at another due (a subtask moved on with its parent): COUNT one less, and none
    when the series has no next occurrence or the new due is past its UNTIL."""
    following = next_occurrence(rule, due_at=due_at, due_date=due_date, time_zone=time_zone)
    if following is None or following.rule is None:
        return None
    until_text = _part(following.rule, "UNTIL")
    if until_text is None:
        return following.rule
    try:
        if new_due_date is not None:
            if new_due_date > _until(until_text, None).date():
                return None
        else:
            zone = ZoneInfo(time_zone)
            if new_due_at.astimezone(zone).replace(tzinfo=None) > _until(until_text, zone):
                return None
    except (OverflowError, InvalidRule):
        return None
    return following.rule


def moved_by_days(
    days: int, *, due_at: datetime | None, due_date: date | None, time_zone: str | None
) -> tuple[datetime | None, date | None]:
    """A due (date, or date-time keeping its wall-clock time in its zone) `days` later; (None,
    None) without a due or past the calendar's end."""
    try:
        if due_date is not None:
            day = due_date + timedelta(days=days)
            return datetime.combine(day, time(), UTC), day
        if due_at is None:
            return None, None
        zone = ZoneInfo(time_zone or "UTC")
        local = due_at.astimezone(zone)
        wall = local.replace(tzinfo=None) + timedelta(days=days)
        return wall.replace(tzinfo=zone, fold=local.fold).astimezone(UTC), None
    except OverflowError:
        return None, None


def _next_day(rule: str, due_date: date) -> date | None:
    # Searched from the end of the day, so a rule with times of day (refused for a whole-day
    # due, but perhaps stored before) cannot repeat the same day.
    until = _part(rule, "UNTIL")
    found = _search(
        rule,
        start=datetime.combine(due_date, time()),
        after=datetime.combine(due_date, time.max),
        until=None if until is None else _until(until, None),
    )
    return None if found is None else found.date()


def _next_instant(rule: str, due_at: datetime, zone: ZoneInfo) -> datetime | None:
    local = due_at.astimezone(zone)  # OverflowError near year 1 or 9999
    wall = local.replace(tzinfo=None)
    start = wall if _part(rule, "FREQ") in _SUB_DAILY else _intended(due_at, local, zone)
    until_text = _part(rule, "UNTIL")
    until = None
    if until_text is not None:
        try:
            until = _until(until_text, zone)
        except OverflowError:  # UNTIL's local time is outside years 1 to 9999
            if until_text.startswith("0"):
                return None
    after = wall
    for _ in range(3):
        found = _search(rule, start=start, after=after, until=until)
        if found is None:
            return None
        instant = found.replace(tzinfo=zone).astimezone(UTC)
        if instant <= due_at:  # an hour repeated in autumn: its second pass
            instant = found.replace(tzinfo=zone, fold=1).astimezone(UTC)
        if instant > due_at:
            return instant
        after = found
    return None


def _intended(due_at: datetime, local: datetime, zone: ZoneInfo) -> datetime:
    """The series' wall-clock time at due_at: its local time, unless due_at is a time the
    clocks skipped that day, moved later by the skip; then the skipped time."""
    wall = local.replace(tzinfo=None)
    try:
        earlier = (due_at - timedelta(days=1)).astimezone(zone).utcoffset()
    except OverflowError:
        return wall
    offset = local.utcoffset()
    if earlier is None or offset is None or offset <= earlier:
        return wall
    skipped = wall - (offset - earlier)
    instant = skipped.replace(tzinfo=zone).astimezone(UTC)
    exists = instant.astimezone(zone).replace(tzinfo=None) == skipped
    return skipped if not exists and instant == due_at else wall


def _search(
    rule: str, *, start: datetime, after: datetime, until: datetime | None
) -> datetime | None:
    """The first occurrence of the series that starts at `start` later than `after`, no
    later than `until` and at most HORIZON after `after` (all naive wall-clock times)."""
    try:
        limit = after + HORIZON
    except OverflowError:
        limit = datetime.max
    if until is not None:
        limit = min(limit, until)
    if limit <= after:
        return None
    try:
        parsed = _parse(rule, start)
        bounded = parsed.replace(until=limit)
        bounded.__class__ = _BoundedRule
        bounded.__dict__["_steps_left"] = (
            _YEAR_STEPS if _part(rule, "FREQ") == "YEARLY" else _MONTH_STEPS
        )
        found: datetime | None = bounded.after(after, inc=False)
    except _SearchExhausted:
        return None
    except (ValueError, OverflowError):  # dateutil: "... resulting in empty rule"; year 9999
        return None
    if found is None or found > limit:
        return None
    return found


class _SearchExhausted(Exception):
    """The search entered more months than HORIZON holds without finding an occurrence."""


class _BoundedRule(rrule):
    """An rrule whose search gives up after a number of months (years for FREQ=YEARLY).

    dateutil's search stops at UNTIL only once it produces an occurrence past it, so a rule
    that never fires runs to the year 9999 (13 s for "every minute of 30 February"). It
    reads _byeaster once at the start of a search and once each time it enters a new month
    (a new year for FREQ=YEARLY); that read is counted here. Within a month the search takes
    at most one step per day, apart from sub-daily steps on a day that matches, which
    produce occurrences (hence BYSETPOS is refused with a sub-daily FREQ)."""

    @property
    def _byeaster(self) -> Any:
        state = self.__dict__
        state["_steps_left"] -= 1
        if state["_steps_left"] < 0:
            raise _SearchExhausted
        return state["_byeaster"]


def _parse(rule: str, start: datetime) -> rrule:
    """The rule without COUNT (the caller's) and UNTIL (given separately), from start."""
    kept = ";".join(p for p in rule.split(";") if p.split("=", 1)[0] not in ("COUNT", "UNTIL"))
    parsed = rrulestr(kept, dtstart=start, ignoretz=True)
    if not isinstance(parsed, rrule):  # a set: more than one rule
        raise ValueError("one rule only")
    return parsed


def _until(value: str, zone: ZoneInfo | None) -> datetime:
    """UNTIL as a naive wall-clock time in zone (UTC for a date-only series); the last
    moment of the day for a date."""
    if not (m := _UNTIL.match(value)):
        raise InvalidRule("Give UNTIL as YYYYMMDD, YYYYMMDDTHHMMSS or YYYYMMDDTHHMMSSZ.")
    year, month, day, hour, minute, second, utc = m.groups()
    if hour is None:
        return datetime.combine(date(int(year), int(month), int(day)), time.max)
    moment = datetime(int(year), int(month), int(day), int(hour), int(minute), int(second))
    if utc and zone is not None:
        return moment.replace(tzinfo=UTC).astimezone(zone).replace(tzinfo=None)
    return moment


def _part(rule: str, name: str) -> str | None:
    """The value of a part of the rule (the last one if repeated), or None."""
    found = None
    for part in rule.split(";"):
        key, _, value = part.partition("=")
        if key == name:
            found = value
    return found


def _with_count(rule: str, count: int) -> str:
    return ";".join(f"COUNT={count}" if p.startswith("COUNT=") else p for p in rule.split(";"))
