"""Retry delays double from the base, spread by a quarter either way, and stop at the cap."""

from __future__ import annotations

from datetime import timedelta

from taskwell.webhooks.dispatch import Backoff


def test_delays_double_within_the_jitter() -> None:
    backoff = Backoff(base=5.0, cap=3_600.0)

    for attempt, nominal in ((1, 5), (2, 10), (3, 20), (6, 160)):
        for _ in range(50):
            delay = backoff.delay(attempt)
            assert timedelta(seconds=nominal * 0.75) <= delay <= timedelta(seconds=nominal * 1.25)


def test_delays_stop_at_the_cap_however_many_attempts() -> None:
    backoff = Backoff(base=5.0, cap=60.0)

    assert backoff.delay(10) <= timedelta(seconds=60)
    assert backoff.delay(10_000) == timedelta(seconds=60)


def test_the_jitter_spreads_retries() -> None:
    backoff = Backoff(base=100.0, cap=10_000.0)

    assert len({backoff.delay(3) for _ in range(20)}) > 1
