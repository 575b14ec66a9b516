"""Everything by keyboard: Tab, Enter, Escape and the single-key shortcuts; no mouse at all."""

from __future__ import annotations

import re

from playwright.sync_api import Locator, Page, TimeoutError, expect

from tests.e2e.conftest import NewContext, Person, api_tasks, eventually, screenshot
from tests.e2e.ui import (
    complete_box,
    controlled_by_the_worker,
    create_task,
    new_task_box,
    sign_up,
    sync_status,
    task_item,
    tasks_heading,
)
from tests.support.processes import AppProcess

MAX_TABS = 60


def _has_focus(locator: Locator) -> bool:
    return bool(locator.evaluate("el => el === document.activeElement"))


def _holds_focus(locator: Locator) -> bool:
    return bool(locator.evaluate("el => el.contains(document.activeElement)"))


def expect_focus_within(page: Page, locator: Locator, what: str) -> None:
    try:
        page.wait_for_function(
            "el => el.contains(document.activeElement)", arg=locator.element_handle()
        )
    except TimeoutError as exc:
        raise AssertionError(what) from exc


def leave_text_fields(page: Page) -> None:
    """Shift+Tab until the focus is on something where a letter is a shortcut, not text."""
    for _ in range(MAX_TABS):
        if not page.evaluate(
            "(() => { const el = document.activeElement;"
            " return el instanceof HTMLSelectElement || el instanceof HTMLTextAreaElement"
            " || (el instanceof HTMLInputElement && el.type !== 'checkbox'); })()"
        ):
            return
        page.keyboard.press("Shift+Tab")
    raise AssertionError("could not leave the text fields by Shift+Tab")


def tab_to(page: Page, target: Locator) -> None:
    """Press Tab until `target` has the focus, and check that the focus is visible there."""
    for _ in range(MAX_TABS):
        if _has_focus(target):
            assert page.evaluate("document.activeElement.matches(':focus-visible')"), (
                "the focused element shows no focus indicator"
            )
            return
        page.keyboard.press("Tab")
    raise AssertionError(f"{MAX_TABS} presses of Tab never reached {target}")


def type_into(page: Page, target: Locator, text: str) -> None:
    tab_to(page, target)
    page.keyboard.type(text)


def test_everything_can_be_done_by_keyboard(
    new_context: NewContext, person: Person, server: AppProcess
) -> None:
    page = new_context().new_page()
    page.goto("/register")
    type_into(page, page.get_by_label("Email", exact=True), person.email)
    type_into(page, page.get_by_label("Display name", exact=True), person.display_name)
    type_into(page, page.get_by_label("Password", exact=True), person.password)
    page.keyboard.press("Enter")
    log_in_button = page.get_by_role("button", name="Log in", exact=True)
    expect(tasks_heading(page).or_(log_in_button)).to_be_visible()
    if log_in_button.is_visible():
        type_into(page, page.get_by_label("Email", exact=True), person.email)
        type_into(page, page.get_by_label("Password", exact=True), person.password)
        page.keyboard.press("Enter")
    expect(tasks_heading(page)).to_be_visible()

    # n: the New task box; Enter creates (the box keeps the focus for the next one)
    leave_text_fields(page)
    page.keyboard.press("n")
    expect(new_task_box(page)).to_be_focused()
    for title in ("Water the plants", "Renew the library card", "Book the dentist"):
        page.keyboard.type(title)
        page.keyboard.press("Enter")
        expect(task_item(page, title)).to_be_visible()

    # Carry on from the list as the server has it, the tasks under their final ids.
    expect(sync_status(page, "Synced")).to_be_visible()
    page.reload()
    expect(task_item(page, "Book the dentist")).to_be_visible()

    # j / k move between tasks
    leave_text_fields(page)
    tasks = page.get_by_role("listitem").filter(has=page.get_by_role("checkbox"))
    page.keyboard.press("j")
    expect_focus_within(page, tasks.first, "j did not move the focus to the first task")
    page.keyboard.press("j")
    expect_focus_within(page, tasks.nth(1), "j did not move to the next task")
    page.keyboard.press("k")
    first = tasks.first
    expect_focus_within(page, first, "k did not move back")

    current_title = _title_of(first)

    # x completes the current task, x again reopens it: three quick presses end completed,
    # on the server too, synced promptly, the keyboard still on that task.
    for _ in range(3):
        page.keyboard.press("x")
    expect(complete_box(page, current_title)).to_be_checked()
    expect(sync_status(page, "Synced")).to_be_visible()
    expect(page.get_by_role("dialog", name="Conflict")).to_have_count(0)
    eventually(lambda: _status_on_server(server, person, current_title), "done")
    expect_focus_within(page, task_item(page, current_title), "the sync took the focus away")

    # e edits in place: Enter saves
    page.keyboard.press("e")
    title_box = page.get_by_role("textbox", name="Title", exact=True)
    expect(title_box).to_be_focused()
    page.keyboard.press("ControlOrMeta+a")
    page.keyboard.type("Edited by keyboard")
    page.keyboard.press("Enter")
    edited = task_item(page, "Edited by keyboard")
    expect(edited).to_be_visible()
    expect_focus_within(page, edited, "saving did not return the focus to the task")
    expect(sync_status(page, "Synced")).to_be_visible()
    # ... and Escape cancels
    page.keyboard.press("e")
    expect(title_box).to_be_focused()
    page.keyboard.type(" and not this")
    page.keyboard.press("Escape")
    expect(edited).to_be_visible()
    expect_focus_within(page, edited, "cancelling did not return the focus to the task")

    # Delete removes the current task; Undo (reached by Tab) brings it back
    page.keyboard.press("Delete")
    expect(task_item(page, "Edited by keyboard")).to_have_count(0)
    undo = page.get_by_role("button", name="Undo")
    expect(undo).to_be_visible()
    tab_to(page, undo)
    page.keyboard.press("Enter")
    restored = task_item(page, "Edited by keyboard")
    expect(restored).to_be_visible()
    expect_focus_within(page, restored, "undo did not return the focus to the task")

    # / focuses Search; Enter applies it
    leave_text_fields(page)
    page.keyboard.press("/")
    search = page.get_by_role("searchbox", name="Search")
    expect(search).to_be_focused()
    page.keyboard.type("plants")
    page.keyboard.press("Enter")
    expect(task_item(page, "Water the plants")).to_be_visible()
    expect(task_item(page, "Book the dentist")).to_have_count(0)

    # ? lists the shortcuts; Escape closes the list
    leave_text_fields(page)
    page.keyboard.press("?")
    shortcuts = page.get_by_role("dialog", name="Keyboard shortcuts")
    expect(shortcuts).to_be_visible()
    screenshot(page, "keyboard-shortcuts")
    page.keyboard.press("Escape")
    expect(shortcuts).to_be_hidden()


