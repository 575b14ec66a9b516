"""Compress text responses with gzip when the client's Accept-Encoding allows it.

Written here rather than taken from Starlette's GZipMiddleware because that one parses the
request headers into an object and wraps the response on every request (the hot reads go
through this layer, and a client that sends no Accept-Encoding must pay nothing for it), and
compresses any type not on a deny-list. This one compresses an allow-list of text types,
leaves alone anything that already has a Content-Encoding (the web app's precompressed
files, brotli included) and streamed bodies, and keeps ETags as they are: the API's are
version tags that `If-Match` compares strongly, whatever the transfer coding.

Brotli on the fly would need the `brotli` package, whose presence also switches sentry-sdk's
uploads to brotli; the build already writes .br copies of the web app's files (webapp/), and
for JSON gzip's ratio is close enough.
"""

from __future__ import annotations

import gzip

from starlette.types import ASGIApp, Message, Receive, Scope, Send

BROTLI, GZIP = "br", "gzip"
_TEXT_TYPES = frozenset(
    (
        "application/json",
        "application/problem+json",
        "application/javascript",
        "application/manifest+json",
        "application/xml",
        "image/svg+xml",
    )
)
# zlib's default: most of level 9's ratio at a fraction of its time.
_GZIP_LEVEL = 6


def is_compressible(content_type: str) -> bool:
    media_type = content_type.partition(";")[0].strip().lower()
    return media_type.startswith("text/") or media_type in _TEXT_TYPES


def accepted_codings(accept_encoding: str) -> dict[str, float]:
    """Content codings and their q-values; `*` stands for any coding not named."""
    codings: dict[str, float] = {}
    for part in accept_encoding.split(","):
        coding, _, params = part.partition(";")
        coding = coding.strip().lower()
        if not coding:
            continue
        q = 1.0
        for param in params.split(";"):
            name, _, value = param.partition("=")
            if name.strip().lower() == "q":
                try:
                    q = min(1.0, max(0.0, float(value.strip())))
                except ValueError:
                    q = 0.0
        codings[coding] = q
    return codings


def choose_encoding(accept_encoding: str, offered: tuple[str, ...] = (GZIP,)) -> str | None:
    """The offered coding the client prefers (ties go to the earlier one), or None."""
    if not accept_encoding:
        return None
    codings = accepted_codings(accept_encoding)
    best, best_q = None, 0.0
    for coding in offered:
        q = codings.get(coding, codings.get("*", 0.0))
        if coding == GZIP and "x-gzip" in codings:
            q = max(q, codings["x-gzip"])
        if q > best_q:
            best, best_q = coding, q
    return best


def gzip_compress(body: bytes, level: int = _GZIP_LEVEL) -> bytes:
    return gzip.compress(body, compresslevel=level, mtime=0)


def add_vary(headers: list[tuple[bytes, bytes]], name: bytes = b"accept-encoding") -> None:
    for index, (key, value) in enumerate(headers):
        if key.lower() == b"vary":
            if name not in value.lower():
                headers[index] = (key, value + b", " + name)
            return
    headers.append((b"vary", name))


class CompressResponses:
    """Secrets are never compressed next to what a client chose (BREACH): responses under
    `never` (the routes that hand out tokens and keys) and any response setting a cookie go
    out as they are."""

    def __init__(
        self, app: ASGIApp, minimum_size: int = 1_024, never: tuple[str, ...] = ()
    ) -> None:
        self.app = app
        self.minimum_size = minimum_size
        self.never = never

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if (
            scope["type"] != "http"
            or scope["method"] == "HEAD"
            or (self.never and scope["path"].startswith(self.never))
        ):
            await self.app(scope, receive, send)
            return
        accept = b""
        for name, value in scope["headers"]:
            if name == b"accept-encoding":
                accept = value
                break
        encoding = choose_encoding(accept.decode("latin-1")) if accept else None
        if encoding is None:
            await self.app(scope, receive, send)
            return
        await self.app(scope, receive, _Compressor(send, encoding, self.minimum_size).send)


class _Compressor:
    """Holds the response start until the first body part shows whether to compress."""

    def __init__(self, send: Send, encoding: str, minimum_size: int) -> None:
        self._send = send
        self._encoding = encoding
        self._minimum = minimum_size
        self._start: Message | None = None

    async def send(self, message: Message) -> None:
        kind = message["type"]
        if kind == "http.response.start":
            if self._wants_compression(message):
                self._start = message
                return
            await self._send(message)
            return
        start, self._start = self._start, None
        if start is None:
            await self._send(message)
            return
        body: bytes = message.get("body", b"")
        if kind != "http.response.body" or message.get("more_body", False):
            # Streamed (or an unusual message): send it as it comes, uncompressed.
            await self._send(start)
            await self._send(message)
            return
        if len(body) >= self._minimum:
            body = gzip_compress(body)
            headers = [
                (k, v) for k, v in start.get("headers", ()) if k.lower() != b"content-length"
            ]
            headers += [
                (b"content-encoding", self._encoding.encode()),
                (b"content-length", str(len(body)).encode()),
            ]
            add_vary(headers)
            start["headers"] = headers
            message = {**message, "body": body}
        await self._send(start)
        await self._send(message)

    @staticmethod
    def _wants_compression(start: Message) -> bool:
        if start["status"] < 200 or start["status"] in (204, 206, 304):
            return False
        content_type = b""
        for name, value in start.get("headers", ()):
            lowered = name.lower()
            if lowered in (b"content-encoding", b"set-cookie"):
                return False
            if lowered == b"content-type":
                content_type = value
        return is_compressible(content_type.decode("latin-1"))
