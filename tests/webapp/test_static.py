"""The web app's files: cache headers, client-route fallback, encodings, validators, and a
look-up that cannot be led outside the build folder."""

from __future__ import annotations

import gzip
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest

from taskwell.app import create_app
from taskwell.settings import Settings
from tests.conftest import assert_problem
from tests.webapp.conftest import (
    APP_JS,
    INDEX,
    MANIFEST,
    SMALL_JS,
    STYLE_CSS,
    SW_JS,
    brotli_stand_in,
    get_raw,
)

IMMUTABLE = "public, max-age=31536000, immutable"
IDENTITY = {"Accept-Encoding": "identity"}

# Cache headers


async def test_hashed_assets_are_cached_for_a_year_and_never_revalidated(
    web: httpx.AsyncClient,
) -> None:
    response = await web.get("/assets/index-3f2a1b9c.js", headers=IDENTITY)

    assert response.status_code == 200
    assert response.content == APP_JS
    assert response.headers["cache-control"] == IMMUTABLE
    assert response.headers["content-type"] == "text/javascript; charset=utf-8"
    assert response.headers["etag"].startswith('"')


@pytest.mark.parametrize(
    ("path", "body", "content_type"),
    [
        ("/index.html", INDEX, "text/html; charset=utf-8"),
        ("/sw.js", SW_JS, "text/javascript; charset=utf-8"),
        ("/manifest.webmanifest", MANIFEST, "application/manifest+json"),
    ],
)
async def test_stable_names_are_revalidated_every_time(
    web: httpx.AsyncClient, path: str, body: bytes, content_type: str
) -> None:
    response = await web.get(path, headers=IDENTITY)

    assert response.status_code == 200
    assert response.content == body
    assert response.headers["cache-control"] == "no-cache"
    assert response.headers["content-type"] == content_type


async def test_static_files_carry_the_security_headers(web: httpx.AsyncClient) -> None:
    response = await web.get("/tasks")

    assert "script-src 'self'" in response.headers["content-security-policy"]
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["x-frame-options"] == "DENY"


# Client routes


@pytest.mark.parametrize(
    "path",
    [
        "/",
        "/login",
        "/register",
        "/tasks",
        "/tasks/0f8b6a7e-1c2d-4e5f-8a9b-0c1d2e3f4a5b",
        "/settings",
    ],
)
async def test_client_routes_answer_the_app_shell(web: httpx.AsyncClient, path: str) -> None:
    response = await web.get(path, headers=IDENTITY)

    assert response.status_code == 200
    assert response.content == INDEX
    assert response.headers["content-type"] == "text/html; charset=utf-8"
    assert response.headers["cache-control"] == "no-cache"


@pytest.mark.parametrize(
    "path",
    [
        "/nothing-here",
        "/login/extra",
        "/tasks/1/2",
        "/settings/account",
        "/assets/missing-000000.js",
        "/assets/",
        "/registered",
    ],
)
async def test_other_paths_stay_404_problems(web: httpx.AsyncClient, path: str) -> None:
    assert_problem(await web.get(path), 404, "not-found")


@pytest.mark.parametrize("path", ["/api/v1/nothing", "/api/v1/tasks/x/y", "/api", "/api/v2/tasks"])
async def test_the_api_never_falls_back_to_the_app(web: httpx.AsyncClient, path: str) -> None:
    response = await web.get(path)

    assert_problem(response, 404)
    assert b"<html" not in response.content


async def test_a_trailing_slash_redirects_to_the_route(web: httpx.AsyncClient) -> None:
    response = await web.get("/tasks/")

    assert response.status_code in (307, 308)
    assert response.headers["location"].endswith("/tasks")


async def test_head_answers_the_headers_without_a_body(web: httpx.AsyncClient) -> None:
    response = await web.head("/assets/index-3f2a1b9c.js", headers=IDENTITY)

    assert response.status_code == 200
    assert response.content == b""
    assert response.headers["cache-control"] == IMMUTABLE
    assert response.headers["content-length"] == str(len(APP_JS))


