"""LCP, FCP and TTFB of the task list holding 200 tasks, in headless Chromium on localhost.

    .venv/bin/python bench/web_vitals.py                      # own server, 200 tasks, 7 runs
    .venv/bin/python bench/web_vitals.py --runs 11 --tasks 200
    .venv/bin/python bench/web_vitals.py --base-url http://127.0.0.1:8000   # a running server

Starts `taskwell serve` on a free loopback port on a fresh SQLite file (unless --base-url),
registers an account, creates the tasks through the API, logs in once through the web app,
then for each run opens /tasks in a new browser profile holding only the session cookies
(cold: empty HTTP cache, no service worker yet) and reloads it once (warm: cached assets,
the service worker in control). The figures come from the page itself: PerformanceObserver
for largest-contentful-paint, the paint and navigation timing entries. Medians per vital
are printed and written with every value to bench/.work/web-vitals.json (or --output).

Needs /usr/bin/chromium (Debian's; never `playwright install`), the `playwright` package
(the dev extra) and the built web app (cd frontend && npm ci && npm run build). The e2e test
tests/e2e/test_web_vitals.py runs one round of the same measurement.
"""

from __future__ import annotations

import argparse
import json
import re
import statistics
import sys
import tempfile
import uuid
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from playwright.sync_api import Browser, Page, expect, sync_playwright  # noqa: E402

from tests.support.processes import AppProcess, run_taskwell  # noqa: E402

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
PASSWORD = "violet tractor sings under 42 lanterns"
OUTPUT = ROOT / "bench" / ".work" / "web-vitals.json"
VITALS = ("lcp_ms", "fcp_ms", "ttfb_ms", "first_task_ms")

# Before any script of the page: note when the first task appears in the list.
_WATCH_FIRST_TASK = """
(() => {
  const seen = () => document.querySelector('input[type="checkbox"][aria-label^="Complete "]');
  new MutationObserver((_, observer) => {
    if (seen()) { window.__firstTaskAt = performance.now(); observer.disconnect(); }
  }).observe(document, { childList: true, subtree: true });
})();
"""
# Read once the list is shown. LCP entries are buffered, and delivered to a new observer
# in a task of their own: wait a moment for them.
_READ_VITALS = """
async () => {
  const lcp = await new Promise((resolve) => {
    let last = null;
    const observer = new PerformanceObserver((list) => {
      for (const entry of list.getEntries()) last = entry;
    });
    observer.observe({ type: 'largest-contentful-paint', buffered: true });
    setTimeout(() => { observer.disconnect(); resolve(last); }, 250);
  });
  const nav = performance.getEntriesByType('navigation')[0];
  const fcp = performance.getEntriesByName('first-contentful-paint')[0];
  return {
    lcp_ms: lcp ? lcp.startTime : null,
    lcp_element: lcp && lcp.element ? lcp.element.tagName.toLowerCase() : null,
    fcp_ms: fcp ? fcp.startTime : null,
    ttfb_ms: Math.max(0, nav.responseStart - (nav.activationStart || 0)),
    first_task_ms: window.__firstTaskAt ?? null,
    transfer_bytes: performance.getEntriesByType('resource')
      .reduce((sum, entry) => sum + (entry.transferSize || 0), nav.transferSize || 0),
    from_service_worker: nav.workerStart > 0,
  };
}
"""


def seed(base_url: str, email: str, tasks: int, password: str = PASSWORD) -> None:
    """An account holding `tasks` tasks, made through the API."""
    with httpx.Client(base_url=base_url, timeout=30) as client:
        registered = client.post(
            "/api/v1/auth/register",
            json={"email": email, "password": password, "display_name": "Bench"},
        )
        registered.raise_for_status()
        login = client.post("/api/v1/auth/login", json={"email": email, "password": password})
        login.raise_for_status()
        headers = {"Authorization": f"Bearer {login.json()['access_token']}"}
        for n in range(tasks):
            created = client.post(
                "/api/v1/tasks",
                json={"title": f"Task {n + 1:03d}: measure the list", "priority": n % 4},
                headers=headers,
            )
            created.raise_for_status()


def session_state(browser: Browser, base_url: str, email: str, password: str) -> Any:
    """The cookies of a session started through the web app's own login form."""
    context = browser.new_context(base_url=base_url)
    try:
        page = context.new_page()
        page.goto("/login")
        page.get_by_label("Email", exact=True).fill(email)
        page.get_by_label("Password", exact=True).fill(password)
        page.get_by_role("button", name="Log in", exact=True).click()
        expect(page.get_by_role("heading", name="Tasks", exact=True)).to_be_visible(timeout=30_000)
        return {"cookies": context.storage_state()["cookies"], "origins": []}
    finally:
        context.close()


