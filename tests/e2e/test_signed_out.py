"""A first visit, signed out: the app asks once whether there is a session, and says nothing
alarming in the console while it does."""

from __future__ import annotations

from playwright.sync_api import ConsoleMessage, Response, expect

from tests.e2e.conftest import NewContext


def test_a_signed_out_visit_makes_one_session_probe_and_no_console_errors(
    new_context: NewContext,
) -> None:
    page = new_context().new_page()
    refused: list[str] = []
    errors: list[str] = []

    def on_response(response: Response) -> None:
        if response.status == 401:
            refused.append(f"{response.request.method} {response.url}")

    def on_console(message: ConsoleMessage) -> None:
        if message.type == "error":
            errors.append(message.text)

    page.on("response", on_response)
    page.on("console", on_console)
    page.goto("/")
    expect(page.get_by_role("button", name="Log in", exact=True)).to_be_visible()
    # The worker registers after the first screen: by then the start-up requests are done.
    page.wait_for_selector("html[data-sw='ready']", state="attached")

    assert errors == [], errors
    assert len(refused) <= 1, refused
