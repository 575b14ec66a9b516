"""Browser sessions: HttpOnly __Host- cookies, and CSRF defence on cookie-authenticated writes."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable

import httpx
import pytest
from fastapi import FastAPI

from taskwell.app import create_app
from taskwell.settings import Settings
from tests.conftest import STRONG_PASSWORD, assert_problem

LOGIN = "/api/v1/auth/cookie/login"
ORIGIN = "https://testserver"


@pytest.fixture
async def browser(settings: Settings) -> AsyncIterator[httpx.AsyncClient]:
    """An HTTPS client with a cookie jar, like a browser on the app's own origin."""
    app = create_app(settings)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
        async with httpx.AsyncClient(transport=transport, base_url=ORIGIN) as client:
            await _empty(app)
            response = await client.post(
                "/api/v1/auth/register",
                json={"email": "web@example.com", "password": STRONG_PASSWORD},
            )
            assert response.status_code == 201
            yield client


async def _empty(app: FastAPI) -> None:
    from taskwell.db.schema import metadata

    async with app.state.context.db.transaction() as conn:
        for table in reversed(metadata.sorted_tables):
            await conn.execute(table.delete())


async def _login(client: httpx.AsyncClient) -> tuple[httpx.Response, str]:
    response = await client.post(
        LOGIN,
        json={"email": "web@example.com", "password": STRONG_PASSWORD},
        headers={"Sec-Fetch-Site": "same-origin"},
    )
    assert response.status_code == 200, response.text
    token: str = response.json()["csrf_token"]
    return response, token


def _set_cookies(response: httpx.Response) -> dict[str, str]:
    return {h.split("=", 1)[0]: h for h in response.headers.get_list("set-cookie")}


async def test_login_sets_host_only_httponly_cookies_and_returns_no_tokens(
    browser: httpx.AsyncClient,
) -> None:
    response, csrf = await _login(browser)

    cookies = _set_cookies(response)
    assert set(cookies) == {"__Host-tw_access", "__Host-tw_refresh"}
    for header in cookies.values():
        lowered = header.lower()
        assert "httponly" in lowered
        assert "secure" in lowered
        assert "samesite=lax" in lowered
        assert "path=/" in lowered
        assert "domain=" not in lowered
    body = response.json()
    assert set(body) == {"csrf_token", "expires_in"}
    assert len(csrf) >= 40
    assert response.headers["cache-control"] == "no-store"


async def test_cookie_session_reads_without_a_csrf_token(browser: httpx.AsyncClient) -> None:
    await _login(browser)
    assert (await browser.get("/api/v1/users/me")).status_code == 200


async def test_cookie_writes_need_the_sessions_csrf_token(browser: httpx.AsyncClient) -> None:
    _, csrf = await _login(browser)
    same = {"Sec-Fetch-Site": "same-origin"}

    missing = await browser.post("/api/v1/tasks", json={"title": "x"}, headers=same)
    wrong = await browser.post(
        "/api/v1/tasks", json={"title": "x"}, headers={**same, "X-CSRF-Token": "A" * 43}
    )
    right = await browser.post(
        "/api/v1/tasks", json={"title": "x"}, headers={**same, "X-CSRF-Token": csrf}
    )

    assert_problem(missing, 403, "csrf-failed")
    assert_problem(wrong, 403, "csrf-failed")
    assert right.status_code == 201
    assert len((await browser.get("/api/v1/tasks")).json()["items"]) == 1


@pytest.mark.parametrize(
    "headers",
    [
        {"Sec-Fetch-Site": "cross-site"},
        {"Sec-Fetch-Site": "same-site"},
        {"Origin": "https://evil.example"},
    ],
)
async def test_cross_site_writes_are_refused_even_with_the_token(
    browser: httpx.AsyncClient, headers: dict[str, str]
) -> None:
    _, csrf = await _login(browser)
    response = await browser.post(
        "/api/v1/tasks", json={"title": "x"}, headers={**headers, "X-CSRF-Token": csrf}
    )
    assert_problem(response, 403, "csrf-failed")


async def test_same_origin_header_is_accepted(browser: httpx.AsyncClient) -> None:
    _, csrf = await _login(browser)
    response = await browser.post(
        "/api/v1/tasks", json={"title": "x"}, headers={"Origin": ORIGIN, "X-CSRF-Token": csrf}
    )
    assert response.status_code == 201


async def test_the_token_of_another_session_does_not_work(browser: httpx.AsyncClient) -> None:
    _, first = await _login(browser)
    _, second = await _login(browser)
    assert first != second
    response = await browser.post(
        "/api/v1/tasks", json={"title": "x"}, headers={"X-CSRF-Token": first}
    )
    assert_problem(response, 403, "csrf-failed")


async def test_bearer_requests_need_no_csrf_token(browser: httpx.AsyncClient) -> None:
    login = await browser.post(
        "/api/v1/auth/login", json={"email": "web@example.com", "password": STRONG_PASSWORD}
    )
    token = login.json()["access_token"]
    fresh = httpx.AsyncClient(transport=browser._transport, base_url=ORIGIN)
    async with fresh:
        response = await fresh.post(
            "/api/v1/tasks",
            json={"title": "x"},
            headers={"Authorization": f"Bearer {token}", "Sec-Fetch-Site": "cross-site"},
        )
    assert response.status_code == 201


