"""Everything by keyboard: Tab, Enter, Escape and the single-key shortcuts; no mouse at all."""

from __future__ import annotations

from playwright.sync_api import Locator, Page, TimeoutError, expect

from tests.e2e.conftest import NewContext, Person, screenshot
from tests.e2e.ui import complete_box, new_task_box, sync_status, task_item, tasks_heading

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


def test_everything_can_be_done_by_keyboard(new_context: NewContext, person: Person) -> None:
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

    # x completes the current task, x again reopens it. Each step starts once the previous
    # change is stored, so that this pass checks what the keyboard reaches, not the timing
    # of the sync queue.
    for checked in (True, False, True):
        page.keyboard.press("x")
        expect(complete_box(page, current_title)).to_be_checked(checked=checked)
        expect(sync_status(page, "Synced")).to_be_visible()

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


def _title_of(item: Locator) -> str:
    name = item.get_by_role("checkbox").get_attribute("aria-label") or ""
    return name.removeprefix("Complete ")
