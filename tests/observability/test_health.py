"""/healthz says the process answers; /readyz says whether it can serve traffic, and why not."""

from __future__ import annotations

from tests.conftest import assert_problem
from tests.observability.conftest import ObserveApp

CLOSED_REDIS = "redis://127.0.0.1:1/0"  # nothing listens on port 1


async def test_healthz_answers(observe: ObserveApp) -> None:
    async with observe() as observed:
        response = await observed.client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


async def test_readyz_reports_each_check(observe: ObserveApp) -> None:
    async with observe() as observed:
        response = await observed.client.get("/readyz")
        uses_redis = observed.app.state.context.redis is not None
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["status"] == "ready"
    expected = {"database": "ok", "migrations": "ok"} | ({"redis": "ok"} if uses_redis else {})
    assert body["checks"] == expected


async def test_unreachable_redis_makes_readyz_fail_but_not_healthz(observe: ObserveApp) -> None:
    """The app starts with Redis down (it may come back); it is alive but not ready."""
    async with observe(redis_url=CLOSED_REDIS) as observed:
        ready = await observed.client.get("/readyz")
        alive = await observed.client.get("/healthz")
    body = assert_problem(ready, 503, "not-ready")
    assert "redis" in body["detail"]
    assert body["checks"]["redis"] == "unreachable"
    assert body["checks"]["database"] == "ok"
    assert ready.headers["retry-after"]
    assert alive.status_code == 200
    assert alive.json() == {"status": "ok"}


async def test_health_endpoints_need_no_credentials(observe: ObserveApp) -> None:
    async with observe() as observed:
        for path in ("/healthz", "/readyz"):
            response = await observed.client.get(path, headers={"Authorization": "Bearer nope"})
            assert response.status_code == 200, (path, response.text)
