"""LCP and TTFB of /tasks holding 200 tasks, measured in headless Chromium on localhost, one
round of bench/web_vitals.py (which repeats it for docs/benchmarks.md). Written to
tests/e2e/.output/web-vitals.json; the bounds here only catch a broken measurement or a page
that never shows the list, not a regression of a few milliseconds."""

from __future__ import annotations

import json

from playwright.sync_api import Browser

from bench.web_vitals import measure, seed
from tests.e2e.conftest import OUTPUT, Person
from tests.support.processes import AppProcess

TASKS = 200


def test_lcp_and_ttfb_of_the_task_list_with_200_tasks(
    browser: Browser, server: AppProcess, person: Person
) -> None:
    seed(server.base_url, person.email, TASKS, person.password)

    result = {"tasks": TASKS, **measure(browser, server.base_url, person.email, 1, person.password)}

    OUTPUT.mkdir(exist_ok=True)
    (OUTPUT / "web-vitals.json").write_text(json.dumps(result, indent=1) + "\n")
    for visit in ("cold", "warm"):
        figures = result[visit]
        lcp, ttfb = figures["lcp_ms"]["median"], figures["ttfb_ms"]["median"]
        assert lcp is not None, figures
        assert ttfb is not None, figures
        assert 0 <= ttfb < lcp < 10_000, figures
        assert figures["tasks_shown"][0] >= 20, "the list showed too few of the 200 tasks"
