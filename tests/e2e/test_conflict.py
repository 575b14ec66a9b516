"""Two browsers edit the same task: the one whose version is stale is shown both versions and
chooses; the choice is what the server keeps."""

from __future__ import annotations

from playwright.sync_api import Page, expect

from tests.e2e.conftest import NewContext, Person, api_tasks, eventually, screenshot
from tests.e2e.ui import create_task, edit_button, log_in, sign_up, task_item
from tests.support.processes import AppProcess


def _edit(page: Page, title: str, new_title: str) -> None:
    edit_button(page, title).click()
    box = page.get_by_role("textbox", name="Title", exact=True)
    box.fill(new_title)
    box.press("Enter")


def _stored_titles(server: AppProcess, person: Person) -> list[str]:
    return [task["title"] for task in api_tasks(server, person.email)]


def test_a_conflict_from_another_browser_is_shown_and_resolved(
    new_context: NewContext, person: Person, server: AppProcess
) -> None:
    mine = new_context().new_page()
    sign_up(mine, person)
    create_task(mine, "Plan the offsite")
    theirs = new_context().new_page()
    log_in(theirs, person)
    expect(task_item(theirs, "Plan the offsite")).to_be_visible()

    # They change it first, while my browser is offline (online, it would show their change
    # at once): my page still holds the old version when I edit it.
    mine.context.set_offline(True)
    _edit(theirs, "Plan the offsite", "Plan the offsite (venue booked)")
    eventually(lambda: _stored_titles(server, person), ["Plan the offsite (venue booked)"])
    _edit(mine, "Plan the offsite", "Plan the offsite for March")
    mine.context.set_offline(False)

    dialog = mine.get_by_role("dialog", name="Conflict")
    expect(dialog).to_be_visible()
    expect(dialog).to_contain_text("Plan the offsite for March")
    expect(dialog).to_contain_text("Plan the offsite (venue booked)")
    screenshot(mine, "conflict")
    dialog.get_by_role("button", name="Keep mine").click()
    expect(dialog).to_be_hidden()
    eventually(lambda: _stored_titles(server, person), ["Plan the offsite for March"])
    expect(task_item(mine, "Plan the offsite for March")).to_be_visible()

    # Again the other way round, and this time their version wins.
    expect(task_item(theirs, "Plan the offsite for March")).to_be_visible()
    mine.context.set_offline(True)
    _edit(theirs, "Plan the offsite for March", "Plan the offsite for April")
    eventually(lambda: _stored_titles(server, person), ["Plan the offsite for April"])
    _edit(mine, "Plan the offsite for March", "Plan the offsite for May")
    mine.context.set_offline(False)
    expect(dialog).to_be_visible()
    dialog.get_by_role("button", name="Keep theirs").click()
    expect(dialog).to_be_hidden()
    expect(task_item(mine, "Plan the offsite for April")).to_be_visible()
    eventually(lambda: _stored_titles(server, person), ["Plan the offsite for April"])