def _vitals_of(page: Page) -> dict[str, Any]:
    tasks = page.get_by_role("checkbox", name=re.compile("^Complete "))
    expect(tasks.first).to_be_visible(timeout=30_000)
    vitals: dict[str, Any] = page.evaluate(_READ_VITALS)
    vitals["tasks_shown"] = tasks.count()
    return vitals


def measure_once(browser: Browser, base_url: str, state: Any) -> dict[str, dict[str, Any]]:
    """One cold visit of /tasks in a new profile, then one warm reload."""
    context = browser.new_context(
        base_url=base_url, storage_state=state, viewport={"width": 1280, "height": 900}
    )
    try:
        context.add_init_script(_WATCH_FIRST_TASK)
        page = context.new_page()
        page.goto("/tasks")
        cold = _vitals_of(page)
        page.evaluate("navigator.serviceWorker.ready.then(() => true)")
        page.reload()
        warm = _vitals_of(page)
        return {"cold": cold, "warm": warm}
    finally:
        context.close()


def measure(
    browser: Browser, base_url: str, email: str, runs: int, password: str = PASSWORD
) -> dict[str, Any]:
    state = session_state(browser, base_url, email, password)
    rounds = [measure_once(browser, base_url, state) for _ in range(runs)]
    result: dict[str, Any] = {"runs": runs, "browser": f"chromium {browser.version}"}
    for visit in ("cold", "warm"):
        values = {vital: [r[visit][vital] for r in rounds] for vital in VITALS}
        result[visit] = {
            vital: {"median": _median(found), "values": found} for vital, found in values.items()
        }
        result[visit]["tasks_shown"] = [r[visit]["tasks_shown"] for r in rounds]
        result[visit]["lcp_element"] = [r[visit]["lcp_element"] for r in rounds]
        result[visit]["transfer_bytes"] = [r[visit]["transfer_bytes"] for r in rounds]
        result[visit]["from_service_worker"] = [r[visit]["from_service_worker"] for r in rounds]
    return result


def _median(values: list[float | None]) -> float | None:
    present = [v for v in values if v is not None]
    return round(statistics.median(present), 1) if present else None


def launch(playwright: Any) -> Browser:
    browser: Browser = playwright.chromium.launch(
        executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS
    )
    return browser


def run(base_url: str, tasks: int, runs: int) -> dict[str, Any]:
    email = f"vitals-{uuid.uuid4().hex[:10]}@example.com"
    seed(base_url, email, tasks)
    with sync_playwright() as playwright:
        browser = launch(playwright)
        try:
            result = measure(browser, base_url, email, runs)
        finally:
            browser.close()
    return {"tasks": tasks, **result}


def _print(result: dict[str, Any]) -> None:
    print(f"/tasks holding {result['tasks']} tasks, {result['runs']} runs, {result['browser']}")
    print(f"{'visit':<6} {'LCP ms':>8} {'FCP ms':>8} {'TTFB ms':>8} {'1st task ms':>12}")
    for visit in ("cold", "warm"):
        row = ["-" if v is None else v for v in (result[visit][k]["median"] for k in VITALS)]
        print(f"{visit:<6} {row[0]:>8} {row[1]:>8} {row[2]:>8} {row[3]:>12}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--tasks", type=int, default=200)
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--base-url", help="measure this running server instead of starting one")
    parser.add_argument("--output", type=Path, default=OUTPUT)
    args = parser.parse_args()
    if args.base_url:
        result = run(args.base_url.rstrip("/"), args.tasks, args.runs)
    else:
        with tempfile.TemporaryDirectory(prefix="taskwell-vitals-") as workdir:
            # Production settings, as people run it (production never migrates by itself).
            env = {
                "TASKWELL_ENV": "production",
                "TASKWELL_SECRET_KEY": uuid.uuid4().hex * 2,
                "TASKWELL_DATABASE_URL": f"sqlite+aiosqlite:///{workdir}/vitals.db",
                "TASKWELL_LOG_LEVEL": "warning",
                "TASKWELL_ACCESS_LOG": "false",
                "TASKWELL_RATE_LIMIT_DEFAULT": "100000/minute",
                "TASKWELL_RATE_LIMIT_USER": "100000/minute",
            }
            run_taskwell(env, "db", "upgrade", cwd=Path(workdir))
            server = AppProcess(Path(workdir), env)
            server.start()
            try:
                server.wait_ready()
                result = run(server.base_url, args.tasks, args.runs)
            finally:
                server.stop()
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps(result, indent=1) + "\n")
    _print(result)
    print(f"written to {args.output}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
