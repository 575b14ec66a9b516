"""A signed-out visitor: the app asks once whether there is a session (on the first visit
only), never tries a refresh cookie it has no reason to expect, and logs nothing else."""

from __future__ import annotations

from playwright.sync_api import ConsoleMessage, Page, Response, expect

from tests.e2e.conftest import NewContext

# Chromium logs every 4xx answer as a console error; the probe's own 401 is the one allowed.
PROBE_401 = "Failed to load resource: the server responded with a status of 401 (Unauthorized)"


def _visit(page: Page) -> tuple[list[str], list[str]]:
    refused: list[str] = []
    errors: list[str] = []

    def on_response(response: Response) -> None:
        if response.status == 401:
            refused.append(f"{response.request.method} {response.url.split('/api/v1')[-1]}")

    def on_console(message: ConsoleMessage) -> None:
        if message.type == "error":
            errors.append(message.text)

    page.on("response", on_response)
    page.on("console", on_console)
    try:
        page.goto("/")
        expect(page.get_by_role("button", name="Log in", exact=True)).to_be_visible()
        # The worker registers after the first screen: by then the start-up requests are done.
        page.wait_for_selector("html[data-sw='ready']", state="attached")
    finally:
        page.remove_listener("response", on_response)
        page.remove_listener("console", on_console)
    return refused, errors


def test_a_signed_out_visit_makes_one_session_probe_and_the_next_none(
    new_context: NewContext,
) -> None:
    page = new_context().new_page()

    refused, errors = _visit(page)
    assert refused == ["GET /auth/cookie/csrf"]
    assert errors == [PROBE_401]

    refused, errors = _visit(page)
    assert refused == []
    assert errors == []
