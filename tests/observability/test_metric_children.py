"""The HTTP metrics' cheap paths: children resolved once per label set, and an in-flight count
that stays right in one process and across worker processes."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI
from prometheus_client import CollectorRegistry, Counter, Gauge

from taskwell.observability.metrics import HTTP_DURATION, HTTP_ERRORS, Children, InFlight
from taskwell.tasks.service import TaskNotFound
from tests.observability.conftest import ObserveApp, metric


class CountedLabels:
    """Stands in for a metric's .labels(), counting the calls."""

    def __init__(self, labels: Any) -> None:
        self.labels = labels
        self.calls = 0

    def __call__(self, *values: str) -> Any:
        self.calls += 1
        return self.labels(*values)


def _add_probe_routes(app: FastAPI) -> None:
    @app.get("/children-probe")
    async def probe() -> dict[str, str]:
        return {}

    @app.get("/children-probe-missing")
    async def missing() -> None:
        raise TaskNotFound


async def test_a_routes_duration_child_is_resolved_once(
    observe: ObserveApp, monkeypatch: pytest.MonkeyPatch
) -> None:
    labels = {"method": "GET", "route": "/children-probe", "status": "200"}
    counted = CountedLabels(HTTP_DURATION.labels)
    monkeypatch.setattr(HTTP_DURATION, "labels", counted)
    async with observe(prepare=_add_probe_routes) as observed:
        before = metric("taskwell_http_request_duration_seconds_count", **labels)
        for _ in range(3):
            assert (await observed.client.get("/children-probe")).status_code == 200
    assert metric("taskwell_http_request_duration_seconds_count", **labels) == before + 3
    assert counted.calls <= 1  # none if an earlier test in this process made it already


async def test_an_errors_child_is_resolved_once(
    observe: ObserveApp, monkeypatch: pytest.MonkeyPatch
) -> None:
    labels = {"route": "/children-probe-missing", "status": "404", "problem_type": "task-not-found"}
    counted = CountedLabels(HTTP_ERRORS.labels)
    monkeypatch.setattr(HTTP_ERRORS, "labels", counted)
    async with observe(prepare=_add_probe_routes) as observed:
        before = metric("taskwell_http_errors_total", **labels)
        for _ in range(3):
            assert (await observed.client.get("/children-probe-missing")).status_code == 404
    assert metric("taskwell_http_errors_total", **labels) == before + 3
    assert counted.calls <= 1


def test_children_are_the_metrics_own() -> None:
    registry = CollectorRegistry()
    counter = Counter("probe_total", "A probe.", ["kind"], registry=registry)
    children = Children(counter)
    children("a").inc()
    children("a").inc()
    assert children("a") is counter.labels("a")
    assert registry.get_sample_value("probe_total", {"kind": "a"}) == 2


def test_past_the_cap_children_are_resolved_each_time_and_still_counted() -> None:
    registry = CollectorRegistry()
    counter = Counter("capped_total", "A probe.", ["kind"], registry=registry)
    children = Children(counter, limit=2)
    for kind in ("a", "b", "c", "c"):
        children(kind).inc()
    assert len(children._children) == 2
    assert registry.get_sample_value("capped_total", {"kind": "c"}) == 2


# In flight


def test_in_flight_counts_what_entered_and_has_not_left() -> None:
    registry = CollectorRegistry()
    in_flight = InFlight(Gauge("probe_in_flight", "A probe.", registry=registry))
    in_flight.enter()
    in_flight.enter()
    assert registry.get_sample_value("probe_in_flight") == 2
    in_flight.leave()
    assert registry.get_sample_value("probe_in_flight") == 1


def test_a_leave_without_an_enter_does_not_go_below_zero() -> None:
    registry = CollectorRegistry()
    in_flight = InFlight(Gauge("probe_unpaired", "A probe.", registry=registry))
    in_flight.leave()
    assert registry.get_sample_value("probe_unpaired") == 0


def test_in_multiprocess_mode_requests_in_flight_reach_the_shared_files(tmp_path: Path) -> None:
    """Worker processes (taskwell serve --workers N) are scraped through files: each enter and
    leave must land there, not in a count only this process can see."""
    script = textwrap.dedent(
        """
        from prometheus_client import CollectorRegistry, multiprocess
        from taskwell.observability.metrics import HTTP_REQUESTS_IN_FLIGHT

        HTTP_REQUESTS_IN_FLIGHT.enter()
        HTTP_REQUESTS_IN_FLIGHT.enter()
        HTTP_REQUESTS_IN_FLIGHT.leave()
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)
        print(registry.get_sample_value("taskwell_http_requests_in_flight"))
        """
    )
    env = {**os.environ, "PROMETHEUS_MULTIPROC_DIR": str(tmp_path)}
    done = subprocess.run(
        [sys.executable, "-c", script], env=env, capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "1.0"


def test_an_unknown_method_is_counted_as_other() -> None:
    from taskwell.observability.metrics import HTTP_DURATION
    from taskwell.observability.middleware import RequestObserver

    observer = RequestObserver(log_requests=False, record_metrics=True)
    scope = {"type": "http", "method": "BREW", "path": "/x", "state": {}}
    before = HTTP_DURATION.labels("other", "<unmatched>", "404")._sum.get()
    observer.start()
    observer.finish(scope, 404, 0.25, 0)
    assert HTTP_DURATION.labels("other", "<unmatched>", "404")._sum.get() == before + 0.25
    assert all(
        sample.labels.get("method") != "BREW"
        for m in HTTP_DURATION.collect()
        for sample in m.samples
    )
