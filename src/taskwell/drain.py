"""Polite shutdown behind a load balancer: on SIGTERM, serve on for a while, then stop.

uvicorn alone, on SIGTERM, closes its listener and its idle keep-alive connections at once and
finishes the requests in flight. A load balancer that picks one of those idle connections at
that moment sends a request into a closing socket; for a POST or PATCH nginx may not retry it,
so the client gets a 502 (tests/faults/test_cluster_faults.py saw exactly this). With
TASKWELL_SHUTDOWN_DRAIN_SECONDS > 0, SIGTERM first starts a drain: the instance keeps serving,
answers every request with `Connection: close` (so no keep-alive connection stays idle, waiting
to be reused), and reports not ready on /readyz (orchestrators stop routing to it). When the
drain is over, uvicorn's own shutdown runs. Set the drain longer than the balancer's idle
keep-alive timeout to its instances (nginx: upstream keepalive_timeout, 4 s in deploy/nginx):
by then every connection to the instance has either carried a last request or been closed by
the balancer. A second SIGTERM, or SIGINT (Ctrl-C), stops at once.
"""

from __future__ import annotations

import asyncio
import logging
import signal
from types import FrameType

from starlette.types import ASGIApp, Message, Receive, Scope, Send

log = logging.getLogger("taskwell.drain")


class Drain:
    """The drain's state for one process, and the ASGI wrapper that applies it."""

    def __init__(self, app: ASGIApp, seconds: float) -> None:
        self.app = app
        self.seconds = seconds
        self.draining = False
        self._installed = False

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan" and not self._installed:
            self._install()
        if not self.draining or scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def closing(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = [(k, v) for k, v in message.get("headers", []) if k != b"connection"]
                message = {**message, "headers": [*headers, (b"connection", b"close")]}
            await send(message)

        await self.app(scope, receive, closing)

    def _install(self) -> None:
        """Put the drain in front of the server's SIGTERM handler (uvicorn's, by now)."""
        self._installed = True
        if self.seconds <= 0:
            return
        stop = signal.getsignal(signal.SIGTERM)
        if not callable(stop):
            log.warning("no SIGTERM handler to drain in front of; stopping at once on SIGTERM")
            return
        loop = asyncio.get_running_loop()

        def on_sigterm(signum: int, frame: FrameType | None) -> None:
            if self.draining:  # asked twice: stop now
                stop(signum, frame)
                return
            self.draining = True
            log.info("draining before shutdown", extra={"seconds": self.seconds})
            loop.call_soon_threadsafe(loop.call_later, self.seconds, stop, signum, None)

        signal.signal(signal.SIGTERM, on_sigterm)
