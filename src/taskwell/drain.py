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

The drain ends by closing the listening socket, and uvicorn's shutdown follows
`LISTENER_CLOSED_GRACE_SECONDS` later. uvicorn's shutdown alone closes the listener and, in the
same step, every connection that has no request yet: a connection the balancer has just opened
and is writing its request into is closed under it, and a POST or PATCH sent that way is lost
as a 502 (tests/faults saw it). With the listener closed first, a new connection is refused (a
balancer retries that elsewhere, whatever the method) while the requests already on their way
arrive and are answered.
"""

from __future__ import annotations

import asyncio
import logging
import signal
from collections.abc import Callable
from types import FrameType

from starlette.types import ASGIApp, Message, Receive, Scope, Send

log = logging.getLogger("taskwell.drain")

# From closing the listener to uvicorn's shutdown: long enough for a request already written
# into an accepted connection to arrive (loopback or LAN: milliseconds), short enough not to
# matter to whoever waits for the stop.
LISTENER_CLOSED_GRACE_SECONDS = 1.0


class Drain:
    """The drain's state for one process, and the ASGI wrapper that applies it."""

    def __init__(self, app: ASGIApp, seconds: float) -> None:
        self.app = app
        self.seconds = seconds
        self.draining = False
        self._installed = False
        self._on_stop: list[Callable[[], object]] = []

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

    def on_stop(self, callback: Callable[[], object]) -> None:
        """Run `callback` (in the event loop) when the process is asked to stop, at the start
        of a drain: long-lived responses (event streams) end then, or the server would wait
        for them forever."""
        self._on_stop.append(callback)

    def _stopping(self) -> None:
        for callback in self._on_stop:
            callback()

    def _install(self) -> None:
        """Put the drain in front of the server's SIGTERM handler (uvicorn's, by now), and a
        notice of the stop in front of its SIGINT handler."""
        self._installed = True
        loop = asyncio.get_running_loop()
        interrupt = signal.getsignal(signal.SIGINT)
        if callable(interrupt):

            def on_sigint(signum: int, frame: FrameType | None) -> None:
                self.draining = True
                loop.call_soon_threadsafe(self._stopping)
                interrupt(signum, frame)

            signal.signal(signal.SIGINT, on_sigint)
        stop = signal.getsignal(signal.SIGTERM)
        if not callable(stop):
            log.warning("no SIGTERM handler to drain in front of; stopping at once on SIGTERM")
            return

        def on_sigterm(signum: int, frame: FrameType | None) -> None:
            if self.draining or self.seconds <= 0:  # asked twice, or no drain: stop now
                self.draining = True
                loop.call_soon_threadsafe(self._stopping)
                stop(signum, frame)
                return
            self.draining = True
            log.info("draining before shutdown", extra={"seconds": self.seconds})
            loop.call_soon_threadsafe(self._stopping)
            loop.call_soon_threadsafe(loop.call_later, self.seconds, self._end, stop, signum)

        signal.signal(signal.SIGTERM, on_sigterm)

    def _end(self, stop: Callable[[int, FrameType | None], object], signum: int) -> None:
        """The drain is over: stop accepting, then let the server shut down a moment later."""
        # The handler is uvicorn's Server.handle_exit; its server holds the listeners (in a
        # worker of several, this process's handle on the shared socket: the others accept on).
        listeners = getattr(getattr(stop, "__self__", None), "servers", None) or []
        for listener in listeners:
            listener.close()
        log.info("no longer accepting connections", extra={"listeners": len(listeners)})
        grace = LISTENER_CLOSED_GRACE_SECONDS if listeners else 0.0
        asyncio.get_running_loop().call_later(grace, stop, signum, None)
