"""The built app's files: a look-up that cannot leave the folder, and cacheable responses.

Each file is read once and kept with its content ETag and its encoded variants: the
precompressed `.br` / `.gz` copies the build writes next to it, or, for a text file without
them, a gzip copy made here on first request (at gzip's best level: it is made once). A
variant has its own ETag (RFC 9110 8.8.3: a strong validator names one representation). An
entry is re-read when the file's size or modification time changes, so a rebuild is served
without a restart.
"""

from __future__ import annotations

import hashlib
import mimetypes
from dataclasses import dataclass, field
from pathlib import Path

from starlette.requests import Request
from starlette.responses import Response

from taskwell.errors import DomainError, NotFound
from taskwell.http.compression import BROTLI, GZIP, choose_encoding, gzip_compress, is_compressible
from taskwell.http.conditional import none_match

# Content-hashed names change whenever the content does: cache them for a year, never ask.
IMMUTABLE = "public, max-age=31536000, immutable"
# Stable names (index.html, sw.js, the manifest): always revalidate (a 304 is cheap).
REVALIDATE = "no-cache"

_PRECOMPRESSED = ((BROTLI, ".br"), (GZIP, ".gz"))
_ETAG_SUFFIX = {BROTLI: "-br", GZIP: "-gz"}
_MEDIA_TYPES = {
    ".html": "text/html; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",
    ".mjs": "text/javascript; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".json": "application/json",
    ".map": "application/json",
    ".webmanifest": "application/manifest+json",
    ".svg": "image/svg+xml",
    ".png": "image/png",
    ".ico": "image/x-icon",
    ".webp": "image/webp",
    ".woff2": "font/woff2",
    ".txt": "text/plain; charset=utf-8",
    ".wasm": "application/wasm",
}
# Everything kept in memory together; past this the cache starts again (a build is ~1 MB).
_CACHE_LIMIT_BYTES = 64 * 1_048_576


class UiNotBuilt(DomainError):
    slug, title, status = "ui-not-built", "The web app is not built", 503


@dataclass(frozen=True, slots=True)
class _Variant:
    body: bytes
    etag: str


@dataclass(slots=True)
class _Entry:
    stamp: tuple[int, int]
    media_type: str
    identity: _Variant
    # Codings a client may be offered, in our order of preference.
    offered: tuple[str, ...]
    variants: dict[str, _Variant] = field(default_factory=dict)

    @property
    def size(self) -> int:
        return len(self.identity.body) + sum(len(v.body) for v in self.variants.values())


def _media_type(path: Path) -> str:
    known = _MEDIA_TYPES.get(path.suffix.lower())
    if known is not None:
        return known
    guessed, _ = mimetypes.guess_type(path.name)
    return guessed or "application/octet-stream"


def _safe_parts(relative: str) -> list[str] | None:
    """The path's segments, or None when one could step outside or names a hidden file."""
    parts = relative.split("/")
    for part in parts:
        if not part or part.startswith(".") or "\\" in part or "\x00" in part or ":" in part:
            return None
    # The encoded copies are variants of a file, not addresses of their own.
    if parts[-1].endswith((".br", ".gz")):
        return None
    return parts


class StaticSite:
    def __init__(self, root: Path, *, compress_min_bytes: int | None) -> None:
        """compress_min_bytes: smallest text file compressed on the fly; None: never."""
        self.root = root
        self._compress_min = compress_min_bytes
        self._entries: dict[str, _Entry] = {}
        self._cached_bytes = 0

    @property
    def is_built(self) -> bool:
        return (self.root / "index.html").is_file()

    def shell(self, request: Request) -> Response:
        """index.html, for every client-side route."""
        if not self.is_built:
            raise UiNotBuilt(
                "The browser app is not built: run `./scripts/serve.sh` with Node.js 20+, or "
                "`cd frontend && npm ci && npm run build`. The API works meanwhile at /api/v1."
            )
        return self.file(request, "index.html", REVALIDATE)

    def file(self, request: Request, relative: str, cache_control: str) -> Response:
        entry = self._entry(relative)
        encoding = choose_encoding(request.headers.get("accept-encoding", ""), entry.offered)
        variant = self._variant(entry, encoding)
        headers = {"Cache-Control": cache_control, "ETag": variant.etag}
        if entry.offered:
            headers["Vary"] = "Accept-Encoding"
        if none_match(request.headers.get("if-none-match"), variant.etag):
            return Response(status_code=304, headers=headers)
        headers["Content-Type"] = entry.media_type
        if encoding is not None:
            headers["Content-Encoding"] = encoding
        return Response(variant.body, headers=headers)

    def _entry(self, relative: str) -> _Entry:
        parts = _safe_parts(relative)
        if parts is None:
            raise NotFound("No file lives at this address.")
        root = self.root.resolve()
        path = root.joinpath(*parts).resolve()
        try:
            if not path.is_relative_to(root):
                raise FileNotFoundError(relative)  # a symbolic link pointing outside
            stat = path.stat()
            if not path.is_file():
                raise FileNotFoundError(relative)
            stamp = (stat.st_mtime_ns, stat.st_size)
            entry = self._entries.get(relative)
            if entry is None or entry.stamp != stamp:
                entry = self._load(path, stamp)
                self._remember(relative, entry)
        except OSError as exc:
            raise NotFound("No file lives at this address.") from exc
        return entry

    def _load(self, path: Path, stamp: tuple[int, int]) -> _Entry:
        body = path.read_bytes()
        etag = hashlib.sha256(body).hexdigest()[:32]
        media_type = _media_type(path)
        variants = {}
        for coding, suffix in _PRECOMPRESSED:
            copy = path.with_name(path.name + suffix)
            if copy.is_file():
                variants[coding] = _Variant(copy.read_bytes(), f'"{etag}{_ETAG_SUFFIX[coding]}"')
        offered: tuple[str, ...] = tuple(variants)
        if (
            not offered
            and self._compress_min is not None
            and len(body) >= self._compress_min
            and is_compressible(media_type)
        ):
            offered = (GZIP,)  # made on first request (_variant)
        return _Entry(stamp, media_type, _Variant(body, f'"{etag}"'), offered, variants)

    def _variant(self, entry: _Entry, encoding: str | None) -> _Variant:
        if encoding is None:
            return entry.identity
        variant = entry.variants.get(encoding)
        if variant is None:
            body = gzip_compress(entry.identity.body, level=9)
            variant = _Variant(body, entry.identity.etag[:-1] + _ETAG_SUFFIX[encoding] + '"')
            entry.variants[encoding] = variant
            self._cached_bytes += len(body)
        return variant

    def _remember(self, relative: str, entry: _Entry) -> None:
        previous = self._entries.pop(relative, None)
        if previous is not None:
            self._cached_bytes -= previous.size
        if self._cached_bytes + entry.size > _CACHE_LIMIT_BYTES:
            self._entries.clear()
            self._cached_bytes = 0
        self._entries[relative] = entry
        self._cached_bytes += entry.size
