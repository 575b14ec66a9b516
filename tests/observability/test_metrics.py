"""/metrics: who may read it, what it exposes, and that the numbers move with the traffic.

Metrics are process-wide and shared by every test in the run, so each test reads a sample
before and after what it does and asserts on the difference.
"""

from __future__ import annotations

import asyncio
import itertools
import uuid

from fastapi import FastAPI
from prometheus_client.parser import text_string_to_metric_families

from taskwell import __version__
from tests.conftest import assert_problem
from tests.observability.conftest import (
    LOGIN,
    LOGOUT,
    REFRESH,
    TASKS,
    ObserveApp,
    metric,
    sign_up,
)

TASK_ROUTE = "/api/v1/tasks/{task_id}"
EXPOSED = (
    "taskwell_http_request_duration_seconds",
    "taskwell_http_requests_in_flight",
    "taskwell_http_errors",
    "taskwell_db_query_duration_seconds",
    "taskwell_db_pool_connections_in_use",
    "taskwell_cache_requests",
    "taskwell_rate_limit_rejections",
    "taskwell_auth_events",
    "taskwell_process_cpu_seconds",
    "taskwell_process_resident_memory_bytes",
    "taskwell_process_open_fds",
    "taskwell_build_info",
)


def _families(text: str) -> dict[str, list[tuple[str, dict[str, str], float]]]:
    return {
        family.name: [(s.name, s.labels, s.value) for s in family.samples]
        for family in text_string_to_metric_families(text)
    }


def _raise_on_boom(app: FastAPI) -> None:
    @app.get("/boom")
    async def boom() -> None:
        raise RuntimeError("forced failure")


# Who may scrape


async def test_loopback_may_scrape_by_default(observe: ObserveApp) -> None:
    async with observe() as observed:
        response = await observed.client.get("/metrics")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain")
    families = _families(response.text)
    missing = [name for name in EXPOSED if name not in families]
    assert missing == []


async def test_addresses_outside_the_allowed_networks_are_refused(observe: ObserveApp) -> None:
    async with observe(metrics_allowed_networks="10.0.0.0/8") as observed:
        response = await observed.client.get("/metrics")
    assert_problem(response, 403, "forbidden")
    assert "taskwell_" not in response.text


async def test_the_metrics_token_opens_metrics_from_anywhere(observe: ObserveApp) -> None:
    token = "metrics-" + uuid.uuid4().hex
    async with observe(metrics_allowed_networks="10.0.0.0/8", metrics_token=token) as observed:
        allowed = await observed.client.get(
            "/metrics", headers={"Authorization": f"Bearer {token}"}
        )
        wrong = await observed.client.get("/metrics", headers={"Authorization": f"Bearer {token}x"})
        basic = await observed.client.get("/metrics", headers={"Authorization": f"Basic {token}"})
        without = await observed.client.get("/metrics")
    assert allowed.status_code == 200
    assert "taskwell_build_info" in allowed.text
    for refused in (wrong, basic, without):
        assert_problem(refused, 403, "forbidden")


async def test_a_client_behind_a_trusted_proxy_is_judged_by_its_own_address(
    observe: ObserveApp,
) -> None:
    """Through a reverse proxy on loopback, a public client must not count as loopback."""
    async with observe(trusted_proxies="127.0.0.1") as observed:
        public = await observed.client.get("/metrics", headers={"X-Forwarded-For": "203.0.113.9"})
        internal = await observed.client.get("/metrics", headers={"X-Forwarded-For": "127.0.0.1"})
    assert_problem(public, 403, "forbidden")
    assert internal.status_code == 200


# HTTP metrics


async def test_request_durations_are_counted_by_method_route_template_and_status(
    observe: ObserveApp,
) -> None:
    labels = {"method": "GET", "route": TASK_ROUTE, "status": "200"}
    async with observe() as observed:
        alice = await sign_up(observed.client, "alice@example.com")
        created = await observed.client.post(TASKS, json={"title": "Count"}, headers=alice.headers)
        task_path = f"{TASKS}/{created.json()['id']}"
        before = metric("taskwell_http_request_duration_seconds_count", **labels)
        sum_before = metric("taskwell_http_request_duration_seconds_sum", **labels)
        for _ in range(3):
            assert (await observed.client.get(task_path, headers=alice.headers)).status_code == 200
        scraped = (await observed.client.get("/metrics")).text

    assert metric("taskwell_http_request_duration_seconds_count", **labels) == before + 3
    assert metric("taskwell_http_request_duration_seconds_sum", **labels) > sum_before
    samples = _families(scraped)["taskwell_http_request_duration_seconds"]
    routes = {labels["route"] for _, labels, _ in samples}
    assert TASK_ROUTE in routes
    assert not any(created.json()["id"] in route for route in routes)


