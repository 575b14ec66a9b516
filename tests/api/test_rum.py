"""Real-user monitoring: browsers report vitals and errors without a session; the reports are
checked strictly, rate-limited per address, and become bounded metrics, log lines and Sentry
events.

Metrics are process-wide, so each test compares a sample before and after what it does.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import httpx
import orjson
import pytest
import sentry_sdk
from fastapi import FastAPI
from prometheus_client import REGISTRY
from prometheus_client.parser import text_string_to_metric_families

from taskwell.app import create_app
from taskwell.settings import Settings
from tests.conftest import assert_problem
from tests.observability.conftest import ObserveApp, observe  # noqa: F401  (a fixture)
from tests.observability.test_sentry import (  # noqa: F401  (fixtures)
    FakeSentry,
    fake_sentry,
    sentry_reset,
)

VITALS = "/api/v1/rum/vitals"
ERRORS = "/api/v1/rum/errors"
DASHBOARD = Path(__file__).resolve().parents[2] / "deploy" / "grafana" / "taskwell-dashboard.json"
JWT = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.c2lnbmF0dXJlLXZhbHVl"


def sample(metric: str, /, **labels: str) -> float:
    return REGISTRY.get_sample_value(metric, labels) or 0.0


def vital(**overrides: Any) -> dict[str, Any]:
    return {"name": "LCP", "value": 1234.5, "rating": "good", "route": "/tasks", **overrides}


def error_report(**overrides: Any) -> dict[str, Any]:
    return {
        "message": "TypeError: x is undefined",
        "source": "/assets/index-3f2a1b9c.js",
        "line": 12,
        "column": 34,
        "stack": "TypeError: x is undefined\n    at render (/assets/index-3f2a1b9c.js:12:34)",
        "route": "/tasks/:id",
        **overrides,
    }


async def post_json(
    client: httpx.AsyncClient, path: str, body: Any, content_type: str = "application/json"
) -> httpx.Response:
    return await client.post(
        path, content=orjson.dumps(body), headers={"Content-Type": content_type}
    )


# Vitals


async def test_vitals_become_histogram_observations(client: httpx.AsyncClient) -> None:
    lcp = {"name": "LCP", "route": "/tasks"}
    cls = {"name": "CLS", "route": "/settings"}
    lcp_before = sample("taskwell_web_vital_count", **lcp)
    lcp_bucket = sample("taskwell_web_vital_bucket", **lcp, le="1800.0")
    cls_bucket = sample("taskwell_web_vital_bucket", **cls, le="0.05")
    cls_sum = sample("taskwell_web_vital_sum", **cls)

    response = await post_json(
        client,
        VITALS,
        {
            "metrics": [
                vital(),
                vital(name="CLS", value=0.042, rating="good", route="/settings"),
            ]
        },
    )

    assert response.status_code == 204
    assert response.content == b""
    assert sample("taskwell_web_vital_count", **lcp) == lcp_before + 1
    assert sample("taskwell_web_vital_bucket", **lcp, le="1800.0") == lcp_bucket + 1
    assert sample("taskwell_web_vital_bucket", **cls, le="0.05") == cls_bucket + 1
    assert sample("taskwell_web_vital_sum", **cls) == pytest.approx(cls_sum + 0.042)


@pytest.mark.parametrize(
    "content_type", ["text/plain;charset=UTF-8", "application/json; charset=utf-8"]
)
async def test_beacons_may_send_json_as_text(client: httpx.AsyncClient, content_type: str) -> None:
    before = sample("taskwell_web_vital_count", name="TTFB", route="/login")

    response = await post_json(
        client, VITALS, {"metrics": [vital(name="TTFB", value=80, route="/login")]}, content_type
    )

    assert response.status_code == 204
    assert sample("taskwell_web_vital_count", name="TTFB", route="/login") == before + 1


@pytest.mark.parametrize(
    ("route", "label"),
    [
        ("/tasks/:id", "/tasks/:id"),
        ("/tasks/0f8b6a7e-1c2d-4e5f-8a9b-0c1d2e3f4a5b", "/tasks/:id"),
        ("/settings/", "/settings"),
        ("/login?next=/tasks", "/login"),
        ("/", "other"),
        ("/other", "other"),
        ("/admin/../../etc/passwd", "other"),
        ("https://evil.example/x", "other"),
        ("", "other"),
    ],
)
async def test_route_labels_are_the_apps_templates_or_other(
    client: httpx.AsyncClient, route: str, label: str
) -> None:
    before = sample("taskwell_web_vital_count", name="INP", route=label)

    response = await post_json(
        client, VITALS, {"metrics": [vital(name="INP", value=120, route=route)]}
    )

    assert response.status_code == 204
    assert sample("taskwell_web_vital_count", name="INP", route=label) == before + 1
    if route != label:  # the raw value never becomes a label
        assert not REGISTRY.get_sample_value(
            "taskwell_web_vital_count", {"name": "INP", "route": route}
        )


@pytest.mark.parametrize(
    "body",
    [
        pytest.param({"metrics": []}, id="no-metrics"),
        pytest.param({"metrics": [vital()] * 21}, id="21-metrics"),
        pytest.param({}, id="missing-metrics"),
        pytest.param([vital()], id="not-an-object"),
        pytest.param({"metrics": [vital(name="FID")]}, id="unknown-vital"),
        pytest.param({"metrics": [vital(value=-1)]}, id="negative"),
        pytest.param({"metrics": [vital(value=600_001)]}, id="too-large"),
        pytest.param({"metrics": [vital(name="CLS", value=101)]}, id="cls-too-large"),
        pytest.param({"metrics": [vital(value="12")]}, id="value-as-text"),
        pytest.param({"metrics": [vital(value=True)]}, id="value-as-bool"),
        pytest.param({"metrics": [vital(rating="great")]}, id="unknown-rating"),
        pytest.param({"metrics": [vital(route="/" + "x" * 200)]}, id="long-route"),
        pytest.param({"metrics": [vital(route="/tasks\x00")]}, id="nul-in-route"),
        pytest.param({"metrics": [{**vital(), "id": "v4-123"}]}, id="extra-field"),
        pytest.param({"metrics": [vital()], "user": "x"}, id="extra-top-level"),
    ],
)
async def test_invalid_vitals_are_refused_with_422(client: httpx.AsyncClient, body: Any) -> None:
    response = await post_json(client, VITALS, body)

    problem = assert_problem(response, 422, "validation-error")
    assert problem["errors"]
    assert all(error["in"] == "body" for error in problem["errors"])


async def test_an_infinite_value_is_refused(client: httpx.AsyncClient) -> None:
    body = b'{"metrics":[{"name":"LCP","value":1e999,"rating":"good","route":"/tasks"}]}'

    response = await client.post(VITALS, content=body, headers={"Content-Type": "text/plain"})

    assert_problem(response, 422, "validation-error")


@pytest.mark.parametrize(
    "body", [b"{not json", b"", b'{"metrics": [', "\ud800".encode("utf-8", "surrogatepass")]
)
async def test_malformed_json_is_400(client: httpx.AsyncClient, body: bytes) -> None:
    response = await client.post(VITALS, content=body, headers={"Content-Type": "text/plain"})

    assert_problem(response, 400, "malformed-body")


@pytest.mark.parametrize(
    "content_type",
    ["application/x-www-form-urlencoded", "multipart/form-data; boundary=x", "image/png", ""],
)
async def test_other_content_types_are_refused(
    client: httpx.AsyncClient, content_type: str
) -> None:
    response = await client.post(
        VITALS, content=orjson.dumps({"metrics": [vital()]}), headers={"Content-Type": content_type}
    )

    assert_problem(response, 415, "unsupported-media-type")


async def test_reports_have_a_small_body_cap(client: httpx.AsyncClient) -> None:
    padded = orjson.dumps({"metrics": [vital()], "padding": "x" * 20_000})

    response = await client.post(VITALS, content=padded, headers={"Content-Type": "text/plain"})

    assert_problem(response, 413, "payload-too-large")


async def test_reports_need_no_session_and_no_csrf_token(client: httpx.AsyncClient) -> None:
    # What a beacon from a signed-in page looks like: cookies, no custom headers.
    response = await client.post(
        VITALS,
        content=orjson.dumps({"metrics": [vital()]}),
        headers={"Content-Type": "text/plain", "Cookie": "__Host-tw_access=stale-token"},
    )

    assert response.status_code == 204


# Errors


async def test_an_error_is_counted_logged_and_scrubbed(
    observe: ObserveApp,  # noqa: F811
) -> None:
    before = sample("taskwell_frontend_errors_total", route="/tasks/:id")
    report = error_report(
        message=f"Failed with Bearer {JWT}\nlevel=critical forged=line",
        stack=f"Error: token {JWT}\n    at x (/assets/a.js:1:2)",
    )

    async with observe() as observed:
        response = await post_json(observed.client, ERRORS, report)
        lines = [line for line in observed.lines() if line.get("event") == "frontend error"]

    assert response.status_code == 204
    assert sample("taskwell_frontend_errors_total", route="/tasks/:id") == before + 1
    assert len(lines) == 1
    line = lines[0]
    assert line["level"] == "warning"
    assert line["route"] == "/tasks/:id"
    assert line["frontend_source"] == "/assets/index-3f2a1b9c.js"
    assert (line["frontend_line"], line["frontend_column"]) == (12, 34)
    assert line["request_id"] == response.headers["x-request-id"]
    assert JWT not in observed.text
    assert "\n" not in line["frontend_message"]
    assert "\\x0alevel=critical" in line["frontend_message"]
    assert "at x (/assets/a.js:1:2)" in line["frontend_stack"]


CHROMIUM_STACK = (
    "TypeError: Cannot read properties of undefined (reading 'title')\n"
    "    at TaskItem (https://app.example/assets/TasksPage-Ab12.js:3:1456)\n"
    "    at renderWithHooks (https://app.example/assets/index-9f8e.js:8:20412)\n"
    "    at https://app.example/assets/index-9f8e.js?v=2:9:77"
)


@pytest.mark.usefixtures("sentry_reset")
async def test_an_error_reaches_sentry_with_the_browsers_stack_frames(
    observe: ObserveApp,  # noqa: F811
    fake_sentry: FakeSentry,  # noqa: F811
) -> None:
    report = error_report(
        message=f"TypeError: Cannot read properties of undefined (reading 'title') {JWT}",
        stack=CHROMIUM_STACK,
        route="/tasks/0b7d1c2e-1111-2222-3333-444455556666",
    )

    async with observe(sentry_dsn=fake_sentry.dsn) as observed:
        response = await post_json(observed.client, ERRORS, report)
        assert response.status_code == 204
        assert sentry_sdk.flush(timeout=10) is not False

    events = [e for e in fake_sentry.events() if e.get("exception")]
    assert len(events) == 1, fake_sentry.raw_text()[:2000]
    event = events[0]
    [exception] = event["exception"]["values"]
    assert exception["type"] == "TypeError"
    assert exception["value"].startswith("Cannot read properties of undefined")
    frames = [
        (f["filename"], f["function"], f["lineno"], f["colno"])
        for f in exception["stacktrace"]["frames"]
    ]
    # Oldest call first, as Sentry orders them; the query string is not part of the file.
    assert frames == [
        ("/assets/index-9f8e.js", "?", 9, 77),
        ("/assets/index-9f8e.js", "renderWithHooks", 8, 20412),
        ("/assets/TasksPage-Ab12.js", "TaskItem", 3, 1456),
    ]
    assert exception["stacktrace"]["frames"][-1]["abs_path"] == (
        "https://app.example/assets/TasksPage-Ab12.js"
    )
    assert event["platform"] == "javascript"
    assert event["tags"]["route"] == "/tasks/:id"
    assert event["tags"]["request_id"] == response.headers["x-request-id"]
    assert JWT not in fake_sentry.raw_text()


@pytest.mark.usefixtures("sentry_reset")
async def test_a_report_without_a_stack_reaches_sentry_with_its_source_line(
    observe: ObserveApp,  # noqa: F811
    fake_sentry: FakeSentry,  # noqa: F811
) -> None:
    async with observe(sentry_dsn=fake_sentry.dsn) as observed:
        response = await post_json(observed.client, ERRORS, error_report(stack=""))
        assert response.status_code == 204
        sentry_sdk.flush(timeout=10)

    [event] = [e for e in fake_sentry.events() if e.get("exception")]
    [frame] = event["exception"]["values"][0]["stacktrace"]["frames"]
    assert (frame["filename"], frame["lineno"], frame["colno"]) == (
        "/assets/index-3f2a1b9c.js",
        12,
        34,
    )


async def test_an_error_from_an_unknown_route_counts_as_other(client: httpx.AsyncClient) -> None:
    before = sample("taskwell_frontend_errors_total", route="other")

    response = await post_json(client, ERRORS, error_report(route="/wp-admin/setup.php"))

    assert response.status_code == 204
    assert sample("taskwell_frontend_errors_total", route="other") == before + 1


async def test_only_message_and_route_are_required(client: httpx.AsyncClient) -> None:
    response = await post_json(client, ERRORS, {"message": "boom", "route": "/tasks"})

    assert response.status_code == 204


@pytest.mark.parametrize(
    "overrides",
    [
        pytest.param({"message": "x" * 1_001}, id="long-message"),
        pytest.param({"message": ""}, id="empty-message"),
        pytest.param({"source": "x" * 501}, id="long-source"),
        pytest.param({"stack": "x" * 8_001}, id="long-stack"),
        pytest.param({"route": "x" * 201}, id="long-route"),
        pytest.param({"line": -1}, id="negative-line"),
        pytest.param({"column": 1.5}, id="fractional-column"),
        pytest.param({"line": "12"}, id="line-as-text"),
        pytest.param({"message": "a\x00b"}, id="nul"),
        pytest.param({"cookies": "x"}, id="extra-field"),
    ],
)
async def test_invalid_error_reports_are_refused_with_422(
    client: httpx.AsyncClient, overrides: dict[str, Any]
) -> None:
    before = sample("taskwell_frontend_errors_total", route="/tasks/:id")

    response = await post_json(client, ERRORS, error_report(**overrides))

    assert_problem(response, 422, "validation-error")
    assert sample("taskwell_frontend_errors_total", route="/tasks/:id") == before


async def test_a_missing_message_is_refused(client: httpx.AsyncClient) -> None:
    report = error_report()
    del report["message"]

    assert_problem(await post_json(client, ERRORS, report), 422, "validation-error")


async def test_the_largest_valid_report_fits_the_body_cap(client: httpx.AsyncClient) -> None:
    # Every character escaped by JSON.stringify (\u0001 is six bytes).
    report = error_report(message="\x01" * 1_000, source="\x01" * 500, stack="\x01" * 8_000)

    response = await post_json(client, ERRORS, report, "text/plain")

    assert response.status_code == 204


# Limits


@pytest.fixture
async def limited(settings_factory: Callable[..., Settings]) -> AsyncIterator[FastAPI]:
    app = create_app(settings_factory(rate_limit_rum="3/minute"))
    async with app.router.lifespan_context(app):
        yield app


async def test_reports_have_their_own_rate_limit_per_address(limited: FastAPI) -> None:
    transport = httpx.ASGITransport(app=limited, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
        answers = [
            await post_json(
                client,
                VITALS if n % 2 else ERRORS,
                {"metrics": [vital()]} if n % 2 else error_report(),
            )
            for n in range(4)
        ]
        other = await client.get("/api/v1/openapi.json")

    assert [a.status_code for a in answers[:3]] == [204, 204, 204]
    problem = assert_problem(answers[3], 429, "rate-limited")
    assert "rum" in problem["detail"]
    assert int(answers[3].headers["retry-after"]) > 0
    assert answers[0].headers["ratelimit-limit"] == "3"
    assert other.status_code == 200


# Exposition


async def test_the_metrics_are_exposed_at_metrics(client: httpx.AsyncClient) -> None:
    await post_json(client, VITALS, {"metrics": [vital(name="FCP", value=900, route="/register")]})
    await post_json(client, ERRORS, error_report(route="/register"))

    response = await client.get("/metrics")

    assert response.status_code == 200
    families = {f.name: f for f in text_string_to_metric_families(response.text)}
    assert families["taskwell_web_vital"].type == "histogram"
    assert families["taskwell_frontend_errors"].type == "counter"
    buckets = {
        float(s.labels["le"])
        for s in families["taskwell_web_vital"].samples
        if s.name.endswith("_bucket") and s.labels["name"] == "FCP"
    }
    assert {0.1, 0.25, 1800.0, 3000.0} <= buckets
    assert any(
        s.labels.get("route") == "/register" for s in families["taskwell_frontend_errors"].samples
    )


# The dashboard


def test_the_dashboard_shows_each_vitals_percentiles_by_route_and_the_error_rate() -> None:
    dashboard = json.loads(DASHBOARD.read_text())
    exprs = [t["expr"] for p in dashboard["panels"] for t in p["targets"]]
    for name in ("LCP", "INP", "CLS", "FCP", "TTFB"):
        quantiles = [e for e in exprs if f'name="{name}"' in e and "taskwell_web_vital_bucket" in e]
        assert any("histogram_quantile(0.75" in e and "by (route, le)" in e for e in quantiles)
    assert any("taskwell_frontend_errors_total" in e and "by (route)" in e for e in exprs)
