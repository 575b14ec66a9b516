"""Recurrence rules as pure functions: the next occurrence of a series, in wall-clock time of
its zone across daylight-saving changes, with UNTIL and COUNT, and bounded in time."""

from __future__ import annotations

import time as clock
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from taskwell.tasks.recurrence import (
    InvalidRule,
    Occurrence,
    next_occurrence,
    normalise,
    repeats_within_a_day,
)

BERLIN = "Europe/Berlin"
NEW_YORK = "America/New_York"


def _at(zone: str, *parts: int) -> datetime:
    """A wall-clock time in zone, as a UTC instant."""
    return datetime(*parts, tzinfo=ZoneInfo(zone)).astimezone(UTC)  # type: ignore[arg-type,misc]


def _next(rule: str, due_at: datetime, zone: str = "UTC") -> Occurrence | None:
    return next_occurrence(rule, due_at=due_at, due_date=None, time_zone=zone)


def _series(rule: str, due_at: datetime, zone: str, n: int) -> list[datetime]:
    """The n occurrences after due_at, as wall-clock times in zone."""
    seen = []
    for _ in range(n):
        occurrence = _next(rule, due_at, zone)
        assert occurrence is not None
        due_at, rule = occurrence.due_at, occurrence.rule or rule
        seen.append(due_at.astimezone(ZoneInfo(zone)).replace(tzinfo=None))
    return seen


def _day(rule: str, due_date: date) -> date | None:
    due_at = datetime(due_date.year, due_date.month, due_date.day, tzinfo=UTC)
    occurrence = next_occurrence(rule, due_at=due_at, due_date=due_date, time_zone="UTC")
    return None if occurrence is None else occurrence.due_date


# --- Wall-clock time across daylight saving ----------------------------------------------


@pytest.mark.parametrize(
    ("zone", "before"),
    [(BERLIN, datetime(2025, 3, 29, 9)), (NEW_YORK, datetime(2025, 3, 8, 9))],
)
def test_a_daily_time_keeps_its_wall_clock_in_spring(zone: str, before: datetime) -> None:
    start = _at(zone, *before.timetuple()[:5])
    seen = _series("FREQ=DAILY", start, zone, 3)
    assert [(t.hour, t.minute) for t in seen] == [(9, 0)] * 3
    # The instant moves an hour earlier in UTC once summer time starts.
    first = _next("FREQ=DAILY", start, zone)
    assert first is not None
    assert first.due_at - start == timedelta(hours=23)


@pytest.mark.parametrize(
    ("zone", "before"),
    [(BERLIN, datetime(2025, 10, 25, 9)), (NEW_YORK, datetime(2025, 11, 1, 9))],
)
def test_a_daily_time_keeps_its_wall_clock_in_autumn(zone: str, before: datetime) -> None:
    start = _at(zone, *before.timetuple()[:5])
    first = _next("FREQ=DAILY", start, zone)
    assert first is not None
    assert first.due_at - start == timedelta(hours=25)
    assert [(t.hour, t.minute) for t in _series("FREQ=DAILY", start, zone, 3)] == [(9, 0)] * 3


@pytest.mark.parametrize(
    ("zone", "before", "skipped_to"),
    [
        (BERLIN, datetime(2025, 3, 29, 2, 30), datetime(2025, 3, 30, 3, 30)),
        (NEW_YORK, datetime(2025, 3, 8, 2, 30), datetime(2025, 3, 9, 3, 30)),
    ],
)
def test_a_skipped_time_comes_later_that_day_and_the_series_returns_to_its_time(
    zone: str, before: datetime, skipped_to: datetime
) -> None:
    start = _at(zone, *before.timetuple()[:5])
    seen = _series("FREQ=DAILY", start, zone, 3)
    assert seen[0] == skipped_to
    assert [(t.hour, t.minute) for t in seen[1:]] == [(2, 30), (2, 30)]


def test_a_skipped_time_set_by_byhour_returns_to_its_time() -> None:
    rule = "FREQ=DAILY;BYHOUR=2;BYMINUTE=30"
    seen = _series(rule, _at(BERLIN, 2025, 3, 29, 2, 30), BERLIN, 2)
    assert seen == [datetime(2025, 3, 30, 3, 30), datetime(2025, 3, 31, 2, 30)]


def test_a_time_in_the_repeated_autumn_hour_is_not_taken_for_a_skipped_one() -> None:
    # 02:30 on 26 October 2025 happens twice in Berlin; the series stays at 02:30.
    seen = _series("FREQ=DAILY", _at(BERLIN, 2025, 10, 25, 2, 30), BERLIN, 3)
    assert [(t.hour, t.minute) for t in seen] == [(2, 30)] * 3