async def test_latency_buckets_resolve_p50_p95_and_p99(observe: ObserveApp) -> None:
    """Buckets from a few milliseconds to seconds, close enough together for quantiles."""
    async with observe() as observed:
        await observed.client.get("/healthz")
        scraped = (await observed.client.get("/metrics")).text
    samples = _families(scraped)["taskwell_http_request_duration_seconds"]
    bounds = sorted(
        {
            float(labels["le"])
            for name, labels, _ in samples
            if name.endswith("_bucket") and labels["route"] == "/healthz"
        }
    )
    finite = [b for b in bounds if b != float("inf")]
    assert bounds[-1] == float("inf")
    assert len(finite) >= 10
    assert finite[0] <= 0.01
    assert finite[-1] >= 5.0
    # Neighbouring bounds at most ~3x apart: interpolated quantiles stay meaningful.
    assert all(high / low <= 3.0 for low, high in itertools.pairwise(finite))


async def test_requests_in_flight_are_counted_while_they_run(observe: ObserveApp) -> None:
    entered, release = asyncio.Event(), asyncio.Event()

    def prepare(app: FastAPI) -> None:
        @app.get("/slow")
        async def slow() -> dict[str, str]:
            entered.set()
            await release.wait()
            return {}

    async with observe(prepare=prepare) as observed:
        before = metric("taskwell_http_requests_in_flight")
        pending = asyncio.create_task(observed.client.get("/slow"))
        await asyncio.wait_for(entered.wait(), timeout=10)
        during = metric("taskwell_http_requests_in_flight")
        release.set()
        assert (await asyncio.wait_for(pending, timeout=10)).status_code == 200
        after = metric("taskwell_http_requests_in_flight")
    assert during == before + 1
    assert after == before


async def test_errors_are_counted_by_route_status_and_problem_type(observe: ObserveApp) -> None:
    missing = {"route": TASK_ROUTE, "status": "404", "problem_type": "task-not-found"}
    boom = {"route": "/boom", "status": "500", "problem_type": "internal-error"}
    async with observe(prepare=_raise_on_boom) as observed:
        alice = await sign_up(observed.client, "alice@example.com")
        before = metric("taskwell_http_errors_total", **missing)
        boom_before = metric("taskwell_http_errors_total", **boom)
        for _ in range(2):
            response = await observed.client.get(f"{TASKS}/{uuid.uuid4()}", headers=alice.headers)
            assert_problem(response, 404, "task-not-found")
        assert (await observed.client.get("/boom")).status_code == 500
    assert metric("taskwell_http_errors_total", **missing) == before + 2
    assert metric("taskwell_http_errors_total", **boom) == boom_before + 1


async def test_successes_are_not_errors(observe: ObserveApp) -> None:
    async with observe() as observed:
        before = _total_errors()
        assert (await observed.client.get("/healthz")).status_code == 200
    assert _total_errors() == before


def _total_errors() -> float:
    from prometheus_client import REGISTRY

    return sum(
        sample.value
        for family in REGISTRY.collect()
        if family.name == "taskwell_http_errors"
        for sample in family.samples
        if sample.name == "taskwell_http_errors_total"
    )


# Database, cache and rate limits


async def test_database_round_trips_are_timed(observe: ObserveApp) -> None:
    async with observe() as observed:
        alice = await sign_up(observed.client, "alice@example.com")
        before = {
            kind: metric("taskwell_db_query_duration_seconds_count", kind=kind)
            for kind in ("read", "transaction")
        }
        created = await observed.client.post(TASKS, json={"title": "Time"}, headers=alice.headers)
        assert created.status_code == 201
        fetched = await observed.client.get(
            f"{TASKS}/{created.json()['id']}", headers=alice.headers
        )
        assert fetched.status_code == 200
    after = {
        kind: metric("taskwell_db_query_duration_seconds_count", kind=kind)
        for kind in ("read", "transaction")
    }
    assert after["transaction"] > before["transaction"]
    assert after["read"] > before["read"]


