"""Avatars: only real images of the declared type are taken; what is kept is a clean square
WebP in two sizes, behind versioned addresses that may be cached for good."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable

import httpx
import pytest
from fastapi import FastAPI
from PIL import Image, ImageDraw
from PIL.PngImagePlugin import PngInfo

from taskwell.app import create_app
from taskwell.db.schema import metadata
from taskwell.settings import Settings
from tests.conftest import STRONG_PASSWORD, Account, assert_problem
from tests.support.images import (
    BLUE,
    GREEN,
    RED,
    animated_gif,
    decoded,
    encode,
    jpeg_with_exif,
    near,
    png,
    png_claiming,
    solid,
)

ME = "/api/v1/users/me"
AVATAR = "/api/v1/users/me/avatar"


# Calls


async def upload(
    client: httpx.AsyncClient, account: Account, body: bytes, content_type: str = "image/png"
) -> httpx.Response:
    return await client.put(
        AVATAR, content=body, headers={**account.headers, "Content-Type": content_type}
    )


async def uploaded(
    client: httpx.AsyncClient, account: Account, body: bytes, content_type: str = "image/png"
) -> dict[str, str]:
    response = await upload(client, account, body, content_type)
    assert response.status_code == 200, response.text
    avatar: dict[str, str] = response.json()["avatar"]
    return avatar


async def image_at(client: httpx.AsyncClient, account: Account, url: str) -> httpx.Response:
    response = await client.get(url, headers=account.headers)
    assert response.status_code == 200, response.text
    return response


# Uploading


async def test_an_upload_is_stored_as_two_square_webp_sizes(
    client: httpx.AsyncClient, alice: Account
) -> None:
    response = await upload(client, alice, png((300, 200)))

    assert response.status_code == 200, response.text
    assert response.headers["cache-control"] == "no-store"
    me = response.json()
    assert me["email"] == alice.email
    avatar = me["avatar"]
    assert set(avatar) == {"url_1x", "url_2x"}
    assert avatar["url_1x"] == f"/api/v1/avatars/{me['id']}/96.webp?v=1"
    assert avatar["url_2x"] == f"/api/v1/avatars/{me['id']}/192.webp?v=1"
    for url, side in ((avatar["url_1x"], 96), (avatar["url_2x"], 192)):
        image = await image_at(client, alice, url)
        assert image.headers["content-type"] == "image/webp"
        assert image.headers["cache-control"] == "private, max-age=31536000, immutable"
        assert image.headers["x-content-type-options"] == "nosniff"
        picture = decoded(image.content)
        assert picture.format == "WEBP"
        assert picture.size == (side, side)
        assert near(picture.getpixel((side // 2, side // 2)), RED)


async def test_me_names_the_avatar_and_null_without_one(
    client: httpx.AsyncClient, alice: Account
) -> None:
    before = (await client.get(ME, headers=alice.headers)).json()
    avatar = await uploaded(client, alice, png())
    after = (await client.get(ME, headers=alice.headers)).json()

    assert before["avatar"] is None
    assert after["avatar"] == avatar
    assert {k: v for k, v in after.items() if k not in ("avatar", "updated_at")} == {
        k: v for k, v in before.items() if k not in ("avatar", "updated_at")
    }


@pytest.mark.parametrize(
    ("content_type", "make"),
    [
        ("image/png", lambda: png(color=BLUE)),
        ("image/jpeg", lambda: encode(solid(color=BLUE), "JPEG")),
        ("image/webp", lambda: encode(solid(color=BLUE), "WEBP")),
        ("image/gif", lambda: encode(solid(color=BLUE), "GIF")),
        ("image/PNG; charset=binary", lambda: png(color=BLUE)),
    ],
)
async def test_each_accepted_format_is_taken(
    client: httpx.AsyncClient, alice: Account, content_type: str, make: Callable[[], bytes]
) -> None:
    avatar = await uploaded(client, alice, make(), content_type)

    picture = decoded((await image_at(client, alice, avatar["url_2x"])).content)
    assert near(picture.getpixel((96, 96)), BLUE)


async def test_an_animated_gif_keeps_its_first_frame(
    client: httpx.AsyncClient, alice: Account
) -> None:
    avatar = await uploaded(client, alice, animated_gif(), "image/gif")

    picture = decoded((await image_at(client, alice, avatar["url_2x"])).content)
    assert getattr(picture, "n_frames", 1) == 1
    assert near(picture.getpixel((96, 96)), GREEN)


async def test_transparency_survives(client: httpx.AsyncClient, alice: Account) -> None:
    image = Image.new("RGBA", (100, 100), (0, 0, 0, 0))
    ImageDraw.Draw(image).ellipse((25, 25, 75, 75), fill=(*RED, 255))
    avatar = await uploaded(client, alice, encode(image, "PNG"))

    picture = decoded((await image_at(client, alice, avatar["url_2x"])).content)
    assert picture.mode == "RGBA"
    assert picture.getpixel((2, 2))[3] == 0
    assert near(picture.getpixel((96, 96)), RED)


async def test_the_centre_square_is_kept(client: httpx.AsyncClient, alice: Account) -> None:
    wide = Image.new("RGB", (300, 100), GREEN)
    wide.paste(RED, (100, 0, 200, 100))  # the middle third
    avatar = await uploaded(client, alice, encode(wide, "PNG"))

    picture = decoded((await image_at(client, alice, avatar["url_2x"])).content)
    for corner in ((3, 3), (188, 3), (3, 188), (188, 188)):
        assert near(picture.getpixel(corner), RED), corner


# Metadata and orientation


async def test_exif_and_text_metadata_are_stripped(
    client: httpx.AsyncClient, alice: Account
) -> None:
    jpeg_avatar = await uploaded(client, alice, jpeg_with_exif(solid()), "image/jpeg")
    jpeg_images = [
        (await image_at(client, alice, jpeg_avatar[key])).content for key in ("url_1x", "url_2x")
    ]
    info = PngInfo()
    info.add_text("Comment", "my home address is 12 Secret Lane")
    png_avatar = await uploaded(client, alice, encode(solid(), "PNG", pnginfo=info))
    png_image = (await image_at(client, alice, png_avatar["url_2x"])).content

    for body in [*jpeg_images, png_image]:
        picture = decoded(body)
        assert not picture.getexif()
        assert not {"exif", "xmp", "icc_profile", "comment", "Comment"} & set(picture.info)
        assert b"SecretCam" not in body
        assert b"48.8566" not in body
        assert b"Secret Lane" not in body
        assert b"EXIF" not in body
        assert b"XMP " not in body


async def test_exif_orientation_is_applied(client: httpx.AsyncClient, alice: Account) -> None:
    # Stored 200x100 with red on the left; orientation 6 says "turn 90 degrees clockwise to
    # view", so the viewer sees 100x200 with red on top. Without the turn, the centre square
    # would be red on the left and blue on the right instead.
    stored = Image.new("RGB", (200, 100), BLUE)
    stored.paste(RED, (0, 0, 100, 100))
    avatar = await uploaded(client, alice, jpeg_with_exif(stored, orientation=6), "image/jpeg")

    picture = decoded((await image_at(client, alice, avatar["url_2x"])).content)
    assert near(picture.getpixel((96, 20)), RED)
    assert near(picture.getpixel((96, 172)), BLUE)
    assert near(picture.getpixel((20, 20)), picture.getpixel((172, 20))[:3])


# Refused uploads


@pytest.mark.parametrize(
    ("content_type", "body"),
    [
        pytest.param("image/jpeg", png(), id="png-labelled-jpeg"),
        pytest.param("image/png", encode(solid(), "JPEG"), id="jpeg-labelled-png"),
        pytest.param("image/gif", encode(solid(), "WEBP"), id="webp-labelled-gif"),
        pytest.param("image/png", b"#!/bin/sh\necho not an image\n" * 20, id="text"),
        pytest.param("image/png", b"<svg xmlns='http://www.w3.org/2000/svg'/>", id="svg"),
        pytest.param("image/png", png()[:60], id="truncated-png"),
        pytest.param("image/jpeg", encode(solid(), "JPEG")[:400], id="truncated-jpeg"),
        pytest.param("image/png", png()[:33] + b"\x00" * 200, id="garbage-after-header"),
        pytest.param("image/png", b"", id="empty"),
    ],
)
async def test_what_is_not_a_whole_image_of_the_declared_type_is_refused(
    client: httpx.AsyncClient, alice: Account, content_type: str, body: bytes
) -> None:
    response = await upload(client, alice, body, content_type)

    assert_problem(response, 422, "invalid-image")
    assert (await client.get(ME, headers=alice.headers)).json()["avatar"] is None


@pytest.mark.parametrize(
    "content_type", ["image/bmp", "image/svg+xml", "text/plain", "application/octet-stream", ""]
)
async def test_other_media_types_are_refused(
    client: httpx.AsyncClient, alice: Account, content_type: str
) -> None:
    response = await upload(client, alice, png(), content_type)

    body = assert_problem(response, 415, "unsupported-media-type")
    assert "image/png" in body["detail"]


@pytest.fixture
async def strict_app(settings_factory: Callable[..., Settings]) -> AsyncIterator[FastAPI]:
    """Small limits: 1 kB request bodies, 4 kB avatars, 250 000 pixels."""
    app = create_app(
        settings_factory(max_body_bytes=1_024, avatar_max_bytes=4_096, avatar_max_pixels=250_000)
    )
    async with app.router.lifespan_context(app):
        async with app.state.context.db.transaction() as conn:
            for table in reversed(metadata.sorted_tables):
                await conn.execute(table.delete())
        yield app


@pytest.fixture
async def strict(strict_app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=strict_app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
        yield client


@pytest.fixture
async def carol(strict: httpx.AsyncClient) -> Account:
    email = "carol@example.com"
    r = await strict.post(
        "/api/v1/auth/register", json={"email": email, "password": STRONG_PASSWORD}
    )
    assert r.status_code == 201, r.text
    r = await strict.post("/api/v1/auth/login", json={"email": email, "password": STRONG_PASSWORD})
    return Account(email, STRONG_PASSWORD, r.json())


async def test_too_many_pixels_are_refused_before_decoding(
    strict: httpx.AsyncClient, carol: Account
) -> None:
    over = await upload(strict, carol, png((600, 500)))  # 300 000 pixels, a small file
    bomb = await upload(strict, carol, png_claiming(100_000, 100_000))  # 10^10 pixels

    assert_problem(over, 422, "image-too-large")
    assert_problem(bomb, 422, "image-too-large")
    assert (await strict.get(ME, headers=carol.headers)).json()["avatar"] is None


async def test_the_pixel_limit_is_per_call_not_pillows_global(
    strict: httpx.AsyncClient, carol: Account
) -> None:
    before = Image.MAX_IMAGE_PIXELS

    await upload(strict, carol, png((600, 500)))

    assert before == Image.MAX_IMAGE_PIXELS


async def test_avatars_have_their_own_body_limit(strict: httpx.AsyncClient, carol: Account) -> None:
    # Noise does not compress: ~3 kB of PNG, over the 1 kB body limit, under the 4 kB avatar one.
    fits = encode(Image.effect_noise((40, 40), 64), "PNG")
    assert 1_024 < len(fits) < 4_096
    too_big = encode(Image.effect_noise((80, 80), 64), "PNG")
    assert len(too_big) > 4_096

    accepted = await upload(strict, carol, fits)
    refused = await upload(strict, carol, too_big)
    elsewhere = await strict.patch(ME, json={"display_name": "x" * 2_000}, headers=carol.headers)

    assert accepted.status_code == 200, accepted.text
    assert_problem(refused, 413, "payload-too-large")
    assert "4096" in refused.json()["detail"]
    assert_problem(elsewhere, 413, "payload-too-large")
    # The larger allowance is for this route and method only.
    assert_problem(
        await strict.post(
            AVATAR, content=fits, headers={**carol.headers, "Content-Type": "image/png"}
        ),
        413,
        "payload-too-large",
    )


async def test_a_streamed_body_is_cut_off_at_the_avatar_limit(
    strict: httpx.AsyncClient, carol: Account
) -> None:
    async def chunks() -> AsyncIterator[bytes]:  # no Content-Length: chunked
        for _ in range(10):
            yield b"\x00" * 1_000

    response = await strict.put(
        AVATAR, content=chunks(), headers={**carol.headers, "Content-Type": "image/png"}
    )

    assert_problem(response, 413, "payload-too-large")


# Versions and caching


async def test_each_upload_gets_new_addresses_and_old_ones_are_not_cached(
    client: httpx.AsyncClient, alice: Account
) -> None:
    first = await uploaded(client, alice, png(color=RED))
    second = await uploaded(client, alice, png(color=BLUE))

    assert first["url_2x"].endswith("?v=1")
    assert second["url_2x"].endswith("?v=2")
    current = await image_at(client, alice, second["url_2x"])
    stale = await image_at(client, alice, first["url_2x"])
    bare = await image_at(client, alice, second["url_2x"].split("?")[0])
    assert near(decoded(stale.content).getpixel((96, 96)), BLUE)
    assert stale.headers["cache-control"] == "private, no-cache"
    assert bare.headers["cache-control"] == "private, no-cache"
    assert current.headers["cache-control"] == "private, max-age=31536000, immutable"


async def test_an_unchanged_avatar_answers_304(client: httpx.AsyncClient, alice: Account) -> None:
    avatar = await uploaded(client, alice, png())
    first = await image_at(client, alice, avatar["url_1x"])

    again = await client.get(
        avatar["url_1x"], headers={**alice.headers, "If-None-Match": first.headers["etag"]}
    )

    assert again.status_code == 304
    assert again.content == b""


async def test_images_are_not_recompressed(client: httpx.AsyncClient, alice: Account) -> None:
    avatar = await uploaded(client, alice, encode(Image.effect_noise((400, 400), 80), "PNG"))

    response = await client.get(
        avatar["url_2x"], headers={**alice.headers, "Accept-Encoding": "gzip, br"}
    )

    assert "content-encoding" not in response.headers


@pytest.mark.parametrize("size", ["48", "193", "0", "abc"])
async def test_only_the_two_sizes_exist(
    client: httpx.AsyncClient, alice: Account, size: str
) -> None:
    avatar = await uploaded(client, alice, png())
    path = avatar["url_1x"].replace("/96.webp", f"/{size}.webp")

    response = await client.get(path, headers=alice.headers)

    assert response.status_code in (404, 422)
    assert response.headers["content-type"] == "application/problem+json"


# Removal


async def test_removal_forgets_the_images_and_never_reuses_an_address(
    client: httpx.AsyncClient, alice: Account
) -> None:
    first = await uploaded(client, alice, png(color=RED))

    removed = await client.delete(AVATAR, headers=alice.headers)
    again = await client.delete(AVATAR, headers=alice.headers)

    assert removed.status_code == 204
    assert again.status_code == 204
    assert (await client.get(ME, headers=alice.headers)).json()["avatar"] is None
    assert_problem(
        await client.get(first["url_1x"], headers=alice.headers), 404, "avatar-not-found"
    )
    third = await uploaded(client, alice, png(color=BLUE))
    assert third["url_1x"].endswith("?v=3")


# Who may


async def test_upload_and_removal_need_credentials(client: httpx.AsyncClient) -> None:
    assert_problem(
        await client.put(AVATAR, content=png(), headers={"Content-Type": "image/png"}), 401
    )
    assert_problem(await client.delete(AVATAR), 401)


async def test_images_need_a_signed_in_reader(
    client: httpx.AsyncClient, alice: Account, bob: Account
) -> None:
    avatar = await uploaded(client, alice, png())

    assert_problem(await client.get(avatar["url_1x"]), 401)
    assert (await client.get(avatar["url_1x"], headers=bob.headers)).status_code == 200


async def test_api_keys_cannot_change_the_avatar(client: httpx.AsyncClient, alice: Account) -> None:
    created = await client.post(
        "/api/v1/api-keys",
        json={"name": "script", "scopes": ["account:read"]},
        headers=alice.headers,
    )
    key = {"X-API-Key": created.json()["key"]}

    response = await client.put(AVATAR, content=png(), headers={**key, "Content-Type": "image/png"})

    assert_problem(response, 403, "session-required")


async def test_an_unknown_users_avatar_is_not_found(
    client: httpx.AsyncClient, alice: Account
) -> None:
    response = await client.get(
        "/api/v1/avatars/0f8b6a7e-1c2d-4e5f-8a9b-0c1d2e3f4a5b/96.webp?v=1", headers=alice.headers
    )

    assert_problem(response, 404, "avatar-not-found")


@pytest.fixture
async def browser(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    """An HTTPS client with a cookie jar, like the web app on its own origin."""
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="https://testserver") as c:
        email = "web@example.com"
        r = await c.post(
            "/api/v1/auth/register", json={"email": email, "password": STRONG_PASSWORD}
        )
        assert r.status_code == 201, r.text
        yield c


async def test_the_web_app_uploads_with_its_cookie_and_csrf_token(
    browser: httpx.AsyncClient,
) -> None:
    same = {"Sec-Fetch-Site": "same-origin"}
    login = await browser.post(
        "/api/v1/auth/cookie/login",
        json={"email": "web@example.com", "password": STRONG_PASSWORD},
        headers=same,
    )
    csrf = login.json()["csrf_token"]
    image = {**same, "Content-Type": "image/png"}

    without = await browser.put(AVATAR, content=png(), headers=image)
    with_token = await browser.put(AVATAR, content=png(), headers={**image, "X-CSRF-Token": csrf})

    assert_problem(without, 403, "csrf-failed")
    assert with_token.status_code == 200, with_token.text
    url = with_token.json()["avatar"]["url_1x"]
    assert (await browser.get(url)).headers["content-type"] == "image/webp"
    assert (await browser.delete(AVATAR, headers={**same, "X-CSRF-Token": csrf})).status_code == 204


# The audit log


async def test_upload_and_removal_are_audited(client: httpx.AsyncClient, alice: Account) -> None:
    await uploaded(client, alice, jpeg_with_exif(solid((640, 480))), "image/jpeg")
    await client.delete(AVATAR, headers=alice.headers)

    response = await client.get("/api/v1/audit", params={"limit": 50}, headers=alice.headers)
    events = {e["event"]: e for e in response.json()["items"]}

    updated = events["avatar.updated"]
    assert updated["details"]["version"] == 1
    assert updated["details"]["format"] == "jpeg"
    assert (updated["details"]["width"], updated["details"]["height"]) == (640, 480)
    assert events["avatar.removed"]["details"] == {"version": 2}