async def test_other_methods_on_files_are_refused(web: httpx.AsyncClient) -> None:
    assert_problem(await web.post("/assets/index-3f2a1b9c.js"), 405)
    assert_problem(await web.post("/sw.js"), 404)


async def test_the_api_keeps_working_beside_the_app(web: httpx.AsyncClient) -> None:
    assert (await web.get("/api/v1/openapi.json")).status_code == 200
    assert (await web.get("/healthz")).json() == {"status": "ok"}


# Encodings


@pytest.mark.parametrize(
    ("accept", "encoding"),
    [
        ("br", "br"),
        ("gzip, deflate, br, zstd", "br"),
        ("gzip", "gzip"),
        ("br;q=0.5, gzip", "gzip"),
        ("*", "br"),
    ],
)
async def test_the_precompressed_copy_the_client_accepts_is_sent(
    web: httpx.AsyncClient, built_root: Path, accept: str, encoding: str
) -> None:
    response, raw = await get_raw(web, "/assets/index-3f2a1b9c.js", **{"Accept-Encoding": accept})

    assert response.status_code == 200
    assert response.headers["content-encoding"] == encoding
    assert response.headers["vary"] == "Accept-Encoding"
    suffix = ".br" if encoding == "br" else ".gz"
    assert raw == (built_root / "assets" / f"index-3f2a1b9c.js{suffix}").read_bytes()
    if encoding == "gzip":
        assert gzip.decompress(raw) == APP_JS
    assert response.headers["content-length"] == str(len(raw))
    assert response.headers["cache-control"] == IMMUTABLE


@pytest.mark.parametrize("accept", ["identity", "br;q=0, gzip;q=0", "deflate", ""])
async def test_without_an_accepted_coding_the_file_is_sent_as_is(
    web: httpx.AsyncClient, accept: str
) -> None:
    response, raw = await get_raw(web, "/assets/index-3f2a1b9c.js", **{"Accept-Encoding": accept})

    assert "content-encoding" not in response.headers
    assert raw == APP_JS
    assert response.headers["vary"] == "Accept-Encoding"


async def test_the_shell_is_sent_precompressed_too(web: httpx.AsyncClient) -> None:
    response, raw = await get_raw(web, "/tasks", **{"Accept-Encoding": "br"})

    assert response.headers["content-encoding"] == "br"
    assert raw == brotli_stand_in(INDEX)


async def test_text_without_a_precompressed_copy_is_gzipped_on_the_fly(
    web: httpx.AsyncClient,
) -> None:
    response, raw = await get_raw(
        web, "/assets/style-77aa01.css", **{"Accept-Encoding": "br, gzip"}
    )
    only_br, only_br_raw = await get_raw(
        web, "/assets/style-77aa01.css", **{"Accept-Encoding": "br"}
    )

    assert response.headers["content-encoding"] == "gzip"
    assert gzip.decompress(raw) == STYLE_CSS
    assert len(raw) < len(STYLE_CSS)
    assert response.headers["vary"] == "Accept-Encoding"
    assert response.headers["cache-control"] == IMMUTABLE
    assert "content-encoding" not in only_br.headers
    assert only_br_raw == STYLE_CSS


async def test_small_and_binary_files_are_not_compressed(web: httpx.AsyncClient) -> None:
    small, small_raw = await get_raw(web, "/assets/tiny-0a0b0c.js", **{"Accept-Encoding": "gzip"})
    png, _ = await get_raw(web, "/assets/logo-aa11bb.png", **{"Accept-Encoding": "gzip, br"})

    assert "content-encoding" not in small.headers
    assert small_raw == SMALL_JS
    assert "content-encoding" not in png.headers
    assert png.headers["content-type"] == "image/png"


# Validators


