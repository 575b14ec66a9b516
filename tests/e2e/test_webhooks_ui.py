"""Webhooks in settings: a URL the server refuses (loopback, or not https) is explained next to
the field, by its accessible description, and nothing is created; the section passes axe-core
(WCAG 2.1 A/AA). Delivering to a receiver would need the server started with
TASKWELL_WEBHOOK_ALLOWED_NETWORKS, which the shared e2e server fixture does not take."""

from __future__ import annotations

from typing import Any

import httpx
from playwright.sync_api import Page, expect

from tests.e2e.conftest import NewContext, Person, screenshot
from tests.e2e.test_projects import axe_violations
from tests.e2e.ui import sign_up
from tests.support.processes import AppProcess


def api_webhooks(server: AppProcess, person: Person) -> list[dict[str, Any]]:
    with httpx.Client(base_url=server.base_url, timeout=10) as client:
        login = client.post(
            "/api/v1/auth/login", json={"email": person.email, "password": person.password}
        )
        assert login.status_code == 200, login.text
        headers = {"Authorization": f"Bearer {login.json()['access_token']}"}
        answer = client.get("/api/v1/webhooks", headers=headers)
        assert answer.status_code == 200, answer.text
        items: list[dict[str, Any]] = answer.json()["items"]
        return items


def add_webhook(page: Page, url: str) -> None:
    """Fill the new-webhook form and send it with Enter, as a keyboard user would."""
    form = page.get_by_role("form", name="New webhook")
    field = form.get_by_role("textbox", name="Endpoint URL")
    field.fill(url)
    field.press("Enter")


def test_a_refused_webhook_url_is_explained_next_to_the_field(
    new_context: NewContext, person: Person, server: AppProcess
) -> None:
    page = new_context(bypass_csp=True).new_page()
    sign_up(page, person)
    page.get_by_role("link", name="Settings", exact=True).click()
    section = page.get_by_role("region", name="Webhooks")
    expect(section.get_by_text("No webhooks.")).to_be_visible()
    field = section.get_by_role("textbox", name="Endpoint URL")

    # A loopback address: the server's SSRF guard says no
    add_webhook(page, "https://127.0.0.1/hook")
    expect(field).to_have_attribute("aria-invalid", "true")
    expect(field).to_have_accessible_description(
        "https:// only, and it must reach a public address. The URL's host resolves to a "
        "loopback address; webhooks only reach public addresses."
    )
    expect(section.get_by_role("alert").filter(has_text="loopback")).to_be_visible()
    expect(section.get_by_role("textbox", name="Signing secret")).to_have_count(0)
    screenshot(page, "webhooks-refused")
    assert axe_violations(page) == []

    # Plain http: refused too, and the message follows the new answer
    add_webhook(page, "http://example.com/hook")
    expect(field).to_have_accessible_description(
        "https:// only, and it must reach a public address. The URL must start with https://."
    )
    assert api_webhooks(server, person) == []
