"""The test's app served by a real uvicorn on a loopback port, in the test's own event loop,
for responses that stream (httpx's ASGI transport collects a whole body before it answers),
and a reader of server-sent events."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

import httpx
import uvicorn
from fastapi import FastAPI

from tests.support.processes import free_port


@asynccontextmanager
async def serve(app: FastAPI) -> AsyncIterator[str]:
    """Serve `app` (its lifespan already entered) until the block ends; yields its base URL."""
    port = free_port()
    config = uvicorn.Config(
        app, host="127.0.0.1", port=port, lifespan="off", log_level="warning", access_log=False
    )
    server = uvicorn.Server(config)
    server.install_signal_handlers = lambda: None  # type: ignore[method-assign]
    task = asyncio.create_task(server.serve())
    try:
        for _ in range(500):  # bounded: 5 s
            if server.started:
                break
            if task.done():
                task.result()
            await asyncio.sleep(0.01)
        else:
            raise RuntimeError("uvicorn did not start in 5 s")
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        # Open streams end when their clients go; give them a moment, then force it.
        try:
            await asyncio.wait_for(asyncio.shield(task), 5)
        except TimeoutError:
            server.force_exit = True
            await asyncio.wait_for(task, 5)


@dataclass
class Event:
    event: str | None = None
    id: str | None = None
    data: str | None = None
    comments: list[str] = field(default_factory=list)

    def json(self) -> Any:
        assert self.data is not None, self
        return json.loads(self.data)


class EventReader:
    """Reads one SSE response message by message (events, and comment/id-only messages)."""

    def __init__(self, response: httpx.Response) -> None:
        self.response = response
        self._lines = response.aiter_lines()
        self.retry: int | None = None

    async def next(self, seconds: float = 5.0) -> Event:
        return await asyncio.wait_for(self._next(), seconds)

    async def _next(self) -> Event:
        message = Event()
        data: list[str] = []
        seen = False
        async for line in self._lines:
            if line == "":
                if seen:
                    message.data = "\n".join(data) if data else None
                    return message
                continue
            seen = True
            name, _, value = line.partition(":")
            value = value.removeprefix(" ")
            if name == "":
                message.comments.append(value)
            elif name == "event":
                message.event = value
            elif name == "id":
                message.id = value
            elif name == "data":
                data.append(value)
            elif name == "retry":
                self.retry = int(value)
                seen = False
        raise EOFError("the stream ended")

    async def until(self, kind: str, seconds: float = 5.0) -> Event:
        """The next event of this kind, skipping heartbeats and others (bounded in time)."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + seconds
        while True:
            event = await self.next(max(0.01, deadline - loop.time()))
            if event.event == kind:
                return event

    async def ended(self, seconds: float = 5.0) -> bool:
        """True once the server ends the stream (within `seconds`)."""
        try:
            while True:
                await self.next(seconds)
        except EOFError:
            return True


@asynccontextmanager
async def open_events(
    base_url: str, headers: dict[str, str], **params: str
) -> AsyncIterator[EventReader]:
    async with (
        httpx.AsyncClient(base_url=base_url, timeout=httpx.Timeout(10.0, read=30.0)) as http,
        http.stream("GET", "/api/v1/events", headers=headers, params=params) as response,
    ):
        assert response.status_code == 200, (await response.aread()).decode()
        yield EventReader(response)
