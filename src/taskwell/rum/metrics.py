"""Prometheus metrics of what real browsers report.

Defined here, not in observability/metrics.py, while that module is being reworked; they are
registered in the same default registry, so /metrics exposes them with the rest (and, with
several workers, prometheus-client's multiprocess mode aggregates them the same way).
"""

from __future__ import annotations

from prometheus_client import Counter, Histogram

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
