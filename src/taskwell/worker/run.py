"""`taskwell worker`: the worker loop as a process of its own, stopped politely by a signal."""

from __future__ import annotations

import asyncio
import logging
import signal
from typing import TYPE_CHECKING

from taskwell.settings import Settings
from taskwell.worker.health import HealthServer
from taskwell.worker.loop import Worker

if TYPE_CHECKING:
    from taskwell.context import AppContext

log = logging.getLogger("taskwell.worker")


async def run_worker(settings: Settings, health: tuple[str, int] | None = None) -> None:
    """Until SIGTERM or SIGINT: then claim nothing more, let deliveries in flight finish (up
    to one attempt's deadline), and exit. A SIGKILL loses nothing: what this worker had
    claimed is sent again by another once its lease runs out. `health`: (host, port) to answer
    health checks on."""
    from taskwell.app import ensure_schema_current
    from taskwell.context import AppContext

    async with AppContext.open(settings) as ctx:
        await ensure_schema_current(ctx.db, settings)
        async with Worker.open(ctx) as worker:
            loop = asyncio.get_running_loop()
            for signum in (signal.SIGTERM, signal.SIGINT):
                loop.add_signal_handler(signum, worker.stop)
            server = None
            if health is not None:
                server = HealthServer(worker.alive, *health)
                await server.start()
            try:
                await worker.run()
            finally:
                if server is not None:
                    await server.close()
                for signum in (signal.SIGTERM, signal.SIGINT):
                    loop.remove_signal_handler(signum)


class InProcessWorker:
    """The worker inside an app process (the embedded default), stopped with the app."""

    def __init__(self, task: asyncio.Task[None], ready: asyncio.Future[Worker]) -> None:
        self._task = task
        self._ready = ready

    @classmethod
    def start(cls, ctx: AppContext) -> InProcessWorker:
        ready: asyncio.Future[Worker] = asyncio.get_running_loop().create_future()

        async def run() -> None:
            async with Worker.open(ctx) as worker:
                ready.set_result(worker)
                await worker.run()

        return cls(asyncio.create_task(run(), name="worker"), ready)

    async def stop(self) -> None:
        if self._ready.done() and not self._ready.cancelled():
            self._ready.result().stop()
        else:
            self._task.cancel()
        await asyncio.wait({self._task})
        if not self._task.cancelled() and self._task.exception() is not None:
            log.error("the in-process worker ended with an error", exc_info=self._task.exception())
