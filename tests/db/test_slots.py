"""The read pool's gate: first come, first served, with a deadline on waiting."""

from __future__ import annotations

import asyncio

import pytest

from taskwell.concurrency import Slots


async def test_waiters_are_served_in_arrival_order_and_newcomers_queue_behind() -> None:
    slots = Slots(1, wait_seconds=5)
    await slots.acquire()
    served: list[int] = []

    async def reader(n: int) -> None:
        await slots.acquire()
        served.append(n)
        await asyncio.sleep(0)
        slots.release()

    first = [asyncio.create_task(reader(n)) for n in range(3)]
    await asyncio.sleep(0)
    slots.release()
    # A newcomer arriving while others wait does not jump the queue.
    late = asyncio.create_task(reader(99))
    await asyncio.gather(*first, late)
    assert served == [0, 1, 2, 99]


async def test_waiting_longer_than_the_deadline_is_a_timeout() -> None:
    slots = Slots(1, wait_seconds=0.05)
    await slots.acquire()
    with pytest.raises(TimeoutError):
        await slots.acquire()
    slots.release()
    await asyncio.wait_for(slots.acquire(), 1)  # the timed-out waiter took nothing


async def test_a_cancelled_waiter_passes_its_slot_on() -> None:
    slots = Slots(1, wait_seconds=5)
    await slots.acquire()
    cancelled = asyncio.create_task(slots.acquire())
    waiting = asyncio.create_task(slots.acquire())
    await asyncio.sleep(0)
    slots.release()  # handed to `cancelled`, which is cancelled before it runs
    cancelled.cancel()
    await asyncio.wait_for(waiting, 1)
    with pytest.raises(asyncio.CancelledError):
        await cancelled


async def test_free_slots_are_taken_without_waiting() -> None:
    slots = Slots(3, wait_seconds=0.01)
    for _ in range(3):
        await slots.acquire()
    with pytest.raises(TimeoutError):
        await slots.acquire()
    for _ in range(3):
        slots.release()
    for _ in range(3):
        await slots.acquire()
