"""Prometheus metrics: defined once per process, scraped at /metrics, multiprocess-aware.

With several worker processes, prometheus-client's multiprocess mode is used (`taskwell serve
--workers N` sets PROMETHEUS_MULTIPROC_DIR before the workers start): each worker writes its
samples to files there and a scrape of any worker aggregates all of them.
"""

from __future__ import annotations

import os
import resource
from typing import Generic, TypeVar

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
    values,
)
from prometheus_client import REGISTRY as DEFAULT_REGISTRY

from taskwell import __version__

LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1.0, 2.5, 5.0, 10.0)

HTTP_DURATION = Histogram(
    "taskwell_http_request_duration_seconds",
    "Time to answer a request, by method, route template and status.",
    ["method", "route", "status"],
    buckets=LATENCY_BUCKETS,
)
HTTP_IN_FLIGHT = Gauge(
    "taskwell_http_requests_in_flight",
    "Requests being answered right now.",
    multiprocess_mode="livesum",
)
HTTP_ERRORS = Counter(
    "taskwell_http_errors_total",
    "Error responses (4xx and 5xx) by route template, status and problem type.",
    ["route", "status", "problem_type"],
)
DB_DURATION = Histogram(
    "taskwell_db_query_duration_seconds",
    "Database round trips: prepared reads and transactions.",
    ["kind"],
    buckets=(0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 5.0),
)
EVENT_STREAMS = Gauge(
    "taskwell_event_streams_open",
    "Server-sent event streams (GET /events) open right now.",
    multiprocess_mode="livesum",
)
DB_POOL_IN_USE = Gauge(
    "taskwell_db_pool_connections_in_use",
    "Database connections checked out of the pool.",
    multiprocess_mode="livesum",
)
DB_POOL_SIZE = Gauge(
    "taskwell_db_pool_size",
    "Connections the pool may hold (pool size + overflow), per process.",
    multiprocess_mode="livesum",
)
DB_REPLICA_LAG = Gauge(
    "taskwell_db_replica_lag_seconds",
    "How far each read replica was behind the primary at its last check.",
    ["replica"],
    multiprocess_mode="livemax",
)
DB_REPLICA_UP = Gauge(
    "taskwell_db_replica_up",
    "1 while reads may use the replica (it answers and is within the lag limit), else 0.",
    ["replica"],
    multiprocess_mode="livemin",
)
DB_REPLICA_ROUTING = Counter(
    "taskwell_db_replica_routing_total",
    "Reads a replica could serve, by outcome: replica, or the primary because no replica had "
    "replayed the reader's last write (behind), none was usable (unavailable), or the replica "
    "read failed (error).",
    ["outcome"],
)
CACHE_REQUESTS = Counter(
    "taskwell_cache_requests_total", "Cache look-ups by result (hit or miss).", ["result"]
)
RATE_LIMIT_REJECTIONS = Counter(
    "taskwell_rate_limit_rejections_total", "Requests refused with 429, by limit group.", ["group"]
)
RATE_LIMIT_STORE_ERRORS = Counter(
    "taskwell_rate_limit_store_errors_total",
    "Rate-limit checks that could not reach the store, by group and fail mode.",
    ["group", "mode"],
)
AUTH_EVENTS = Counter(
    "taskwell_auth_events_total",
    "Authentication events: login_success, login_failure (by reason), refresh, "
    "refresh_reuse, logout.",
    ["event", "reason"],
)
# One histogram for the five vitals: CLS is a unitless score (good under 0.1, poor over
# 0.25) and lands in the small buckets; LCP, INP, FCP and TTFB are milliseconds and land in
# the large ones, which include each vital's good/poor thresholds (INP 200/500, TTFB
# 800/1800, FCP 1800/3000, LCP 2500/4000) so the ratings can be read off the buckets.
CLS_BUCKETS = (0.01, 0.025, 0.05, 0.1, 0.15, 0.25, 0.5, 1.0)
MILLISECOND_BUCKETS = (
    5.0, 25.0, 50.0, 100.0, 200.0, 300.0, 500.0, 800.0, 1_000.0, 1_800.0,
    2_500.0, 3_000.0, 4_000.0, 6_000.0, 10_000.0, 20_000.0,
)  # fmt: skip

