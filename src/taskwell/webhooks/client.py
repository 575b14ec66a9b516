"""One delivery attempt over HTTP: to the address the guard checked, bounded in every way.

The connection goes to the vetted IP address while the Host header and the TLS server name
(httpcore's `sni_hostname` extension) stay the URL's own, so the certificate is checked for the
name. Redirects are not followed (each hop would need checking, and a receiver has no reason to
redirect a webhook), proxies from the environment are ignored (they would connect by name), the
attempt as a whole has a deadline (a server trickling bytes cannot hold a worker), and at most
a few kilobytes of the answer are read.
"""

from __future__ import annotations

import asyncio
import logging
import ssl
import time
from collections.abc import Mapping
from dataclasses import dataclass

import httpx

from taskwell.settings import Settings
from taskwell.webhooks.ssrf import TargetGuard, TargetRefused

USER_AGENT = "Taskwell-Webhooks/1"
# httpx logs every request's URL at INFO; a webhook URL may carry a token in its query, so
# only its warnings reach the log. Attempts are logged by the worker, without the URL.
logging.getLogger("httpx").setLevel(logging.WARNING)
_ERROR_MAX = 300


@dataclass(frozen=True, slots=True)
class Outcome:
    status_code: int | None
    duration_ms: int
    error: str | None

    @property
    def ok(self) -> bool:
        return self.error is None and self.status_code is not None


class DeliveryClient:
    def __init__(
        self, settings: Settings, guard: TargetGuard, *, verify: ssl.SSLContext | bool = True
    ) -> None:
        self._guard = guard
        self._deadline = settings.webhook_timeout_seconds
        self._max_bytes = settings.webhook_max_response_bytes
        self._client = httpx.AsyncClient(
            follow_redirects=False,
            trust_env=False,
            timeout=httpx.Timeout(
                settings.webhook_timeout_seconds,
                connect=min(
                    settings.webhook_connect_timeout_seconds, settings.webhook_timeout_seconds
                ),
            ),
            # A pooled connection is keyed by address, not name: never reuse one, so a
            # connection made for one host name is never used for another.
            limits=httpx.Limits(max_keepalive_connections=0),
            headers={"user-agent": USER_AGENT},
            verify=verify,
        )

    async def close(self) -> None:
        await self._client.aclose()

    async def post(self, url: str, body: bytes, headers: Mapping[str, str]) -> Outcome:
        started = time.perf_counter()

        def done(status: int | None, error: str | None) -> Outcome:
            elapsed = int((time.perf_counter() - started) * 1000)
            return Outcome(status, elapsed, error[:_ERROR_MAX] if error else None)

        try:
            async with asyncio.timeout(self._deadline):
                target = await self._guard.vet(url)
                request = self._client.build_request(
                    "POST",
                    target.connect_url(),
                    content=body,
                    headers={
                        **headers,
                        "host": target.host_header(),
                        "content-type": "application/json",
                    },
                    extensions={} if target.is_literal else {"sni_hostname": target.host},
                )
                response = await self._client.send(request, stream=True)
                try:
                    await self._read_some(response)
                finally:
                    await response.aclose()
        except TargetRefused as exc:
            return done(None, f"refused: {exc.detail}")
        except (TimeoutError, httpx.TimeoutException):
            return done(None, f"no answer within {self._deadline:g} s")
        except httpx.HTTPError as exc:
            return done(None, _describe(exc))
        status = response.status_code
        if 200 <= status < 300:
            return done(status, None)
        if 300 <= status < 400:
            return done(status, f"answered {status}: redirects are not followed")
        return done(status, f"answered {status}")

    async def _read_some(self, response: httpx.Response) -> None:
        """Read the answer up to the cap, so the server sees its response taken; the rest is
        dropped with the connection."""
        seen = 0
        async for chunk in response.aiter_raw():
            seen += len(chunk)
            if seen >= self._max_bytes:
                break


def _describe(exc: httpx.HTTPError) -> str:
    if isinstance(exc, httpx.ConnectError):
        return "could not connect" + (f": {exc}" if str(exc) else "")
    text = str(exc)
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__