async def test_a_matching_etag_gets_304_without_a_body(web: httpx.AsyncClient) -> None:
    first = await web.get("/assets/index-3f2a1b9c.js", headers=IDENTITY)

    again = await web.get(
        "/assets/index-3f2a1b9c.js",
        headers={**IDENTITY, "If-None-Match": first.headers["etag"]},
    )

    assert again.status_code == 304
    assert again.content == b""
    assert again.headers["etag"] == first.headers["etag"]
    assert again.headers["cache-control"] == IMMUTABLE


@pytest.mark.parametrize("path", ["/index.html", "/sw.js"])  # precompressed / gzipped here
async def test_each_encoding_has_its_own_etag(web: httpx.AsyncClient, path: str) -> None:
    identity = await web.get(path, headers=IDENTITY)
    gz, _ = await get_raw(web, path, **{"Accept-Encoding": "gzip"})

    assert identity.headers["etag"] != gz.headers["etag"]
    stale = await web.get(
        path, headers={"Accept-Encoding": "gzip", "If-None-Match": identity.headers["etag"]}
    )
    assert stale.status_code == 200
    fresh = await web.get(
        path, headers={"Accept-Encoding": "gzip", "If-None-Match": gz.headers["etag"]}
    )
    assert fresh.status_code == 304
    assert fresh.headers["etag"] == gz.headers["etag"]
    assert fresh.headers["vary"] == "Accept-Encoding"


async def test_the_shell_is_revalidated_with_its_etag(web: httpx.AsyncClient) -> None:
    first = await web.get("/login", headers=IDENTITY)

    again = await web.get("/settings", headers={**IDENTITY, "If-None-Match": first.headers["etag"]})

    assert again.status_code == 304


async def test_a_rebuilt_file_is_served_without_a_restart(
    web: httpx.AsyncClient, built_root: Path
) -> None:
    before = await web.get("/sw.js", headers=IDENTITY)
    (built_root / "sw.js").write_bytes(b"// a new service worker, a different length\n")

    after = await web.get("/sw.js", headers=IDENTITY)

    assert after.content == b"// a new service worker, a different length\n"
    assert after.headers["etag"] != before.headers["etag"]


# Nothing outside the build, nothing hidden


@pytest.mark.parametrize(
    "path",
    [
        "/assets/..%2f..%2fsecret.txt",
        "/assets/%2e%2e/%2e%2e/secret.txt",
        "/assets/%2e%2e%2f%2e%2e%2fsecret.txt",
        "/assets/..%5c..%5csecret.txt",
        "/assets/escape.txt",
        "/assets/%00.js",
        "/assets//etc/passwd",
        "/assets/%2fetc%2fpasswd",
        "/.vite/manifest.json",
        "/%2evite%2fmanifest.json",
        "/assets/index-3f2a1b9c.js.br",
        "/index.html.gz",
        "/..%2fsecret.txt",
    ],
)
async def test_nothing_outside_the_build_or_hidden_is_served(
    web: httpx.AsyncClient, path: str
) -> None:
    response = await web.get(path)

    assert response.status_code == 404, path
    assert b"outside the build folder" not in response.content
    assert b"<html" not in response.content
    assert response.headers["content-type"] == "application/problem+json"


# Not built


async def test_without_a_build_the_app_answers_503_and_the_api_works(
    settings_factory: Callable[..., Settings], tmp_path: Path
) -> None:
    app = create_app(settings_factory(webapp_dir=tmp_path / "never-built"))
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
            root = await client.get("/")
            tasks = await client.get("/tasks")
            asset = await client.get("/assets/index-3f2a1b9c.js")
            api = await client.get("/api/v1/openapi.json")

    body = assert_problem(root, 503, "ui-not-built")
    assert "npm run build" in body["detail"]
    assert_problem(tasks, 503, "ui-not-built")
    assert_problem(asset, 404, "not-found")
    assert api.status_code == 200
