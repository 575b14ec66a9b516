"""A worker's health check: a tiny HTTP answer for supervisors (scripts/cluster, Kubernetes).

200 while the loop goes round (it looks at least every poll interval), 503 once it has been
stuck longer than `stale_seconds`. Any path, any method; the request itself is not read beyond
its first line. Hand-written: a web framework for one fixed answer would be most of the process.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable


class HealthServer:
    def __init__(self, alive: Callable[[], bool], host: str, port: int) -> None:
        self._alive = alive
        self._host = host
        self._port = port
        self._server: asyncio.Server | None = None

    async def start(self) -> None:
        self._server = await asyncio.start_server(self._answer, self._host, self._port)

    async def close(self) -> None:
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()
            self._server = None

    async def _answer(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        with contextlib.suppress(OSError, TimeoutError, asyncio.IncompleteReadError):
            async with asyncio.timeout(5.0):
                await reader.readline()
                status, body = (
                    ("200 OK", b"ok\n")
                    if self._alive()
                    else ("503 Service Unavailable", b"stuck\n")
                )
                writer.write(
                    f"HTTP/1.1 {status}\r\ncontent-type: text/plain\r\n"
                    f"content-length: {len(body)}\r\nconnection: close\r\n\r\n".encode()
                    + body
                )
                await writer.drain()
        writer.close()
