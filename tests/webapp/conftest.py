"""A built web app of our own making (tests/webapp/ must not depend on `npm run build`), and
an app serving it. The files mimic the Vite build's shape: content-hashed assets, stable-named
files at the top, precompressed copies of some, a hidden .vite folder."""

from __future__ import annotations

import gzip
import hashlib
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from taskwell.app import create_app
from taskwell.settings import Settings

INDEX = (
    b'<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Taskwell</title>'
    b'<script type="module" src="/assets/index-3f2a1b9c.js"></script></head>'
    b'<body><div id="root"></div></body></html>\n' + b"<!-- padding -->\n" * 80
)
APP_JS = b"export const app = () => 'taskwell';\n" * 200  # ~7 kB, precompressed below
STYLE_CSS = b".task { color: #1d4ed8; }\n" * 200  # ~5 kB, no precompressed copy
SMALL_JS = b"export const x = 1;\n"  # under the compression threshold
LOGO_PNG = b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 20
SW_JS = b"self.addEventListener('fetch', () => {});\n" * 40
MANIFEST = b'{"name":"Taskwell","start_url":"/tasks","display":"standalone"}'
SECRET = b"outside the build folder"


@dataclass(frozen=True)
class Built:
    root: Path  # the build folder
    outside: Path  # a file next to it, which must never be served


def brotli_stand_in(body: bytes) -> bytes:
    return b"brotli copy of " + hashlib.sha256(body).hexdigest().encode()


def write_build(root: Path) -> None:
    (root / "assets").mkdir(parents=True)
    (root / ".vite").mkdir()
    files = {
        "index.html": INDEX,
        "sw.js": SW_JS,
        "manifest.webmanifest": MANIFEST,
        "assets/index-3f2a1b9c.js": APP_JS,
        "assets/style-77aa01.css": STYLE_CSS,
        "assets/tiny-0a0b0c.js": SMALL_JS,
        "assets/logo-aa11bb.png": LOGO_PNG,
        ".vite/manifest.json": b'{"index.html": {}}',
    }
    for name, body in files.items():
        (root / name).write_bytes(body)
    for name in ("index.html", "assets/index-3f2a1b9c.js"):
        body = files[name]
        # The server never decodes a .br copy: a stand-in tells whether it was sent.
        (root / f"{name}.br").write_bytes(brotli_stand_in(body))
        (root / f"{name}.gz").write_bytes(gzip.compress(body))


@pytest.fixture
def built(tmp_path: Path) -> Built:
    root = tmp_path / "dist"
    write_build(root)
    outside = tmp_path / "secret.txt"
    outside.write_bytes(SECRET)
    (root / "assets" / "escape.txt").symlink_to(outside)
    return Built(root, outside)


@pytest.fixture
async def web(
    settings_factory: Callable[..., Settings], built: Built
) -> AsyncIterator[httpx.AsyncClient]:
    """A client of an app serving `built`."""
    app = create_app(settings_factory(webapp_dir=built.root))
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
            yield client


async def get_raw(
    client: httpx.AsyncClient, path: str, **headers: str
) -> tuple[httpx.Response, bytes]:
    """GET without httpx decoding the body: the bytes as sent, and the response."""
    request = client.build_request("GET", path, headers=headers)
    response = await client.send(request, stream=True)
    try:
        raw = b"".join([chunk async for chunk in response.aiter_raw()])
    finally:
        await response.aclose()
    return response, raw


@pytest.fixture
def built_root(built: Built) -> Path:
    return built.root