WEB_VITAL = Histogram(
    "taskwell_web_vital",
    "Core Web Vitals from real browsers, by vital and client route template: CLS is a "
    "unitless score, LCP, INP, FCP and TTFB are milliseconds.",
    ["name", "route"],
    buckets=CLS_BUCKETS + MILLISECOND_BUCKETS,
)
FRONTEND_ERRORS = Counter(
    "taskwell_frontend_errors_total",
    "Uncaught errors and unhandled promise rejections reported by browsers, by route template.",
    ["route"],
)
PROCESS_CPU = Gauge(
    "taskwell_process_cpu_seconds", "CPU time used by the process.", multiprocess_mode="liveall"
)
PROCESS_MEMORY = Gauge(
    "taskwell_process_resident_memory_bytes",
    "Resident memory of the process.",
    multiprocess_mode="liveall",
)
PROCESS_FDS = Gauge(
    "taskwell_process_open_fds", "Open file descriptors.", multiprocess_mode="liveall"
)
BUILD_INFO = Gauge(
    "taskwell_build_info",
    "Always 1; labels carry the version.",
    ["version"],
    multiprocess_mode="max",
)
BUILD_INFO.labels(version=__version__).set(1)

Metric = TypeVar("Metric", Counter, Gauge, Histogram)


class Children(Generic[Metric]):
    """A labelled metric's children by their label values, each resolved once.

    `metric.labels(...)` validates and stringifies the values and takes the metric's lock on
    every call (~1 us, as much as the observation itself); a look-up here is a dict get. The
    metric keeps every child it made anyway, so this holds nothing more; the cap only stops the
    dict from growing where a label value is less bounded than it should be (past it, calls
    resolve through .labels() as before). Do not clear() or remove() a cached metric's
    children: this would keep observing the detached ones.

        HTTP_DURATION_CHILDREN("GET", "/healthz", "200").observe(0.002)
    """

    def __init__(self, metric: Metric, limit: int = 10_000) -> None:
        self._metric: Metric = metric
        self._children: dict[tuple[str, ...], Metric] = {}
        self._limit = limit

    def __call__(self, *label_values: str) -> Metric:
        child = self._children.get(label_values)
        if child is None:
            child = self._metric.labels(*label_values)
            if len(self._children) < self._limit:
                self._children[label_values] = child
        return child


class InFlight:
    """A gauge of things under way (requests, checked-out connections): enter(), then leave().

    In one process the gauge reads a count at scrape time, kept as the length of a list:
    append and pop are single operations under the GIL, so threads cannot lose an update the
    way `count += 1` could, and they cost a fraction of the gauge's locked inc() and dec(). From
    then on the gauge's own inc(), dec() and set() do nothing: move it only through this. In
    multiprocess mode every change must reach the shared files, so the gauge itself moves.
    """

    def __init__(self, gauge: Gauge) -> None:
        self._tokens: list[None] = []
        self._gauge = gauge
        self._multiprocess = values.ValueClass is not values.MutexValue  # fixed at import
        if not self._multiprocess:
            gauge.set_function(self._tokens.__len__)

    def enter(self) -> None:
        if self._multiprocess:
            self._gauge.inc()
        else:
            self._tokens.append(None)

    def leave(self) -> None:
        if self._multiprocess:
            self._gauge.dec()
            return
        if self._tokens:  # a leave() without its enter() is not worth failing a request over
            self._tokens.pop()


HTTP_DURATION_CHILDREN = Children(HTTP_DURATION)
HTTP_ERRORS_CHILDREN = Children(HTTP_ERRORS)
HTTP_REQUESTS_IN_FLIGHT = InFlight(HTTP_IN_FLIGHT)
DB_CONNECTIONS_IN_USE = InFlight(DB_POOL_IN_USE)


def sample_process() -> None:
    """Refresh the process gauges (they are read from /proc, so cheap)."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    PROCESS_CPU.set(usage.ru_utime + usage.ru_stime)
    try:
        with open("/proc/self/statm") as statm:
            PROCESS_MEMORY.set(int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE"))
        PROCESS_FDS.set(len(os.listdir("/proc/self/fd")))
    except OSError:  # not Linux: leave what we have
        PROCESS_MEMORY.set(usage.ru_maxrss * 1024)


def forget_process_metrics() -> None:
    """On shutdown in multiprocess mode: drop this process's live gauges from the totals."""
    if "PROMETHEUS_MULTIPROC_DIR" in os.environ:
        from prometheus_client import multiprocess

        multiprocess.mark_process_dead(os.getpid())  # type: ignore[no-untyped-call]


def render() -> tuple[bytes, str]:
    sample_process()
    if "PROMETHEUS_MULTIPROC_DIR" in os.environ:
        from prometheus_client import multiprocess

        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)  # type: ignore[no-untyped-call]
        return generate_latest(registry), CONTENT_TYPE_LATEST
    return generate_latest(DEFAULT_REGISTRY), CONTENT_TYPE_LATEST
