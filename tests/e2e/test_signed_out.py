"""A signed-out visitor: the app asks once whether there is a session (GET
/auth/cookie/session, 200 either way), never tries a refresh cookie that did not come along, and
no request is refused: browsers log every 401 as a console error."""

from __future__ import annotations

from playwright.sync_api import ConsoleMessage, Page, Response, expect

from tests.e2e.conftest import NewContext


def _visit(page: Page) -> tuple[list[str], list[str]]:
    asked: list[str] = []
    errors: list[str] = []

    def on_response(response: Response) -> None:
        if "/api/v1/" in response.url:
            asked.append(
                f"{response.status} {response.request.method} {response.url.split('/api/v1')[-1]}"
            )

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
    return asked, errors


def test_a_signed_out_visit_asks_once_and_logs_no_error(new_context: NewContext) -> None:
    page = new_context().new_page()

    for _ in range(2):  # a first visit, and a later one
        asked, errors = _visit(page)
        assert asked == ["200 GET /auth/cookie/session"]
        assert errors == []