def test_a_sub_daily_rule_in_the_repeated_hour_moves_forward() -> None:
    # Every 20 minutes from the second 02:40 (CET, 01:40Z): next is 03:00 CET (02:00Z),
    # not 03:00 of the first pass or an instant before the completed one.
    due = datetime(2025, 10, 26, 1, 40, tzinfo=UTC)
    occurrence = _next("FREQ=MINUTELY;INTERVAL=20", due, BERLIN)
    assert occurrence is not None
    assert occurrence.due_at == datetime(2025, 10, 26, 2, tzinfo=UTC)
    # From the first 02:40 (CEST, 00:40Z) the next is 03:00 CET; never earlier than the due.
    first_pass = datetime(2025, 10, 26, 0, 40, tzinfo=UTC)
    occurrence = _next("FREQ=MINUTELY;INTERVAL=20", first_pass, BERLIN)
    assert occurrence is not None
    assert occurrence.due_at > first_pass


# --- UNTIL and COUNT ---------------------------------------------------------------------


def test_until_in_utc_is_an_instant_not_local_time() -> None:
    rule = "FREQ=DAILY;UNTIL=20250110T230000Z"  # 11 January 00:00 in Berlin
    occurrence = _next(rule, _at(BERLIN, 2025, 1, 9, 23, 30), BERLIN)
    assert occurrence is not None
    assert occurrence.due_at == datetime(2025, 1, 10, 22, 30, tzinfo=UTC)
    assert _next(rule, occurrence.due_at, BERLIN) is None


def test_until_in_utc_west_of_utc() -> None:
    rule = "FREQ=DAILY;UNTIL=20250111T030000Z"  # 10 January 22:00 in New York
    occurrence = _next(rule, _at(NEW_YORK, 2025, 1, 9, 21), NEW_YORK)
    assert occurrence is not None
    assert occurrence.due_at == _at(NEW_YORK, 2025, 1, 10, 21)
    assert _next(rule, occurrence.due_at, NEW_YORK) is None


def test_until_without_z_is_local_wall_clock_time() -> None:
    rule = "FREQ=DAILY;UNTIL=20250110T230000"  # 23:00 in Berlin
    assert _next(rule, _at(BERLIN, 2025, 1, 9, 23, 30), BERLIN) is None
    occurrence = _next(rule, _at(BERLIN, 2025, 1, 9, 22, 30), BERLIN)
    assert occurrence is not None
    assert occurrence.due_at == _at(BERLIN, 2025, 1, 10, 22, 30)


def test_until_as_a_date_includes_that_whole_day() -> None:
    rule = "FREQ=DAILY;UNTIL=20250110"
    occurrence = _next(rule, _at(BERLIN, 2025, 1, 9, 23, 30), BERLIN)
    assert occurrence is not None
    assert occurrence.due_at == _at(BERLIN, 2025, 1, 10, 23, 30)
    assert _next(rule, occurrence.due_at, BERLIN) is None
    assert _day(rule, date(2025, 1, 9)) == date(2025, 1, 10)
    assert _day(rule, date(2025, 1, 10)) is None


def test_count_counts_down_and_the_last_creates_nothing() -> None:
    first = _next("FREQ=DAILY;COUNT=3", datetime(2026, 1, 1, 9, tzinfo=UTC))
    assert first is not None
    assert first.rule == "FREQ=DAILY;COUNT=2"
    second = _next(first.rule, first.due_at)
    assert second is not None
    assert second.rule == "FREQ=DAILY;COUNT=1"
    assert second.due_at == datetime(2026, 1, 3, 9, tzinfo=UTC)
    assert _next(second.rule, second.due_at) is None


# --- Days of the week and of the month ---------------------------------------------------


def test_monthly_on_the_last_friday() -> None:
    rule = "FREQ=MONTHLY;BYDAY=-1FR"
    assert _day(rule, date(2026, 1, 30)) == date(2026, 2, 27)
    assert _day(rule, date(2026, 2, 27)) == date(2026, 3, 27)
    occurrence = _next(rule, _at(BERLIN, 2026, 3, 27, 9), BERLIN)
    assert occurrence is not None
    assert occurrence.due_at == _at(BERLIN, 2026, 4, 24, 9)


def test_every_weekday_skips_the_weekend() -> None:
    rule = "FREQ=WEEKLY;BYDAY=MO,TU,WE,TH,FR"
    assert _day(rule, date(2026, 12, 4)) == date(2026, 12, 7)  # Friday to Monday
    assert _day(rule, date(2026, 12, 7)) == date(2026, 12, 8)
    seen = _series(rule, _at(NEW_YORK, 2026, 12, 4, 8), NEW_YORK, 5)
    assert [t.weekday() for t in seen] == [0, 1, 2, 3, 4]


