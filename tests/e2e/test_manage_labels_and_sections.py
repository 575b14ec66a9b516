"""Managing labels and board sections in the browser: a label renamed in settings shows its new
name on a task's chip without a reload, and a board section moved left with the keyboard alone
keeps its new place after a reload. The labels screen is scanned with axe-core (WCAG 2.1 A/AA)."""

from __future__ import annotations

from typing import Any

import httpx
from playwright.sync_api import Page, expect

from tests.e2e.conftest import NewContext, Person, api_tasks, eventually, screenshot
from tests.e2e.test_projects import AXE
from tests.e2e.ui import create_task, sign_up, task_item
from tests.support.processes import AppProcess

AXE_RUN_ON = """(selector) => axe.run(document.querySelector(selector),
  {runOnly: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa']})
  .then(r => r.violations.map(
    v => `${v.id}: ${v.nodes.map(n => n.target.join(' ')).join(', ')}`))"""


def axe_violations_in(page: Page, selector: str) -> list[str]:
    """axe-core's WCAG A/AA violations inside one element (the context bypasses the CSP)."""
    if not page.evaluate("typeof axe !== 'undefined'"):
        page.add_script_tag(path=str(AXE))
    violations: list[str] = page.evaluate(AXE_RUN_ON, selector)
    return violations


def api_get(server: AppProcess, person: Person, path: str) -> Any:
    """GET an API path as the person, with a token of its own."""
    with httpx.Client(base_url=server.base_url, timeout=10) as client:
        login = client.post(
            "/api/v1/auth/login", json={"email": person.email, "password": person.password}
        )
        assert login.status_code == 200, login.text
        headers = {"Authorization": f"Bearer {login.json()['access_token']}"}
        answer = client.get(f"/api/v1{path}", headers=headers)
        assert answer.status_code == 200, answer.text
        return answer.json()


def label_names(server: AppProcess, person: Person) -> list[str]:
    return [label["name"] for label in api_get(server, person, "/labels")["items"]]


def board_columns(page: Page) -> list[str]:
    """The board's columns from left to right, by their task lists' names."""
    names: list[str] = page.get_by_role("list").evaluate_all(
        "lists => lists.map(l => l.getAttribute('aria-label') || '')"
    )
    return [name.removesuffix(" tasks") for name in names if name.endswith(" tasks")]


def test_a_label_renamed_in_settings_shows_on_the_tasks_chip(
    new_context: NewContext, person: Person, server: AppProcess
) -> None:
    page = new_context(bypass_csp=True).new_page()
    sign_up(page, person)

    # A task with a label, set on the task's page
    create_task(page, "Post letter")
    page.get_by_role("link", name="Post letter", exact=True).click()
    expect(page.get_by_role("heading", level=1, name="Post letter")).to_be_visible()
    page.get_by_role("textbox", name="New label").fill("Errand")
    page.get_by_role("button", name="Add label").click()
    expect(page.get_by_role("checkbox", name="Errand", exact=True)).to_be_checked()
    eventually(lambda: [len(t["labels"]) for t in api_tasks(server, person.email)], [1])

    # Renamed in settings, inline
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Settings").click()
    labels = page.get_by_role("region", name="Labels")
    labels.get_by_role("button", name="Edit label Errand", exact=True).click()
    name = labels.get_by_role("textbox", name="Label name")
    expect(name).to_be_focused()
    name.fill("Errand, urgent")
    name.press("Enter")
    expect(labels.get_by_role("alert").filter(has_text="cannot contain a comma")).to_be_visible()
    name.fill("Errands")
    labels.get_by_role("combobox", name="Colour").select_option(label="Teal")
    screenshot(page, "settings-labels-edit")
    assert axe_violations_in(page, "[aria-labelledby='labels-heading']") == []
    name.press("Enter")
    expect(labels.get_by_role("button", name="Edit label Errands", exact=True)).to_be_focused()
    expect(labels).to_contain_text("Label “Errand” renamed to “Errands”.")
    eventually(lambda: label_names(server, person), ["Errands"])

    # The task list shows the new name at once (a client-side navigation, no reload)
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Tasks").click()
    chip = task_item(page, "Post letter").get_by_text("Errands", exact=True)
    expect(chip).to_be_visible()
    expect(task_item(page, "Post letter").get_by_text("Errand", exact=True)).to_have_count(0)
    screenshot(page, "label-renamed-on-task")


def test_a_board_section_moved_left_by_keyboard_keeps_its_place_after_a_reload(
    new_context: NewContext, person: Person, server: AppProcess
) -> None:
    page = new_context().new_page()
    sign_up(page, person)
    projects = page.get_by_role("navigation", name="Projects")
    projects.get_by_role("button", name="New project").click()
    projects.get_by_role("textbox", name="Project name").fill("Kitchen")
    projects.get_by_role("button", name="Create", exact=True).click()
    expect(page.get_by_role("heading", level=1, name="Kitchen")).to_be_visible()

    page.get_by_role("link", name="Board", exact=True).click()
    for section in ("Doing", "Done"):
        page.get_by_role("textbox", name="New section").fill(section)
        page.get_by_role("button", name="Add section").click()
        expect(page.get_by_role("list", name=f"{section} tasks")).to_be_visible()
    eventually(lambda: board_columns(page), ["No section", "Doing", "Done"])

    # Keyboard only: focus the button, press Enter
    move_left = page.get_by_role("button", name="Move section Done left", exact=True)
    move_left.focus()
    page.keyboard.press("Enter")
    eventually(lambda: board_columns(page), ["No section", "Done", "Doing"])
    expect(move_left).to_be_focused()
    expect(move_left).to_have_attribute("aria-disabled", "true")
    expect(page.get_by_text("Moved Done left: section 1 of 2.")).to_have_count(1)
    screenshot(page, "board-section-moved")

    (kitchen,) = [
        p for p in api_get(server, person, "/projects")["items"] if p["name"] == "Kitchen"
    ]

    def section_order() -> list[str]:
        sections = api_get(server, person, f"/projects/{kitchen['id']}/sections")["items"]
        return [s["name"] for s in sorted(sections, key=lambda s: s["position"])]

    eventually(section_order, ["Done", "Doing"])

    page.reload()
    expect(page.get_by_role("list", name="Doing tasks")).to_be_visible()
    eventually(lambda: board_columns(page), ["No section", "Done", "Doing"])
