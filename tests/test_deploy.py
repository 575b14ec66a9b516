"""Deployment files: alert rules and dashboards are valid and name only metrics we export."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest
from prometheus_client import REGISTRY

import taskwell.observability.metrics  # noqa: F401  (registers the metrics)

DEPLOY = Path(__file__).resolve().parent.parent / "deploy"
PROMETHEUS = DEPLOY / "prometheus"


def _promtool() -> str:
    found = shutil.which("promtool")
    if found is None:
        if os.environ.get("CI"):
            pytest.fail("promtool is required in CI (Debian package prometheus)")
        pytest.skip("promtool is not installed (apt-get install prometheus)")
    return found


@pytest.mark.parametrize(
    "args",
    [
        ["check", "rules", "taskwell-alerts.yml"],
        ["test", "rules", "taskwell-alerts.test.yml"],
        ["check", "config", "--syntax-only", "prometheus.yml"],
    ],
)
def test_promtool_accepts_the_prometheus_files(args: list[str]) -> None:
    result = subprocess.run(
        [_promtool(), *args],
        cwd=PROMETHEUS,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def _exported_names() -> set[str]:
    suffixes = {"counter": ("_total",), "histogram": ("", "_bucket", "_count", "_sum")}
    names = set()
    for metric in REGISTRY.collect():
        names.update(metric.name + s for s in suffixes.get(metric.type, ("",)))
    return names


def _referenced(text: str) -> set[str]:
    return set(re.findall(r"\b(taskwell_[a-z_]+)\b", text)) - {"taskwell_dashboard"}


def test_alert_rules_name_only_exported_metrics() -> None:
    text = (PROMETHEUS / "taskwell-alerts.yml").read_text()
    missing = _referenced(text) - _exported_names()
    assert not missing


def test_dashboard_names_only_exported_metrics_and_covers_the_essentials() -> None:
    dashboard = json.loads((DEPLOY / "grafana" / "taskwell-dashboard.json").read_text())
    exprs = " ".join(t["expr"] for p in dashboard["panels"] for t in p["targets"])
    assert not _referenced(exprs) - _exported_names()
    for needed in ("histogram_quantile(0.5", "histogram_quantile(0.95", "histogram_quantile(0.99"):
        assert needed in exprs
    titles = " ".join(p["title"] for p in dashboard["panels"]).lower()
    for topic in ("error", "auth", "database", "cpu", "memory"):
        assert topic in titles