def test_every_other_week_on_monday_and_friday() -> None:
    rule = "FREQ=WEEKLY;INTERVAL=2;BYDAY=MO,FR"
    assert _day(rule, date(2026, 1, 2)) == date(2026, 1, 12)  # Friday, then Monday week 3


def test_a_rare_day_within_the_horizon_is_found() -> None:
    # 29 February that is a Monday: 2016, then 2044; searched day by day, not yearly.
    rule = "FREQ=DAILY;BYMONTH=2;BYMONTHDAY=29;BYDAY=MO"
    assert _day(rule, date(2016, 2, 29)) == date(2044, 2, 29)


def test_a_whole_day_due_steps_past_its_day_under_a_sub_daily_rule() -> None:
    assert _day("FREQ=HOURLY", date(2026, 6, 1)) == date(2026, 6, 2)
    assert _day("FREQ=DAILY;BYHOUR=9,17", date(2026, 6, 1)) == date(2026, 6, 2)
    assert repeats_within_a_day("FREQ=HOURLY")
    assert repeats_within_a_day("FREQ=DAILY;BYHOUR=9")
    assert not repeats_within_a_day("FREQ=MONTHLY;BYMONTHDAY=1")


# --- Bounded searches and the ends of the calendar -----------------------------------------


@pytest.mark.parametrize(
    "rule",
    [
        "FREQ=MINUTELY;BYMONTH=2;BYMONTHDAY=30",
        "FREQ=SECONDLY;BYMONTH=2;BYMONTHDAY=30",
        "FREQ=HOURLY;BYMONTH=4;BYMONTHDAY=31",
        "FREQ=DAILY;BYMONTH=2;BYMONTHDAY=30",
        "FREQ=YEARLY;BYMONTH=2;BYMONTHDAY=30",
        "FREQ=DAILY;BYSETPOS=2",
        "FREQ=HOURLY;INTERVAL=168;BYDAY=MO",
    ],
)
def test_a_rule_that_never_fires_ends_the_series_quickly(rule: str) -> None:
    # A correctness bound, not a benchmark: unbounded, these search to the year 9999 (13 s).
    started = clock.process_time()
    assert _next(normalise(rule), datetime(2026, 1, 1, tzinfo=UTC), BERLIN) is None
    assert _day(rule, date(2026, 1, 6)) is None  # 6 January 2026 is a Tuesday
    assert clock.process_time() - started < 0.5


def test_an_occurrence_beyond_the_horizon_ends_the_series() -> None:
    assert _next("FREQ=YEARLY;INTERVAL=40", datetime(2026, 1, 1, tzinfo=UTC)) is None


@pytest.mark.parametrize(
    ("due_at", "zone"),
    [
        (datetime(9999, 12, 31, 20, tzinfo=UTC), "Asia/Tokyo"),
        (datetime(9999, 12, 31, 9, tzinfo=UTC), "UTC"),
        (datetime(9999, 12, 31, 2, tzinfo=UTC), NEW_YORK),
        (datetime(1, 1, 1, 2, tzinfo=UTC), NEW_YORK),
        (datetime(1, 1, 1, 0, 30, tzinfo=UTC), "Asia/Tokyo"),
    ],
)
def test_the_ends_of_the_calendar_end_the_series_without_overflow(
    due_at: datetime, zone: str
) -> None:
    occurrence = _next("FREQ=DAILY", due_at, zone)
    assert occurrence is None or occurrence.due_at > due_at
    until = _next("FREQ=HOURLY;UNTIL=99991231T235959Z", due_at, zone)
    assert until is None or until.due_at > due_at
    assert _day("FREQ=DAILY", date(9999, 12, 31)) is None


# --- Validation --------------------------------------------------------------------------


def test_normalise_accepts_and_upper_cases() -> None:
    assert normalise("rrule:freq=weekly;byday=mo") == "FREQ=WEEKLY;BYDAY=MO"
    assert normalise("FREQ=DAILY;UNTIL=20250110T230000Z") == "FREQ=DAILY;UNTIL=20250110T230000Z"
    assert normalise("FREQ=DAILY;UNTIL=20250110") == "FREQ=DAILY;UNTIL=20250110"


@pytest.mark.parametrize(
    "rule",
    [
        "every day",
        "FREQ=SOMETIMES",
        "FREQ=DAILY;COUNT=0",
        "FREQ=DAILY;BYDAY=XX",
        "FREQ=DAILY;COUNT=3;UNTIL=20250110",
        "FREQ=DAILY;UNTIL=2025-01-10",
        "FREQ=DAILY;UNTIL=20251310",
        "FREQ=MINUTELY;BYSETPOS=2",
        "FREQ=HOURLY;INTERVAL=2;BYHOUR=3",
    ],
)
def test_normalise_refuses(rule: str) -> None:
    with pytest.raises(InvalidRule):
        normalise(rule)
