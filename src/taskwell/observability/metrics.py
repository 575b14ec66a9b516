"""Prometheus metrics: defined once per process, scraped at /metrics, multiprocess-aware.

With several worker processes, prometheus-client's multiprocess mode is used (`taskwell serve
--workers N` sets PROMETHEUS_MULTIPROC_DIR before the workers start): each worker writes its
samples to files there and a scrape of any worker aggregates all of them.
"""

from __future__ import annotations

import os
import resource

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
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
