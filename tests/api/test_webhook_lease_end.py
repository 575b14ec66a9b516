"""An endpoint at its in-flight limit: the worker wakes when the leases that fill it end."""

from __future__ import annotations

from datetime import UTC, datetime

import httpx
import pytest
from fastapi import FastAPI

from taskwell.worker.loop import Worker
from tests.api.test_webhook_delivery import ping, receiver, register, settings  # noqa: F401
from tests.conftest import Account
from tests.support.receiver import Receiver


@pytest.mark.parametrize("settings", [{"webhook_concurrency_per_endpoint": 2}], indirect=True)
async def test_next_due_names_the_end_of_the_leases_that_fill_an_endpoint(
    app: FastAPI,
    client: httpx.AsyncClient,
    alice: Account,
    receiver: Receiver,  # noqa: F811
) -> None:
    """A worker claims an endpoint's every slot and dies (its outcomes are never recorded).
    Its leases run out at lease_until, and the deliveries are then due again: next_due must
    name that time, or (no finished delivery ever waking it) the surviving worker would sleep
    a whole poll interval (up to 300 s) past the leases' end."""
    hook = await register(client, alice, receiver.url, ["*"])
    for _ in range(3):
        await ping(client, alice, hook)
    ctx = app.state.context
    async with Worker.open(ctx) as dead, Worker.open(ctx) as survivor:
        claimed = await dead.dispatcher.claim(16)
        assert len(claimed) == 2
        when = await survivor.dispatcher.next_due()
    assert when is not None, "nothing due, although the leases end and all three are due then"
    # The third delivery is due now but may not be claimed; the leases' end is what to wait for.
    assert when > datetime.now(UTC)