async def test_pool_connections_in_use_are_counted_and_given_back(observe: ObserveApp) -> None:
    async with observe() as observed:
        before = metric("taskwell_db_pool_connections_in_use")
        async with observed.app.state.context.db.transaction():
            during = metric("taskwell_db_pool_connections_in_use")
        after = metric("taskwell_db_pool_connections_in_use")
        alice = await sign_up(observed.client, "alice@example.com")
        await observed.client.post(TASKS, json={"title": "Pool"}, headers=alice.headers)
        after_requests = metric("taskwell_db_pool_connections_in_use")
    assert during == before + 1
    assert after == before
    assert after_requests == before


async def test_cache_lookups_are_counted_as_hits_and_misses(observe: ObserveApp) -> None:
    async with observe(cache_enabled=True) as observed:
        alice = await sign_up(observed.client, "alice@example.com")
        created = await observed.client.post(TASKS, json={"title": "Cache"}, headers=alice.headers)
        task_path = f"{TASKS}/{created.json()['id']}"
        hits, misses = _cache("hit"), _cache("miss")
        await observed.client.get(task_path, headers=alice.headers)  # loads and stores
        first_hits, first_misses = _cache("hit"), _cache("miss")
        await observed.client.get(task_path, headers=alice.headers)  # served from the cache
    assert (first_hits, first_misses) == (hits, misses + 1)
    assert (_cache("hit"), _cache("miss")) == (hits + 1, misses + 1)


def _cache(result: str) -> float:
    return metric("taskwell_cache_requests_total", result=result)


async def test_rate_limit_rejections_are_counted_by_group(observe: ObserveApp) -> None:
    async with observe(rate_limit_login="2/minute") as observed:
        before = metric("taskwell_rate_limit_rejections_total", group="login")
        statuses = [
            (
                await observed.client.post(
                    LOGIN, json={"email": "nobody@example.com", "password": "wrong"}
                )
            ).status_code
            for _ in range(3)
        ]
    assert statuses == [401, 401, 429]
    assert metric("taskwell_rate_limit_rejections_total", group="login") == before + 1


# Authentication events


def _auth(event: str, reason: str = "") -> float:
    return metric("taskwell_auth_events_total", event=event, reason=reason)


async def test_logins_are_counted_by_outcome_and_failure_reason(observe: ObserveApp) -> None:
    async with observe() as observed:
        client = observed.client
        alice = await sign_up(client, "alice@example.com")
        success = _auth("login_success")
        bad_password = _auth("login_failure", "bad_password")
        unknown = _auth("login_failure", "unknown_account")

        wrong = await client.post(LOGIN, json={"email": alice.email, "password": "not it at all"})
        assert wrong.status_code == 401
        assert _auth("login_failure", "bad_password") == bad_password + 1
        stranger = await client.post(
            LOGIN, json={"email": "nobody@example.com", "password": "not it at all"}
        )
        assert stranger.status_code == 401
        assert _auth("login_failure", "unknown_account") == unknown + 1
        right = await client.post(LOGIN, json={"email": alice.email, "password": alice.password})
        assert right.status_code == 200
    assert _auth("login_success") == success + 1
    assert _auth("login_failure", "bad_password") == bad_password + 1


async def test_refresh_reuse_and_logout_are_counted(observe: ObserveApp) -> None:
    async with observe() as observed:
        client = observed.client
        alice = await sign_up(client, "alice@example.com")
        refreshed, reused = _auth("refresh", "rotated"), _auth("refresh_reuse", "reused")
        logouts = _auth("logout")

        first = await client.post(REFRESH, json={"refresh_token": alice.refresh_token})
        assert first.status_code == 200
        assert _auth("refresh", "rotated") == refreshed + 1
        again = await client.post(REFRESH, json={"refresh_token": alice.refresh_token})
        assert again.status_code == 401
        assert _auth("refresh_reuse", "reused") == reused + 1

        bob = await sign_up(client, "bob@example.com")
        assert (await client.post(LOGOUT, headers=bob.headers)).status_code == 204
    assert _auth("logout") == logouts + 1


# The process


async def test_process_and_build_metrics_are_exposed(observe: ObserveApp) -> None:
    async with observe() as observed:
        scraped = (await observed.client.get("/metrics")).text
    families = _families(scraped)
    [(_, build_labels, build_value)] = families["taskwell_build_info"]
    assert build_labels == {"version": __version__}
    assert build_value == 1
    for name in (
        "taskwell_process_cpu_seconds",
        "taskwell_process_resident_memory_bytes",
        "taskwell_process_open_fds",
    ):
        [(_, _, value)] = families[name]
        assert value > 0, name