def _status_on_server(server: AppProcess, person: Person, title: str) -> str | None:
    statuses = [t["status"] for t in api_tasks(server, person.email) if t["title"] == title]
    return statuses[0] if len(statuses) == 1 else None


def test_quick_toggles_end_synced_with_the_final_state(
    new_context: NewContext, person: Person, server: AppProcess
) -> None:
    page = new_context().new_page()
    sign_up(page, person)
    create_task(page, "Toggled quickly")
    expect(sync_status(page, "Synced")).to_be_visible()

    done = False
    for presses in (4, 5, 7, 6, 3):
        leave_text_fields(page)
        page.keyboard.press("k")  # the last task: the only one
        for _ in range(presses):
            page.keyboard.press("x")
        done ^= presses % 2 == 1
        final = "done" if done else "todo"
        expect(complete_box(page, "Toggled quickly")).to_be_checked(checked=final == "done")
        # Bounded by Playwright's timeout; no conflict with itself, nothing left queued.
        expect(sync_status(page, "Synced")).to_be_visible()
        expect(page.get_by_role("dialog", name="Conflict")).to_have_count(0)
        eventually(lambda: _status_on_server(server, person, "Toggled quickly"), final)


def test_the_focus_stays_on_its_task_when_a_sync_moves_it(
    new_context: NewContext, person: Person
) -> None:
    """Oldest first: a task created offline shows on top until the server places it last."""
    context = new_context()
    page = context.new_page()
    sign_up(page, person)
    for title in ("First task", "Second task"):
        create_task(page, title)
    page.get_by_label("Sort", exact=True).select_option(label="Oldest first")
    expect(page).to_have_url(re.compile(r"sort=created_at"))
    expect(sync_status(page, "Synced")).to_be_visible()
    controlled_by_the_worker(page)

    context.set_offline(True)
    expect(sync_status(page, "Offline")).to_be_visible()
    create_task(page, "Written offline")
    leave_text_fields(page)
    page.keyboard.press("j")
    offline_item = task_item(page, "Written offline")
    expect_focus_within(page, offline_item, "j did not reach the task written offline")

    context.set_offline(False)
    expect(sync_status(page, "Synced")).to_be_visible()
    expect(page.get_by_role("listitem").last).to_contain_text("Written offline")
    expect_focus_within(page, offline_item, "the focus fell out of the list after the sync")


def test_completing_a_task_in_an_open_tasks_view_moves_the_focus_to_the_next(
    new_context: NewContext, person: Person
) -> None:
    page = new_context().new_page()
    sign_up(page, person)
    for title in ("Older task", "Newer task"):
        create_task(page, title)
    page.get_by_label("Status", exact=True).select_option(value="todo")
    expect(page).to_have_url(re.compile(r"status=todo"))
    expect(sync_status(page, "Synced")).to_be_visible()

    leave_text_fields(page)
    page.keyboard.press("j")
    expect_focus_within(page, task_item(page, "Newer task"), "j did not reach the first task")
    page.keyboard.press("x")

    # Done no longer matches "To do": the task leaves the view, the keyboard stays in the list.
    expect(task_item(page, "Newer task")).to_have_count(0)
    expect(sync_status(page, "Synced")).to_be_visible()
    expect(task_item(page, "Newer task")).to_have_count(0)
    expect_focus_within(page, task_item(page, "Older task"), "the focus fell out of the list")


def _title_of(item: Locator) -> str:
    name = item.get_by_role("checkbox").get_attribute("aria-label") or ""
    return name.removeprefix("Complete ")