async def test_cookie_refresh_rotates_and_reuse_ends_the_session(
    browser: httpx.AsyncClient,
) -> None:
    await _login(browser)
    old_refresh = browser.cookies.get("__Host-tw_refresh")

    refreshed = await browser.post(
        "/api/v1/auth/cookie/refresh", headers={"Sec-Fetch-Site": "same-origin"}
    )
    assert refreshed.status_code == 200
    assert browser.cookies.get("__Host-tw_refresh") != old_refresh
    assert (await browser.get("/api/v1/users/me")).status_code == 200

    # A copy of the spent cookie comes back (a stolen cookie, replayed).
    browser.cookies.clear()
    reused = await browser.post(
        "/api/v1/auth/cookie/refresh",
        headers={"Sec-Fetch-Site": "same-origin", "Cookie": f"__Host-tw_refresh={old_refresh}"},
    )
    assert_problem(reused, 401, "invalid-refresh-token")


async def test_cross_site_refresh_is_refused(browser: httpx.AsyncClient) -> None:
    await _login(browser)
    response = await browser.post(
        "/api/v1/auth/cookie/refresh", headers={"Sec-Fetch-Site": "cross-site"}
    )
    assert_problem(response, 403, "csrf-failed")


async def test_csrf_token_can_be_fetched_again_after_a_reload(
    browser: httpx.AsyncClient,
) -> None:
    _, csrf = await _login(browser)
    again = await browser.get("/api/v1/auth/cookie/csrf")
    assert again.json()["csrf_token"] == csrf


async def test_the_session_probe_answers_200_signed_in_or_not(browser: httpx.AsyncClient) -> None:
    probe = "/api/v1/auth/cookie/session"
    signed_out = await browser.get(probe)
    assert signed_out.status_code == 200
    assert signed_out.headers["cache-control"] == "no-store"
    assert signed_out.json() == {
        "signed_in": False,
        "refreshable": False,
        "csrf_token": None,
        "expires_in": None,
    }

    _, csrf = await _login(browser)
    signed_in = (await browser.get(probe)).json()
    assert signed_in["signed_in"] is True
    assert signed_in["csrf_token"] == csrf

    # The access cookie gone (expired), the refresh cookie still there: worth a refresh.
    refresh = browser.cookies.get("__Host-tw_refresh")
    browser.cookies.clear()
    expired = await browser.get(probe, headers={"Cookie": f"__Host-tw_refresh={refresh}"})
    assert expired.json()["signed_in"] is False
    assert expired.json()["refreshable"] is True

    # A forged access cookie is simply "signed out", not an error.
    forged = await browser.get(probe, headers={"Cookie": "__Host-tw_access=not.a.token"})
    assert forged.status_code == 200
    assert forged.json()["signed_in"] is False


async def test_cookie_logout_clears_the_cookies_and_ends_the_session(
    browser: httpx.AsyncClient,
) -> None:
    _, csrf = await _login(browser)
    access = browser.cookies.get("__Host-tw_access")

    response = await browser.post(
        "/api/v1/auth/cookie/logout",
        headers={"X-CSRF-Token": csrf, "Sec-Fetch-Site": "same-origin"},
    )

    assert response.status_code == 204
    cleared = _set_cookies(response)
    assert all("max-age=0" in h.lower() for h in cleared.values())
    browser.cookies.clear()
    replayed = await browser.get(
        "/api/v1/users/me", headers={"Cookie": f"__Host-tw_access={access}"}
    )
    assert_problem(replayed, 401)


async def test_insecure_development_cookies_drop_the_host_prefix(
    settings_factory: Callable[..., Settings],
) -> None:
    app = create_app(settings_factory(cookie_secure=False))
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
            await _empty(app)
            await client.post(
                "/api/v1/auth/register",
                json={"email": "dev@example.com", "password": STRONG_PASSWORD},
            )
            response = await client.post(
                LOGIN, json={"email": "dev@example.com", "password": STRONG_PASSWORD}
            )
    names = set(_set_cookies(response))
    assert names == {"tw_access", "tw_refresh"}


async def test_behind_a_trusted_tls_proxy_the_public_origin_is_accepted(
    settings_factory: Callable[..., Settings],
) -> None:
    """nginx terminates TLS and forwards over http: the browser's Origin is the public one."""
    app = create_app(settings_factory(trusted_proxies="127.0.0.1"))
    forwarded = {"X-Forwarded-Proto": "https", "X-Forwarded-Host": "tasks.example.com"}
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="https://testserver") as client:
            await _empty(app)
            await client.post(
                "/api/v1/auth/register",
                json={"email": "proxy@example.com", "password": STRONG_PASSWORD},
            )
            public = {**forwarded, "Origin": "https://tasks.example.com"}
            login = await client.post(
                LOGIN,
                json={"email": "proxy@example.com", "password": STRONG_PASSWORD},
                headers=public,
            )
            foreign = await client.post(
                LOGIN,
                json={"email": "proxy@example.com", "password": STRONG_PASSWORD},
                headers={**forwarded, "Origin": "https://evil.example"},
            )
    assert login.status_code == 200
    assert_problem(foreign, 403, "csrf-failed")
