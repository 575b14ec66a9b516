"""End-to-end: Debian's Chromium, driven by Python Playwright, against the real server.

`taskwell serve` runs as a subprocess on a free loopback port, on a SQLite file of its own,
serving the web app built into src/taskwell/webapp/dist (`cd frontend && npm ci && npm run
build`; .ci/run does it). Without /usr/bin/chromium or without that build the tests are
skipped, saying which is missing; CI installs and builds both, so there they run.

Screenshots of the main screens go to tests/e2e/.output/ (gitignored), kept after the run.
Never `playwright install`: the browser is the system's.
"""

from __future__ import annotations

import re
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import httpx
import pytest
from playwright.sync_api import Browser, BrowserContext, Page, expect, sync_playwright

from taskwell.webapp import PACKAGED_DIST
from tests.conftest import STRONG_PASSWORD
from tests.support.processes import AppProcess

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
OUTPUT = Path(__file__).resolve().parent / ".output"
# Playwright's own waits (ms): generous for a 2-core machine shared with other work.
TIMEOUT_MS = 15_000
expect.set_options(timeout=TIMEOUT_MS)
GENEROUS = "100000/minute"
RATE_LIMIT_GROUPS = ("default", "user", "login", "login_account", "register", "refresh", "rum")


def _missing() -> str | None:
    if not CHROMIUM.exists():
        return f"{CHROMIUM} is not installed (apt-get install chromium; .ci/run does)"
    if not (PACKAGED_DIST / "index.html").is_file():
        return (
            f"the web app is not built in {PACKAGED_DIST} "
            "(cd frontend && npm ci && npm run build; .ci/run does)"
        )
    return None


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    reason = _missing()
    if reason is None:
        return
    here = Path(__file__).resolve().parent
    for item in items:
        if here in Path(str(item.fspath)).resolve().parents:
            item.add_marker(pytest.mark.skip(reason=reason))


# On a failure, the server's log (warnings and errors only; TASKWELL_LOG_LEVEL below) is
# added to the report: the server runs in a temporary directory pytest soon removes.
SERVER_LOG_TAIL_LINES = 80


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Any:
    report = yield
    server = getattr(item, "funcargs", {}).get("server")
    if report.failed and isinstance(server, AppProcess) and server.log.is_file():
        lines = server.log.read_text(errors="replace").splitlines()[-SERVER_LOG_TAIL_LINES:]
        report.sections.append(("e2e server log (tail)", "\n".join(lines) or "(empty)"))
    return report


@pytest.fixture(scope="session")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[AppProcess]:
    """One real server for the e2e session, on an empty SQLite database."""
    workdir = tmp_path_factory.mktemp("e2e-server")
    env = {
        "TASKWELL_ENV": "development",
        "TASKWELL_DATABASE_URL": f"sqlite+aiosqlite:///{workdir / 'e2e.db'}",
        "TASKWELL_LOG_LEVEL": "warning",
        "TASKWELL_ACCESS_LOG": "false",
        **{f"TASKWELL_RATE_LIMIT_{group.upper()}": GENEROUS for group in RATE_LIMIT_GROUPS},
    }
    app = AppProcess(workdir, env)
    app.start()
    try:
        app.wait_ready()
        yield app
    finally:
        app.stop()


@pytest.fixture(scope="module")
def browser(server: AppProcess) -> Iterator[Browser]:
    """Chromium for one test module (Playwright's sync API keeps its own event loop: closed
    before the next module, it never overlaps the asyncio tests that run after)."""
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS
        )
        try:
            yield chromium
        finally:
            chromium.close()


NewContext = Callable[..., BrowserContext]


@pytest.fixture
def new_context(browser: Browser, server: AppProcess) -> Iterator[NewContext]:
    """new_context(): a fresh browser profile on the server (cookies, storage, worker)."""
    contexts: list[BrowserContext] = []

    def make(**options: Any) -> BrowserContext:
        options.setdefault("viewport", {"width": 1280, "height": 900})
        context = browser.new_context(base_url=server.base_url, **options)
        context.set_default_timeout(TIMEOUT_MS)
        contexts.append(context)
        return context

    yield make
    for context in contexts:
        context.close()


@dataclass(frozen=True)
class Person:
    email: str
    display_name: str
    password: str = STRONG_PASSWORD


@pytest.fixture
def person() -> Person:
    tag = uuid.uuid4().hex[:10]
    return Person(f"e2e-{tag}@example.com", f"Tester {tag[:4]}")


def screenshot(page: Page, name: str) -> Path:
    """Save a full-page screenshot as tests/e2e/.output/<name>.png."""
    OUTPUT.mkdir(exist_ok=True)
    path = OUTPUT / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path


def api_tasks(
    server: AppProcess, email: str, password: str = STRONG_PASSWORD
) -> list[dict[str, Any]]:
    """Every task of the account, read through the API with a token of its own."""
    with httpx.Client(base_url=server.base_url, timeout=10) as client:
        login = client.post("/api/v1/auth/login", json={"email": email, "password": password})
        assert login.status_code == 200, login.text
        headers = {"Authorization": f"Bearer {login.json()['access_token']}"}
        tasks: list[dict[str, Any]] = []
        cursor = None
        while True:
            params = {"limit": 200, **({"cursor": cursor} if cursor else {})}
            page = client.get("/api/v1/tasks", params=params, headers=headers)
            assert page.status_code == 200, page.text
            body = page.json()
            tasks += body["items"]
            cursor = body.get("next_cursor")
            if not cursor:
                return tasks


def exact(text: str) -> re.Pattern[str]:
    return re.compile(f"^{re.escape(text)}$")


T = TypeVar("T")


def eventually(read: Callable[[], T], expected: T, timeout: float = 10.0) -> None:
    """Poll a read of the server's state until it equals `expected` (bounded): what the page
    shows can run ahead of writes still on their way."""
    deadline = time.monotonic() + timeout
    value = read()
    while value != expected:
        if time.monotonic() > deadline:
            raise AssertionError(f"the server holds {value!r}, expected {expected!r}")
        time.sleep(0.1)
        value = read()
