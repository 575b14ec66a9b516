"""A person's first visit: register, log in, and work through the task list with the mouse."""

from __future__ import annotations

from playwright.sync_api import Page, expect

from tests.e2e.conftest import NewContext, Person, api_tasks, eventually, screenshot
from tests.e2e.ui import (
    complete_box,
    create_task,
    delete_button,
    log_in,
    rename_task,
    sign_up,
    sync_status,
    task_item,
    tasks_heading,
)
from tests.support.processes import AppProcess


def test_register_log_in_and_manage_tasks(
    new_context: NewContext, person: Person, server: AppProcess
) -> None:
    page = new_context().new_page()
    page.goto("/register")
    expect(page.get_by_role("button", name="Create account")).to_be_visible()
    screenshot(page, "register")

    sign_up(page, person)
    page.get_by_role("button", name="Log out").click()
    expect(page.get_by_role("button", name="Log in", exact=True)).to_be_visible()
    expect(page.get_by_role("link", name="Create an account")).to_be_visible()
    screenshot(page, "login")
    log_in(page, person)

    # Create
    for title in ("Buy oat milk", "Write the quarterly report", "Call the plumber"):
        create_task(page, title)
    expect(page.get_by_role("textbox", name="New task")).to_have_value("")

    # Edit in place: Enter saves, Escape cancels
    rename_task(page, "Write the quarterly report", "Write the annual report")
    page.get_by_role("button", name="Edit Buy oat milk", exact=True).click()
    page.get_by_role("textbox", name="Title", exact=True).fill("Something else")
    page.get_by_role("textbox", name="Title", exact=True).press("Escape")
    expect(task_item(page, "Buy oat milk")).to_be_visible()

    # Complete with one click
    complete_box(page, "Buy oat milk").click()
    expect(complete_box(page, "Buy oat milk")).to_be_checked()

    # Delete, undo, delete again
    delete_button(page, "Call the plumber").click()
    expect(task_item(page, "Call the plumber")).to_have_count(0)
    undo = page.get_by_role("button", name="Undo")
    expect(undo).to_be_visible()
    undo.click()
    expect(task_item(page, "Call the plumber")).to_be_visible()
    delete_button(page, "Call the plumber").click()
    expect(task_item(page, "Call the plumber")).to_have_count(0)
    screenshot(page, "tasks")

    # What the server holds now
    def stored() -> dict[str, str]:
        return {task["title"]: task["status"] for task in api_tasks(server, person.email)}

    eventually(stored, {"Buy oat milk": "done", "Write the annual report": "todo"})

    # Filter and search, once the new task is stored (a task still waiting in the offline
    # queue is listed whatever the filters say: applyPending in frontend/src/offline/overlay.ts)
    create_task(page, "Buy stamps")
    expect(sync_status(page, "Synced")).to_be_visible()
    page.get_by_role("combobox", name="Status").select_option("done")
    expect(task_item(page, "Buy oat milk")).to_be_visible()
    expect(task_item(page, "Buy stamps")).to_have_count(0)
    expect(task_item(page, "Write the annual report")).to_have_count(0)
    screenshot(page, "tasks-filtered")
    page.get_by_role("combobox", name="Status").select_option("")
    search = page.get_by_role("searchbox", name="Search")
    search.fill("buy")
    search.press("Enter")
    expect(task_item(page, "Buy oat milk")).to_be_visible()
    expect(task_item(page, "Buy stamps")).to_be_visible()
    expect(task_item(page, "Write the annual report")).to_have_count(0)
    for name in ("Priority", "Due", "Sort"):
        expect(page.get_by_role("combobox", name=name)).to_be_visible()

    # Settings
    page.goto("/settings")
    expect(page.get_by_role("heading", name="Account")).to_be_visible()
    expect(page.get_by_role("button", name="Log out other devices")).to_be_visible()
    screenshot(page, "settings")


def test_the_login_screen_is_usable_at_360_px(new_context: NewContext) -> None:
    page: Page = new_context(viewport={"width": 360, "height": 740}).new_page()
    page.goto("/login")

    expect(page.get_by_role("button", name="Log in", exact=True)).to_be_in_viewport()
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 360, f"the page scrolls sideways at 360 px ({width} px wide)"
    screenshot(page, "login-360px")
    expect(tasks_heading(page)).to_have_count(0)
